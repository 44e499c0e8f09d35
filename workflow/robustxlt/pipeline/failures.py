"""After a failed run: each failed job's own error line on the console, not only its log file's path."""

from __future__ import annotations

import re
import sys
from pathlib import Path

_FAILED_RULE = re.compile(r"^Error in rule (\S+):$")
_LOG_LINE = re.compile(r"^\s+log: (.+?)(?: \(check log file\(s\) for error details\))?$")
# The last line of a Python traceback: "package.module.SomeError: message" (the module path is dropped).
_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Interrupt|Exit)\b.*)$")


def failed_jobs(snakemake_log: Path) -> list[tuple[str, list[Path]]]:
    """(rule, log files) of every failed job reported in a Snakemake run's log."""
    jobs: list[tuple[str, list[Path]]] = []
    for line in Path(snakemake_log).read_text(encoding="utf-8", errors="replace").splitlines():
        if match := _FAILED_RULE.match(line):
            jobs.append((match.group(1), []))
        elif jobs and not jobs[-1][1] and (match := _LOG_LINE.match(line)):
            jobs[-1][1].extend(Path(p.strip()) for p in match.group(1).split(","))
    return jobs


def error_line(job_log: Path) -> str:
    """The job's own error: the last line of the traceback in its log, or, without one, the log's last line."""
    lines = [line for line in job_log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    if not lines:
        return "its log is empty (killed before it wrote anything?)"
    if match := _EXCEPTION.match(lines[-1].strip()):
        return match.group(1)
    return f"no error in its log (killed from outside?); its last line: {lines[-1].strip()[:300]}"


def report_failures(snakemake_logs: str | Path | list, stream=sys.stderr) -> None:
    """Print `rule failed: error line (log file)` for every failed job of the run (from Snakemake's log files)."""
    paths = snakemake_logs if isinstance(snakemake_logs, list) else [snakemake_logs]
    jobs = [job for path in paths if path and Path(path).is_file() for job in failed_jobs(Path(path))]
    for rule, logs in jobs:
        for job_log in logs or [None]:
            if job_log is None or not job_log.is_file():
                print(f"robustxlt: {rule} failed (no log file)", file=stream)
                continue
            print(f"robustxlt: {rule} failed: {error_line(job_log)} ({job_log})", file=stream)
