"""A training run's full state on disk, so that a killed job resumes where it was and ends bit-identical.

One file per run, replaced atomically (written beside it, flushed to disk, renamed over it): a kill at any
moment leaves either the previous state or the new one. It holds what the next step depends on: the trained
weights, the optimizer and schedule, every random stream (torch's, the δ generator, numpy's batch order,
Python's), the loop's counters and best-dev weights, the current epoch's batch order and position in it, and
the training log so far. A `signature` (the run's settings, method, seed, data and model) guards against
resuming a different run: a state whose signature differs is ignored.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
from pathlib import Path

import numpy as np
import torch

from robustxlt.data.canonical import sha256_file

log = logging.getLogger(__name__)

FORMAT = 1


def capture_random_streams(delta: torch.Generator, batch_order: np.random.Generator) -> dict:
    streams = {
        "torch": torch.get_rng_state(),
        "delta": delta.get_state(),
        "numpy": json.dumps(batch_order.bit_generator.state),
        "python": json.dumps(random.getstate()),
    }
    if torch.cuda.is_available():
        streams["cuda"] = torch.cuda.get_rng_state_all()
    return streams


def restore_random_streams(streams: dict, delta: torch.Generator, batch_order: np.random.Generator) -> None:
    torch.set_rng_state(streams["torch"])
    delta.set_state(streams["delta"])
    batch_order.bit_generator.state = json.loads(streams["numpy"])
    version, internal, gauss = json.loads(streams["python"])
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in streams:
        torch.cuda.set_rng_state_all(streams["cuda"])


def write_state(path: Path, state: dict) -> None:
    """Replace `path` with `state` atomically and durably (the new file is on disk before the rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        torch.save({"format": FORMAT, **state}, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def read_state(path: Path, signature: str) -> dict | None:
    """The saved state of the run with this `signature`, or None (no file, another run's, or unreadable)."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, weights_only=True)
    except Exception as error:  # a truncated or foreign file: start over, never crash on it
        log.warning(
            "ignoring the saved training state %s, which cannot be read (%s); starting from step 0", path, error
        )
        return None
    if state.get("format") != FORMAT or state.get("signature") != signature:
        log.warning("ignoring the saved training state %s: it belongs to another run or settings", path)
        return None
    return state


# Settings that say when the state is saved, not what is computed: a state saved under others resumes all the same.
SAVE_SETTINGS = ("save_every", "save_every_minutes")


def save_due(settings, step: int, seconds_since_save: float) -> bool:
    """A state save is due every `save_every` optimizer steps, and once `save_every_minutes` have passed since the
    last one (or since the run started)."""
    by_steps = bool(settings.save_every) and step % settings.save_every == 0
    by_clock = settings.save_every_minutes is not None and seconds_since_save >= 60 * settings.save_every_minutes
    return by_steps or by_clock


def run_signature(run, seed, settings, objective, model_dir, data_dir, train_file, precision, device) -> str:
    """What a saved state must match to be resumed: the run, its settings (when to save aside), method, seed,
    precision, device, training data (sha256) and model (its config and weights' size)."""
    model_dir = Path(model_dir)
    weights = sorted((f.name, f.stat().st_size) for f in model_dir.glob("*.safetensors"))
    return json.dumps(
        {
            "run": run,
            "seed": seed,
            "settings": {k: v for k, v in dataclasses.asdict(settings).items() if k not in SAVE_SETTINGS},
            "method": {"kind": objective.kind, **dataclasses.asdict(objective)},
            "precision": precision,
            "device": str(device),
            "data": [sha256_file(f) for f in (train_file or data_dir / "train-en.tsv", data_dir / "dev-en.tsv")],
            "model": [str(model_dir), (model_dir / "config.json").read_text(), weights],
        },
        sort_keys=True,
    )
