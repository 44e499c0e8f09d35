"""Where the embedded benchmark's fields are found: form-field labels and help texts in the Python sources of
the pinned wheels (parsed with `ast`, never imported) and in Plone's identifier msgids.

Patterns (`RawField.kind`):

- `call`: a call with a help keyword (`help_text=` of Django models, forms, DRF and Wagtail; `description=` of
  WTForms, NetBox's ConfigParam/Choice and zope.schema; `help=`) whose value is a gettext call on a string
  literal, and a label: the first of `verbose_name=`, `label=`, `title=`, `string=` present, else the first
  positional argument that is a gettext call (`Choice(VALUE, _("Label"), description=_("..."))`).
- `meta`: a Django ModelForm's `class Meta: labels = {"f": _("L")}; help_texts = {"f": _("H")}`, paired by key.
- `implicit` (English only): a help text without a label keyword on a call assigned to a class attribute
  (`slug = models.SlugField(help_text=_("..."))`; GraphQL, pydantic and DRF attributes with `description=`),
  or a `Meta.help_texts` key without a `labels` entry. The label is the one Django renders,
  `capfirst(name.replace("_", " "))`; it is no catalogue msgid, so the field never gets translations.
- `literal` (English only): the patterns above with a plain string literal for the label or the help text
  (untranslated applications).
- `zope`: Plone's `label_X` / `help_X` identifier msgids of the same X.

Gettext spellings: `_("text")`, the functions of `GETTEXT_FUNCTIONS`, `_(message="text")` and
`_("msgid", default="Text")` (a Zope MessageFactory identifier with its English default). Any other argument
(`mapping=`, a context, a non-literal) makes a string unusable; context calls (`pgettext*`) are skipped, as the
catalogue reader skips context entries. Files under `migrations/` (frozen, stale copies of old model
definitions) and `tests/` are not read, nor are command-line options (argparse, optparse, click), whose `help=`
has no form label.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

# gettext-style functions whose string-literal argument is the catalogue msgid (Django, Flask-Babel's
# `lazy_gettext` / `_l`, Indico's lazy `L_`, the `N_` no-op marker).
GETTEXT_FUNCTIONS: frozenset[str] = frozenset(
    {"_", "gettext", "gettext_lazy", "ugettext", "ugettext_lazy", "gettext_noop", "_lazy", "lazy_gettext", "_l"}
    | {"L_", "N_"}
)
HELP_KEYWORDS: tuple[str, ...] = ("help_text", "description", "help")
LABEL_KEYWORDS: tuple[str, ...] = ("verbose_name", "label", "title", "string")
# Kinds whose label and help text are both catalogue msgids, so that translations can exist.
TRANSLATABLE_KINDS: frozenset[str] = frozenset({"call", "meta", "zope"})
# Command-line options (argparse, optparse, click) have `help=` but no form label.
SKIPPED_CALLS: frozenset[str] = frozenset({"add_argument", "add_option", "option", "argument"})
SKIPPED_PATHS = re.compile(r"(?:^|/)(?:migrations|tests?)/")


@dataclasses.dataclass(frozen=True)
class RawField:
    """One field as found: the label and help msgids (or literal texts) and how they were found."""

    source: str
    label: str
    help: str
    kind: str  # call | meta | implicit | literal | zope
    # The English text given in the source for an identifier msgid: _("label_x", default="Text").
    label_default: str = ""
    help_default: str = ""
    # Where the label and the help text came from, e.g. "verbose_name+help_text", "positional+description",
    # "attribute+help_text" (implicit), "Meta.labels+Meta.help_texts", "label_X+help_X" (zope).
    pattern: str = ""


class Text(NamedTuple):
    """A string argument as found in the source."""

    msgid: str  # the catalogue key, or the literal text itself
    translatable: bool  # a gettext call: the catalogues may translate it
    default: str = ""  # a Zope MessageFactory's English default for an identifier msgid


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return node.value
    return None


def _name(func: ast.AST) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _string(node: ast.AST | None, literals: bool) -> Text | None:
    """The string of a gettext call on a literal, or of a bare literal when `literals`; else None."""
    if isinstance(node, ast.Call):
        if _name(node.func) not in GETTEXT_FUNCTIONS:
            return None
        keywords = {k.arg: k.value for k in node.keywords}
        if len(node.args) == 1 and set(keywords) <= {"default"}:
            msgid, default = _literal(node.args[0]), keywords.get("default")
        elif not node.args and set(keywords) == {"message"}:
            msgid, default = _literal(keywords["message"]), None
        else:
            return None
        if msgid is None or (default is not None and _literal(default) is None):
            return None
        return Text(msgid, True, _literal(default) or "")
    text = _literal(node) if literals else None
    return Text(text, False) if text is not None else None


def implicit_label(name: str) -> str:
    """Django's label of a field without one: capfirst(name.replace("_", " "))."""
    text = name.strip("_").replace("_", " ")
    return text[:1].upper() + text[1:]


def _field(label: Text, help_: Text, kind: str, pattern: str) -> RawField:
    if kind != "implicit" and not (label.translatable and help_.translatable):
        kind = "literal"
    return RawField("", label.msgid, help_.msgid, kind, label.default, help_.default, pattern)


def _call_field(node: ast.Call, literals: bool, attribute: str | None) -> RawField | None:
    """The field one call defines, if it has a help keyword and a label (see the module docstring)."""
    if _name(node.func) in SKIPPED_CALLS:
        return None
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    found = ((key, _string(keywords[key], literals)) for key in HELP_KEYWORDS if key in keywords)
    help_key, help_ = next(((key, text) for key, text in found if text is not None), (None, None))
    if help_ is None:
        return None
    label_key = next((key for key in LABEL_KEYWORDS if key in keywords), None)
    if label_key is not None:
        label = _string(keywords[label_key], literals)
    else:
        label_key = "positional"
        label = next((text for arg in node.args if (text := _string(arg, literals)) is not None), None)
    if label is not None:
        return _field(label, help_, "call", f"{label_key}+{help_key}")
    if attribute is not None and label_key == "positional":
        return _field(Text(implicit_label(attribute), False), help_, "implicit", f"attribute+{help_key}")
    return None


def _meta_fields(class_node: ast.ClassDef, literals: bool) -> list[RawField]:
    """A Django ModelForm's `Meta.labels` and `Meta.help_texts`, paired by key."""
    dicts: dict[str, dict[str, Text]] = {}
    for statement in class_node.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id in ("labels", "help_texts")
            and isinstance(statement.value, ast.Dict)
        ):
            entries = {}
            for key, value in zip(statement.value.keys, statement.value.values):
                text = _string(value, literals)
                if text is not None and _literal(key) is not None:
                    entries[key.value] = text
            dicts[statement.targets[0].id] = entries
    labels, found = dicts.get("labels", {}), []
    for key, help_ in dicts.get("help_texts", {}).items():
        if key in labels:
            found.append(_field(labels[key], help_, "meta", "Meta.labels+Meta.help_texts"))
        else:
            found.append(_field(Text(implicit_label(key), False), help_, "implicit", "Meta key+Meta.help_texts"))
    return found


def _attributes(tree: ast.AST) -> dict[int, str]:
    """id() of every call assigned to a name in a class body (`name = Call(...)`) -> the name."""
    attributes: dict[int, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            value, target = None, None
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                value, target = statement.value, statement.targets[0]
            elif isinstance(statement, ast.AnnAssign):
                value, target = statement.value, statement.target
            if isinstance(value, ast.Call) and isinstance(target, ast.Name):
                attributes[id(value)] = target.id
    return attributes


def fields_in_source(source: str | bytes, untranslatable: bool = True) -> list[RawField]:
    """Every field of one Python file, in `ast.walk` order (source left empty; see the module docstring).

    With `untranslatable=False` only the translatable kinds (`call`, `meta`) are returned.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    attributes = _attributes(tree)
    found: list[RawField] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            raw = _call_field(node, untranslatable, attributes.get(id(node)))
            found += [raw] if raw is not None else []
        elif isinstance(node, ast.ClassDef) and node.name == "Meta":
            found += _meta_fields(node, untranslatable)
    return found if untranslatable else [f for f in found if f.kind in TRANSLATABLE_KINDS]


def fields_in_wheel(wheel_path: Path, untranslatable: bool = True) -> list[RawField]:
    """Every field of every `.py` file of a wheel (except migrations and tests), in path order."""
    found: list[RawField] = []
    with zipfile.ZipFile(wheel_path) as archive:
        for member in sorted(archive.namelist()):
            if member.endswith(".py") and not SKIPPED_PATHS.search(member):
                found += [
                    dataclasses.replace(f, source=member)
                    for f in fields_in_source(archive.read(member), untranslatable)
                ]
    return found


def zope_fields(english: Mapping[str, str]) -> list[RawField]:
    """Plone-style identifier msgids: `label_X` and `help_X` of the same X form one field."""
    return [
        RawField(
            f"zope:{msgid[len('label_') :]}", msgid, "help_" + msgid[len("label_") :], "zope", pattern="label_X+help_X"
        )
        for msgid in sorted(english)
        if msgid.startswith("label_") and "help_" + msgid[len("label_") :] in english
    ]
