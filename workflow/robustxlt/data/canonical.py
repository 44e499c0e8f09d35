"""The one on-disk format of a sentence-pair split: every data source writes it, the trainer reads it.

A canonical file is UTF-8 TSV with the header `sentence1<TAB>sentence2<TAB>label`, one pair per
line, the label an integer class id; a fourth column `id` holds the source's row id where it has one (the
generalized setting matches test rows across languages by it, so a row dropped in one language shifts
nothing). There is no quoting: a tab or line break inside a sentence is replaced by a space on writing, so a
line always splits into the header's number of fields.
Every write is atomic (a temporary file in the same directory, then `os.replace`), so a crashed or
killed job never leaves a half-written file that a later rule would take for a finished one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple

HEADER: tuple[str, str, str] = ("sentence1", "sentence2", "label")
HEADER_WITH_ID: tuple[str, str, str, str] = (*HEADER, "id")

_UMASK = os.umask(0)
os.umask(_UMASK)

# Everything Python's str.splitlines() breaks on, plus tab: none may survive inside a field.
_FIELD_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


class DataError(ValueError):
    """A data problem, phrased as one message that names the file, the line (when there is one) and the fix."""

    def __init__(self, path: Path | str, problem: str, fix: str, line: int | None = None) -> None:
        self.path = path  # kept as given: a hub address such as hf://datasets/... is not a local Path
        self.line = line
        self.problem = problem
        self.fix = fix
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}. Fix: {fix}")


# Sentences that stand for "not translated" in the source data (PAWS-X's human-translated test sets): scored in
# the standard setting as XTREME does, counted wherever they are, dropped from the generalized pairs.
PLACEHOLDERS = frozenset({"NS"})


def is_placeholder(sentence: str) -> bool:
    return sentence.strip() in PLACEHOLDERS


def placeholder_rows(pairs: Iterable[Pair]) -> int:
    """How many pairs have a placeholder for either sentence."""
    return sum(1 for p in pairs if is_placeholder(p[0]) or is_placeholder(p[1]))  # Pairs or plain tuples


class Pair(NamedTuple):
    """One labelled sentence pair; `label` is the index into the task's label names, `id` the source's row id
    (None when the source has none)."""

    sentence1: str
    sentence2: str
    label: int
    id: str | None = None


def clean_field(text: str) -> str:
    """A sentence as stored: tabs and line breaks become spaces (there is no quoting to protect them)."""
    return _FIELD_BREAKS.sub(" ", text)


def _atomic_write_text(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # NamedTemporaryFile is private (0600); the finished file gets the usual permissions.
        os.chmod(handle.name, 0o666 & ~_UMASK)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_pairs(path: Path, pairs: Iterable[Pair]) -> int:
    """Write `pairs` as a canonical TSV at `path` (atomically) and return the number of rows. The `id` column is
    written when the pairs have ids (all of them, or none)."""
    rows = 0
    pairs = [pair if isinstance(pair, Pair) else Pair(*pair) for pair in pairs]  # plain tuples too
    with_ids = bool(pairs) and pairs[0].id is not None

    def write(handle) -> None:
        nonlocal rows
        handle.write("\t".join(HEADER_WITH_ID if with_ids else HEADER) + "\n")
        for pair in pairs:
            sentence1, sentence2, label = pair.sentence1, pair.sentence2, pair.label
            if (pair.id is not None) != with_ids:
                raise DataError(
                    path, f"pair {rows + 1} {'lacks an id' if with_ids else 'has an id'} unlike pair 1",
                    "give every pair an id, or none", line=rows + 2,
                )  # fmt: skip
            if not isinstance(sentence1, str) or not isinstance(sentence2, str):
                raise DataError(
                    path,
                    f"pair {rows + 1} has a non-text sentence ({pair!r})",
                    "convert both sentences to str before writing",
                    line=rows + 2,
                )
            if isinstance(label, bool) or not isinstance(label, int) or label < 0:
                raise DataError(
                    path,
                    f"pair {rows + 1} has label {label!r}, not a class id",
                    "map label names to their integer ids (0, 1, ...) before writing",
                    line=rows + 2,
                )
            row_id = f"\t{clean_field(pair.id)}" if with_ids else ""
            handle.write(f"{clean_field(sentence1)}\t{clean_field(sentence2)}\t{label}{row_id}\n")
            rows += 1

    _atomic_write_text(path, write)
    return rows


def write_split_files(out_dir: Path, splits: Mapping[tuple[str, str], Iterable[Pair]]) -> dict[str, dict]:
    """Write `{split}-{lang}.tsv` for every (split, lang) of `splits`; return file name -> {rows, sha256}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for (split, lang), pairs in splits.items():
        path = out_dir / f"{split}-{lang}.tsv"
        pairs = list(pairs)
        files[path.name] = {
            "rows": write_pairs(path, pairs),
            "placeholder_rows": placeholder_rows(pairs),
            "sha256": sha256_file(path),
        }
    return files


def read_pairs(path: Path) -> list[Pair]:
    """Read a canonical TSV written by `write_pairs`; raise DataError naming the line of any defect."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "canonical data file not found", "run the prepare_data rule for this task first")
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise DataError(path, "file is empty (no header row)", "re-run the prepare_data rule for this task", line=1)
    pairs = []
    width = 3
    for number, raw in enumerate(lines, start=1):
        try:
            fields = raw.decode("utf-8").split("\t")
        except UnicodeDecodeError as err:
            raise DataError(
                path,
                f"not valid UTF-8 ({err.reason} at byte {err.start})",
                "re-run the prepare_data rule for this task",
                line=number,
            ) from None
        if number == 1:
            width = len(fields)
            if tuple(fields) not in (HEADER, HEADER_WITH_ID):
                raise DataError(
                    path,
                    f"header is {fields!r}, expected {list(HEADER)!r} (and optionally id)",
                    "canonical files are written by robustxlt.data.canonical.write_pairs; re-run prepare_data",
                    line=1,
                )
            continue
        if len(fields) != width:
            raise DataError(
                path,
                f"expected {width} tab-separated fields, found {len(fields)}",
                "canonical files are written by robustxlt.data.canonical.write_pairs; re-run prepare_data",
                line=number,
            )
        try:
            label = int(fields[2])
        except ValueError:
            label = -1
        if label < 0 or fields[2] != str(label):
            raise DataError(
                path,
                f"label {fields[2]!r} is not a class id",
                "canonical labels are integer ids (0, 1, ...); re-run prepare_data",
                line=number,
            )
        pairs.append(Pair(fields[0], fields[1], label, fields[3] if width == 4 else None))
    return pairs


def write_manifest(path: Path, manifest: dict) -> None:
    """Write `manifest` as indented, key-sorted JSON at `path` (atomically)."""
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    _atomic_write_text(path, lambda handle: handle.write(text))


def read_manifest(path: Path) -> dict:
    """Read a manifest written by `write_manifest`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "manifest not found", "run the prepare_data rule for this task first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(
            path, f"not valid JSON ({err.msg})", "delete it and re-run prepare_data", line=err.lineno
        ) from None
    if not isinstance(manifest, dict):
        raise DataError(path, "manifest is not a JSON object", "delete it and re-run prepare_data", line=1)
    return manifest


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the bytes of `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
