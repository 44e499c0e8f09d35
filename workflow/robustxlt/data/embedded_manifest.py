"""The embedded benchmark's provenance (robustxlt.data.embedded_benchmark): what was read, how many fields and
pairs each split and language got, whether they meet the size targets and what limits them, and how far word
overlap alone gets in each language."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from robustxlt.data.canonical import Pair
from robustxlt.data.embedded_fields import jaccard

# The sizes the benchmark aims at: English train and dev pairs, and test pairs per language.
TARGETS: dict[str, int] = {"train": 3000, "dev": 400, "test": 1000}
# The most a word-overlap rule (no model) may reach on a language's test set for the task to measure transfer.
MAX_OVERLAP_ACCURACY = 0.6


def overlap_threshold(pairs: Sequence[Pair]) -> float:
    """The Jaccard overlap of sentence 1 and 2 above which `help_text_of` (1) is predicted: the value with the
    best accuracy on `pairs` (the lowest on ties; below every score when predicting all 0 is best)."""
    scores = np.array([jaccard(p.sentence1, p.sentence2) for p in pairs])
    labels = np.array([p.label for p in pairs])
    candidates = np.concatenate([[-1.0], np.unique(scores)])
    accuracy = [np.mean((scores > t) == (labels == 1)) for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def overlap_accuracy(pairs: Sequence[Pair], threshold: float) -> float | None:
    """Accuracy of predicting `help_text_of` exactly when the Jaccard overlap is above `threshold`."""
    if not pairs:
        return None
    return float(np.mean([(jaccard(p.sentence1, p.sentence2) > threshold) == (p.label == 1) for p in pairs]))


def overlap_only(data: Mapping[tuple[str, str], Sequence[Pair]], languages: Sequence[str]) -> dict:
    """Word-overlap-only accuracy: a threshold chosen on English dev, applied to every language's test set."""
    threshold = overlap_threshold(data[("dev", "en")]) if data[("dev", "en")] else 0.0
    test = {lang: overlap_accuracy(data[("test", lang)], threshold) for lang in languages}
    return {
        "rule": "help_text_of when the word Jaccard overlap of label and help text is above the threshold",
        "threshold": threshold,
        "chosen_on": "dev-en",
        "dev_en": overlap_accuracy(data[("dev", "en")], threshold),
        "test": test,
        "max_accuracy": MAX_OVERLAP_ACCURACY,
        "within_max": {lang: value is not None and value <= MAX_OVERLAP_ACCURACY for lang, value in test.items()},
    }


def _english_limit(name: str, pairs: int, cap: int, fields: int, couples: int) -> str | None:
    if pairs >= TARGETS[name]:
        return None
    if cap < TARGETS[name]:
        return f"{name}: {pairs} pairs: capped by n_{name}={cap}"
    return f"{name}: {pairs} pairs: only {fields} {name} fields, {couples} of them matched to a donor"


def _test_limit(lang: str, pairs: int, pool, couples, n_test: int) -> str | None:
    """Why language `lang` has fewer test pairs than the target (None when it has enough)."""
    if pairs >= TARGETS["test"]:
        return None
    if lang == "en":
        translated, both = len(pool), len(couples)
        reasons = (
            [] if 2 * both >= TARGETS["test"] else [f"only {translated} test-pool fields, {both} matched to a donor"]
        )
    else:
        translated = sum(lang in f.translations for f in pool)
        both = sum(lang in f.translations and lang in d.translations for f, d in couples)
        reasons = (
            [
                f"only {translated} of the {len(pool)} test-pool fields translated into {lang}, {both} of the "
                f"{len(couples)} test couples with field and donor translated"
            ]
            if 2 * both < TARGETS["test"]
            else []
        )
    if n_test // 2 < len(couples):
        reasons.append(f"n_test={n_test} keeps the first {n_test // 2} of the {len(couples)} test couples")
    return f"{lang}: {pairs} pairs: " + "; ".join(reasons)


def targets_met(splits, couples, data, parameters: dict, languages: Sequence[str]) -> dict:
    """Each split's and language's pairs against `TARGETS`, and what limits the ones below it."""
    english = {
        name: _english_limit(
            name, len(data[(name, "en")]), parameters[f"n_{name}"], len(splits[name]), len(couples[name])
        )
        for name in ("train", "dev")
    }
    test = {
        lang: _test_limit(lang, len(data[("test", lang)]), splits["test"], couples["test"], parameters["n_test"])
        for lang in languages
    }
    return {
        "targets": dict(TARGETS),
        "meets": {
            **{name: limit is None for name, limit in english.items()},
            "test": {lang: limit is None for lang, limit in test.items()},
        },
        "limited_by": [limit for limit in [*english.values(), *test.values()] if limit is not None],
    }


def _split_pairs(rows, requested: int, matchable: int) -> dict:
    """Counts of one split's (field, help field, label) rows."""
    return {
        "requested": requested,
        "total": len(rows),
        "labels": dict(sorted(Counter(("unrelated", "help_text_of")[label] for *_, label in rows).items())),
        "apps": dict(sorted(Counter(f.app for f, _, _ in rows).items())),
        "cross_app_negatives": sum(f.app != d.app for f, d, label in rows if label == 0),
        "max_help_reuse_as_negative": max(Counter(d for f, d, label in rows if label == 0).values(), default=0),
        "matchable_fields": matchable,
    }


def provenance(
    wheels, catalogues_by_app, raw_fields, fields, splits, couples, rows, test_rows, data, parameters
) -> dict:
    """The manifest entries of one build: `rows` holds each split's English (field, help field, label) rows,
    `test_rows` each language's test rows (robustxlt.data.embedded_pairs.PoolRow)."""
    languages = list(test_rows)
    all_languages = sorted({lang for f in fields for lang in f.translations})
    return {
        "wheels": [
            {"app": w.app, "name": w.name, "version": w.version, "filename": w.filename, "sha256": w.sha256}
            for w in wheels
        ],
        "catalogue_languages": {app: sorted(c) for app, c in catalogues_by_app.items()},
        "raw_fields_per_app": {app: len(found) for app, found in raw_fields.items()},
        "raw_fields_per_kind": {
            app: dict(sorted(Counter(r.kind for r in found).items())) for app, found in raw_fields.items()
        },
        "usable_fields_per_app": dict(sorted(Counter(f.app for f in fields).items())),
        "translated_fields_per_language": {
            lang: dict(sorted(Counter(f.app for f in fields if lang in f.translations).items()))
            for lang in all_languages
        },
        "fields_per_split": {
            name: dict(sorted(Counter(f.app for f in split).items())) for name, split in splits.items()
        },
        "pairs_per_split": {
            name: _split_pairs(rows[name], parameters[f"n_{name}"], len(couples[name])) for name in rows
        },
        "test_rows_are_subsets": True,
        "test_row_ids": "a language's test row with id i translates the English test row with id i",
        "rows_per_language": {lang: len(rows) for lang, rows in test_rows.items()},
        "parameters": parameters,
        **targets_met(splits, couples, data, parameters, languages),
        "overlap_only": overlap_only(data, languages),
    }
