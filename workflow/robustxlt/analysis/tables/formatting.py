"""What every table shares: the `Table` (display cells and unrounded numbers), its cells (percent, points,
intervals) and common notes, the caption, and the Markdown, LaTeX and CSV writers (atomic: a reader never sees
half a file)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from robustxlt.analysis.tables.results import LEVEL, Provenance, Results


@dataclass(frozen=True)
class Table:
    """One table: `display` (strings) for Markdown and LaTeX, `numbers` (unrounded) for CSV."""

    title: str
    notes: str
    display: pd.DataFrame
    numbers: pd.DataFrame


DELTA_COLUMNS = ("improvement", "ci_low", "ci_high")


# Cells: accuracy in percent, differences in percentage points, minus as ASCII so that every format reads it.
def pct(fraction: float) -> str:
    return "" if pd.isna(fraction) else f"{100 * fraction:.1f}"


def mean_std(stats: Any) -> str:
    if stats is None:
        return ""
    return pct(stats.mean) + ("" if pd.isna(stats.std) else f" ± {100 * stats.std:.1f}")


def signed(points: float) -> str:
    return "" if pd.isna(points) else f"{round(points, 1) + 0.0:+.1f}"  # + 0.0: no "-0.0"


def delta_ci(stats: Any) -> str:
    """ "+1.2 [-0.3, +2.6]" in points, starred when the interval excludes 0."""
    if stats is None:
        return ""
    star = "*" if stats.ci_low > 0 or stats.ci_high < 0 else ""
    low, high = signed(100 * stats.ci_low), signed(100 * stats.ci_high)
    return f"{signed(100 * stats.improvement)} [{low}, {high}]{star}"


def seeds_cell(stats: Any) -> str:
    return "" if stats is None else str(int(stats.seeds))


def accuracy_numbers(stats: Any, column: str) -> dict[str, float]:
    if stats is None:
        return {column: np.nan, f"{column}_std": np.nan}
    return {column: 100 * stats.mean, f"{column}_std": 100 * stats.std}


def delta_numbers(stats: Any, prefix: str) -> dict[str, float]:
    values = {f"{prefix}_{k}_pp": np.nan if stats is None else 100 * getattr(stats, k) for k in DELTA_COLUMNS}
    return values | {f"{prefix}_p_value": np.nan if stats is None else stats.p_value}


def ci_note(results: Results) -> str:
    if not results.compared:
        return "No method other than the baseline was run: nothing to compare."
    return (
        f"Δ: improvement over {results.baseline} in percentage points with a {round(100 * LEVEL)}% paired bootstrap "
        f"interval (B = {results.n_boot}, test examples and seeds resampled; * = interval excludes 0)."
    )


def methods_note(results: Results) -> str:
    return "Methods: " + ", ".join(f"{m} = {results.method_kinds.get(m, '?')}" for m in results.methods) + "."


Row = tuple[dict[str, str], dict[str, Any]]  # (display cells, CSV numbers) of one table row


COLLAPSED = "†"  # marks a cell where a seed's predictions were all one class


def collapse_mark(results: Results, method: str, lang1: str, lang2: str) -> str:
    return f" {COLLAPSED}" if results.collapsed(method, lang1, lang2) else ""


def collapse_note(results: Results) -> str:
    if not results.any_collapsed:
        return ""
    return (
        f"{COLLAPSED}: at least one seed predicted one class for every test example (a collapsed, constant classifier)."
    )


NOT_CONVERGED = "‡"  # marks a method with a seed whose training ended while English dev was still improving


def convergence_mark(results: Results, method: str) -> str:
    return f" {NOT_CONVERGED}" if results.not_converged(method) else ""


def convergence_note(results: Results) -> str:
    flagged = {m: results.not_converged(m) for m in results.methods if results.not_converged(m)}
    if not flagged:
        return ""
    seeds = "; ".join(f"{m}: seed {', '.join(map(str, s))}" for m, s in flagged.items())
    return (
        f"{NOT_CONVERGED}: not converged, English dev still improving when training ended: no full evaluation "
        f"interval without improvement after the best checkpoint ({seeds}); "
        "raise training.epochs or early_stopping_patience."
    )


def strength_note(results: Results) -> str:
    if not results.strengths:
        return ""
    return (
        "Strengths in parentheses were chosen on English dev among the listed values (see the selection table); "
        "no target-language data took part in the choice."
    )


def tidy_delta(delta: pd.DataFrame, results: Results) -> pd.DataFrame:
    tidy = delta.assign(kind=delta.method.map(results.method_kinds))
    for column in DELTA_COLUMNS:
        tidy[f"{column}_pp"] = 100 * tidy.pop(column)
    columns = ["method", "kind", "lang1", "lang2", "improvement_pp", "ci_low_pp", "ci_high_pp", "p_value", "seeds", "n"]
    return tidy[columns].reset_index(drop=True)


def caption(table: Table, provenance: Provenance) -> str:
    """The caption paragraph: task/model, what the cells are, setup note, model and data descriptions."""
    return (
        f"**{provenance.task} / {provenance.model}: {table.title}.** {table.notes} "
        f"Setup: {provenance.setup_note}.\n\n- Model: {provenance.model_description}\n"
        f"- Data: {provenance.data_description}\n"
    )


def to_markdown(table: Table, provenance: Provenance) -> str:
    header = [str(c) for c in table.display.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.display.itertuples(index=False)]
    return caption(table, provenance) + "\n" + "\n".join(lines) + "\n"


_LATEX_SPECIAL = re.compile(r"([\\&%$#_{}~^])")


_LATEX_SYMBOLS = {
    "±": r"$\pm$",
    "Δ": r"$\Delta$",
    "ρ": r"$\rho$",
    "≠": r"$\neq$",
    "×": r"$\times$",
    "→": r"$\to$",
    "−": "$-$",
    "–": "--",
    "…": r"\dots{}",
}


def latex_text(text: str) -> str:
    """Plain text to LaTeX that pdflatex reads without extra packages: specials escaped, symbols as math."""
    escaped = _LATEX_SPECIAL.sub(lambda m: r"\textbackslash{}" if m[1] == "\\" else "\\" + m[1], text)
    escaped = re.sub(r"(?<![\w-])-(?=\d)", "$-$", escaped)  # a number's minus, not a hyphen
    escaped = escaped.replace("**", "").replace("`", "")
    for symbol, command in _LATEX_SYMBOLS.items():
        escaped = escaped.replace(symbol, command)
    return escaped


def to_latex(table: Table, provenance: Provenance, label: str) -> str:
    """A LaTeX table with the caption and `tab:{label}`; needs the booktabs package (and longtable when long)."""
    display = table.display.map(lambda v: latex_text(str(v)))
    display.columns = [latex_text(str(c)) for c in display.columns]
    flat = caption(table, provenance).replace("\n\n- ", " ").replace("\n- ", ". ").strip()
    long = len(display) > 30  # a page holds about 30 rows: longer tables break across pages
    return display.style.hide(axis="index").to_latex(
        caption=latex_text(flat),
        label=f"tab:{label}",
        hrules=True,
        column_format="l" * len(display.columns),
        **({"environment": "longtable"} if long else {"position_float": "centering"}),
    )


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write through a temporary sibling and rename, so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def write_table(table: Table, provenance: Provenance, stem: Path) -> list[Path]:
    """`stem`.md, .tex and .csv."""
    stem = Path(stem)
    return [
        atomic_write(stem.with_suffix(".md"), lambda p: p.write_text(to_markdown(table, provenance))),
        atomic_write(stem.with_suffix(".tex"), lambda p: p.write_text(to_latex(table, provenance, stem.name))),
        atomic_write(stem.with_suffix(".csv"), lambda p: table.numbers.to_csv(p, index=False, float_format="%.10g")),
    ]
