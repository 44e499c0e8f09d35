"""Recovering from a Snakemake run that was itself killed (kill -9, a lost session, a node reboot): its directory
lock stays behind, and Snakemake cannot tell it from a live run's, so it asks for `--unlock`.

Each run records, once it holds its lock, which host and process it is and which lock files are its own; a
finished run removes its record. A later run removes the lock files of a record whose process is gone from
this host (same pid and start time, so a reused pid is not mistaken for it), and only those: a live run's
locks, and those of a run on another host sharing the directory, are never touched.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from pathlib import Path

import psutil

RECORDS = Path(".snakemake") / "robustxlt-runs"


def _record_file(pid: int) -> Path:
    return RECORDS / f"{socket.gethostname()}-{pid}.json"


def record_run(lock_files: Iterable[str]) -> None:
    """This run (host, pid, start time) holds `lock_files`."""
    RECORDS.mkdir(parents=True, exist_ok=True)
    me = psutil.Process()
    record = {"host": socket.gethostname(), "pid": me.pid, "started": me.create_time(), "locks": list(lock_files)}
    tmp = _record_file(me.pid).with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, _record_file(me.pid))


def forget_run() -> None:
    """This run has finished and released its locks."""
    _record_file(os.getpid()).unlink(missing_ok=True)


def _alive(pid: int, started: float) -> bool:
    try:
        return abs(psutil.Process(pid).create_time() - started) < 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def clear_stale_locks() -> list[str]:
    """Remove the lock files of this host's runs whose process is gone; return them."""
    removed = []
    host = socket.gethostname()
    for path in sorted(RECORDS.glob("*.json")) if RECORDS.is_dir() else []:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("host") != host or _alive(record["pid"], record["started"]):
            continue
        for lock in record["locks"]:
            if Path(lock).is_file():
                Path(lock).unlink()
                removed.append(lock)
        path.unlink(missing_ok=True)
    return removed
