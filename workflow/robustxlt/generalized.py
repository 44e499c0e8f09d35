"""The generalized setting: test pairs whose two sentences are in two different languages.

The test sets are parallel (row i of every `test-{lang}.tsv` translates the same English pair), so the pair
file for (l1, l2) takes sentence 1 of row i from l1, sentence 2 of row i from l2, and row i's gold label
(PAPER.md). Every ordered pair of distinct languages gets a file; optionally only a seeded sample of the rows
is used (the same rows for every pair), to bound evaluation cost on small machines.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np

from robustxlt.canonical import DataError, Pair, read_pairs, sha256_file, write_manifest, write_pairs

log = logging.getLogger(__name__)


def pair_file_name(lang1: str, lang2: str) -> str:
    return f"test-{lang1}-{lang2}.tsv"


def result_name(lang1: str, lang2: str) -> str:
    """The name of a test set's evaluation result: the language, or `l1-l2` for a generalized pair."""
    return lang1 if lang1 == lang2 else f"{lang1}-{lang2}"


def language_pairs(languages: list[str]) -> list[tuple[str, str]]:
    """Every ordered pair of distinct languages, in the order of `languages`."""
    return list(itertools.permutations(languages, 2))


def cross_language_pairs(first: list[Pair], second: list[Pair], rows: np.ndarray) -> list[Pair]:
    """Rows `rows` of two parallel test sets: sentence 1 from `first`, sentence 2 and the label kept aligned."""
    return [Pair(first[i].sentence1, second[i].sentence2, first[i].label) for i in rows]


def _check_parallel(test_sets: dict[str, list[Pair]], files: dict[str, Path]) -> int:
    """The common row count; refuse test sets that are not row-aligned translations of each other."""
    reference_lang, reference = next(iter(test_sets.items()))
    for lang, pairs in test_sets.items():
        if len(pairs) != len(reference):
            raise DataError(
                files[lang],
                f"{len(pairs)} rows, but {files[reference_lang].name} has {len(reference)}; the generalized setting "
                "needs parallel test sets (row i of every language translates the same pair)",
                f"remove {lang} from tasks.<task>.generalized.languages, or provide parallel test files",
            )
        mismatch = next((i for i, (a, b) in enumerate(zip(reference, pairs)) if a.label != b.label), None)
        if mismatch is not None:
            raise DataError(
                files[lang],
                f"row {mismatch + 1} has label {pairs[mismatch].label} but {files[reference_lang].name} has "
                f"{reference[mismatch].label}: the test sets are not row-aligned",
                f"remove {lang} from tasks.<task>.generalized.languages, or provide parallel test files",
                line=mismatch + 2,
            )
    return len(reference)


def sample_rows(total: int, max_examples: int | None, seed: int) -> np.ndarray:
    """All row indices, or a seeded sample of `max_examples` of them in file order."""
    if max_examples is None or max_examples >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=max_examples, replace=False))


def write_generalized_pairs(
    data_dir: Path, languages: list[str], manifest_file: Path, max_examples: int | None = None, seed: int = 0
) -> dict:
    """Write `test-{l1}-{l2}.tsv` into `data_dir` for every ordered pair of `languages`, and a manifest that
    records the rows used and each file's hash."""
    data_dir = Path(data_dir)
    if len(languages) == 1:
        raise ValueError(f"the generalized setting needs two or more languages (or none), got {languages}")
    if not languages:  # the setting is off: an empty manifest keeps the rule graph the same
        manifest = {"languages": [], "pairs": [], "files": {}}
        write_manifest(manifest_file, manifest)
        return manifest
    files = {lang: data_dir / f"test-{lang}.tsv" for lang in languages}
    test_sets = {lang: read_pairs(path) for lang, path in files.items()}
    total = _check_parallel(test_sets, files)
    rows = sample_rows(total, max_examples, seed)
    written = {}
    for lang1, lang2 in language_pairs(languages):
        path = data_dir / pair_file_name(lang1, lang2)
        count = write_pairs(path, cross_language_pairs(test_sets[lang1], test_sets[lang2], rows))
        written[path.name] = {"rows": count, "sha256": sha256_file(path)}
    manifest = {
        "languages": list(languages),
        "pairs": [f"{lang1}-{lang2}" for lang1, lang2 in language_pairs(languages)],
        "test_rows": total,
        "rows_used": [int(i) for i in rows],
        "max_examples": max_examples,
        "sample_seed": seed,
        "files": written,
    }
    write_manifest(manifest_file, manifest)
    log.info("wrote %d generalized test files of %d rows (of %d)", len(written), len(rows), total)
    return manifest
