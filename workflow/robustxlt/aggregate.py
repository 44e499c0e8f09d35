"""Gather per-language results into one tidy table: one row per (task, model, method, seed, lang1, lang2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

METRIC_COLUMNS = [
    "task",
    "model",
    "method",
    "seed",
    "lang1",
    "lang2",
    "accuracy",
    "smoothed_accuracy",
    "n",
    "model_description",
    "data_description",
]


def collect_metrics(result_files: list[Path], reference_files: list[Path], out_file: Path) -> pd.DataFrame:
    """Write `out_file` (CSV) from evaluation JSONs and reference CSVs such as the lexical-overlap rows."""
    frames = [pd.DataFrame([json.loads(Path(f).read_text()) for f in result_files])]
    frames += [pd.read_csv(f) for f in reference_files]
    metrics = pd.concat(frames, ignore_index=True)
    if "smoothed_accuracy" not in metrics.columns:  # only present where smoothed prediction was asked for
        metrics["smoothed_accuracy"] = float("nan")
    missing = [c for c in METRIC_COLUMNS if c not in metrics.columns]
    if missing:
        raise ValueError(f"results lack column(s) {', '.join(missing)}; re-run the evaluation jobs")
    metrics = metrics[METRIC_COLUMNS].sort_values(["task", "model", "method", "seed", "lang1", "lang2"])
    tmp = Path(out_file).with_name(Path(out_file).name + ".tmp")
    metrics.to_csv(tmp, index=False, float_format="%.6f")
    os.replace(tmp, out_file)
    return metrics
