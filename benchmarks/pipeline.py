"""Benchmark the whole default pipeline: wall time of `snakemake --cores N` on a fresh working directory and
the peak memory of every job (from the rules' `benchmark:` files). Checks the targets and records the numbers.

    python benchmarks/pipeline.py [--cores 2] [--configfile config.yaml] [--workdir DIR]
    python benchmarks/pipeline.py --workdir DIR --finished SECONDS   # record a run made elsewhere, e.g. README
                                                                     # command 1, with its measured wall time

Writes benchmarks/results/pipeline-<setup>-<cores>cores.json and exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"wall_seconds": 15 * 60, "job_max_rss_mb": 3 * 1024, "figures_seconds": 15}


def job_benchmarks(workdir: Path) -> pd.DataFrame:
    """One row per job that has a `benchmark:` file: rule, job, seconds, max_rss (MB)."""
    rows = []
    for path in sorted((workdir / "results" / "benchmarks").rglob("*.tsv")):
        record = pd.read_csv(path, sep="\t").iloc[-1]
        rule = path.relative_to(workdir / "results" / "benchmarks").parts[0]
        rows.append(
            {"rule": rule, "job": str(path.relative_to(workdir)), "seconds": record.s, "max_rss_mb": record.max_rss}
        )
    return pd.DataFrame(rows)


def training_steps(workdir: Path) -> list[dict]:
    """Per training job: seconds per optimizer step, precision and threads, from its training log."""
    rows = []
    for log in sorted((workdir / "results").rglob("train_log.jsonl")):
        events = [json.loads(line) for line in log.read_text().splitlines()]
        start, end = events[0], events[-1]
        rows.append(
            {
                "run": str(log.parent.relative_to(workdir / "results")),
                "seconds_per_step": round(end["seconds_per_step"], 4),
                "steps": end["steps_trained"],
                "budget_steps": end["total_steps"],
                "best_step": end["best_step"],
                "converged": end["converged"],
                "best_dev_accuracy": end["best_dev_accuracy"],
                "precision": start.get("precision", "fp32"),
                "threads": start["threads"],
            }
        )
    return rows


def cpu_model() -> str:
    """The CPU's model name and whether it computes bf16 natively (the flags the training's precision reads)."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    native = [flag for flag in ("amx_bf16", "avx512_bf16") if flag in flags]
    return f"{name} ({', '.join(native) if native else 'no native bf16: fp32'})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--workdir", type=Path, help="keep the run here (default: a temporary directory)")
    parser.add_argument("--finished", type=float, help="DIR holds a finished run of this wall time (s): record it")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="robustxlt-bench-"))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(args.configfile.resolve()),
        "--cores",
        str(args.cores),
    ]
    started = time.perf_counter()
    if args.finished is None:
        subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = args.finished or time.perf_counter() - started
    # Re-rendering from metrics.csv and distances.csv alone: delete every table and figure, time `figures`.
    for rendered in ("tables", "figures"):
        shutil.rmtree(workdir / "results" / rendered)
    started = time.perf_counter()
    subprocess.run([*command, "figures"], check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    figures = time.perf_counter() - started

    jobs = job_benchmarks(workdir)
    per_rule = jobs.groupby("rule").agg(
        jobs=("job", "size"),
        seconds_mean=("seconds", "mean"),
        seconds_max=("seconds", "max"),
        max_rss_mb=("max_rss_mb", "max"),
    )
    setup = yaml.safe_load(args.configfile.read_text())["setup"]
    record = {
        "setup": setup,
        "configfile": str(args.configfile),
        "cores": args.cores,
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "wall_seconds": round(wall, 1),
        "figures_seconds": round(figures, 1),
        "job_max_rss_mb": float(jobs.max_rss_mb.max()),
        "per_rule": per_rule.round(1).reset_index().to_dict(orient="records"),
        "per_job": jobs.round(1).to_dict(orient="records"),
        "training": training_steps(workdir),
        "targets": TARGETS,
    }
    metrics = pd.read_csv(workdir / "results" / "metrics.csv", dtype={"strength": str})
    record["english_accuracy"] = (
        metrics[(metrics.lang1 == "en") & (metrics.lang2 == "en")]
        .fillna({"strength": ""})
        .groupby(["model", "method", "strength"])
        .accuracy.agg(["mean", "std", "count"])
        .round(4)
        .reset_index()
        .to_dict(orient="records")
    )
    selection = workdir / "results" / "selection.csv"
    if selection.stat().st_size:
        record["selection"] = pd.read_csv(selection).round(4).to_dict(orient="records")
    out = REPO / "benchmarks" / "results" / f"pipeline-{setup}-{args.cores}cores.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(per_rule.round(1).to_string())
    print(
        f"wall time {wall:.0f} s (target ≤ {TARGETS['wall_seconds']} s); "
        f"peak job memory {record['job_max_rss_mb']:.0f} MB (target ≤ {TARGETS['job_max_rss_mb']} MB); "
        f"re-rendering {figures:.1f} s (target ≤ {TARGETS['figures_seconds']} s); -> {out}"
    )
    missed = [name for name, limit in TARGETS.items() if record[name] > limit]
    if missed:
        print(f"targets missed: {', '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
