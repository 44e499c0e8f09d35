"""What a training run leaves behind: its JSON-lines log and its best-dev checkpoint, moved into place only
when the run has finished (an interrupted job never leaves a complete-looking checkpoint)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch


class JsonLinesLog:
    """Append-only JSON-lines training log (one event per line, flushed at once so progress is visible)."""

    def __init__(self, path: Path, earlier: str = "") -> None:
        """A new log at `path`; `earlier`: the lines of the run so far, when it resumes."""
        self.path = Path(path)
        self._file = open(path, "w", encoding="utf-8")
        self._file.write(earlier)

    def write(self, event: str, **fields) -> None:
        self._file.write(json.dumps({"event": event, **fields}) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def save_checkpoint(model, tokenizer, directory: Path) -> None:
    """Write the model and tokenizer to `directory` through a sibling .tmp directory, replacing it whole."""
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(tmp, directory)


def save_best_checkpoint(run, state) -> None:
    """Put the best dev step's weights back into the model (frozen ones never changed) and write the checkpoint."""
    if state.best_weights is not None:
        with torch.no_grad():
            for name, parameter in run.model.named_parameters():
                if name in state.best_weights:
                    parameter.copy_(state.best_weights[name])
    save_checkpoint(run.model, run.tokenizer, run.checkpoint_dir)


def publish(summary: dict, trace: JsonLinesLog, checkpoint: Path, out_dir: Path) -> None:
    """Record the run's outcome in the checkpoint and the log, then move the checkpoint into place."""
    (checkpoint / "robustxlt_training.json").write_text(json.dumps(summary, indent=2) + "\n")
    trace.write("end", **{k: v for k, v in summary.items() if k not in ("run", "settings")})
    trace.close()
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(checkpoint, out_dir)
    checkpoint.parent.rmdir()
