"""Where a source lives: the directory of a `local:<dir>` source, and whether the hub is to be left alone
(HF_HUB_OFFLINE). Read by the preparation of data and models, the preflight and the rules."""

from __future__ import annotations

import os
from pathlib import Path


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE is set (any value but empty, 0, false or no)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def local_dir(source: str) -> Path | None:
    """The directory of a `local:<dir>` source, else None (hub sources are pinned by revision, the embedded
    benchmark by its packages' sha256)."""
    return Path(source.removeprefix("local:")).expanduser() if source.startswith("local:") else None
