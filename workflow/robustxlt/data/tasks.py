"""The task registry: every sentence-pair task the pipeline knows, with where its data comes from.

A `TaskSpec` says everything a data source needs: the languages (English first: it is the training
and checkpoint-selection language), the label names in id order, and for hub tasks the dataset id,
the pinned revision, which hub config holds each language, which hub split is our train/dev/test,
and the hub's column names.

Pinned hub revisions (both are commits of the parquet era: one parquet config per language, no
loading script, so `datasets` >= 3 loads them):
- PAWS-X `google-research-datasets/paws-x@4cd8187c404bda33cb1f62b49b001115862acf37`: the commit that
  public code pins to fetch `.../resolve/<sha>/zh/validation-00000-of-00001.parquet` with a checked
  sha256, i.e. a real commit with one directory per language; the hub's blame view of README.md on
  main attributes the dataset-card configs to 4cd8187.
- XNLI `facebook/xnli@b8dd5d7af51114dbda02c0e3f6133f332186418e`: "Convert dataset to Parquet (#10)"
  on main, shown by the hub's tree page for that sha (configs ar ... zh and all_languages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

SPLITS: tuple[str, ...] = ("train", "dev", "test")


@dataclass(frozen=True)
class TaskSpec:
    """One sentence-pair classification task (hub fields are None for a task without hub data)."""

    name: str
    languages: tuple[str, ...]
    labels: tuple[str, ...]
    description: str
    eval_every: int = 500
    hub_id: str | None = None
    hub_revision: str | None = None
    # (language, hub config) pairs; tuples rather than dicts keep the spec hashable.
    hub_configs: tuple[tuple[str, str], ...] = ()
    # (our split, hub split) pairs.
    hub_splits: tuple[tuple[str, str], ...] = (("train", "train"), ("dev", "validation"), ("test", "test"))
    # Hub column names of sentence 1, sentence 2 and the label.
    hub_columns: tuple[str, str, str] = ("sentence1", "sentence2", "label")
    # ClassLabel names the hub stores, in id order: a revision that reorders them must not go unnoticed.
    hub_label_names: tuple[str, ...] | None = None
    # Extra spellings accepted for a label in local files (lower case) -> label id.
    label_aliases: tuple[tuple[str, int], ...] = field(default=())
    # Rows of each split per language at the pinned revision (train and dev: English's): the cost plan's sizes
    # before the data is prepared (robustxlt.pipeline.cost_plan).
    hub_rows: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.languages or self.languages[0] != "en":
            raise ValueError(f"task {self.name}: languages must start with en, got {self.languages}")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"task {self.name}: duplicate languages in {self.languages}")
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"task {self.name}: needs at least two distinct labels, got {self.labels}")
        if self.hub_id is not None:
            missing = [lang for lang in self.languages if lang not in dict(self.hub_configs)]
            if missing or not self.hub_revision:
                raise ValueError(
                    f"task {self.name}: hub task needs a revision and a config for every language (missing: {missing})"
                )

    def hub_config(self, lang: str) -> str:
        """The hub config (subset) that holds `lang`."""
        return dict(self.hub_configs)[lang]

    def hub_split(self, split: str) -> str:
        """The hub split name of our `split` (train, dev or test)."""
        return dict(self.hub_splits)[split]

    def required_files(self, languages: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(split, language) of every canonical file: English train and dev, then each language's test."""
        chosen = self.select_languages(languages)
        return [("train", "en"), ("dev", "en")] + [("test", lang) for lang in chosen]

    def select_languages(self, languages: Sequence[str] | None = None) -> tuple[str, ...]:
        """`languages` in registry order (all when None); English is always included."""
        if languages is None:
            return self.languages
        unknown = sorted(set(languages) - set(self.languages))
        if unknown:
            raise ValueError(
                f"task {self.name}: unknown language(s) {', '.join(unknown)}; known: {', '.join(self.languages)}"
            )
        return tuple(lang for lang in self.languages if lang == "en" or lang in languages)

    def label_id(self, value: str) -> int | None:
        """The id of a label written as an id ("0"), a name (any case) or an alias; None if unknown."""
        text = value.strip()
        if text.isascii() and text.isdigit() and int(text) < len(self.labels):
            return int(text)
        lowered = text.lower()
        for index, name in enumerate(self.labels):
            if name.lower() == lowered:
                return index
        return dict(self.label_aliases).get(lowered)

    def accepted_labels(self) -> list[str]:
        """Every spelling `label_id` accepts, for error messages."""
        ids = [str(i) for i in range(len(self.labels))]
        return ids + list(self.labels) + [alias for alias, _ in self.label_aliases]


PAWSX = TaskSpec(
    name="pawsx",
    languages=("en", "de", "es", "fr", "ja", "ko", "zh"),
    labels=("not_paraphrase", "paraphrase"),
    description="PAWS-X: is sentence 2 a paraphrase of sentence 1 (adversarial word-scrambled pairs)",
    eval_every=500,
    hub_id="google-research-datasets/paws-x",
    hub_revision="4cd8187c404bda33cb1f62b49b001115862acf37",
    hub_configs=tuple((lang, lang) for lang in ("en", "de", "es", "fr", "ja", "ko", "zh")),
    hub_columns=("sentence1", "sentence2", "label"),
    hub_label_names=("0", "1"),
    label_aliases=(("not paraphrase", 0), ("not-paraphrase", 0), ("different", 0), ("same", 1)),
    hub_rows=(("train", 49401), ("dev", 2000), ("test", 2000)),
)

XNLI = TaskSpec(
    name="xnli",
    languages=("en", "ar", "bg", "de", "el", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"),
    labels=("entailment", "neutral", "contradiction"),
    description="XNLI: does the premise entail, contradict or neither the hypothesis (MNLI train, translated test)",
    eval_every=1000,
    hub_id="facebook/xnli",
    hub_revision="b8dd5d7af51114dbda02c0e3f6133f332186418e",
    hub_configs=tuple(
        (lang, lang)
        for lang in ("en", "ar", "bg", "de", "el", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
    ),
    hub_columns=("premise", "hypothesis", "label"),
    hub_label_names=("entailment", "neutral", "contradiction"),
    # XNLI-MT and XTREME's XNLI files spell the third class "contradictory".
    label_aliases=(("contradictory", 2),),
    hub_rows=(("train", 392702), ("dev", 2490), ("test", 5010)),
)


def task_from_spec(spec: Mapping) -> TaskSpec:
    """A hub-less task from a module-level SPEC dict: name, languages, labels, description (+ eval_every)."""
    missing = [key for key in ("name", "languages", "labels", "description") if key not in spec]
    if missing:
        raise ValueError(f"task SPEC {spec.get('name', '?')!r} lacks key(s) {', '.join(missing)}")
    return TaskSpec(
        name=spec["name"],
        languages=tuple(spec["languages"]),
        labels=tuple(spec["labels"]),
        description=spec["description"],
        # The proxy stands in for PAWS-X, so it inherits PAWS-X's evaluation interval unless it says otherwise.
        eval_every=int(spec.get("eval_every", PAWSX.eval_every)),
    )


_REGISTRY: dict[str, TaskSpec] | None = None


def registered_tasks() -> dict[str, TaskSpec]:
    """Name -> TaskSpec of every known task (built on first use, so importing this module stays cheap)."""
    global _REGISTRY
    if _REGISTRY is None:
        from robustxlt.data.embedded_benchmark import SPEC as EMBEDDED_SPEC

        tasks = [PAWSX, XNLI, task_from_spec(EMBEDDED_SPEC)]
        _REGISTRY = {task.name: task for task in tasks}
    return _REGISTRY


class UnknownTaskError(KeyError):
    """`get_task` on a name that is not registered; args[0] is the full message."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_task(name: str) -> TaskSpec:
    """The registered task called `name`; UnknownTaskError (a KeyError) lists the known ones otherwise."""
    tasks = registered_tasks()
    if name not in tasks:
        raise UnknownTaskError(f"unknown task {name!r}; known tasks: {', '.join(sorted(tasks))}")
    return tasks[name]
