"""The run's answer in a few lines: per task and model, each method with its chosen strength, its English accuracy,
its average improvement over the baseline outside English with the paired interval, its improvement in the
generalized setting and its relation to distance; a verdict on each of the paper's three claims
(robustxlt.analysis.claims); the runs to distrust; and where the full outputs are. Read from the rendered tables
(the same numbers the tables show)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from robustxlt.analysis.claims import (
    NOTHING,
    Distance,
    Generalized,
    Interval,
    claim_lines,
    read_distance,
    read_generalized,
    verdict,
)
from robustxlt.analysis.statistics import bool_column
from robustxlt.analysis.tables.formatting import COLLAPSED, NOT_CONVERGED, signed
from robustxlt.analysis.tables.results import AVERAGE, SETUP_NOTES, SOURCE

REPORT_COMMAND = "snakemake --report results/report.html"


def _standard_delta(row) -> Interval:
    prefix = f"{AVERAGE}_excl_{SOURCE}"
    return Interval(*(getattr(row, f"{prefix}_{part}_pp") for part in ("improvement", "ci_low", "ci_high")))


def _method_lines(
    standard: pd.DataFrame, languages: list[str], generalized: Generalized, distance: Distance
) -> tuple[list[str], list[str]]:
    """Table rows (method, English accuracy, the standard Δ with interval and verdict, the generalized Δ and the
    share of the baseline's generalized gap it closes, the strongest distance relation) and the flags of runs to
    distrust."""
    rows, flags = [], []
    for row in standard[standard.row_type == "ours"].itertuples(index=False):
        label = f"{row.method} ({row.strength})" if isinstance(row.strength, str) and row.strength else row.method
        english = f"{getattr(row, f'{SOURCE}_pct'):.1f}"
        delta = _standard_delta(row)
        if row.kind == "baseline":
            gap = "–" if pd.isna(generalized.gap) else f"gap {signed(generalized.gap)}"
            rows.append(f"| {label} | {english} | – | (reference) | {gap} | – | – |")
        else:
            cells = [delta.cell(), verdict(delta.low, delta.high)]
            cells += [generalized.deltas.get(row.method, NOTHING).cell(), generalized.closed(row.method)]
            rows.append(f"| {label} | {english} | {' | '.join(cells)} | {distance.cell(row.method)} |")
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


def _strengths_note(tasks: list[str], chosen_on: list[str]) -> list[str]:
    """A warning where the fixed strengths were chosen on another task's English dev (the default's methods taken
    for a user's own task)."""
    others = [task for task in tasks if task not in chosen_on]
    if not chosen_on or not others:
        return []
    return [
        f"Strengths (ε, σ, copies) are config.yaml's, chosen beforehand on {', '.join(chosen_on)}'s English dev, not "
        f"on {', '.join(others)}'s: give each a list of values in `methods` to choose them on your English dev.",
        "",
    ]


def run_summary(
    standard_tables: dict[tuple[str, str], Path],
    setup: str,
    results_dir: Path = Path("results"),
    strengths_chosen_on: list[str] | None = None,
) -> str:
    """The summary text of a finished run; `standard_tables` maps (task, model) to its standard table's CSV;
    `strengths_chosen_on` names the task(s) whose English dev chose the fixed strengths, when not this run's."""
    lines = [f"# robustxlt: results ({SETUP_NOTES[setup]})", ""]
    lines += _strengths_note(sorted({task for task, _ in standard_tables}), strengths_chosen_on or [])
    swept = False
    for (task, model), path in standard_tables.items():
        standard = pd.read_csv(
            path, dtype={"strength": str, "not_converged_seeds": str}, keep_default_na=False, na_values=[""]
        )
        languages = [c.removesuffix("_pct") for c in standard.columns if c.endswith("_pct") and c != f"{AVERAGE}_pct"]
        sibling = lambda name: path.with_name(path.name.replace("_standard.csv", f"_{name}.csv"))  # noqa: E731
        generalized, distance = read_generalized(sibling("generalized")), read_distance(sibling("correlations"))
        rows, flags = _method_lines(standard, languages, generalized, distance)
        ours = standard[(standard.row_type == "ours") & (standard.kind != "baseline")]
        claims = claim_lines({r.method: _standard_delta(r) for r in ours.itertuples()}, generalized, distance)
        swept |= bool(standard.strength.fillna("").astype(str).str.strip().any())
        flags += _selection_flags(sibling("selection"))
        lines += [
            f"## {task} / {model}",
            "",
            f"| method | {SOURCE} test % | Δ avg excl. {SOURCE} [95% CI] | vs baseline | Δ generalized [95% CI] "
            "| of the gap | Δ against distance |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            *claims,
            *(f"- {flag}" for flag in flags),
            "",
        ]
    lines += [
        "Δ: points over the baseline; of the gap: the share of the baseline's loss in the generalized setting that "
        "the method wins back; distance: the URIEL type whose correlation with Δ is strongest among those whose "
        "interval excludes 0. "
        + ("Strengths in parentheses were chosen on English dev. " if swept else "")
        + "Every number above is in the tables, with all languages:",
        f"- tables: {results_dir}/tables/ (md, tex, csv); figures: {results_dir}/figures/",
        f"- one row per run and test set: {results_dir}/metrics.csv; strength selection: {results_dir}/selection.csv",
        f"- HTML report with every table and figure: `{REPORT_COMMAND}`",
    ]
    return "\n".join(lines) + "\n"


def write_summary(
    standard_tables: dict[tuple[str, str], Path],
    setup: str,
    out_file: Path,
    strengths_chosen_on: list[str] | None = None,
) -> str:
    text = run_summary(standard_tables, setup, Path(out_file).parent, strengths_chosen_on)
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
