"""The end-of-run summary: the standard tables' numbers, a verdict per method, the runs to distrust, and where the
outputs are; short enough to read at the end of a console."""

from __future__ import annotations

import os
import time

import pandas as pd
from robustxlt.analysis.summary import REPORT_COMMAND, print_summary, write_summary
from robustxlt.analysis.tables.registry import write_tables
from robustxlt.analysis.tables.results import load_results
from test_tables import KINDS, PAWSX, write_synthetic


def _standard_table(tmp_path, seeds=(1, 2, 3)):
    write_synthetic(tmp_path, "pawsx", PAWSX, list(KINDS), list(seeds))
    results = load_results(
        tmp_path / "metrics.csv", tmp_path / "distances.csv", "pawsx", "m", list(KINDS), KINDS, PAWSX, "custom",
        n_boot=300,
    )  # fmt: skip
    write_tables(results, tmp_path / "tables")
    return tmp_path / "tables" / "pawsx_m_standard.csv", results


def test_the_summary_carries_the_standard_tables_numbers_and_says_where_the_rest_is(tmp_path):
    table, results = _standard_table(tmp_path)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "summary.md")
    assert text == (tmp_path / "summary.md").read_text()
    assert len(text.splitlines()) <= 25
    assert "## pawsx / m" in text and REPORT_COMMAND in text and "metrics.csv" in text
    numbers = pd.read_csv(table)
    for method in KINDS:
        (line,) = [line for line in text.splitlines() if line.startswith(f"| {method} |")]
        row = numbers[(numbers.row == method) & (numbers.row_type == "ours")].iloc[0]
        assert f"| {row.en_pct:.1f} |" in line
        if method == "baseline":
            assert "(reference)" in line
            continue
        delta = results.improvement(method, "avg", "avg")
        assert f"{100 * delta.improvement:+.1f} [" in line
        verdict = "better" if delta.ci_low > 0 else "worse" if delta.ci_high < 0 else "no difference shown"
        assert line.endswith(f"| {verdict} |")
    # No method was swept here, so no strength is in parentheses, and the summary does not say there is one.
    assert "(" not in "".join(line.split("|")[1] for line in text.splitlines() if line.startswith("| "))
    assert "in parentheses" not in text


def test_a_swept_methods_chosen_strength_is_named(tmp_path):
    table, _ = _standard_table(tmp_path)
    numbers = pd.read_csv(table, dtype={"strength": str}, keep_default_na=False)
    numbers.loc[numbers.row == "adv", "strength"] = "epsilon=0.03"
    numbers.to_csv(table, index=False)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "summary.md")
    assert "| adv (epsilon=0.03) |" in text and "Strengths in parentheses were chosen on English dev" in text


def test_collapsed_runs_are_flagged_by_language(tmp_path):
    table, _ = _standard_table(tmp_path)
    numbers = pd.read_csv(table)
    numbers.loc[numbers.row == "adv", ["de_collapsed", "ja_collapsed"]] = True
    numbers.to_csv(table, index=False)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "summary.md")
    assert "† adv: predicted one class for every example in de, ja" in text


def test_the_summary_is_printed_only_when_current(tmp_path, capsys):
    summary, metrics = tmp_path / "summary.md", tmp_path / "metrics.csv"
    metrics.write_text("x\n")
    summary.write_text("# the answer\n")
    print_summary(summary, metrics)
    assert "# the answer" in capsys.readouterr().err
    later = time.time() + 5
    os.utime(metrics, (later, later))  # metrics newer than the summary: a stale answer is not shown
    print_summary(summary, metrics)
    assert capsys.readouterr().err == ""


def test_runs_cut_short_are_flagged_with_the_advice(tmp_path):
    table, _ = _standard_table(tmp_path)
    numbers = pd.read_csv(table, dtype={"not_converged_seeds": str})
    numbers.loc[numbers.row == "rs-rp", "not_converged_seeds"] = "1 3"
    numbers.to_csv(table, index=False)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "summary.md")
    (flag,) = [line for line in text.splitlines() if line.startswith("- ‡")]
    assert "rs-rp: not converged on seed 1 3" in flag and "raise training.epochs" in flag
