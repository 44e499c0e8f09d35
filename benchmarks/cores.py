"""Oversubscription check: per-step training time under `snakemake --cores 8` (what README command 1 types) and
`--cores 2`, on this machine, against a lone training job's.

    python benchmarks/cores.py [--steps 60] [--workdir DIR]

Runs a two-method pipeline (baseline and RS-RP, one seed, no generalized setting) once per core count in fresh
working directories that share the prepared data and model, then reads `seconds_per_step` from each training
log. The lone reference: the same trainings, each requested by itself (`snakemake --cores 2 <its checkpoint>`).
Writes benchmarks/results/cores.json; exits 1 when a step under `--cores 8` is more than 10% slower than alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TOLERANCE = 0.10


def config(steps: int) -> dict:
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    base["setup"] = "custom"
    base["tasks"]["sameapp"]["generalized"] = {"languages": []}
    base["methods"] = {
        "baseline": {"kind": "baseline"},
        "rs-rp": {"kind": "random_perturbation", "sigma": 0.01},
    }
    base["seeds"] = [1]
    base["training"].update(
        epochs=10**4, max_steps=steps, eval_every=steps, log_every=steps, early_stopping_patience=None
    )
    return base


def run(workdir: Path, cores: int, configfile: Path, *targets: str) -> float:
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(configfile), "--cores", str(cores), *targets]
    started = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True)
    return time.perf_counter() - started


def step_times(workdir: Path) -> dict[str, float]:
    times = {}
    for log in sorted((workdir / "results").rglob("train_log.jsonl")):
        end = json.loads(log.read_text().splitlines()[-1])
        times[log.parent.parent.name] = end["seconds_per_step"]
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="robustxlt-cores-"))
    configfile = root / "config.yaml"
    root.mkdir(parents=True, exist_ok=True)
    configfile.write_text(yaml.safe_dump(config(args.steps)))
    shared = root / "prepared"
    run(shared, 2, configfile, "resources/data/sameapp/manifest.json", "resources/models/e5small")

    record = {"steps": args.steps, "machine_cores": len(os.sched_getaffinity(0)), "runs": {}}
    checkpoints = [f"results/sameapp/e5small/{m}/seed1/checkpoint" for m in ("baseline", "rs-rp")]
    for label, cores, targets in (
        ("alone", 2, None),  # each training by itself, one after the other
        ("cores2", 2, checkpoints),
        ("cores8", 8, checkpoints),
    ):
        workdir = root / label
        shutil.rmtree(workdir, ignore_errors=True)
        (workdir / "resources").mkdir(parents=True)
        for name in ("data", "models"):
            (workdir / "resources" / name).symlink_to(shared / "resources" / name)
        if targets is None:
            wall = sum(run(workdir, cores, configfile, target) for target in checkpoints)
        else:
            wall = run(workdir, cores, configfile, *targets)
        record["runs"][label] = {
            "cores": cores,
            "wall_seconds": round(wall, 1),
            "seconds_per_step": step_times(workdir),
        }
    alone = record["runs"]["alone"]["seconds_per_step"]
    worst = max(
        record["runs"][label]["seconds_per_step"][method] / alone[method] - 1
        for label in ("cores2", "cores8")
        for method in alone
    )
    record["worst_slowdown_vs_alone"] = round(worst, 3)
    out = REPO / "benchmarks" / "results" / "cores.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    for label, values in record["runs"].items():
        steps = ", ".join(f"{m} {s:.3f} s/step" for m, s in values["seconds_per_step"].items())
        print(f"{label:7s} --cores {values['cores']}: {steps}; wall {values['wall_seconds']} s")
    print(f"worst per-step slowdown against a lone job: {100 * worst:+.1f}% (target ≤ {100 * TOLERANCE:.0f}%) -> {out}")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
