"""The console shows each failed job's own error line (from its log), not only the log's path."""

import io

from robustxlt.pipeline.failures import error_line, failed_jobs, report_failures

SNAKEMAKE_LOG = """\
[Mon Nov 30 05:40:14 2026]
Error in rule prepare_data:
    message: None
    jobid: 3
    input: src/train-en.tsv
    output: resources/data/pawsx/manifest.json
    log: {data_log} (check log file(s) for error details)
Error in rule train:
    jobid: 7
    log: {train_log} (check log file(s) for error details)
Error in rule render:
    jobid: 9
Shutting down, this might take some time.
"""


def test_each_failed_job_is_reported_with_its_own_error_line(tmp_path):
    data_log, train_log = tmp_path / "prepare_data.log", tmp_path / "train.log"
    data_log.write_text(
        'Traceback (most recent call last):\n  File "x.py", line 3, in <module>\n'
        "robustxlt.data.canonical.DataError: src/test-de.tsv, line 3: unknown label 'maybe'. Fix: use one of: 0, 1\n\n"
    )
    train_log.write_text("2026-11-30 INFO robustxlt.training.loop: step 20/60: dev accuracy 0.6100 (best)\n")
    log = tmp_path / "run.snakemake.log"
    log.write_text(SNAKEMAKE_LOG.format(data_log=data_log, train_log=train_log))
    assert [(rule, len(logs)) for rule, logs in failed_jobs(log)] == [("prepare_data", 1), ("train", 1), ("render", 0)]
    assert error_line(data_log) == "DataError: src/test-de.tsv, line 3: unknown label 'maybe'. Fix: use one of: 0, 1"
    assert error_line(train_log).startswith("no error in its log (killed from outside?); its last line: 2026")
    stream = io.StringIO()
    report_failures([str(log)], stream)
    lines = stream.getvalue().splitlines()
    assert lines == [
        f"robustxlt: prepare_data failed: DataError: src/test-de.tsv, line 3: unknown label 'maybe'. Fix: use one "
        f"of: 0, 1 ({data_log})",
        f"robustxlt: train failed: {error_line(train_log)} ({train_log})",
        "robustxlt: render failed (no log file)",
    ]


def test_no_log_or_an_empty_one_is_said_plainly(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("\n")
    assert error_line(empty).startswith("its log is empty")
    stream = io.StringIO()
    report_failures([], stream)
    report_failures(str(tmp_path / "missing.log"), stream)
    assert stream.getvalue() == ""
