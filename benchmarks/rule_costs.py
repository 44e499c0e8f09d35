"""What each rule of a finished run cost: its jobs' wall time and peak memory from the run's benchmark files
(results/benchmarks/<rule>/...tsv, one per job), with the rows its largest job read where the cost plan knows them.

    python benchmarks/rule_costs.py --workdir DIR --configfile presets/paper-scale.yaml --out benchmarks/results/X.json

DIR is the run's working directory (its results/ and resources/). Prints a Markdown table (rule, jobs, total and
largest seconds, largest peak RSS, the largest job) and writes it, with the machine and every job's numbers, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from robustxlt.models.runtime import cpu_name
from robustxlt.pipeline.cost_plan import grid_jobs, load_configuration


def job_costs(benchmarks: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        measured = pd.read_csv(path, sep="\t").iloc[0]
        parts = path.relative_to(benchmarks).with_suffix("").parts  # rule, then the job's wildcards (if any)
        rule, name = parts[0], "/".join(parts[1:])
        seconds, rss = float(measured["s"]), float(measured["max_rss"])
        rows.append({"rule": rule, "job": name, "seconds": seconds, "max_rss_mb": rss})
    return pd.DataFrame(rows)


def per_rule(jobs: pd.DataFrame, rows_read: dict[tuple[str, str], int]) -> pd.DataFrame:
    table = []
    for rule, group in jobs.groupby("rule", sort=False):
        largest = group.loc[group["seconds"].idxmax()]
        table.append(
            {
                "rule": rule,
                "jobs": len(group),
                "total_seconds": round(group["seconds"].sum(), 1),
                "largest_seconds": round(largest["seconds"], 1),
                "largest_job": largest["job"],
                "rows_read_by_largest": rows_read.get((rule, largest["job"])),
                "peak_rss_mb": round(group["max_rss_mb"].max(), 1),
            }
        )
    return pd.DataFrame(table).sort_values("largest_seconds", ascending=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--configfile", nargs="*", default=[])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    config_files = [str(Path(f).resolve()) for f in args.configfile]
    out = args.out.resolve()
    os.chdir(args.workdir)  # the run's commit, resources and results
    jobs = job_costs(Path("results/benchmarks"))
    planned, _ = grid_jobs(load_configuration(config_files))
    table = per_rule(jobs, {(job.rule, job.name): job.rows for job in planned})
    print(table.to_markdown(index=False))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    record = {
        "command": f"snakemake --cores 2 --configfile {' '.join(args.configfile)}",
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit,
        "cpu": cpu_name(),
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "rules": table.to_dict(orient="records"),
        "jobs": jobs.to_dict(orient="records"),
    }
    out.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
