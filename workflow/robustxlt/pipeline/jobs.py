"""What every script does first: send the job's stderr to the rule's log file."""

from __future__ import annotations

import os


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
