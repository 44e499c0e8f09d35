"""The embedded benchmark on tiny fixture wheels: catalogue reading, splits, alignment, pinning."""

from __future__ import annotations

import random
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import polib
import pytest
from robustxlt.data import catalogues
from robustxlt.data.canonical import sha256_file
from robustxlt.data.catalogues import (
    WheelHashMismatch,
    WheelSpec,
    fetch_wheel,
    normalise_language,
    read_catalogues,
)
from robustxlt.data.embedded_benchmark import LABELS, LANGUAGES, SPEC, build_embedded_benchmark
from robustxlt.data.embedded_fields import fields_in_source, is_real_sentence, jaccard, zope_fields

SHARED = [
    "the",
    "new",
    "item",
    "list",
    "page",
    "user",
    "data",
    "form",
    "setting",
    "name",
]
VOCAB = {
    "alpha": [
        "ticket",
        "order",
        "event",
        "voucher",
        "invoice",
        "payment",
        "quota",
        "seat",
        "refund",
        "cart",
    ],
    "beta": [
        "string",
        "translation",
        "glossary",
        "component",
        "project",
        "language",
        "commit",
        "review",
        "source",
    ],
    "gamma": [
        "person",
        "family",
        "ancestor",
        "birth",
        "death",
        "marriage",
        "parent",
        "child",
        "census",
        "grave",
    ],
}
# Directory name -> language the fixture expects after normalisation (None: skipped).
LOCALE_DIRS = {"de": "de", "ja_JP": "ja", "zh_Hans": "zh", "zh_TW": None, "pt_BR": None}
N_FIELDS = 90
N_FILES = 6


def english_sentences(app: str, n: int) -> list[str]:
    """n distinct 5-7 word sentences mixing the app's words with shared ones."""
    rng = random.Random(app)
    sentences: set[str] = set()
    while len(sentences) < n:
        words = rng.sample(VOCAB[app], 3) + rng.sample(SHARED, rng.randint(2, 4))
        rng.shuffle(words)
        sentences.add(" ".join(words).capitalize() + ".")
    return sorted(sentences)


def english_fields(app: str, n: int = N_FIELDS) -> list[tuple[str, str]]:
    """n (label, help text) pairs: distinct two-word labels and distinct help sentences."""
    helps = english_sentences(app, n)
    k = len(VOCAB[app])
    labels = [f"{VOCAB[app][i % k]} {SHARED[i // k]}".capitalize() for i in range(n)]
    return list(zip(labels, helps))


def python_source(fields: list[tuple[str, str]]) -> str:
    """Django-like source: the label as keyword, as first argument, or via gettext_lazy."""
    lines = [
        "from django.utils.translation import gettext_lazy as _, pgettext_lazy",
        "",
    ]
    for i, (label, help_text) in enumerate(fields):
        if i % 3 == 0:
            lines.append(f"f{i} = CharField(verbose_name=_({label!r}), help_text=_({help_text!r}))")
        elif i % 3 == 1:
            lines.append(f"f{i} = CharField(_({label!r}), max_length=3, help_text=_({help_text!r}))")
        else:
            lines.append(f"f{i} = dict(label=gettext_lazy({label!r}), help_text=_({help_text!r}))")
    # Not fields: no help_text, a context call, a formatted label.
    lines.append("g = CharField(verbose_name=_('Open the item list now'))")
    lines.append("h = CharField(label=pgettext_lazy('menu', 'Open'), help_text=_('Ignored help text here.'))")
    lines.append("k = CharField(label=_('A') + 'b', help_text=_('Ignored help text again.'))")
    return "\n".join(lines) + "\n"


def translate(lang: str, english: str) -> str:
    return f"{lang}: {english}"


def po_file(entries: list[polib.POEntry]) -> polib.POFile:
    po = polib.POFile()
    po.metadata = {
        "Content-Type": "text/plain; charset=utf-8",
        "Plural-Forms": "nplurals=2; plural=(n != 1);",
    }
    for entry in entries:
        po.append(entry)
    return po


def make_wheel(directory: Path, app: str, n_fields: int = N_FIELDS) -> WheelSpec:
    """A zip laid out like a wheel: Python sources and compiled catalogues under {app}/locale/."""
    fields = english_fields(app, n_fields)
    english = [text for pair in fields for text in pair]
    staging = directory / f"staging-{app}"
    members: dict[str, Path] = {}
    for locale, lang in LOCALE_DIRS.items():
        lang = lang or locale
        # Every third help text is untranslated in Chinese so that not every field is test-eligible.
        entries = [
            polib.POEntry(msgid=text, msgstr=translate(lang, text))
            for i, text in enumerate(english)
            if not (lang == "zh" and i % 6 == 1)
        ]
        entries += [
            polib.POEntry(
                msgid="One order was placed",
                msgid_plural="%(n)s orders were placed",
                msgstr_plural={0: f"{lang} one", 1: f"{lang} many"},
            ),
            polib.POEntry(msgctxt="menu", msgid="Open the item list now", msgstr=f"{lang} menu"),
            polib.POEntry(
                msgid="Deleted %(count)s items from the list",
                msgstr=f"{lang} %(count)s",
            ),
            polib.POEntry(msgid="This one is still empty here", msgstr=""),
        ]
        path = staging / locale / "LC_MESSAGES" / "django.mo"
        path.parent.mkdir(parents=True, exist_ok=True)
        po_file(entries).save_as_mofile(str(path))
        members[f"{app}/locale/{locale}/LC_MESSAGES/django.mo"] = path
        # A .po-only domain: read with polib, fuzzy entries skipped.
        fuzzy = polib.POEntry(
            msgid="A fuzzy guess about the list",
            msgstr=f"{lang} fuzzy",
            flags=["fuzzy"],
        )
        only_po = f"Only in the {app} po domain here"
        ok = polib.POEntry(msgid=only_po, msgstr=translate(lang, only_po))
        po_path = staging / locale / "LC_MESSAGES" / "extra.po"
        po_file([fuzzy, ok]).save(str(po_path))
        members[f"{app}/locale/{locale}/LC_MESSAGES/extra.po"] = po_path
    # A Zope-style English catalogue: identifier msgids whose English text is a comment.
    en_po = staging / "en" / "LC_MESSAGES" / "ids.po"
    en_po.parent.mkdir(parents=True, exist_ok=True)
    po_file(
        [
            polib.POEntry(
                msgid="label_help",
                msgstr="",
                comment='Default: "Ask the team for help"',
            )
        ]
    ).save(str(en_po))
    members[f"{app}/locale/en/LC_MESSAGES/ids.po"] = en_po
    filename = f"{app}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(directory / filename, "w") as archive:
        for name, path in sorted(members.items()):
            archive.write(path, name)
        for part in range(N_FILES):
            archive.writestr(f"{app}/models_{part}.py", python_source(fields[part::N_FILES]))
        archive.writestr(f"{app}/broken.py", "def oops(:\n")
        archive.writestr(f"{app}-1.0.dist-info/METADATA", f"Name: {app}\nVersion: 1.0\n")
    return WheelSpec(app, app, "1.0", filename, sha256_file(directory / filename))


@pytest.fixture(scope="module")
def fixture_wheels(tmp_path_factory) -> tuple[Path, list[WheelSpec]]:
    directory = tmp_path_factory.mktemp("wheels")
    return directory, [make_wheel(directory, app) for app in sorted(VOCAB)]


def build(fixture_wheels, seed: int = 0):
    cache_dir, wheels = fixture_wheels
    return build_embedded_benchmark(
        cache_dir,
        seed=seed,
        n_train=120,
        n_dev=30,
        n_test=30,
        languages=("en", "de", "ja", "zh"),
        wheels=wheels,
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("de", ("de", 0)),
        ("ja_JP", ("ja", 1)),
        ("tr_TR", ("tr", 1)),
        ("nb_NO", ("nb", 1)),
        ("zh_Hans", ("zh", 0)),
        ("zh_CN", ("zh", 1)),
        ("zh-hans", ("zh", 0)),
        ("zh", ("zh", 3)),
        ("zh_Hant", None),
        ("zh_TW", None),
        ("pt_BR", None),
        ("en_GB", None),
        ("es_419", None),
        ("sr@latin", None),
        ("de_Informal", None),
        ("ast", None),
        ("fil", None),
    ],
)
def test_language_codes_normalise_to_iso_639_1(code, expected):
    assert normalise_language(code) == expected


def test_read_catalogues_keeps_plain_translated_entries(fixture_wheels):
    cache_dir, wheels = fixture_wheels
    read = read_catalogues(cache_dir / wheels[0].filename, wheels[0].app)
    assert sorted(read) == [
        "de",
        "en",
        "ja",
        "zh",
    ]  # zh_TW and pt_BR skipped, ja_JP -> ja
    label, help_text = english_fields(wheels[0].app)[0]
    assert read["de"][help_text] == translate("de", help_text)
    assert help_text not in read["zh"] and read["zh"][label] == translate("zh", label)
    for lang in ("de", "ja", "zh"):
        entries = read[lang]
        assert "One order was placed" not in entries  # plural
        assert "Open the item list now" not in entries and not any("\x04" in k for k in entries)  # context
        assert "This one is still empty here" not in entries  # empty translation
        assert "A fuzzy guess about the list" not in entries  # fuzzy (.po)
        only_po = f"Only in the {wheels[0].app} po domain here"
        assert entries[only_po] == translate(lang, only_po)  # .po-only domain
    assert read["en"] == {"label_help": "Ask the team for help"}  # Zope-style Default: comment


def test_placeholders_and_short_strings_are_not_sentences():
    assert is_real_sentence("Ask the team for help")
    assert not is_real_sentence("Deleted %(count)s items from the list")
    assert not is_real_sentence("Deleted {0} items from the list")
    assert not is_real_sentence("Click <b>here</b> to see the list")
    assert not is_real_sentence("Save the page")


def test_splits_share_no_sentence(fixture_wheels):
    data, provenance = build(fixture_wheels)
    sentences = {
        split: {
            s for (name, lang), rows in data.items() if name == split and lang == "en" for row in rows for s in row[:2]
        }
        for split in ("train", "dev", "test")
    }
    assert all(sentences.values())
    assert not sentences["train"] & sentences["dev"]
    assert not sentences["train"] & sentences["test"]
    assert not sentences["dev"] & sentences["test"]
    assert set(data) == {("train", "en"), ("dev", "en")} | {("test", l) for l in ("en", "de", "ja", "zh")}
    # The generated fields only: no help_text, context calls, concatenations and the broken file
    # give none (Zope label_/help_ pairs need both ids).
    assert provenance["raw_fields_per_app"] == {app: N_FIELDS for app in VOCAB}
    assert provenance["usable_fields_per_app"] == {app: N_FIELDS for app in VOCAB}


def test_test_rows_are_translations_of_the_english_rows(fixture_wheels):
    data, _ = build(fixture_wheels)
    english = data[("test", "en")]
    for lang in ("de", "ja", "zh"):
        rows = data[("test", lang)]
        assert len(rows) == len(english) == 30
        for (e1, e2, label), (t1, t2, translated_label) in zip(english, rows):
            assert (t1, t2, translated_label) == (
                translate(lang, e1),
                translate(lang, e2),
                label,
            )


def test_labels_are_balanced_and_overlap_matched(fixture_wheels):
    data, provenance = build(fixture_wheels)
    for key in (("train", "en"), ("dev", "en"), ("test", "en")):
        counts = Counter(label for *_, label in data[key])
        assert counts[0] == counts[1] == len(data[key]) // 2
        # Per overlap bin the two labels have (almost) the same number of pairs.
        width = provenance["parameters"]["bin_width"]
        bins = {0: Counter(), 1: Counter()}
        for a, b, label in data[key]:
            overlap = jaccard(a, b)
            bins[label][-1 if overlap == 0 else int(overlap / width)] += 1
        assert all(abs(bins[0][b] - bins[1][b]) <= 1 for b in bins[0] | bins[1])
    train = provenance["pairs_per_split"]["train"]
    assert train["labels"][LABELS[0]] == train["labels"][LABELS[1]] > 20
    assert train["total"] <= 120 and provenance["pairs_per_split"]["test"]["total"] == 30


def test_fields_are_read_from_gettext_calls_only():
    source = python_source([("Voucher code", "Customers can enter this code to get a discount.")])
    source += "m = Model(_('Name'), help_text=_('The name shown to customers.'))\n"
    source += "n = Field(label='Plain', help_text=_('Not a translatable label here.'))\n"
    assert fields_in_source(source) == [
        ("Voucher code", "Customers can enter this code to get a discount."),
        ("Name", "The name shown to customers."),
    ]
    assert fields_in_source("def oops(:\n") == []
    english = {
        "label_title": "Title",
        "help_title": "The title of the page.",
        "label_x": "X",
    }
    assert zope_fields(english) == [("zope:title", "label_title", "help_title")]


def test_each_label_has_its_help_text_and_a_foreign_one(fixture_wheels):
    data, _ = build(fixture_wheels)
    truth = {label: help_text for app in VOCAB for label, help_text in english_fields(app)}
    for key in (("train", "en"), ("dev", "en"), ("test", "en")):
        by_label = {}
        for label, help_text, gold in data[key]:
            assert (truth[label] == help_text) == (gold == 1)
            assert help_text in truth.values()
            by_label.setdefault(label, []).append(gold)
        assert all(sorted(golds) == [0, 1] for golds in by_label.values())


def test_no_tabs_or_newlines(fixture_wheels):
    data, _ = build(fixture_wheels)
    assert not [s for rows in data.values() for row in rows for s in row[:2] if "\t" in s or "\n" in s]


def test_build_is_deterministic_for_a_seed(fixture_wheels):
    first, provenance = build(fixture_wheels, seed=3)
    again, provenance_again = build(fixture_wheels, seed=3)
    other, _ = build(fixture_wheels, seed=4)
    assert first == again and provenance == provenance_again
    assert first[("train", "en")] != other[("train", "en")]


def test_cached_wheel_is_reused_without_pip(fixture_wheels, monkeypatch):
    cache_dir, wheels = fixture_wheels
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip must not run"))
    assert fetch_wheel(wheels[0], cache_dir) == cache_dir / wheels[0].filename


def test_cached_hash_mismatch_names_file_and_both_hashes(fixture_wheels):
    cache_dir, wheels = fixture_wheels
    wrong = WheelSpec(wheels[0].app, wheels[0].name, wheels[0].version, wheels[0].filename, "0" * 64)
    with pytest.raises(WheelHashMismatch) as error:
        fetch_wheel(wrong, cache_dir)
    message = str(error.value)
    assert wheels[0].filename in message and "0" * 64 in message and wheels[0].sha256 in message


def test_downloaded_hash_mismatch_is_deleted(tmp_path, monkeypatch):
    spec = WheelSpec("alpha", "alpha", "1.0", "alpha-1.0-py3-none-any.whl", "0" * 64)

    def fake_pip(command, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command
        (tmp_path / spec.filename).write_bytes(b"not the pinned wheel")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(catalogues.subprocess, "run", fake_pip)
    with pytest.raises(WheelHashMismatch, match="expected the pinned 0{64}"):
        fetch_wheel(spec, tmp_path)
    assert not (tmp_path / spec.filename).exists()


def test_spec_is_static_and_covers_pawsx_languages():
    assert SPEC["languages"] == list(LANGUAGES) and SPEC["labels"] == list(LABELS)
    assert {"en", "de", "es", "fr", "ja", "ko", "zh"} <= set(SPEC["languages"])
    assert SPEC["languages"][0] == "en" and len(set(SPEC["languages"])) == len(SPEC["languages"])
    assert all(len(spec.sha256) == 64 and spec.filename.endswith(".whl") for spec in catalogues.WHEELS)
    assert np.unique([spec.app for spec in catalogues.WHEELS]).size == len(catalogues.WHEELS)
