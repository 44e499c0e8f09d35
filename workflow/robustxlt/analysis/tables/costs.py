"""The cost table: each method's wall time and peak memory from the rules' benchmark files, relative to the baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from robustxlt.analysis.tables.formatting import Table, methods_note
from robustxlt.analysis.tables.results import Results

COSTS = {
    "train_seconds": "train time (s)",
    "train_peak_rss_mb": "train peak RSS (MB)",
    "eval_seconds": "eval time (s)",
    "eval_peak_rss_mb": "eval peak RSS (MB)",
}
# Shown only where a run measured it (training on a GPU).
DEVICE_MEMORY = {"train_peak_device_memory_mb": "train peak GPU memory (MB)"}


def _hardware_note(runs: pd.DataFrame) -> str:
    """Which devices and precisions the trainings ran on, from the runs' own logs."""
    if "train_device" not in runs:
        return ""
    devices = runs.reindex(columns=["train_device", "train_precision"]).dropna(subset=["train_device"])
    described = sorted({f"{device} ({precision})" for device, precision in devices.itertuples(index=False) if device})
    return f"Trained on: {'; '.join(described)}. " if described else ""


def cost_table(results: Results) -> Table:
    """Per method: wall time (mean ± std over seeds), peak memory (max over seeds), each relative to the baseline."""
    measured = {k: v for k, v in DEVICE_MEMORY.items() if k in results.runs and results.runs[k].notna().any()}
    costs = {**COSTS, **measured}
    per_run = results.runs.drop_duplicates(["method", "seed"]).reindex(columns=["method", "seed", *costs])
    grouped = per_run.groupby("method")
    means, stds, peaks = grouped.mean(), grouped.std(), grouped.max()
    display, numbers = [], []
    for method in results.methods:
        row, raw = {"method": results.label(method)}, {"method": method, "kind": results.method_kinds.get(method, "")}
        for column, label in costs.items():
            memory = column.endswith("_mb")  # a peak: the largest over seeds is what a job must be given
            value = (peaks if memory else means)[column]
            x, spread = value.get(method, np.nan), np.nan if memory else stds[column].get(method, np.nan)
            ratio = x / value.get(results.baseline, np.nan) if results.baseline else np.nan
            row[label] = "" if pd.isna(x) else f"{x:.0f}" + ("" if pd.isna(spread) else f" ± {spread:.0f}")
            row[f"{label.split(' (')[0]} × {results.baseline}"] = "" if pd.isna(ratio) else f"{ratio:.2f}"
            raw |= {column: x, f"{column}_std": spread, f"{column}_vs_baseline": ratio}
        raw["seeds"] = int(per_run[per_run.method == method].seed.nunique())
        display.append(row | {"seeds": str(raw["seeds"])})
        numbers.append(raw)
    notes = (
        "Costs from the rules' Snakemake `benchmark:` files: wall-clock time (mean ± std over seeds) and peak "
        "resident memory (max over seeds) of the training job and of the evaluation job (all test sets of a run), "
        f"each also as a multiple of {results.baseline or 'the baseline'}'s. Measured on whatever machine ran the "
        "jobs: shared cores make times noisy. " + _hardware_note(results.runs) + methods_note(results)
    )
    return Table("cost of each method", notes, pd.DataFrame(display), pd.DataFrame(numbers))
