"""Checks of the live Slurm run (called by live_test.sh): every non-local job went through Slurm with the
resources the profile and the rules ask for, and the results equal those of a local run.

Evidence read: Snakemake's own log of the run (job blocks and "submitted with SLURM jobid" lines), the
cluster's records (`scontrol -o show job`, slurmctld's job-completion file), the plugin's kept per-job
Slurm logs, and the `results/` of both runs (metrics.csv numerically, every other result file exactly,
wall-clock fields aside). Exits 1 with one line per failed check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

# Rules that run on the submitting host by design (`localrules`): downloads, the strength choice and the summary
# (a few JSON lines or CSV rows each), and the target rule.
EXPECTED_LOCAL = {"prepare_data", "prepare_model", "synonyms", "select_strength", "summary", "all"}
# Rules whose jobs must run on the cluster: the expensive ones the profile is for.
REQUIRED_REMOTE = {"train", "evaluate"}

JOB_HEADER = re.compile(r"^(local)?(?:rule|checkpoint) (\w+):$")
JOB_FIELD = re.compile(r"^\s+(\w+): (.*)$")
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+)\)\.")
KEY_VALUE = re.compile(r"(\w+)=(\S*)")


@dataclass
class SnakemakeJob:
    jobid: str
    rule: str
    local: bool
    threads: int = 1
    resources: dict[str, str] = field(default_factory=dict)
    slurm_ids: list[str] = field(default_factory=list)
    slurm_logs: list[Path] = field(default_factory=list)


def parse_run_log(text: str) -> tuple[dict[str, SnakemakeJob], str | None, bool]:
    """Jobs of the run by Snakemake job id, the plugin's run id (the Slurm job name), whether it finished."""
    jobs: dict[str, SnakemakeJob] = {}
    header, fields = None, {}

    def close_block() -> None:
        if header and "jobid" in fields:
            resources = dict(item.split("=", 1) for item in fields.get("resources", "").split(", ") if "=" in item)
            jobs[fields["jobid"]] = SnakemakeJob(
                jobid=fields["jobid"],
                rule=header[1],
                local=header[0] == "local",
                threads=int(fields.get("threads", 1)),
                resources=resources,
            )

    for line in text.splitlines():
        if m := JOB_HEADER.match(line):
            close_block()
            header, fields = (m[1], m[2]), {}
        elif header and (m := JOB_FIELD.match(line)):
            fields.setdefault(m[1], m[2])
        elif header and not line.startswith(" "):
            close_block()
            header, fields = None, {}
    close_block()
    for m in SUBMITTED.finditer(text):
        jobs[m[1]].slurm_ids.append(m[2])
        jobs[m[1]].slurm_logs.append(Path(m[3]))
    run_id = re.search(r"SLURM run ID: (\S+)", text)
    finished = re.search(r"(\d+) of \1 steps \(100%\) done", text) is not None
    return jobs, run_id[1] if run_id else None, finished


def parse_records(text: str) -> dict[str, dict[str, str]]:
    """One `Key=Value ...` line per Slurm job (scontrol -o show job, jobcomp/filetxt), by job id."""
    records = {}
    for line in text.splitlines():
        values: dict[str, str] = {}
        for key, value in KEY_VALUE.findall(line):
            values.setdefault(key, value)
        if "JobId" in values:
            records[values["JobId"]] = values
    return records


def minutes(limit: str) -> int:
    """Slurm's [D-]HH:MM:SS time limit in minutes."""
    days, _, clock = limit.rpartition("-")
    h, m, s = (int(x) for x in clock.split(":"))
    return (int(days) if days else 0) * 1440 + h * 60 + m + (s > 0)


def profile_resources(profile: Path, rule: str) -> dict:
    """Resources the profile gives a rule: its default-resources overlaid with its set-resources entry."""
    config = yaml.safe_load(profile.read_text())
    return {**config.get("default-resources", {}), **config.get("set-resources", {}).get(rule, {})}


def check_jobs(
    jobs: dict[str, SnakemakeJob],
    run_id: str | None,
    finished: bool,
    scontrol: dict[str, dict[str, str]],
    jobcomp: dict[str, dict[str, str]],
    profile: Path,
    required_remote: set[str] = REQUIRED_REMOTE,
) -> tuple[list[str], list[str]]:
    """Errors and summary lines: each job ran where it should, Slurm's records match what was asked."""
    errors, summary = [], []
    if not finished:
        errors.append("the Slurm run did not report 'N of N steps (100%) done'")
    if not jobs:
        return errors + ["no job blocks found in the Snakemake log of the Slurm run"], summary
    local = sorted(j.rule for j in jobs.values() if j.local)
    remote = [j for j in jobs.values() if not j.local]
    if unexpected := set(local) - EXPECTED_LOCAL:
        errors.append(f"rules ran on the submitting host instead of Slurm: {sorted(unexpected)}")
    if missing := required_remote - {j.rule for j in remote}:
        errors.append(f"no Slurm job for rules {sorted(missing)}")
    for job in jobs.values():
        if job.local and job.slurm_ids:
            errors.append(f"local job {job.jobid} ({job.rule}) was also submitted to Slurm: {job.slurm_ids}")
        if not job.local and len(job.slurm_ids) != 1:
            errors.append(f"job {job.jobid} ({job.rule}) has {len(job.slurm_ids)} Slurm submissions, expected 1")
    submitted = {sid: job for job in remote for sid in job.slurm_ids}
    if set(scontrol) != set(submitted):
        errors.append(f"Slurm knows jobs {sorted(scontrol, key=int)}, Snakemake submitted {sorted(submitted, key=int)}")
    if set(jobcomp) != set(submitted):
        errors.append(
            f"job-completion log has {sorted(jobcomp, key=int)}, Snakemake submitted {sorted(submitted, key=int)}"
        )
    for sid, job in sorted(submitted.items(), key=lambda item: int(item[0])):
        what = f"Slurm job {sid} ({job.rule}, Snakemake job {job.jobid})"
        record, completion = scontrol.get(sid), jobcomp.get(sid)
        if record is None or completion is None:
            continue  # already reported above
        wanted = profile_resources(profile, job.rule)
        expected = {
            "JobState": "COMPLETED",
            "ExitCode": "0:0",
            "JobName": run_id,
            "Partition": str(wanted.get("slurm_partition")),
            "NumCPUs": str(job.threads),
            "MinMemoryNode": f"{job.resources.get('mem_mb')}M",
        }
        for key, value in expected.items():
            if record.get(key) != value:
                errors.append(f"{what}: {key}={record.get(key)}, expected {value}")
        if completion.get("JobState") != "COMPLETED" or completion.get("Partition") != expected["Partition"]:
            errors.append(f"{what}: completion record {completion.get('JobState')} on {completion.get('Partition')}")
        if minutes(record.get("TimeLimit", "0:0:0")) != int(job.resources.get("runtime", -1)):
            errors.append(
                f"{what}: TimeLimit={record.get('TimeLimit')}, expected runtime={job.resources.get('runtime')}"
            )
        gpus = wanted.get("gpu")
        tres = record.get("TresPerJob", "")
        if gpus and not re.fullmatch(rf"gres[:/]gpu:{gpus}", tres):
            errors.append(f"{what}: TresPerJob={tres!r}, expected {gpus} GPU as the profile asks")
        if not gpus and "gpu" in tres:
            errors.append(f"{what}: got a GPU ({tres}) the profile does not ask for")
        log = job.slurm_logs[0]
        if not log.is_file() or f"rule {job.rule}:" not in log.read_text(errors="replace"):
            errors.append(f"{what}: its Slurm log {log} is missing or does not show the rule")
    per_rule: dict[str, int] = {}
    for job in submitted.values():
        per_rule[job.rule] = per_rule.get(job.rule, 0) + 1
    summary.append(
        f"{len(submitted)} jobs went through Slurm ({', '.join(f'{r} {n}' for r, n in sorted(per_rule.items()))}); "
        f"{len(local)} ran locally ({', '.join(local)})"
    )
    return errors, summary


def compare_metrics(local_csv: Path, slurm_csv: Path) -> tuple[list[str], list[str]]:
    """metrics.csv of both runs: the same rows and columns, numbers equal (CPU training is deterministic)."""
    for path in (local_csv, slurm_csv):
        if not path.is_file():
            return [f"missing {path}"], []
    local, slurm = pd.read_csv(local_csv), pd.read_csv(slurm_csv)
    if list(local.columns) != list(slurm.columns) or len(local) != len(slurm):
        return [f"metrics.csv differ in shape: local {local.shape} {list(local.columns)}, slurm {slurm.shape}"], []
    # The runs' costs (wall time, memory) differ by nature; every other number must be equal.
    costs = [c for c in local.columns if c.endswith(("_seconds", "_rss_mb"))]
    local, slurm = local.drop(columns=costs), slurm.drop(columns=costs)
    numeric = local.select_dtypes("number").columns
    keys = [c for c in local.columns if c not in numeric]
    local, slurm = local.sort_values(keys).reset_index(drop=True), slurm.sort_values(keys).reset_index(drop=True)
    errors = []
    if not local[keys].equals(slurm[keys]):
        errors.append("metrics.csv differ in their non-numeric columns")
    difference = (local[numeric] - slurm[numeric]).abs().max().max()
    if not difference <= 1e-9:
        errors.append(f"metrics.csv numbers differ: max |local - slurm| = {difference:.3g}")
    return errors, [f"metrics.csv: {len(local)} rows equal to the local run's (max |difference| {difference:.1g})"]


def without_timings(value):
    """A parsed JSON value without wall-clock fields (`elapsed`, `*seconds*`), which differ run to run."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "elapsed" and "seconds" not in k}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def compare_result_files(local_dir: Path, slurm_dir: Path) -> tuple[list[str], list[str]]:
    """Every result file of both runs is the same (checkpoint weights, training log, predictions, tables),
    wall-clock fields aside. Skipped: logs/ and benchmarks/ (job logs and timings), the cost tables, figures
    (PDFs carry their creation time) and metrics.csv (compared by compare_metrics, without its costs)."""

    def compared(relative: Path) -> bool:
        skipped = relative.parts[0] in {"logs", "benchmarks", "figures"} or relative.name == "metrics.csv"
        return not skipped and "_costs." not in relative.name

    def files(root: Path) -> set[Path]:
        return {p.relative_to(root) for p in root.rglob("*") if p.is_file() and compared(p.relative_to(root))}

    local, slurm = files(local_dir), files(slurm_dir)
    errors = [
        f"result file only in the {where} run: {p}"
        for where, ps in (("local", local - slurm), ("Slurm", slurm - local))
        for p in sorted(ps)
    ]
    for path in sorted(local & slurm):
        a, b = (local_dir / path).read_bytes(), (slurm_dir / path).read_bytes()
        if a == b:
            continue
        if path.suffix in {".json", ".jsonl"}:
            parse = (lambda t: [json.loads(line) for line in t.splitlines()]) if path.suffix == ".jsonl" else json.loads
            if without_timings(parse(a.decode())) == without_timings(parse(b.decode())):
                continue
        errors.append(f"result file differs between the runs: {path}")
    weights = sum(p.name == "model.safetensors" for p in local & slurm)
    return errors, [
        f"{len(local & slurm)} result files equal to the local run's, {weights} checkpoint's weights byte for byte"
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-log", type=Path, required=True, help="Snakemake's output of the Slurm run")
    parser.add_argument("--scontrol", type=Path, required=True, help="`scontrol -o show job` after the run")
    parser.add_argument("--jobcomp", type=Path, required=True, help="slurmctld's jobcomp/filetxt file")
    parser.add_argument("--profile", type=Path, required=True, help="the profile's config.yaml")
    parser.add_argument("--local-results", type=Path, required=True, help="results/ of the local run")
    parser.add_argument("--slurm-results", type=Path, required=True, help="results/ of the Slurm run")
    args = parser.parse_args()

    jobs, run_id, finished = parse_run_log(args.run_log.read_text(errors="replace"))
    scontrol = parse_records(args.scontrol.read_text())
    jobcomp = parse_records(args.jobcomp.read_text()) if args.jobcomp.is_file() else {}
    errors, summary = check_jobs(jobs, run_id, finished, scontrol, jobcomp, args.profile)
    metric_errors, metric_summary = compare_metrics(
        args.local_results / "metrics.csv", args.slurm_results / "metrics.csv"
    )
    file_errors, file_summary = compare_result_files(args.local_results, args.slurm_results)
    metric_errors += file_errors
    metric_summary += file_summary
    for line in summary + metric_summary:
        print(f"ok: {line}")
    for line in errors + metric_errors:
        print(f"FAILED: {line}")
    return 1 if errors or metric_errors else 0


if __name__ == "__main__":
    sys.exit(main())
