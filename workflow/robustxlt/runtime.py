"""Where and how a job computes: device, threads, precision, seeds."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np
import torch


def select_device() -> torch.device:
    """CUDA when present (the first visible GPU, as the scheduler assigned it), else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def configure_threads(threads: int) -> None:
    """Use the cores the rule was given (never more than the machine has), so jobs do not oversubscribe it."""
    threads = max(1, min(int(threads), len(os.sched_getaffinity(0))))
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def seed_everything(seed: int) -> None:
    """Seed every generator a run draws from; CPU runs are then bitwise repeatable."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on GPUs that support it; plain fp32 on the CPU (bf16 there is slower and lossy)."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def evaluation_mode(model: torch.nn.Module) -> Iterator[None]:
    """Switch to eval mode without gradients, and restore the previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


def log_job_to(path: str) -> None:
    """Send everything this job writes to stderr (our logging, transformers' reports and progress bars,
    warnings, a traceback) to the rule's log file, as `2> {log}` would for a shell rule."""
    import logging
    import sys

    log_file = open(path, "w", buffering=1, encoding="utf-8")
    os.dup2(log_file.fileno(), sys.stderr.fileno())
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
