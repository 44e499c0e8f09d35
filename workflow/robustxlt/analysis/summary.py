"""The run's answer in a few lines: per task and model, each method with its chosen strength, its English accuracy
and its average improvement over the baseline outside English with the paired interval, the runs to distrust, and
where the full outputs are. Read from the rendered standard tables (the same numbers the tables show)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from robustxlt.analysis.statistics import bool_column
from robustxlt.analysis.tables.formatting import COLLAPSED, NOT_CONVERGED, signed
from robustxlt.analysis.tables.results import AVERAGE, SETUP_NOTES, SOURCE

REPORT_COMMAND = "snakemake --report results/report.html"


def _verdict(low: float, high: float) -> str:
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "no difference shown"


def _method_lines(standard: pd.DataFrame, languages: list[str]) -> tuple[list[str], list[str]]:
    """Table rows (method, English accuracy, Δ with interval, verdict) and the flags of runs to distrust."""
    prefix = f"{AVERAGE}_excl_{SOURCE}"
    rows, flags = [], []
    for row in standard[standard.row_type == "ours"].itertuples(index=False):
        label = f"{row.method} ({row.strength})" if isinstance(row.strength, str) and row.strength else row.method
        english = f"{getattr(row, f'{SOURCE}_pct'):.1f}"
        low, high = getattr(row, f"{prefix}_ci_low_pp"), getattr(row, f"{prefix}_ci_high_pp")
        if pd.isna(low):
            delta, verdict = "–", "(reference)" if row.kind == "baseline" else ""
        else:
            delta = f"{signed(getattr(row, f'{prefix}_improvement_pp'))} [{signed(low)}, {signed(high)}]"
            verdict = _verdict(low, high)
        gap = getattr(row, "transfer_gap_pp", float("nan"))
        rows.append(f"| {label} | {english} | {'' if pd.isna(gap) else f'{gap:.1f}'} | {delta} | {verdict} |")
        collapsed = [lang for lang in languages if bool(getattr(row, f"{lang}_collapsed", False))]
        if collapsed:
            flags.append(f"{COLLAPSED} {label}: predicted one class for every example in {', '.join(collapsed)}")
        cut_short = getattr(row, "not_converged_seeds", "")
        if isinstance(cut_short, str) and cut_short.strip():
            flags.append(
                f"{NOT_CONVERGED} {label}: not converged on seed {str(cut_short).strip()} (English dev still improving "
                "at the end); raise training.epochs or training.early_stopping_patience"
            )
    return rows, flags


def _selection_flags(selection_table: Path) -> list[str]:
    """Swept methods whose choice a longer budget may change: the chosen value, or one English dev cannot tell
    from it, did not converge."""
    try:
        selection = pd.read_csv(selection_table, dtype={"strength": str})
    except (FileNotFoundError, pd.errors.EmptyDataError):  # no sweep: an empty table
        return []
    doubtful = selection[bool_column(selection, "doubtful")]
    return [
        f"? {row.method} ({row.strength}): chosen on English dev, but it or a value within a standard error of it "
        "did not converge; the choice may change with a longer budget"
        for row in doubtful.itertuples(index=False)
    ]


def run_summary(standard_tables: dict[tuple[str, str], Path], setup: str, results_dir: Path = Path("results")) -> str:
    """The summary text of a finished run; `standard_tables` maps (task, model) to its standard table's CSV."""
    lines = [f"# robustxlt: results ({SETUP_NOTES[setup]})", ""]
    swept = False
    for (task, model), path in standard_tables.items():
        standard = pd.read_csv(
            path, dtype={"strength": str, "not_converged_seeds": str}, keep_default_na=False, na_values=[""]
        )
        languages = [c.removesuffix("_pct") for c in standard.columns if c.endswith("_pct") and c != f"{AVERAGE}_pct"]
        rows, flags = _method_lines(standard, languages)
        swept |= bool(standard.strength.fillna("").astype(str).str.strip().any())
        flags += _selection_flags(path.with_name(path.name.replace("_standard.csv", "_selection.csv")))
        lines += [
            f"## {task} / {model}",
            "",
            f"| method | {SOURCE} test % | {SOURCE} − others | Δ avg excl. {SOURCE}, points [95% CI] | vs baseline |",
            "|---|---|---|---|---|",
            *rows,
            "",
            *(f"- {flag}" for flag in flags),
            *([""] if flags else []),
        ]
    lines += [
        ("Strengths in parentheses were chosen on English dev. " if swept else "")
        + "Every number above is in the tables, with all languages:",
        f"- tables: {results_dir}/tables/ (md, tex, csv); figures: {results_dir}/figures/",
        f"- one row per run and test set: {results_dir}/metrics.csv; strength selection: {results_dir}/selection.csv",
        f"- HTML report with every table and figure: `{REPORT_COMMAND}`",
    ]
    return "\n".join(lines) + "\n"


def write_summary(standard_tables: dict[tuple[str, str], Path], setup: str, out_file: Path) -> str:
    text = run_summary(standard_tables, setup, Path(out_file).parent)
    Path(out_file).write_text(text, encoding="utf-8")
    return text


def print_summary(summary_file: Path, metrics_file: Path, stream=None) -> None:
    """Print the summary at the end of a successful run, if it is current (not older than metrics.csv)."""
    summary_file, metrics_file = Path(summary_file), Path(metrics_file)
    if not summary_file.is_file():
        return
    if metrics_file.is_file() and metrics_file.stat().st_mtime > summary_file.stat().st_mtime:
        return
    print("\n" + summary_file.read_text(encoding="utf-8"), file=stream or sys.stderr, end="")
