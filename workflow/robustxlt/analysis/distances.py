"""Distances from English to each language in URIEL (Littell et al., 2017), the typological, genealogical and
geographical knowledge base behind lang2vec: the paper relates each language's gain from robust training to them.

What the PyPI packages can do offline (checked on lang2vec 1.1.2 and urielplus 1.3.2):
- lang2vec 1.1.2 ships URIEL's vectors (observed, kNN-imputed and averaged features; family; geography) but no
  `distance()`: the GitHub version reads precomputed matrices from a file that is not in the wheel. Its module also
  imports `pkg_resources`, which current setuptools no longer has, so its data files are read here directly.
- urielplus computes all six distance types from the same URIEL files, shipped in its wheel, but only over the
  features both languages have observed. URIEL has no observed phonology for ur, cs, pt, sv, uk and no typology at
  all for sk, so its syntactic, phonological, inventory and featural distances are undefined for some of our
  languages.

So each distance type has one source, the same for every language (a correlation over languages needs comparable
values): genetic and geographic from urielplus's `new_distance`; syntactic, phonological, inventory and featural from
lang2vec's kNN-imputed vectors (complete for every language), with urielplus's metric, the angular distance.
Angular distance is a monotone function of the cosine distance, so rank correlations are the same under either.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from urielplus.urielplus import URIELPlus

log = logging.getLogger(__name__)

DISTANCE_TYPES = ("syntactic", "geographic", "genetic", "phonological", "inventory", "featural")
DISTANCE_COLUMNS = ["lang", "iso639_3", "distance_type", "distance", "source", "metric"]
METRIC = "angular distance 2*arccos(cosine similarity)/pi (0 same direction, 1 orthogonal)"
DIGITS = 4  # urielplus rounds to 4 decimals; the distances computed here are rounded alike

DEFAULT_ISO639_3: dict[str, str] = {
    "en": "eng",
    "de": "deu",
    "es": "spa",
    "fr": "fra",
    "ja": "jpn",
    "ko": "kor",
    "bg": "bul",
    "el": "ell",
    "hi": "hin",
    "ru": "rus",
    "th": "tha",
    "tr": "tur",
    "ur": "urd",
    "vi": "vie",
    "cs": "ces",
    "pl": "pol",
    "pt": "por",
    "sk": "slk",
    "sv": "swe",
    "uk": "ukr",
    # Macrolanguages (override with distances.iso639_3.<lang>); zho, ara, swa, msa, fas are lang2vec's own choices.
    "zh": "zho",  # Chinese, not Mandarin (cmn): URIEL has 102 observed syntax features for zho, 94 for cmn
    "ar": "ara",  # Arabic, not Standard Arabic (arb): URIEL has no observed phonology or inventory for arb
    "sw": "swa",  # Swahili, not Kiswahili (swh): the same observed features; swh only adds a family level
    "ms": "msa",  # Malay, not Standard Malay (zsm): URIEL has 101 observed syntax features for msa, 12 for zsm
    "fa": "fas",  # Persian, not Iranian Persian (pes): the same observed features
    "id": "ind",  # Indonesian is an individual language (a member of the Malay macrolanguage)
}

# Typological types: the lang2vec kNN feature sets (and URIEL feature-name prefixes) each distance is computed over.
_KNN_SETS = {
    "syntactic": ("syntax_knn", ("S_",)),
    "phonological": ("phonology_knn", ("P_",)),
    "inventory": ("inventory_knn", ("INV_",)),
    "featural": ("syntax_knn+phonology_knn+inventory_knn", ("S_", "P_", "INV_")),
}
# Types urielplus computes for every language URIEL locates or classifies, from the same files lang2vec ships.
_URIELPLUS_VECTORS = {"genetic": "family-membership", "geographic": "geographic"}


def _fix(lang: str) -> str:
    return f"set distances.iso639_3.{lang} in the config to an ISO 639-3 code URIEL has"


def _iso_codes(languages: list[str], iso639_3: dict[str, str] | None) -> dict[str, str]:
    """The ISO 639-3 code of each language: the defaults, overridden by `iso639_3`."""
    mapping = {**DEFAULT_ISO639_3, **(iso639_3 or {})}
    missing = [lang for lang in languages if lang not in mapping]
    if missing:
        raise ValueError(
            f"No ISO 639-3 code for language(s) {', '.join(map(repr, missing))}: "
            + "; ".join(_fix(lang) for lang in missing)
        )
    return {lang: mapping[lang] for lang in languages}


@functools.cache
def _version(package: str) -> str:
    return importlib.metadata.version(package)


@functools.cache
def _knn_vectors() -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """lang2vec's kNN-imputed URIEL features: code -> row, feature names, one row of values per language."""
    # Located, not imported: the wheel also installs a script bin/lang2vec.py, which shadows the package whenever
    # a console script of the environment (pytest, snakemake) runs, and which fails on import anyway.
    path = importlib.metadata.distribution("lang2vec").locate_file("lang2vec/data/feature_predictions.npz")
    with np.load(Path(str(path))) as npz:
        rows = {code: i for i, code in enumerate(npz["langs"].tolist())}
        return rows, npz["feats"], npz["data"][:, :, 0].astype(np.float64)


@contextlib.contextmanager
def _urielplus_quiet() -> Iterator[None]:
    """urielplus calls logging.basicConfig(level=INFO) on import and logs every call: keep both out of our logs."""
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)  # basicConfig() does nothing while the root logger has a handler
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)
        root.removeHandler(guard)


@functools.cache
def _urielplus() -> URIELPlus:
    """URIEL+ with URIEL's own data only (no extra databases, no imputation), as shipped in its wheel."""
    with _urielplus_quiet():
        from urielplus import urielplus

        try:
            uriel = urielplus.URIELPlus()
        except OSError as error:
            # It copies its database files into its own install directory on first use.
            raise RuntimeError(
                f"urielplus could not set up its database in {Path(urielplus.__file__).parent / 'database'} "
                f"({error}); make that directory writable once, or reinstall urielplus where it is"
            ) from error
    uriel.set_distance_metric("angular")
    return uriel


def angular_distance(u: np.ndarray, v: np.ndarray) -> float:
    """2θ/π for the angle θ between the vectors: for URIEL's non-negative ones, 0 for the same direction and 1 for
    orthogonal ones (URIEL+'s normalisation; a metric, unlike the cosine distance 1 − cos θ)."""
    norms = float(np.linalg.norm(u) * np.linalg.norm(v))
    if norms == 0.0:
        raise ValueError("angular distance is undefined for an all-zero vector")
    cosine = float(np.clip(np.dot(u, v) / norms, -1.0, 1.0))
    return 2.0 * float(np.arccos(cosine)) / np.pi


def _of_kinds(feats: np.ndarray, prefixes: tuple[str, ...]) -> np.ndarray:
    """Mask of the feature names with one of these prefixes (S_ syntax, P_ phonology, INV_ inventory)."""
    return np.array([str(name).startswith(prefixes) for name in feats])


def _knn_distance(distance_type: str, reference: str, iso: str) -> float:
    rows, feats, data = _knn_vectors()
    columns = _of_kinds(feats, _KNN_SETS[distance_type][1])
    return round(angular_distance(data[rows[reference], columns], data[rows[iso], columns]), DIGITS)


def _row(langs: np.ndarray, iso: str) -> int:
    return int(np.flatnonzero(langs == iso)[0])


def _has_urielplus_data(distance_type: str, iso: str) -> bool:
    uriel = _urielplus()
    if distance_type == "genetic":  # URIEL puts isolates and unclassified languages in no family: an all-zero vector
        langs, data = uriel.get_phylogeny_languages_array(), uriel.get_phylogeny_data_array()
        return bool(np.any(data[_row(langs, iso)] == 1))
    langs, data = uriel.get_geography_languages_array(), uriel.get_geography_data_array()
    return bool(np.any(data[_row(langs, iso)] != -1))


def _urielplus_distance(distance_type: str, reference: str, iso: str) -> float:
    with _urielplus_quiet():
        return round(float(_urielplus().new_distance(distance_type, reference, iso)), DIGITS)  # it gives float32


def _observed_features(iso: str, prefixes: tuple[str, ...]) -> int:
    """How many URIEL features of these kinds some source has observed for the language (the rest are imputed)."""
    uriel = _urielplus()
    langs, data = uriel.get_typological_languages_array(), uriel.get_typological_data_array()
    row = data[_row(langs, iso)]
    return int(np.any(row[_of_kinds(uriel.get_typological_features_array(), prefixes)] != -1, axis=1).sum())


def _check_uriel_has(lang: str, iso: str) -> None:
    """Fail before computing anything if URIEL lacks the language, or its family or location."""
    rows, _, _ = _knn_vectors()
    if iso not in rows or iso not in _urielplus().get_phylogeny_languages_array():
        raise ValueError(
            f"Language {lang!r}: ISO 639-3 code {iso!r} is not in URIEL (lang2vec {_version('lang2vec')}, "
            f"urielplus {_version('urielplus')}): {_fix(lang)} (for a macrolanguage, one of its individual "
            "languages may be there, or the reverse)"
        )
    for distance_type in _URIELPLUS_VECTORS:
        if not _has_urielplus_data(distance_type, iso):
            raise ValueError(
                f"Language {lang!r}: URIEL has no {distance_type} data for ISO 639-3 code {iso!r}: {_fix(lang)}"
            )


def _source(distance_type: str) -> str:
    if distance_type in _URIELPLUS_VECTORS:
        return (
            f"urielplus {_version('urielplus')} new_distance('{distance_type}') over URIEL "
            f"{_URIELPLUS_VECTORS[distance_type]} vectors"
        )
    return f"lang2vec {_version('lang2vec')} {_KNN_SETS[distance_type][0]} vectors (URIEL, kNN-imputed)"


def language_distances(
    languages: list[str], iso639_3: dict[str, str] | None = None, reference: str = "en"
) -> pd.DataFrame:
    """One row per language × distance type: the URIEL distance from `reference`, with the ISO 639-3 code used,
    the source and the metric. The reference language is always included, at distance 0, so joins on `lang` find it.

    `iso639_3` overrides DEFAULT_ISO639_3 (the config's `distances.iso639_3`). A language without a code, or whose
    code URIEL lacks or has no data of some type for, raises ValueError naming the language, the code and the fix.
    """
    languages = list(dict.fromkeys([reference, *languages]))
    codes = _iso_codes(languages, iso639_3)
    for lang, iso in codes.items():
        _check_uriel_has(lang, iso)
    rows = []
    for lang, iso in codes.items():
        for distance_type in DISTANCE_TYPES:
            if iso == codes[reference]:
                distance = 0.0  # by definition; urielplus's float32 arithmetic gives up to 2e-4 here
            elif distance_type in _KNN_SETS:
                if _observed_features(iso, _KNN_SETS[distance_type][1]) == 0:
                    log.warning("%s (%s): no observed %s features in URIEL, kNN-imputed only", lang, iso, distance_type)
                distance = _knn_distance(distance_type, codes[reference], iso)
            else:
                distance = _urielplus_distance(distance_type, codes[reference], iso)
            rows.append(
                {
                    "lang": lang,
                    "iso639_3": iso,
                    "distance_type": distance_type,
                    "distance": distance,
                    "source": _source(distance_type),
                    "metric": METRIC,
                }
            )
    return pd.DataFrame(rows, columns=DISTANCE_COLUMNS)


def write_distances(languages: list[str], out_file: Path, iso639_3: dict[str, str] | None = None) -> pd.DataFrame:
    """language_distances() from English, written atomically to `out_file` (CSV)."""
    frame = language_distances(languages, iso639_3)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, out_file)
    return frame
