"""The two non-embedded data sources of a task: the Hugging Face hub and a local directory.

Both write the canonical files `{split}-{lang}.tsv` (English train and dev, every language's test)
plus `manifest.json` into an output directory, and both read and validate all their input before
writing anything, so a bad input never leaves a partial data directory behind. The manifest is
written last: its presence means the directory is complete.

Local files follow XTREME's layout: `{split}-{lang}.tsv` with split one of train, dev, test
(`validation-*.tsv` is not read: rename it to `dev-*.tsv`). Fields are tab-separated with no quoting
(a quote character is part of the sentence), columns sentence1, sentence2, label, with or without a
header row. With a header the columns may come in any order and extra columns (e.g. PAWS-X's `id`)
are ignored; the headers premise/hypothesis/gold_label are accepted too.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from robustxlt.data.canonical import DataError, Pair, sha256_file, write_manifest, write_split_files
from robustxlt.data.origins import hub_offline
from robustxlt.data.tasks import SPLITS, TaskSpec, registered_tasks

if TYPE_CHECKING:
    import datasets

log = logging.getLogger(__name__)

_SENTENCE1_NAMES = ("sentence1", "premise")
_SENTENCE2_NAMES = ("sentence2", "hypothesis")
_LABEL_NAMES = ("label", "gold_label")


def _hub_address(task: TaskSpec, lang: str | None = None, split: str | None = None) -> str:
    address = f"hf://datasets/{task.hub_id}@{task.hub_revision}"
    if lang is not None:
        address += f"/{task.hub_config(lang)}"
    if split is not None:
        address += f"[{task.hub_split(split)}]"
    return address


def _missing_text(value: object) -> bool:
    return not isinstance(value, str) or not value.strip()


def convert_hub_split(ds: datasets.Dataset, task: TaskSpec, lang: str, dropped: Counter | None = None) -> list[Pair]:
    """Map one hub split of `task` in `lang` to Pairs.

    Rows without a gold label (-1 or null) or with a missing/blank sentence are dropped; their
    numbers are added to `dropped` under "no_label" and "missing_text" when a Counter is given. Every pair keeps
    its row id: the dataset's `id` column where it has one, else its position in the split, so that dropping a
    row in one language never shifts the others against it.
    """
    import datasets

    where = _hub_address(task, lang)
    column1, column2, label_column = task.hub_columns
    missing = [column for column in task.hub_columns if column not in ds.column_names]
    if missing:
        raise DataError(
            where,
            f"hub data lacks column(s) {', '.join(missing)} (has {', '.join(ds.column_names)})",
            f"update hub_columns of task {task.name} in robustxlt/data/tasks.py to this revision",
        )
    feature = ds.features[label_column]
    if isinstance(feature, datasets.ClassLabel) and task.hub_label_names is not None:
        if tuple(feature.names) != task.hub_label_names:
            raise DataError(
                where,
                f"hub label names are {feature.names}, expected {list(task.hub_label_names)}",
                f"check the label order of task {task.name} against this revision before using it",
            )
    counts = Counter() if dropped is None else dropped
    pairs = []
    row = 0
    id_column = "id" if "id" in ds.column_names else None
    columns = [column1, column2, label_column, *([id_column] if id_column else [])]
    for batch in ds.select_columns(columns).iter(batch_size=10_000):
        ids = batch[id_column] if id_column else range(row, row + len(batch[label_column]))
        for sentence1, sentence2, label, row_id in zip(
            batch[column1], batch[column2], batch[label_column], ids, strict=True
        ):
            row += 1
            if label is None or label == -1:
                counts["no_label"] += 1
                continue
            if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(task.labels):
                raise DataError(
                    where,
                    f"row {row} has label {label!r}; {task.name} has ids 0..{len(task.labels) - 1}",
                    f"check the hub revision of task {task.name}",
                )
            if _missing_text(sentence1) or _missing_text(sentence2):
                counts["missing_text"] += 1
                continue
            pairs.append(Pair(sentence1, sentence2, label, str(row_id)))
    return pairs


def _offline_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the hub cannot be reached", whichever HTTP stack raised them."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        from huggingface_hub.errors import LocalEntryNotFoundError  # offline mode and not cached

        errors.append(LocalEntryNotFoundError)
    except ImportError:
        pass
    try:
        import requests

        errors += [requests.ConnectionError, requests.Timeout]
    except ImportError:
        pass
    return tuple(errors)


def _offline_fix(task: TaskSpec) -> str:
    hub_less = sorted(name for name, spec in registered_tasks().items() if spec.hub_id is None)
    return (
        f"to run without the hub, set `tasks.{task.name}.source: local:<dir>` where <dir> holds XTREME-style "
        f"TSVs (train-en.tsv, dev-en.tsv, test-<lang>.tsv with sentence1, sentence2, label), "
        f"or run the embedded offline task instead (`source: embedded`, task {', '.join(hub_less) or 'none'}); "
        f"or pre-fill the cache with this revision on a machine with internet access"
    )


def hub_split_cache(task: TaskSpec, lang: str, cache_dir: Path | None) -> Path | None:
    """Where `datasets` keeps the pinned revision of `lang`'s config once loaded (its own Arrow cache,
    `<cache_dir>/<namespace>___<name>/<config>/0.0.0/<revision>`): what it reloads when the hub is offline."""
    import datasets

    root = Path(cache_dir) if cache_dir is not None else Path(datasets.config.HF_DATASETS_CACHE)
    namespace, name = task.hub_id.split("/")
    return root / f"{namespace}___{name.lower()}" / task.hub_config(lang) / "0.0.0" / task.hub_revision


def hub_split_cached(task: TaskSpec, lang: str, split: str, cache_dir: Path | None) -> bool:
    """Whether that cache holds `split` (our name) of `lang` at the pinned revision."""
    info = hub_split_cache(task, lang, cache_dir) / "dataset_info.json"
    return info.is_file() and task.hub_split(split) in json.loads(info.read_text()).get("splits", {})


def _load_hub_split(task: TaskSpec, lang: str, split: str, cache_dir: Path | None) -> datasets.Dataset:
    import datasets
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    where = _hub_address(task, lang, split)
    # Offline, `datasets` would reload whichever revision its cache holds last: only the pinned one is accepted.
    if hub_offline() and not hub_split_cached(task, lang, split, cache_dir):
        raise DataError(
            where,
            f"HF_HUB_OFFLINE is set and the pinned revision is not in the datasets cache "
            f"({hub_split_cache(task, lang, cache_dir)}, split {task.hub_split(split)})",
            _offline_fix(task),
        )
    try:
        return datasets.load_dataset(
            task.hub_id,
            task.hub_config(lang),
            split=task.hub_split(split),
            revision=task.hub_revision,
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
    except (RepositoryNotFoundError, RevisionNotFoundError) as err:
        raise DataError(
            where,
            f"the pinned dataset revision does not exist on the hub ({type(err).__name__})",
            f"update hub_id/hub_revision of task {task.name} in robustxlt/data/tasks.py",
        ) from err
    except _offline_errors() as err:
        offline = " (HF_HUB_OFFLINE is set)" if hub_offline() else ""
        raise DataError(
            where, f"cannot reach the Hugging Face hub{offline}: {type(err).__name__}: {err}", _offline_fix(task)
        ) from err


def prepare_from_hub(
    task: TaskSpec, out_dir: Path, cache_dir: Path | None = None, languages: Sequence[str] | None = None
) -> dict:
    """Download `task` at its pinned revision and write canonical files and `manifest.json` into `out_dir`.

    English train and dev (the hub's "validation") and the test split of every language (of
    `languages` when given; English always). Returns the manifest.
    """
    import datasets

    if task.hub_id is None:
        raise DataError(
            f"task {task.name}",
            "this task has no hub dataset",
            "use `source: embedded` (or `source: local:<dir>`) for it",
        )
    converted: dict[tuple[str, str], list[Pair]] = {}
    details: dict[str, dict] = {}
    for split, lang in task.required_files(languages):
        dropped: Counter = Counter()
        pairs = convert_hub_split(_load_hub_split(task, lang, split, cache_dir), task, lang, dropped)
        if not pairs:
            raise DataError(
                _hub_address(task, lang, split),
                "no usable rows (all unlabeled or empty)",
                f"check the hub revision of task {task.name}",
            )
        if dropped:
            log.warning("%s: dropped %s", _hub_address(task, lang, split), dict(dropped))
        converted[(split, lang)] = pairs
        details[f"{split}-{lang}.tsv"] = {
            "hub_config": task.hub_config(lang),
            "hub_split": task.hub_split(split),
            "dropped": dict(dropped),
        }
    files = write_split_files(Path(out_dir), converted)
    manifest = {
        "source": "hub",
        "task": task.name,
        "hub_id": task.hub_id,
        "revision": task.hub_revision,
        "version": f"{task.hub_id}@{task.hub_revision}",
        "datasets_version": datasets.__version__,
        "labels": list(task.labels),
        "languages": list(task.select_languages(languages)),
        "files": {name: {**entry, **details[name]} for name, entry in files.items()},
    }
    write_manifest(Path(out_dir) / "manifest.json", manifest)
    return manifest


def _find_columns(fields: list[str]) -> tuple[int, int, int | None, int | None] | None:
    """Column indices of sentence 1, sentence 2, the label and the row id if `fields` is a header row, else None."""
    lowered = [field.strip().lower() for field in fields]

    def index(names: tuple[str, ...]) -> int | None:
        return next((i for i, name in enumerate(lowered) if name in names), None)

    first, second = index(_SENTENCE1_NAMES), index(_SENTENCE2_NAMES)
    if first is None or second is None:
        return None
    return first, second, index(_LABEL_NAMES), index(("id", "guid", "pair_id"))


_UNLABELED_FIX = (
    "files without gold labels cannot be trained on or scored (an unlabeled test set is never scored); "
    "supply the labeled files "
    "(XTREME's download keeps PAWS-X/XNLI test labels) with the label as the third column"
)


def _shown(text: str, limit: int = 60) -> str:
    """A field quoted for an error message, cut short: a message is one readable line, not the file."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def read_local_tsv(path: Path, task: TaskSpec, dropped: Counter | None = None) -> list[Pair]:
    """Read and validate one XTREME-style TSV of `task`; raise DataError naming the file and line of any defect.

    Rows with a blank sentence are dropped from train and dev files and counted in `dropped["missing_text"]`;
    in a test file such a row is refused, since dropping it would shift every later row against the other
    languages' test files (the generalized setting pairs them by row).
    """
    counts = Counter() if dropped is None else dropped
    data = path.read_bytes()
    if b"\r" in data and b"\n" not in data.rstrip(b"\r"):
        raise DataError(
            path,
            "lines end in CR only (classic Mac line endings), so the file reads as one line",
            "convert the line endings to LF (e.g. `tr '\\r' '\\n'`, or save as Unix text)",
            line=1,
        )
    lines = data.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError(
            path, "file is empty (no rows)", "supply the data rows: sentence1<TAB>sentence2<TAB>label", line=1
        )
    fix_columns = "each row must be sentence1<TAB>sentence2<TAB>label (no quoting, no tabs inside sentences)"
    pairs = []
    columns: tuple[int, int, int | None, int | None] = (0, 1, 2, None)
    width = 3
    first_data_line = 1
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as err:
            raise DataError(
                path,
                f"not valid UTF-8 ({err.reason} at byte {err.start} of the line)",
                "re-encode the file as UTF-8",
                line=number,
            ) from None
        if "\x00" in text:
            raise DataError(
                path,
                f"NUL byte at column {text.index(chr(0)) + 1} (a binary or UTF-16 file?)",
                "save the file as UTF-8 text without NUL characters",
                line=number,
            )
        fields = text.removesuffix("\r").split("\t")
        if number == 1:
            header = _find_columns(fields)
            if header is not None:
                columns, width, first_data_line = header, len(fields), 2
                if columns[2] is None:
                    raise DataError(
                        path, f"header {_shown(chr(9).join(fields))} has no label column", _UNLABELED_FIX, line=1
                    )
                continue
        if len(fields) != width:
            # Two columns from the first row on is a file without labels, not a damaged row.
            if len(fields) == 2 and width == 3 and number == first_data_line:
                raise DataError(
                    path,
                    "row has 2 columns (sentence1, sentence2) and no label: the file is unlabeled",
                    _UNLABELED_FIX,
                    line=number,
                )
            raise DataError(
                path, f"expected {width} tab-separated columns, found {len(fields)}", fix_columns, line=number
            )
        first, second, label_column, id_column = columns
        label = task.label_id(fields[label_column])
        if label is None:
            raise DataError(
                path,
                f"unknown label {_shown(fields[label_column])} for task {task.name}",
                f"use one of: {', '.join(task.accepted_labels())} (names are case-insensitive)",
                line=number,
            )
        if _missing_text(fields[first]) or _missing_text(fields[second]):
            if path.name.startswith("test-"):
                raise DataError(
                    path,
                    f"sentence {1 if _missing_text(fields[first]) else 2} is blank",
                    "fill it in, or remove this row from every language's test file (the test files are "
                    "paired row by row across languages)",
                    line=number,
                )
            counts["missing_text"] += 1
            continue
        # The row id: the file's id column, else the row's position (blank test rows are refused, so it is stable).
        row_id = fields[id_column] if id_column is not None else str(number - first_data_line)
        pairs.append(Pair(fields[first], fields[second], label, row_id))
    if not pairs:
        raise DataError(
            path,
            "file has no usable rows (only a header or blank sentences)",
            "supply the data rows: sentence1<TAB>sentence2<TAB>label",
            line=len(lines),
        )
    return pairs


def prepare_from_local(task: TaskSpec, src_dir: Path, out_dir: Path, languages: Sequence[str] | None = None) -> dict:
    """Convert XTREME-style `{split}-{lang}.tsv` files in `src_dir` into canonical files and `manifest.json`.

    Needs train-en, dev-en and test-<lang> for every language (of `languages` when given).
    Everything is validated before anything is written. Returns the manifest.
    """
    src_dir = Path(src_dir)
    required = task.required_files(languages)
    missing = [
        src_dir / f"{split}-{lang}.tsv" for split, lang in required if not (src_dir / f"{split}-{lang}.tsv").is_file()
    ]
    if missing:
        hint = ""
        if any(path.name.startswith("dev-") for path in missing) and any(src_dir.glob("validation-*.tsv")):
            hint = " (validation-*.tsv files are not read: rename them to dev-*.tsv)"
        raise DataError(
            missing[0],
            f"missing input file(s) for task {task.name}: {', '.join(str(path) for path in missing)}",
            f"provide {', '.join(f'{s}-{l}.tsv' for s, l in required)} in {src_dir}, "
            f"splits named {'/'.join(SPLITS)}{hint}",
        )
    converted: dict[tuple[str, str], list[Pair]] = {}
    details: dict[str, dict] = {}
    for split, lang in required:
        path = src_dir / f"{split}-{lang}.tsv"
        dropped: Counter = Counter()
        converted[(split, lang)] = read_local_tsv(path, task, dropped)
        if dropped:
            log.warning("%s: dropped %s", path, dict(dropped))
        details[path.name] = {
            "source_file": str(path.resolve()),
            "source_sha256": sha256_file(path),
            "dropped": dict(dropped),
        }
    files = write_split_files(Path(out_dir), converted)
    # The content of the inputs is the version of a local source.
    version = hashlib.sha256("".join(details[name]["source_sha256"] for name in sorted(details)).encode()).hexdigest()
    manifest = {
        "source": "local",
        "task": task.name,
        "source_dir": str(src_dir.resolve()),
        "version": f"sha256:{version}",
        "labels": list(task.labels),
        "languages": list(task.select_languages(languages)),
        "files": {name: {**entry, **details[name]} for name, entry in files.items()},
    }
    write_manifest(Path(out_dir) / "manifest.json", manifest)
    return manifest
