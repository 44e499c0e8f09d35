"""The embedded benchmark on tiny fixture wheels and synthetic sources: catalogue reading, field patterns, splits,
per-language test rows parallel by id, the manifest's targets and overlap baseline, pinning."""

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
from robustxlt.data.canonical import Pair, sha256_file
from robustxlt.data.catalogues import (
    WheelHashMismatch,
    WheelSpec,
    fetch_wheel,
    normalise_language,
    read_catalogues,
)
from robustxlt.data.embedded_benchmark import LABELS, LANGUAGES, SPEC, build_embedded_benchmark, select_languages
from robustxlt.data.embedded_fields import Field, is_real_sentence, jaccard, usable_fields
from robustxlt.data.embedded_manifest import overlap_accuracy, overlap_threshold
from robustxlt.data.source_fields import RawField, fields_in_source, fields_in_wheel, zope_fields

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
LOCALE_DIRS = {"de": "de", "ja_JP": "ja", "zh_Hans": "zh", "zh_TW": None, "pt_BR": None, "pl": "pl"}
FIXTURE_LANGUAGES = ("en", "de", "ja", "zh", "pl")
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
        # Every third help text is untranslated in Chinese so that not every field is test-eligible; every
        # second label is untranslated in Polish (not a target language), so that Polish gets a subset of the rows.
        entries = [
            polib.POEntry(msgid=text, msgstr=translate(lang, text))
            for i, text in enumerate(english)
            if not (lang == "zh" and i % 6 == 1) and not (lang == "pl" and i % 4 == 2)
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


def build(fixture_wheels, seed: int = 0, n_test: int = 30):
    cache_dir, wheels = fixture_wheels
    return build_embedded_benchmark(
        cache_dir,
        seed=seed,
        n_train=120,
        n_dev=30,
        n_test=n_test,
        languages=FIXTURE_LANGUAGES,
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
        ("zh_Hans_CN", ("zh", 4)),
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
    assert sorted(read) == ["de", "en", "ja", "pl", "zh"]  # zh_TW and pt_BR skipped, ja_JP -> ja
    label, help_text = english_fields(wheels[0].app)[0]
    assert read["de"][help_text] == translate("de", help_text)
    assert help_text not in read["zh"] and read["zh"][label] == translate("zh", label)
    for lang in ("de", "ja", "zh", "pl"):
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
    assert set(data) == {("train", "en"), ("dev", "en")} | {("test", l) for l in FIXTURE_LANGUAGES}
    # The generated fields only: no help_text, context calls, concatenations and the broken file
    # give none (Zope label_/help_ pairs need both ids).
    assert provenance["raw_fields_per_app"] == {app: N_FIELDS for app in VOCAB}
    assert provenance["usable_fields_per_app"] == {app: N_FIELDS for app in VOCAB}


def test_test_rows_are_translations_of_the_english_rows_with_the_same_id(fixture_wheels):
    data, provenance = build(fixture_wheels)
    english = data[("test", "en")]
    assert len(english) == 30 and len({p.id for p in english}) == 30
    by_id = {p.id: p for p in english}
    for lang in ("de", "ja", "zh", "pl"):
        rows = data[("test", lang)]
        for row in rows:
            source = by_id[row.id]
            assert (row.sentence1, row.sentence2, row.label) == (
                translate(lang, source.sentence1),
                translate(lang, source.sentence2),
                source.label,
            )
        # A language's rows are a subset of the English rows, in the English order.
        assert [p.id for p in rows] == [p.id for p in english if p.id in {r.id for r in rows}]
    # The test pool is translated into every target language; Polish lacks half the labels, so it gets fewer.
    assert all(len(data[("test", lang)]) == 30 for lang in ("de", "ja", "zh"))
    assert 0 < len(data[("test", "pl")]) < 30
    assert provenance["rows_per_language"] == {lang: len(data[("test", lang)]) for lang in FIXTURE_LANGUAGES}
    assert provenance["test_rows_are_subsets"] is True


def test_a_language_keeps_both_rows_of_a_couple_translated_into_it(fixture_wheels):
    data, _ = build(fixture_wheels)
    truth = {label: help_text for app in VOCAB for label, help_text in english_fields(app)}
    polish_labels = {
        translate("pl", label) for app in VOCAB for i, (label, _) in enumerate(english_fields(app)) if i % 2 == 0
    }
    rows = data[("test", "pl")]
    assert all(p.sentence1 in polish_labels for p in rows)
    assert Counter(p.label for p in rows)[0] == Counter(p.label for p in rows)[1]
    couples = Counter(int(p.id) // 2 for p in rows)
    assert set(couples.values()) == {2}  # positive (id 2k) and negative (2k + 1) of couple k together
    english = {p.id: p for p in data[("test", "en")]}
    assert all((truth[english[p.id].sentence1] == english[p.id].sentence2) == (p.label == 1) for p in rows)


def test_a_smaller_n_test_keeps_the_same_parallel_rows(fixture_wheels):
    large, _ = build(fixture_wheels, n_test=30)
    small, provenance = build(fixture_wheels, n_test=16)
    for lang in FIXTURE_LANGUAGES:
        assert small[("test", lang)] == [p for p in large[("test", lang)] if int(p.id) < 16]
    assert len(small[("test", "en")]) == 16
    # The cap on the test rows changes no other split.
    assert small[("train", "en")] == large[("train", "en")] and small[("dev", "en")] == large[("dev", "en")]
    assert provenance["parameters"]["n_test"] == 16


def test_manifest_records_targets_limits_and_overlap_baseline(fixture_wheels):
    data, provenance = build(fixture_wheels)
    assert provenance["targets"] == {"train": 3000, "dev": 400, "test": 1000}
    assert provenance["meets"]["train"] is False and provenance["meets"]["test"]["pl"] is False
    limits = "\n".join(provenance["limited_by"])
    assert "train: " in limits and "capped by n_train=120" in limits
    polish = next(line for line in provenance["limited_by"] if line.startswith("pl: "))
    assert f"pl: {len(data[('test', 'pl')])} pairs: only " in polish and "translated into pl" in polish
    overlap = provenance["overlap_only"]
    assert overlap["chosen_on"] == "dev-en" and overlap["max_accuracy"] == 0.6
    assert set(overlap["test"]) == set(FIXTURE_LANGUAGES)
    assert overlap["test"]["de"] == overlap_accuracy(data[("test", "de")], overlap["threshold"])
    assert overlap["within_max"] == {lang: value <= 0.6 for lang, value in overlap["test"].items()}


def test_overlap_threshold_is_chosen_for_the_best_accuracy():
    positives = [Pair("Event name", "The name of the event shown.", 1) for _ in range(3)]
    negatives = [Pair("Event name", "Customers pay with this card.", 0) for _ in range(3)]
    threshold = overlap_threshold(positives + negatives)
    assert threshold == 0.0 and overlap_accuracy(positives + negatives, threshold) == 1.0
    assert overlap_accuracy(negatives + positives, 0.9) == 0.5 and overlap_accuracy([], 0.0) is None
    # Scripts without spaces count characters: a shared ideograph is overlap.
    assert jaccard("名称", "此设备的名称") > 0 and jaccard("Name", "The name") == 0.5


def test_labels_are_balanced_and_overlap_matched(fixture_wheels):
    data, provenance = build(fixture_wheels)
    for key in (("train", "en"), ("dev", "en"), ("test", "en")):
        counts = Counter(p.label for p in data[key])
        assert counts[0] == counts[1] == len(data[key]) // 2
        # Per overlap bin the two labels have (almost) the same number of pairs.
        width = provenance["parameters"]["bin_width"]
        bins = {0: Counter(), 1: Counter()}
        for a, b, label, _ in data[key]:
            overlap = jaccard(a, b)
            bins[label][-1 if overlap == 0 else int(overlap / width)] += 1
        assert all(abs(bins[0][b] - bins[1][b]) <= 1 for b in bins[0] | bins[1])
    train = provenance["pairs_per_split"]["train"]
    assert train["labels"][LABELS[0]] == train["labels"][LABELS[1]] > 20
    assert train["total"] <= 120 and provenance["pairs_per_split"]["test"]["total"] == 30
    for lang in FIXTURE_LANGUAGES:
        counts = Counter(p.label for p in data[("test", lang)])
        assert counts[0] == counts[1]


def texts(raw_fields) -> list[tuple[str, str, str]]:
    return [(f.label, f.help, f.kind) for f in raw_fields]


def test_translatable_fields_are_read_from_gettext_calls_only():
    source = python_source([("Voucher code", "Customers can enter this code to get a discount.")])
    source += "m = Model(_('Name'), help_text=_('The name shown to customers.'))\n"
    source += "n = Field(label='Plain', help_text=_('Not a translatable label here.'))\n"
    assert texts(fields_in_source(source, untranslatable=False)) == [
        ("Voucher code", "Customers can enter this code to get a discount.", "call"),
        ("Name", "The name shown to customers.", "call"),
    ]
    assert ("Plain", "Not a translatable label here.", "literal") in texts(fields_in_source(source))
    assert fields_in_source("def oops(:\n") == []
    english = {"label_title": "Title", "help_title": "The title of the page.", "label_x": "X"}
    assert zope_fields(english) == [
        RawField("zope:title", "label_title", "help_title", "zope", pattern="label_X+help_X")
    ]


PATTERNS = """
from django.utils.translation import gettext_lazy as _
class Device(models.Model):
    name = models.CharField(verbose_name=_("name"), help_text=_("Unique name of the device"))
    slug = models.SlugField(help_text=_("URL-friendly unique shorthand"))
    rack_unit: int = Field(description="Position of the device in the rack")
    class Meta:
        labels = {"asset": _("Asset tag")}
        help_texts = {"asset": _("A unique tag used to identify this device"), "serial": _("Serial of the chassis")}
class TokenForm(IndicoForm):
    scopes = SelectField(_("Scopes"), [DataRequired()], description=_("Scopes define the access."))
CHOICES = [Choice(DIRECT, _("Direct"), description=_("Enter data directly into a form field"))]
cabinet = forms.CharField(label=_(message="Cabinet"), help_text=_(message="Cabinet to add to."))
sitemap = schema.Bool(
    title=_("label_sitemap", default="Expose sitemap"),
    description=_("help_sitemap", default="Lets search engines find pages."),
)
verbose = Option(string=lazy_gettext("Verbose output"), help=L_("Print every step of the run."))
plain = models.TextField(verbose_name="Notes", help_text="Free text notes about the item")
parser.add_argument("name", help=_("Data source to synchronize"))
option = click.option("--path", help="Where the files are written to")
context = Field(label=pgettext_lazy("menu", "Open"), help_text=_("Not a field: context label."))
mapping = Field(label=_("Count"), help_text=_("Shows ${n} items now", mapping={"n": 1}))
"""


def test_every_field_pattern_is_recognised():
    found = {(f.label, f.help, f.kind, f.pattern) for f in fields_in_source(PATTERNS)}
    assert found == {
        ("name", "Unique name of the device", "call", "verbose_name+help_text"),
        ("Slug", "URL-friendly unique shorthand", "implicit", "attribute+help_text"),
        ("Rack unit", "Position of the device in the rack", "implicit", "attribute+description"),
        ("Asset tag", "A unique tag used to identify this device", "meta", "Meta.labels+Meta.help_texts"),
        ("Serial", "Serial of the chassis", "implicit", "Meta key+Meta.help_texts"),
        ("Scopes", "Scopes define the access.", "call", "positional+description"),
        ("Direct", "Enter data directly into a form field", "call", "positional+description"),
        ("Cabinet", "Cabinet to add to.", "call", "label+help_text"),
        ("label_sitemap", "help_sitemap", "call", "title+description"),
        ("Verbose output", "Print every step of the run.", "call", "string+help"),
        ("Notes", "Free text notes about the item", "literal", "verbose_name+help_text"),
    }  # argparse/click options, a context label and a gettext call with `mapping=` give none
    defaults = {f.label: (f.label_default, f.help_default) for f in fields_in_source(PATTERNS)}
    assert defaults["label_sitemap"] == ("Expose sitemap", "Lets search engines find pages.")
    assert {f.kind for f in fields_in_source(PATTERNS, untranslatable=False)} == {"call", "meta"}


def test_migrations_and_tests_are_not_read(tmp_path):
    field = "f = CharField(label=_('Color'), help_text=_('The colour of the item in the list.'))\n"
    with zipfile.ZipFile(tmp_path / "app.whl", "w") as archive:
        archive.writestr("app/forms.py", field)
        archive.writestr("app/migrations/0001_initial.py", field.replace("colour", "old colour"))
        archive.writestr("app/tests/test_forms.py", field.replace("colour", "test colour"))
    assert [(f.source, f.help) for f in fields_in_wheel(tmp_path / "app.whl")] == [
        ("app/forms.py", "The colour of the item in the list.")
    ]


def field(app: str, label: str, help_text: str, kind: str = "call", source: str = "a.py") -> RawField:
    return RawField(source, label, help_text, kind)


def test_english_only_fields_never_get_translations():
    catalogues = {"de": {"Slug": "Kürzel", "A short name used in web addresses.": "Ein kurzer Name für Adressen."}}
    implicit = field("a", "Slug", "A short name used in web addresses.", kind="implicit")
    [found] = usable_fields({"a": [implicit]}, {"a": catalogues})
    assert (found.label, found.translations) == ("Slug", {})
    [translated] = usable_fields({"a": [field("a", "Slug", "A short name used in web addresses.")]}, {"a": catalogues})
    assert translated.translations == {"de": ("Kürzel", "Ein kurzer Name für Adressen.")}


def test_identifier_msgids_take_the_english_default():
    raw = RawField("p.py", "label_x", "help_x", "call", "Expose sitemap", "Lets search engines find the pages.")
    catalogues = {"de": {"label_x": "Sitemap zeigen", "help_x": "Suchmaschinen finden die Seiten."}}
    [found] = usable_fields({"p": [raw]}, {"p": catalogues})
    assert (found.label, found.help) == ("Expose sitemap", "Lets search engines find the pages.")
    assert found.translations == {"de": ("Sitemap zeigen", "Suchmaschinen finden die Seiten.")}


def test_extra_product_names_are_whole_words_of_the_english_text_only():
    raw = {
        "a": [
            field("a", "Pulp server", "The server that stores the content."),
            field("a", "Pulpit", "The place the speaker stands at."),
            field("a", "Device", "The device this cable is connected to."),
            field("a", "Language", "The language pages are shown in."),
        ]
    }
    catalogues = {
        "de": {"Device": "Gerät", "The device this cable is connected to.": "Das NetBox-Gerät dieses Kabels."},
        "fr": {"Language": "Langue", "The language pages are shown in.": "La langue de Weblate."},
    }
    kept = {f.label: f for f in usable_fields(raw, {"a": catalogues})}
    assert sorted(kept) == ["Device", "Pulpit"]  # a product named in a translation only: kept (unless pinned)
    assert kept["Device"].translations["de"][1] == "Das NetBox-Gerät dieses Kabels."


def test_of_duplicate_help_texts_the_most_translated_is_kept():
    help_text = "The colour the item is shown in."
    raw = {"a": [field("a", "Colour", help_text)], "b": [field("b", "Colour", help_text, source="b.py")]}
    catalogues = {
        "a": {},
        "b": {lang: {"Colour": f"{lang} Farbe", help_text: f"{lang} Die Farbe."} for lang in ("de", "ja")},
    }
    [kept] = usable_fields(raw, catalogues)
    assert kept.app == "b" and sorted(kept.translations) == ["de", "ja"]


def test_select_languages_counts_each_language_in_the_test_pool():
    def made(i: int, languages: str) -> Field:
        translations = {lang: (f"{lang} l{i}", f"{lang} h{i}") for lang in languages.split()}
        return Field("a", f"s{i}.py", f"L{i}", f"H{i}", f"Label {i}", f"Help text number {i}.", translations)

    fields = [made(i, "de ja pl" if i % 2 else "de ja") for i in range(10)] + [made(10 + i, "pl sv") for i in range(9)]
    assert select_languages(fields, required=("en", "de", "ja"), min_test_fields=5) == ["en", "de", "ja", "pl"]
    with pytest.raises(ValueError, match="only 10 test-pool fields"):
        select_languages(fields, required=("en", "de", "ja"), min_test_fields=11)


def test_a_corrupt_compiled_catalogue_reads_as_empty(tmp_path):
    good = polib.POFile()
    good.metadata = {"Content-Type": "text/plain; charset=utf-8"}
    good.append(polib.POEntry(msgid="Save the page", msgstr="Seite speichern"))
    good.save_as_mofile(str(tmp_path / "good.mo"))
    latin = polib.POFile(encoding="latin-1")  # declares UTF-8, stores Latin-1
    latin.metadata = {"Content-Type": "text/plain; charset=utf-8"}
    latin.append(polib.POEntry(msgid="Save the page", msgstr="Sidan spara för"))
    latin.save_as_mofile(str(tmp_path / "latin.mo"))
    data = (tmp_path / "good.mo").read_bytes()
    with zipfile.ZipFile(tmp_path / "app.whl", "w") as archive:
        archive.writestr("app/locale/de/LC_MESSAGES/django.mo", data)
        archive.writestr("app/locale/da/LC_MESSAGES/django.mo", data[:-5])  # gettext: "File is corrupt"
        archive.writestr("app/locale/nl/LC_MESSAGES/django.mo", data[:20])  # shorter than its header
        archive.writestr("app/locale/sv/LC_MESSAGES/django.mo", (tmp_path / "latin.mo").read_bytes())
    read = read_catalogues(tmp_path / "app.whl", "app")
    assert read == {"da": {}, "de": {"Save the page": "Seite speichern"}, "nl": {}, "sv": {}}


def test_each_label_has_its_help_text_and_a_foreign_one(fixture_wheels):
    data, _ = build(fixture_wheels)
    truth = {label: help_text for app in VOCAB for label, help_text in english_fields(app)}
    for key in (("train", "en"), ("dev", "en"), ("test", "en")):
        by_label = {}
        for label, help_text, gold, _ in data[key]:
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
