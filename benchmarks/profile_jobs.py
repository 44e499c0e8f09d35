"""Where a default training job and evaluation job spend their time: each runs alone under py-spy (a sampling
profiler that follows snakemake's job process), and every sample is charged to a named stage of the job.

    python benchmarks/profile_jobs.py [--workdir DIR] [--rate 100]

The prerequisites (data, model conversion, test sets' token ids) are built first, unprofiled. Then
`snakemake --cores 1 <target>` runs under `py-spy record --subprocesses` for the baseline's training on the
first seed and for its evaluation. A sample goes to the innermost stage among its frames (a lazy import inside a
training step counts as an import); samples of the snakemake process itself are its DAG and scheduling work;
waiting threads are left out; the rest of the job's wall time is "unsampled". Peak memory (max RSS) is the
job's `benchmark:` file's. Writes benchmarks/results/profile.json and prints the stages. Needs py-spy
(`pip install py-spy`) and permission to trace child processes.
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
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parent.parent
MAX_RSS_MB = 3 * 1024  # per job, for the default

# (stage, functions): the innermost frame of a sample naming one of these functions ("name" or "Class.name")
# decides its stage.
STAGES = {
    "train": [
        ("imports", {"_find_and_load"}),
        ("model load", {"load_model"}),
        ("data read and tokenisation", {"read_pairs", "encode_pairs"}),
        ("perturbation unit", {"perturbation_units"}),
        ("training steps: padding into batches", {"collate"}),
        ("training steps: forward and backward", {"backward"}),
        ("training steps: optimizer update", {"optimizer_step"}),
        ("English dev evaluation", {"evaluate_dev"}),
        ("checkpoint write", {"save_best_checkpoint", "publish"}),
        ("training state saved (resume)", {"save_state"}),
    ],
    "evaluate": [
        ("imports", {"_find_and_load"}),
        ("model and tokenizer load", {"from_pretrained"}),
        ("test sets: token ids read and spot-checked", {"test_set_pairs"}),
        ("test sets: padding into batches", {"collate"}),
        ("test sets: forward passes", {"predict"}),
        ("results written", {"_write_atomic"}),
    ],
}
WAITING = ("Condition.wait", "Event.wait", "Thread.join")  # e.g. tqdm's monitor thread: not work


def stage_of(frames: list[str], stages: list[tuple[str, set[str]]]) -> str:
    names = [frame.split(" (", 1)[0] for frame in frames if frame]
    if not names:
        return "interpreter start and exit (no Python frame)"
    for name in reversed(names):
        for stage, functions in stages:
            if name in functions or name.rsplit(".", 1)[-1] in functions:
                return stage
    return "other (job script)"


def charge_samples(raw: Path, stages: list[tuple[str, set[str]]], rate: int) -> Counter:
    """Seconds per stage from py-spy's raw output (`process A;process B;frame;...;frame COUNT` per line)."""
    seconds: Counter = Counter()
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        frames = frames[len(processes) :]
        if frames and frames[-1].split(" (", 1)[0] in WAITING:
            continue
        if len(processes) == 1:  # the snakemake process itself, not its job
            stage = "snakemake (DAG, scheduling, job start)"
        else:
            stage = stage_of(frames, stages)
        seconds[stage] += int(count) / rate
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="keep the run here (default: a temporary directory)")
    parser.add_argument("--configfile", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        sys.exit("py-spy is not installed: pip install py-spy")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="robustxlt-profile-"))
    config = yaml.safe_load(args.configfile.read_text())
    task, model = next(iter(config["tasks"])), next(iter(config["models"]))
    run = f"results/{task}/{model}/baseline/seed{config['seeds'][0]}"
    snakemake = [
        sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(args.configfile.resolve()), "--cores", "1",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    prerequisites = [f"resources/encoded/{task}/{model}", f"resources/models/{model}"]
    subprocess.run([*snakemake, *prerequisites], check=True, env=env)

    record = {"configfile": str(args.configfile), "run": run, "rate": args.rate, "jobs": {}}
    for job, target, benchmark in [
        ("train", f"{run}/train_log.jsonl", f"train/{task}/{model}/baseline/seed{config['seeds'][0]}.tsv"),
        ("evaluate", f"{run}/eval", f"evaluate/{task}/{model}/baseline/seed{config['seeds'][0]}.tsv"),
    ]:
        raw = workdir / f"profile-{job}.txt"
        command = [py_spy, "record", "--subprocesses", "-r", str(args.rate), "-f", "raw", "-o", str(raw), "--"]
        started = time.perf_counter()
        subprocess.run([*command, *snakemake, "--force", target], check=True, env=env)
        wall = time.perf_counter() - started
        job_record = pd.read_csv(workdir / "results" / "benchmarks" / benchmark, sep="\t").iloc[-1]
        seconds = charge_samples(raw, STAGES[job], args.rate)
        in_job = sum(s for stage, s in seconds.items() if not stage.startswith("snakemake"))
        seconds["unsampled (interpreter start before the first sample)"] = max(0.0, job_record.s - in_job)
        record["jobs"][job] = {
            "command_wall_seconds": round(wall, 1),
            "job_seconds": round(float(job_record.s), 1),
            "job_max_rss_mb": round(float(job_record.max_rss), 0),
            "stages_seconds": {stage: round(s, 2) for stage, s in seconds.most_common()},
        }
        print(
            f"\n{job}: snakemake command {wall:.1f} s, job {job_record.s:.1f} s, peak RSS {job_record.max_rss:.0f} MB"
        )
        for stage, s in seconds.most_common():
            print(f"  {s:7.2f} s  {100 * s / wall:5.1f}%  {stage}")
    peak = max(job["job_max_rss_mb"] for job in record["jobs"].values())
    record["targets"] = {f"job_max_rss_mb <= {MAX_RSS_MB}": peak <= MAX_RSS_MB}
    out = REPO / "benchmarks" / "results" / "profile.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"peak job memory {peak:.0f} MB (target ≤ {MAX_RSS_MB} MB) -> {out}")
    return 0 if peak <= MAX_RSS_MB else 1


if __name__ == "__main__":
    sys.exit(main())
