"""The fields of the embedded benchmark (robustxlt.data.embedded_benchmark): form-field labels and their help texts,
found by parsing the Django wheels' sources with `ast` (never imported) and Plone's Zope catalogues, with the
filters that keep real sentences and labels."""

from __future__ import annotations

import ast
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from robustxlt.data.catalogues import english_text

# printf/format/template placeholders, markup, entities, URLs, escapes: such strings are dropped
# rather than stripped, because stripping leaves broken grammar that differs across languages.
_MARKUP = re.compile(
    r"%[(\w)]*[-+ #0-9.]*[sdifrxegc%]|\{[^}]*\}|\$\{?\w|<[^>]*>|&#?\w+;|https?://|www\.|"
    r"\[\[|\]\]|`|__|\\|\|"
)


_WORD = re.compile(r"\w+")


# Product names would give the application away in every language; strings naming one are dropped.
BRAND_NAMES: tuple[str, ...] = (
    "weblate",
    "pretix",
    "wagtail",
    "plone",
    "zope",
    "gramps",
    "gramplet",
)


# gettext-style functions whose single string-literal argument is the catalogue msgid.
GETTEXT_FUNCTIONS: frozenset[str] = frozenset(
    {
        "_",
        "gettext",
        "gettext_lazy",
        "ugettext",
        "ugettext_lazy",
        "gettext_noop",
        "_lazy",
    }
)


LABEL_KEYWORDS: tuple[str, ...] = ("verbose_name", "label")


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
    return _WORD.findall(text.lower())


def jaccard(a: str, b: str) -> float:
    """Word-set Jaccard overlap of two texts (lowercased `\\w+` tokens)."""
    sa, sb = set(word_tokens(a)), set(word_tokens(b))
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def near_duplicate_key(text: str) -> str:
    """Texts with equal keys differ only in case, punctuation or a plural "s"."""
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in word_tokens(text))


def _gettext_msgid(node: ast.AST | None) -> str | None:
    """The msgid of `_("literal")` (or another gettext function), else None."""
    if not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
        return None
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    argument = node.args[0]
    if name in GETTEXT_FUNCTIONS and isinstance(argument, ast.Constant):
        return argument.value if isinstance(argument.value, str) and argument.value else None
    return None


def fields_in_source(source: str | bytes) -> list[tuple[str, str]]:
    """(label msgid, help msgid) of every call with a translatable label and help_text."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        help_msgid = _gettext_msgid(keywords.get("help_text"))
        if help_msgid is None:
            continue
        label_node = next((keywords[k] for k in LABEL_KEYWORDS if k in keywords), None)
        if label_node is None and node.args:
            label_node = node.args[0]
        label_msgid = _gettext_msgid(label_node)
        if label_msgid is not None:
            found.append((label_msgid, help_msgid))
    return found


def fields_in_wheel(wheel_path: Path) -> list[tuple[str, str, str]]:
    """(source file, label msgid, help msgid) for every `.py` file of a wheel, in path order."""
    found = []
    with zipfile.ZipFile(wheel_path) as archive:
        for member in sorted(archive.namelist()):
            if member.endswith(".py"):
                found += [(member, l, h) for l, h in fields_in_source(archive.read(member))]
    return found


def zope_fields(english: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Plone-style identifier msgids: `label_X` and `help_X` of the same X form one field."""
    return [
        (f"zope:{msgid[len('label_') :]}", msgid, "help_" + msgid[len("label_") :])
        for msgid in sorted(english)
        if msgid.startswith("label_") and "help_" + msgid[len("label_") :] in english
    ]


def usable_fields(
    raw_fields: Mapping[str, Sequence[tuple[str, str, str]]],
    catalogues_by_app: Mapping[str, Mapping[str, Mapping[str, str]]],
    max_label_words: int = 8,
    min_help_words: int = 3,
    max_help_words: int = 40,
    brand_names: Sequence[str] = BRAND_NAMES,
) -> list[Field]:
    """Fields with a real label and help text, de-duplicated, with their translations.

    A translation counts only if it is non-empty and differs from the English text (a copy
    of the source is an untranslated string); a language is kept for a field when both its
    label and help text are translated. Fields naming a product are dropped. A help text
    (up to near-duplicates) is kept once; help texts written for two different labels, and
    help texts that equal some label, are dropped as ambiguous.
    """
    candidates: list[Field] = []
    for app in sorted(raw_fields):
        catalogues = catalogues_by_app[app]
        for source, label_msgid, help_msgid in raw_fields[app]:
            label = clean_text(english_text(catalogues, label_msgid))
            help_ = clean_text(english_text(catalogues, help_msgid))
            if not is_real_label(label, max_label_words) or not is_real_sentence(help_, min_help_words, max_help_words):
                continue
            translations = {}
            for lang, cat in sorted(catalogues.items()):
                if lang == "en":
                    continue
                pair = (
                    clean_text(cat.get(label_msgid, "")),
                    clean_text(cat.get(help_msgid, "")),
                )
                if (
                    all(pair)
                    and pair[0] not in (label, label_msgid)
                    and pair[1]
                    not in (
                        help_,
                        help_msgid,
                    )
                ):
                    translations[lang] = pair
            texts = " ".join([label, help_, *(" ".join(p) for p in translations.values())])
            if any(name in texts.lower() for name in brand_names):
                continue
            candidates.append(Field(app, source, label_msgid, help_msgid, label, help_, translations))
    labels_of_help: dict[str, set[str]] = {}
    for f in candidates:
        labels_of_help.setdefault(near_duplicate_key(f.help), set()).add(near_duplicate_key(f.label))
    label_keys = {near_duplicate_key(f.label) for f in candidates}
    kept: dict[str, Field] = {}
    for f in sorted(candidates, key=lambda f: (f.app, f.source, f.label_msgid, f.help_msgid)):
        key = near_duplicate_key(f.help)
        if len(labels_of_help[key]) == 1 and key not in label_keys:
            kept.setdefault(key, f)
    return sorted(kept.values(), key=lambda f: (f.app, f.source, f.label_msgid, f.help_msgid))
