"""The fields of the embedded benchmark (robustxlt.data.embedded_benchmark): form-field labels and their help
texts with their translations, from the raw fields the wheels' sources and Plone's catalogues give
(robustxlt.data.source_fields), and the filters that keep real sentences and labels."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from robustxlt.data.catalogues import english_text
from robustxlt.data.source_fields import TRANSLATABLE_KINDS, RawField

# printf/format/template placeholders, markup, entities, URLs, escapes: such strings are dropped
# rather than stripped, because stripping leaves broken grammar that differs across languages.
_MARKUP = re.compile(
    r"%[(\w)]*[-+ #0-9.]*[sdifrxegc%]|\{[^}]*\}|\$\{?\w|<[^>]*>|&#?\w+;|https?://|www\.|"
    r"\[\[|\]\]|`|__|\\|\|"
)


_WORD = re.compile(r"\w+")
# Scripts written without spaces between words (kana, CJK ideographs, Hangul syllables, Thai): a word token of
# such a script counts as its characters, so that overlap is measurable in every test language.
_UNSEGMENTED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


# Product names would give the application away in every language; strings naming one are dropped.
# BRAND_NAMES: a substring of the English text or of any translation.
BRAND_NAMES: tuple[str, ...] = ("weblate", "pretix", "wagtail", "plone", "zope")
# EXTRA_BRAND_NAMES: a whole word of the English label or help text only, since as substrings or in other
# languages they are often ordinary words ("mayan" inside Indonesian words; "oscar", "pulp", "galaxy").
EXTRA_BRAND_NAMES: tuple[str, ...] = (
    *("netbox", "nautobot", "indico", "mayan", "edms", "tendenci", "pretalx", "oscar", "shuup", "saleor"),
    *("review board", "reviewboard", "pulp", "mailman", "postorius", "hyperkitty", "geonode", "django cms"),
    *("django-cms", "djangocms", "modoboa", "superset", "airflow", "mlflow", "label studio", "kiwi", "kiwi tcms"),
    *("allauth", "misago", "taiga", "sentry", "geoserver", "odoo", "django", "flask", "wtforms", "galaxy"),
    *("mezzanine", "wger", "codered", "openwisp", "filer", "helpdesk"),
)
_EXTRA_BRANDS = re.compile(r"\b(?:" + "|".join(re.escape(name) for name in EXTRA_BRAND_NAMES) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Field:
    """One field: English label and help text, with translations of both (by ISO 639-1 code)."""

    app: str
    source: str
    label_msgid: str
    help_msgid: str
    label: str
    help: str
    translations: Mapping[str, tuple[str, str]] = field(compare=False, hash=False)


def clean_text(text: str) -> str:
    """One line, single spaces: the TSV files cannot hold tabs or newlines."""
    return " ".join(text.split())


def is_real_sentence(text: str, min_words: int = 4, max_words: int = 40) -> bool:
    """A natural-language UI sentence: enough words, no placeholders, markup or identifiers."""
    words = text.split()
    if not min_words <= len(words) <= max_words or _MARKUP.search(text):
        return False
    alphabetic = [w for w in words if re.fullmatch(r"[A-Za-z][a-z'’-]*[.,:;!?)]?", w)]
    return len(alphabetic) >= min(min_words, len(words) - 1)


def is_real_label(text: str, max_words: int = 8) -> bool:
    """A field label: 1-`max_words` words, at least one alphabetic word, no markup."""
    words = text.split()
    return (
        1 <= len(words) <= max_words
        and not _MARKUP.search(text)
        and any(re.fullmatch(r"[A-Za-z][A-Za-z'’-]*[.,:;!?)]?", w) for w in words)
    )


def word_tokens(text: str) -> list[str]:
    """Lowercased `\\w+` words; a word of a script written without spaces gives its characters."""
    tokens: list[str] = []
    for word in _WORD.findall(text.lower()):
        tokens += list(word) if _UNSEGMENTED.search(word) else [word]
    return tokens


def set_jaccard(a: set[str], b: set[str]) -> float:
    """Jaccard overlap of two token sets (0 when both are empty)."""
    return len(a & b) / len(a | b) if a | b else 0.0


def jaccard(a: str, b: str) -> float:
    """Word-set Jaccard overlap of two texts (the sets of their `word_tokens`)."""
    return set_jaccard(set(word_tokens(a)), set(word_tokens(b)))


def near_duplicate_key(text: str) -> str:
    """Texts with equal keys differ only in case, punctuation or a plural "s"."""
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in word_tokens(text))


def _english(catalogues: Mapping[str, Mapping[str, str]], msgid: str, default: str) -> str:
    """The English text: the `en` catalogue's, else the source's `default=`, else the msgid itself."""
    return catalogues.get("en", {}).get(msgid) or default or english_text(catalogues, msgid)


def _translations(raw: RawField, label: str, help_: str, catalogues) -> dict[str, tuple[str, str]]:
    """{language: (label, help text)} where both are translated and differ from the English text and msgid."""
    translations = {}
    if raw.kind not in TRANSLATABLE_KINDS:  # the label or help text is no msgid: nothing translates it
        return translations
    for lang, cat in sorted(catalogues.items()):
        if lang == "en":
            continue
        pair = (clean_text(cat.get(raw.label, "")), clean_text(cat.get(raw.help, "")))
        if all(pair) and pair[0] not in (label, raw.label) and pair[1] not in (help_, raw.help):
            translations[lang] = pair
    return translations


def _names_a_product(label: str, help_: str, translations, brand_names: Sequence[str]) -> bool:
    texts = " ".join([label, help_, *(" ".join(pair) for pair in translations.values())]).lower()
    return any(name in texts for name in brand_names) or _EXTRA_BRANDS.search(f"{label} {help_}") is not None


def usable_fields(
    raw_fields: Mapping[str, Sequence[RawField]],
    catalogues_by_app: Mapping[str, Mapping[str, Mapping[str, str]]],
    max_label_words: int = 8,
    min_help_words: int = 3,
    max_help_words: int = 40,
    brand_names: Sequence[str] = BRAND_NAMES,
) -> list[Field]:
    """Fields with a real label and help text, de-duplicated across applications, with their translations.

    A translation counts only if it is non-empty and differs from the English text and the msgid (a copy of
    the source is an untranslated string); a language is kept for a field when both its label and help text
    are translated. English-only kinds (`implicit`, `literal`) get none. Fields naming a product are dropped.
    A help text (up to near-duplicates) is kept once, from the field with the most translations (then by
    application, source and msgids); help texts written for two different labels, and help texts that equal
    some label, are dropped as ambiguous.
    """
    candidates: list[Field] = []
    for app in sorted(raw_fields):
        catalogues = catalogues_by_app[app]
        for raw in raw_fields[app]:
            label = clean_text(_english(catalogues, raw.label, raw.label_default))
            help_ = clean_text(_english(catalogues, raw.help, raw.help_default))
            if not is_real_label(label, max_label_words) or not is_real_sentence(help_, min_help_words, max_help_words):
                continue
            translations = _translations(raw, label, help_, catalogues)
            if not _names_a_product(label, help_, translations, brand_names):
                candidates.append(Field(app, raw.source, raw.label, raw.help, label, help_, translations))
    labels_of_help: dict[str, set[str]] = {}
    for f in candidates:
        labels_of_help.setdefault(near_duplicate_key(f.help), set()).add(near_duplicate_key(f.label))
    label_keys = {near_duplicate_key(f.label) for f in candidates}
    kept: dict[str, Field] = {}
    for f in sorted(candidates, key=lambda f: (-len(f.translations), f.app, f.source, f.label_msgid, f.help_msgid)):
        key = near_duplicate_key(f.help)
        if len(labels_of_help[key]) == 1 and key not in label_keys:
            kept.setdefault(key, f)
    return sorted(kept.values(), key=lambda f: (f.app, f.source, f.label_msgid, f.help_msgid))
