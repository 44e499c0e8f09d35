"""The generalized setting: test pairs whose two sentences are in two different languages.

The test sets are parallel translations of the same English pairs, so the pair file for (l1, l2) takes
sentence 1 of a row from l1, sentence 2 of the same row from l2, and the row's gold label (docs/paper-choices.md).
Rows are matched by the source's row id where every test set has one (the hub's `id` column, or the row's position in
the source file), else by position. The real data is not perfectly parallel: PAWS-X's human-translated test
sets hold untranslated placeholder rows (the sentence is `NS`), a few of them with a label that differs from
English's, and a row dropped from one language (unlabeled, blank) must not shift the others. So a pair row is
dropped when either of its sentences is a placeholder, when the two languages' labels for the row disagree, or
when one language lacks the row; every language pair's kept and dropped counts are recorded. Gross
misalignment is refused: row counts that differ when rows are matched by position, or rows missing or
disagreeing with the first language's on more than `max_disagreement` of them (default 5%).

A task whose data manifest declares `test_rows_are_subsets` (the embedded benchmark: each language holds the
English test rows translated into it, matched by id) has test sets of different sizes by design: there only
label disagreements on the rows two languages share count as misalignment, and the rows used are those present
in every chosen language.

Every ordered pair of distinct languages gets a file; it uses the rows common to all chosen languages (so every
pair is scored on the same rows), optionally only a seeded sample of them, to bound evaluation cost on small
machines.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from pathlib import Path

import numpy as np

from robustxlt.data.canonical import (
    PLACEHOLDERS,
    DataError,
    Pair,
    is_placeholder,
    read_manifest,
    read_pairs,
    sha256_file,
    write_manifest,
    write_pairs,
)

log = logging.getLogger(__name__)

MAX_DISAGREEMENT = 0.05


def pair_file_name(lang1: str, lang2: str) -> str:
    return f"test-{lang1}-{lang2}.tsv"


def result_name(lang1: str, lang2: str) -> str:
    """The name of a test set's evaluation result: the language, or `l1-l2` for a generalized pair."""
    return lang1 if lang1 == lang2 else f"{lang1}-{lang2}"


def language_pairs(languages: list[str]) -> list[tuple[str, str]]:
    """Every ordered pair of distinct languages, in the order of `languages`."""
    return list(itertools.permutations(languages, 2))


def rows_by_id(test_sets: dict[str, list[Pair]], files: dict[str, Path]) -> tuple[dict[str, dict[str, Pair]], str]:
    """Each language's rows keyed by row id, and how rows are matched ("id" or "position"). Matching by
    position needs equal row counts."""
    if all(pairs and all(p.id is not None for p in pairs) for pairs in test_sets.values()):
        keyed = {}
        for lang, pairs in test_sets.items():
            keyed[lang] = {p.id: p for p in pairs}
            if len(keyed[lang]) != len(pairs):
                duplicate = next(row_id for row_id, n in Counter(p.id for p in pairs).items() if n > 1)
                raise DataError(files[lang], f"row id {duplicate!r} occurs twice", "give every test row its own id")
        return keyed, "id"
    reference_lang, reference = next(iter(test_sets.items()))
    for lang, pairs in test_sets.items():
        if len(pairs) != len(reference):
            raise DataError(
                files[lang],
                f"{len(pairs)} rows, but {files[reference_lang].name} has {len(reference)}, and the files have no "
                "row ids to match them by; the generalized setting needs parallel test sets",
                f"remove {lang} from tasks.<task>.generalized.languages, or provide parallel test files",
            )
    return {lang: {str(i): p for i, p in enumerate(pairs)} for lang, pairs in test_sets.items()}, "position"


def check_alignment(
    rows: dict[str, dict[str, Pair]], files: dict[str, Path], max_disagreement: float, subsets: bool = False
) -> None:
    """Refuse a language whose rows are missing or disagree in label with the first language's on more than
    `max_disagreement` of the first language's rows: that is misalignment, not the data's known quirks. With
    `subsets` (test sets declared to hold subsets of the rows) missing rows are expected: the share is that of
    the rows both languages have whose labels disagree."""
    reference_lang, reference = next(iter(rows.items()))
    for lang, keyed in rows.items():
        missing = 0 if subsets else sum(1 for row_id in reference if row_id not in keyed)
        shared = sum(1 for row_id in reference if row_id in keyed) if subsets else len(reference)
        differing = sum(1 for row_id, p in reference.items() if row_id in keyed and keyed[row_id].label != p.label)
        share = (missing + differing) / max(shared, 1)
        if share > max_disagreement:
            raise DataError(
                files[lang],
                f"{missing} rows missing and {differing} with another label than {files[reference_lang].name} "
                f"({share:.1%} of {'the rows they share' if subsets else 'its'} {shared} rows, above "
                f"max_disagreement {max_disagreement:.0%}): the test sets are not aligned",
                f"remove {lang} from tasks.<task>.generalized.languages, provide parallel test files, or raise "
                "tasks.<task>.generalized.max_disagreement",
            )


def aligned_rows(
    files: dict[str, Path], max_disagreement: float, subsets: bool
) -> tuple[dict[str, dict[str, Pair]], str]:
    """Each language's test rows keyed by row id, checked for alignment (`rows_by_id`, `check_alignment`)."""
    rows, matched_by = rows_by_id({lang: read_pairs(path) for lang, path in files.items()}, files)
    if subsets and matched_by != "id":
        raise DataError(
            next(iter(files.values())),
            "the data manifest declares test_rows_are_subsets, but the test files have no row ids to match by",
            "re-run prepare_data for this task",
        )
    check_alignment(rows, files, max_disagreement, subsets)
    return rows, matched_by


def declares_subsets(data_dir: Path) -> bool:
    """Whether the task's data manifest (if there is one) declares that each language's test set holds a subset
    of the rows, matched by id."""
    path = Path(data_dir) / "manifest.json"
    return path.is_file() and bool(read_manifest(path).get("test_rows_are_subsets", False))


def cross_language_pairs(
    first: dict[str, Pair], second: dict[str, Pair], row_ids: list[str]
) -> tuple[list[Pair], Counter]:
    """Sentence 1 from `first`, sentence 2 and the label from the same row of `second`, for `row_ids`; the rows
    dropped, counted by reason (placeholder, label_mismatch, missing)."""
    pairs, dropped = [], Counter()
    for row_id in row_ids:
        a, b = first.get(row_id), second.get(row_id)
        if a is None or b is None:
            dropped["missing"] += 1
        elif is_placeholder(a.sentence1) or is_placeholder(b.sentence2):
            dropped["placeholder"] += 1
        elif a.label != b.label:
            dropped["label_mismatch"] += 1
        else:
            pairs.append(Pair(a.sentence1, b.sentence2, a.label, row_id))
    return pairs, dropped


def sample_rows(total: int, max_examples: int | None, seed: int) -> np.ndarray:
    """All row indices, or a seeded sample of `max_examples` of them in file order."""
    if max_examples is None or max_examples >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=max_examples, replace=False))


def write_generalized_pairs(
    data_dir: Path,
    languages: list[str],
    manifest_file: Path,
    max_examples: int | None = None,
    seed: int = 0,
    max_disagreement: float = MAX_DISAGREEMENT,
) -> dict:
    """Write `test-{l1}-{l2}.tsv` into `data_dir` for every ordered pair of `languages`, and a manifest that
    records how rows were matched, the rows used, each pair's kept and dropped rows, and each file's hash."""
    data_dir = Path(data_dir)
    if len(languages) == 1:
        raise ValueError(f"the generalized setting needs two or more languages (or none), got {languages}")
    if not languages:  # the setting is off: an empty manifest keeps the rule graph the same
        manifest = {"languages": [], "pairs": [], "files": {}}
        write_manifest(manifest_file, manifest)
        return manifest
    files = {lang: data_dir / f"test-{lang}.tsv" for lang in languages}
    subsets = declares_subsets(data_dir)
    rows, matched_by = aligned_rows(files, max_disagreement, subsets)
    common = [row_id for row_id in rows[languages[0]] if all(row_id in keyed for keyed in rows.values())]
    if not common:
        raise DataError(
            files[languages[0]], f"no test row is present in all of {languages}", "choose fewer or other languages"
        )
    sample = [common[i] for i in sample_rows(len(common), max_examples, seed)]
    written = {}
    for lang1, lang2 in language_pairs(languages):
        path = data_dir / pair_file_name(lang1, lang2)
        pairs, dropped = cross_language_pairs(rows[lang1], rows[lang2], sample)
        if not pairs:
            raise DataError(
                path, f"every row was dropped ({dict(dropped)})", f"check test-{lang1}.tsv and test-{lang2}.tsv"
            )
        count = write_pairs(path, pairs)
        written[path.name] = {"rows": count, "dropped": dict(dropped), "sha256": sha256_file(path)}
    manifest = {
        "languages": list(languages),
        "pairs": [f"{lang1}-{lang2}" for lang1, lang2 in language_pairs(languages)],
        "matched_by": matched_by,
        "test_rows_are_subsets": subsets,
        "test_rows": {lang: len(keyed) for lang, keyed in rows.items()},
        "common_rows": len(common),
        "rows_used": sample,
        "max_examples": max_examples,
        "max_disagreement": max_disagreement,
        "sample_seed": seed,
        "placeholders": sorted(PLACEHOLDERS),
        "files": written,
    }
    write_manifest(manifest_file, manifest)
    kept = [entry["rows"] for entry in written.values()]
    log.info(
        "wrote %d generalized test files of %d-%d rows (of %d common rows, matched by %s)",
        len(written), min(kept), max(kept), len(common), matched_by,
    )  # fmt: skip
    return manifest
