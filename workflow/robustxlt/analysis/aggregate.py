"""Gather every run's results into one tidy table: one row per (task, model, method, seed, lang1, lang2).

Besides accuracy, each row carries what later analysis needs without going back to the runs: the per-example
outcomes (for paired bootstrap tests) and the run's cost (from the rules' `benchmark:` files). Beside it,
premise.csv: every checkpoint's (and the pretrained encoder's) shift of each language from English, in units.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from robustxlt.evaluation.premise import POINTS, QUANTILES
from robustxlt.training.sweep import base_method, strength_label

METRIC_COLUMNS = [
    "task",
    "model",
    "method",
    "strength",
    "seed",
    "lang1",
    "lang2",
    "accuracy",
    "collapsed",
    "converged",
    "smoothed_accuracy",
    "n",
    "placeholder_rows",
    "dropped_rows",
    "outcomes",
    "train_seconds",
    "train_peak_rss_mb",
    "eval_seconds",
    "eval_peak_rss_mb",
    "best_step",
    "steps_trained",
    "train_precision",
    "eval_precision",
    "train_device",
    "train_peak_device_memory_mb",
    "model_description",
    "data_description",
]


def benchmark_cost(benchmark_file: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of a job from its Snakemake benchmark file (last repeat)."""
    row = pd.read_csv(benchmark_file, sep="\t").iloc[-1]
    return float(row["s"]), float(row["max_rss"])


def run_results(eval_dir: Path, expected: list[str]) -> list[dict]:
    """The result JSONs of one run's evaluation directory; refuse a directory that lacks a test set."""
    missing = [name for name in expected if not (Path(eval_dir) / f"{name}.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{eval_dir} has no result for {', '.join(missing)}; delete the directory and re-run its evaluate job"
        )
    return [json.loads((Path(eval_dir) / f"{name}.json").read_text()) for name in expected]


SELECTION_COLUMNS = [
    "task",
    "model",
    "method",
    "kind",
    "strength",
    "variant",
    "seed",
    "dev_accuracy",
    "dev_examples",
    "dev_standard_error",
    "best_step",
    "dev_collapsed",
    "converged",
    "close_to_chosen",
    "chosen",
]


def collect_selections(selection_files: list[Path], method_kinds: dict[str, str], out_file: Path) -> pd.DataFrame:
    """Write `out_file` (CSV): every swept variant's English dev accuracy on the selection seed, and which was
    chosen. The task and model come from each selection file's directory (results/{task}/{model}/{method}/)."""
    rows = []
    for path in selection_files:
        path = Path(path)
        selection = json.loads(path.read_text())
        task, model = path.parent.parent.parent.name, path.parent.parent.name
        for candidate in selection["candidates"]:
            rows.append(
                {
                    "task": task,
                    "model": model,
                    "method": selection["method"],
                    "kind": method_kinds.get(selection["method"], ""),
                    "seed": selection["selection_seed"],
                    **candidate,
                }
            )
    table = pd.DataFrame(rows).reindex(columns=SELECTION_COLUMNS)
    _write_csv(table, out_file)
    return table


def _write_csv(table: pd.DataFrame, out_file: Path) -> None:
    out_file = Path(out_file)
    tmp = out_file.with_name(out_file.name + ".tmp")
    table.to_csv(tmp, index=False, float_format="%.6f")
    os.replace(tmp, out_file)


def collect_metrics(
    eval_dirs: list[Path],
    expected: dict[str, list[str]],
    train_benchmarks: list[Path],
    eval_benchmarks: list[Path],
    reference_files: list[Path],
    out_file: Path,
) -> pd.DataFrame:
    """Write `out_file` (CSV) from each run's evaluation directory (with the test-set names `expected` for its
    task there) and its training and evaluation benchmark files (all lists in the same run order), plus reference
    CSVs such as the lexical-overlap rows. A run of a sweep's chosen variant (`adversarial@epsilon=0.01`) is
    recorded under its method (`adversarial`) with the chosen values in `strength`."""
    rows = []
    for eval_dir, train_benchmark, eval_benchmark in zip(eval_dirs, train_benchmarks, eval_benchmarks, strict=True):
        # Every task evaluates English (the config requires it): its result names the run's task.
        task = json.loads((Path(eval_dir) / "en.json").read_text())["task"]
        names = expected[task]
        train_seconds, train_rss = benchmark_cost(train_benchmark)
        eval_seconds, eval_rss = benchmark_cost(eval_benchmark)
        cost = {
            "train_seconds": train_seconds,
            "train_peak_rss_mb": train_rss,
            "eval_seconds": eval_seconds,
            "eval_peak_rss_mb": eval_rss,
        }
        for result in run_results(eval_dir, names):
            variant = result["method"]
            rows.append({**result, **cost, "method": base_method(variant), "strength": strength_label(variant)})
    metrics = pd.concat([pd.DataFrame(rows), *(pd.read_csv(f) for f in reference_files)], ignore_index=True)
    metrics = metrics.reindex(columns=METRIC_COLUMNS)  # optional columns (smoothed_accuracy, costs) become NaN
    metrics = metrics.sort_values(["task", "model", "method", "seed", "lang1", "lang2"])
    _write_csv(metrics, out_file)
    return metrics


PRETRAINED = "pretrained"  # the method name of the pretrained encoder's rows in premise.csv
QUANTILE_NAMES = [f"q{round(100 * q):02d}" for q in QUANTILES]
PREMISE_COLUMNS = [
    "task",
    "model",
    "method",
    "strength",
    "seed",
    "lang",
    "point",
    "unit",
    "rows",
    "tokens",
    *(f"token_{q}" for q in QUANTILE_NAMES),
    *(f"sentence_{q}" for q in QUANTILE_NAMES),
    "mean_norm",
    "consistency",
    "consistency_outcomes",
]


def _premise_rows(measured: dict, units: dict[str, float], keys: dict) -> list[dict]:
    """One row per (language, point) of a premise JSON, its distances divided by the point's unit."""
    rows = []
    for lang, result in measured["languages"].items():
        for point in POINTS:
            unit = units[point]
            quantiles = {k: v / unit for k, v in result[point].items() if k.startswith(("token_q", "sentence_q"))}
            rows.append(
                {
                    **keys,
                    "lang": lang,
                    "point": point,
                    "unit": unit,
                    "rows": result["rows"],
                    "tokens": result[point].get("tokens", 0),
                    **quantiles,
                    "mean_norm": measured["mean_token_norm"][point] / unit,
                    "consistency": result.get("consistency"),
                    "consistency_outcomes": result.get("consistency_outcomes"),
                }
            )
    return rows


def collect_premise(eval_dirs: list[Path], pretrained_files: list[Path], out_file: Path) -> pd.DataFrame:
    """Write `out_file` (CSV, tidy): per (task, model, method, strength, seed, lang, point) the token and sentence
    shift quantiles from English and the checkpoint's mean token norm over the English test tokens, all in units
    of the pretrained encoder's mean token norm at that point (`unit`, absolute), and the cross-lingual
    consistency with its bits; the pretrained encoder's rows have method `pretrained` and no consistency."""
    units, rows = {}, []
    for path in pretrained_files:
        measured = json.loads(Path(path).read_text())
        key = (measured["task"], measured["model"])
        units[key] = measured["units"]
        rows += _premise_rows(measured, units[key], {"task": key[0], "model": key[1], "method": PRETRAINED})
    for eval_dir in eval_dirs:
        path = Path(eval_dir) / "premise.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; delete {eval_dir} and re-run its evaluate job")
        measured = json.loads(path.read_text())
        variant = measured["method"]
        keys = {
            "task": measured["task"],
            "model": measured["model"],
            "method": base_method(variant),
            "strength": strength_label(variant),
            "seed": measured["seed"],
        }
        rows += _premise_rows(measured, units[measured["task"], measured["model"]], keys)
    premise = pd.DataFrame(rows).reindex(columns=PREMISE_COLUMNS)
    premise = premise.sort_values(["task", "model", "method", "seed", "lang", "point"], na_position="first")
    _write_csv(premise, out_file)
    return premise
