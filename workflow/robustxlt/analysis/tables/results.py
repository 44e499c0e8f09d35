"""The statistics one (task, model)'s tables and figures show, computed once from metrics.csv, distances.csv and
selection.csv: `load_results` returns them as `Results` (with the `Provenance` line every output carries)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from robustxlt.analysis import statistics
from robustxlt.analysis.aggregate import PREMISE_COLUMNS, PRETRAINED
from robustxlt.analysis.published import PublishedRow, published_rows
from robustxlt.evaluation.lexical_overlap import REFERENCE_MODEL
from robustxlt.training.kinds import BASELINE

SETUP_NOTES = {
    "paper": "the paper's setup",
    "paper-tiny": (
        "PAPER-TINY: the paper's tasks, methods and model architectures with tiny randomly initialised stand-ins "
        "and a few hundred generated rows; it checks the paper's code paths, its numbers mean nothing, and the "
        "published rows beside them are the paper's real models'"
    ),
    "paper-scale": (
        "PAPER-SCALE REHEARSAL: the paper's grid at the paper's data sizes on tiny stand-ins with a capped number of "
        "optimizer steps; it measures what the paper's size costs apart from the model, its numbers mean nothing"
    ),
    "embedded": "EMBEDDED PROXY (offline demo data and model), not the paper's PAWS-X/XNLI with mBERT/XLM-R",
    "smoke": "SMOKE TEST (tiny budget), numbers carry no meaning beyond checking the pipeline",
    "custom": "a custom setup",
}


LEVEL = 0.95


SOURCE = statistics.SOURCE_LANGUAGE


# Pseudo test sets holding per-seed averages, so that seed_summary gives their mean ± std like any language's.
AVERAGE = statistics.AVERAGE  # standard setting (for improvements: over the languages other than English)


SUBSET_AVERAGE = "avg_subset"  # standard setting on the generalized set's languages


GENERALIZED_AVERAGE = "avg_generalized"  # all ordered pairs of the generalized set


PAIR = "→"  # joins a pair into one test-set name, so that the statistics average over pairs as over languages


REFERENCE_LABEL = "lexical overlap (no model)"


@dataclass(frozen=True)
class Provenance:
    """What produced a table or figure: the honesty line every output carries."""

    task: str
    model: str
    setup: str
    model_description: str
    data_description: str

    @property
    def setup_note(self) -> str:
        return SETUP_NOTES[self.setup]


@dataclass(frozen=True)
class Results:
    """Everything the tables and figures of one (task, model) show, computed once."""

    provenance: Provenance
    languages: list[str]  # standard setting, config order
    generalized_languages: list[str]  # those the generalized set covers, config order
    methods: list[str]  # config order
    method_kinds: dict[str, str]
    baseline: str | None
    runs: pd.DataFrame  # this task and model: standard and generalized rows
    summary: pd.DataFrame  # seed_summary of the runs and the reference, with the average pseudo test sets
    delta: pd.DataFrame  # improvements per language, per pair, and for the average pseudo test sets
    correlations: pd.DataFrame
    distances: pd.DataFrame
    paper: tuple[PublishedRow, ...]
    n_boot: int
    selection: pd.DataFrame  # every swept variant's English dev accuracy (selection.csv rows of this task/model)
    # premise.csv rows of this task/model (shifts in units of the pretrained encoder's), and each method's settings
    premise: pd.DataFrame = field(default_factory=pd.DataFrame)
    method_settings: dict[str, dict] = field(default_factory=dict)

    @cached_property
    def strengths(self) -> dict[str, str]:
        """The chosen strength of each swept method, e.g. {"adversarial": "epsilon=0.01"}."""
        return {m: s for m, s in zip(self.runs.method, self.runs.strength) if s}

    @cached_property
    def _collapsed(self) -> set[tuple[str, str, str]]:
        flagged = self.runs[self.runs.collapsed]
        return set(zip(flagged.method, flagged.lang1, flagged.lang2))

    @property
    def any_collapsed(self) -> bool:
        return bool(self._collapsed)

    def collapsed(self, method: str, lang1: str, lang2: str) -> bool:
        """Whether a seed of `method` predicted one class for every example of this test set."""
        return (method, lang1, lang2) in self._collapsed

    @cached_property
    def _not_converged(self) -> dict[str, list[int]]:
        flagged = self.runs[self.runs.not_converged].drop_duplicates(["method", "seed"])
        return {m: sorted(int(s) for s in group.seed) for m, group in flagged.groupby("method")}

    def not_converged(self, method: str) -> list[int]:
        """The seeds of `method` whose training ended while English dev was still improving."""
        return self._not_converged.get(method, [])

    def label(self, method: str) -> str:
        """The method's name with its chosen strength, e.g. `adversarial (epsilon=0.01)`."""
        return f"{method} ({self.strengths[method]})" if method in self.strengths else method

    @cached_property
    def _summary_rows(self) -> dict[tuple[str, str, str], Any]:
        return {(r.method, r.lang1, r.lang2): r for r in self.summary.itertuples(index=False)}

    @cached_property
    def _delta_rows(self) -> dict[tuple[str, str, str], Any]:
        return {(r.method, r.lang1, r.lang2): r for r in self.delta.itertuples(index=False)}

    @property
    def compared(self) -> list[str]:
        """The methods compared with the baseline, config order."""
        return [m for m in self.methods if m != self.baseline and m in set(self.delta.method)]

    def mean(self, method: str, lang1: str, lang2: str) -> Any:
        """The seed_summary row (mean, std, seeds, n) of one method and test set, or None."""
        return self._summary_rows.get((method, lang1, lang2))

    def improvement(self, method: str, lang1: str, lang2: str) -> Any:
        """The improvements row (improvement, ci_low, ci_high, p_value, ...) of one method and test set, or None."""
        return self._delta_rows.get((method, lang1, lang2))

    def paper_rows(self, kind: str | None) -> list[PublishedRow]:
        """The published rows of one of our method kinds; None: the outside references (XTREME)."""
        return [row for row in self.paper if row.kind == kind]


def _describe(values: pd.Series) -> str:
    return " | ".join(dict.fromkeys(str(v) for v in values.dropna())) or "not recorded"


def config_order(names: list[str]) -> Callable[[str], tuple[int, str]]:
    """Sort key: the position in `names` (config order); names not there last, alphabetically."""
    return lambda name: (names.index(name) if name in names else len(names), name)


def _seed_means(runs: pd.DataFrame, test_sets: list[tuple[str, str]], label: str) -> pd.DataFrame:
    """Per run (method, seed), mean accuracy over `test_sets` as a pseudo test set `label`; runs lacking one are out."""
    if runs.empty or not test_sets:
        return runs.iloc[0:0]
    wide = runs.pivot_table(index=["task", "model", "method", "seed"], columns=["lang1", "lang2"], values="accuracy")
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(test_sets, names=["lang1", "lang2"])).dropna()
    sizes = runs.drop_duplicates(["lang1", "lang2"]).set_index(["lang1", "lang2"]).n
    means = wide.mean(axis=1).rename("accuracy").reset_index()
    return means.assign(lang1=label, lang2=label, n=int(sizes.reindex(test_sets).sum()))


def _improvements(runs: pd.DataFrame, baseline: str, n_boot: int) -> pd.DataFrame:
    """Per language and pair, and the averages: standard; all pairs; standard on the pairs' languages."""
    standard, generalized = runs[runs.lang1 == runs.lang2], runs[runs.lang1 != runs.lang2]
    parts = [statistics.improvements(standard, baseline, n_boot=n_boot, level=LEVEL)]
    if not generalized.empty:
        names = generalized.lang1 + PAIR + generalized.lang2
        pairs = statistics.improvements(
            generalized.assign(lang1=names, lang2=names), baseline, n_boot=n_boot, level=LEVEL
        )
        split = pairs.lang1.str.split(PAIR, expand=True, regex=False)
        average = pairs.lang1 == AVERAGE
        pairs["lang1"] = split[0].where(~average, GENERALIZED_AVERAGE)
        pairs["lang2"] = split[1].where(~average, GENERALIZED_AVERAGE)
        subset = standard[standard.lang1.isin(set(generalized.lang1) | set(generalized.lang2))]
        subset_delta = statistics.improvements(subset, baseline, n_boot=n_boot, level=LEVEL)
        subset_delta = subset_delta[subset_delta.lang1 == AVERAGE].assign(lang1=SUBSET_AVERAGE, lang2=SUBSET_AVERAGE)
        parts += [pairs, subset_delta]
    return pd.concat(parts, ignore_index=True)


def load_results(
    metrics_file: Path,
    distances_file: Path,
    task: str,
    model: str,
    methods: list[str],
    method_kinds: dict[str, str],
    languages: list[str],
    setup: str,
    paper_reference: str | None = None,
    n_boot: int = 2000,
    selection_file: Path | None = None,
    premise_file: Path | None = None,
    method_settings: dict[str, dict] | None = None,
) -> Results:
    """Read metrics.csv and distances.csv (and selection.csv, the English-dev record of strength sweeps, and
    premise.csv, the measured shifts, when given), keep one (task, model), and compute every statistic the outputs
    show. The pretrained encoder's median token shifts join the URIEL distances as `measured shift (point)`.

    `paper_reference` names the paper's encoder ("mbert" or "xlmr-large") whose published rows sit beside ours.
    """
    if setup not in SETUP_NOTES:
        raise ValueError(f"unknown setup {setup!r}; known: {', '.join(SETUP_NOTES)}")
    metrics = statistics.read_metrics(metrics_file)
    metrics = metrics[(metrics.task == task) & metrics.lang1.isin(languages) & metrics.lang2.isin(languages)]
    runs = metrics[(metrics.model == model) & metrics.method.isin(methods)]
    if runs.empty:
        raise ValueError(f"{metrics_file} has no rows for task {task!r}, model {model!r} and methods {methods}")
    reference = metrics[(metrics.model == REFERENCE_MODEL) & (metrics.lang1 == metrics.lang2)]
    baseline = next((m for m in methods if method_kinds.get(m) == BASELINE and m in set(runs.method)), None)
    generalized = runs[runs.lang1 != runs.lang2]
    order = config_order(languages)
    pairs = sorted(set(zip(generalized.lang1, generalized.lang2)), key=lambda p: (order(p[0]), order(p[1])))
    covered = sorted({lang for pair in pairs for lang in pair}, key=order)
    standard_sets = [(lang, lang) for lang in languages]
    averages = [
        _seed_means(runs, standard_sets, AVERAGE),
        _seed_means(reference, standard_sets, AVERAGE),
        _seed_means(runs, [(lang, lang) for lang in covered], SUBSET_AVERAGE),
        _seed_means(runs, pairs, GENERALIZED_AVERAGE),
    ]
    compare = baseline is not None and runs.method.nunique() > 1
    delta = _improvements(runs, baseline, n_boot) if compare else pd.DataFrame(columns=statistics.IMPROVEMENT_COLUMNS)
    premise = _premise_rows(premise_file, task, model, languages)
    distances = pd.concat([pd.read_csv(distances_file), measured_distances(premise)], ignore_index=True)
    standard_delta = delta[(delta.lang1 == delta.lang2) & delta.lang1.isin(languages)]
    return Results(
        provenance=Provenance(task, model, setup, _describe(runs.model_description), _describe(runs.data_description)),
        languages=languages,
        generalized_languages=covered,
        methods=methods,
        method_kinds=method_kinds,
        baseline=baseline,
        runs=runs,
        summary=statistics.seed_summary(pd.concat([runs, reference, *averages], ignore_index=True)),
        delta=delta,
        correlations=statistics.correlations(standard_delta, distances, n_boot=n_boot, level=LEVEL),
        distances=distances,
        paper=published_rows(task, paper_reference) if paper_reference else (),
        n_boot=n_boot,
        selection=_selection_rows(selection_file, task, model),
        premise=premise,
        method_settings=method_settings or {},
    )


MEASURED_SOURCE = "measured on the test sets, pretrained encoder"


def _premise_rows(premise_file: Path | None, task: str, model: str, languages: list[str]) -> pd.DataFrame:
    if premise_file is None or Path(premise_file).stat().st_size == 0:
        return pd.DataFrame(columns=PREMISE_COLUMNS)
    premise = pd.read_csv(premise_file, dtype={"strength": str, "consistency_outcomes": str})
    premise = premise.reindex(columns=PREMISE_COLUMNS)
    premise["strength"] = premise.strength.fillna("")
    return premise[(premise.task == task) & (premise.model == model) & premise.lang.isin(languages)].copy()


def measured_distances(premise: pd.DataFrame) -> pd.DataFrame:
    """The pretrained encoder's median token shift from English per language and injection point, as distance
    rows (`measured shift (embeddings)`, `measured shift (hidden)`) beside URIEL's."""
    pretrained = premise[premise.method == PRETRAINED]
    return pd.DataFrame(
        {
            "lang": pretrained.lang,
            "iso639_3": pd.NA,
            "distance_type": "measured shift (" + pretrained.point + ")",
            "distance": pretrained.token_q50,
            "source": MEASURED_SOURCE,
            "metric": "median token shift in units of the mean token norm",
        }
    )


def _selection_rows(selection_file: Path | None, task: str, model: str) -> pd.DataFrame:
    if selection_file is None or Path(selection_file).stat().st_size == 0:
        columns = ["method", "strength", "dev_accuracy", "chosen", "dev_collapsed", "close_to_chosen", "converged"]
        return pd.DataFrame(columns=columns)
    selection = pd.read_csv(selection_file, dtype={"strength": str})
    selection = selection[(selection.task == task) & (selection.model == model)].copy()
    for column in ("chosen", "dev_collapsed", "close_to_chosen"):
        selection[column] = statistics.bool_column(selection, column)
    selection["converged"] = statistics.bool_column(selection, "converged", missing=True)
    return selection
