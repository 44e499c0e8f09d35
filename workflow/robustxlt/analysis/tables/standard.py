"""The standard-setting tables: methods × languages beside the paper's published rows, and the improvements over
the baseline per language."""

from __future__ import annotations

import numpy as np
import pandas as pd

from robustxlt.analysis.published import PublishedRow
from robustxlt.analysis.tables.formatting import (
    Row,
    Table,
    accuracy_numbers,
    ci_note,
    collapse_mark,
    collapse_note,
    convergence_mark,
    convergence_note,
    delta_ci,
    delta_numbers,
    mean_std,
    methods_note,
    seeds_cell,
    signed,
    strength_note,
    tidy_delta,
)
from robustxlt.analysis.tables.results import AVERAGE, LEVEL, REFERENCE_LABEL, SOURCE, Results
from robustxlt.evaluation.lexical_overlap import REFERENCE_MODEL

GAP_COLUMN = f"transfer gap ({SOURCE} − others)"


def _transfer_gap(results: Results, method: str) -> pd.Series:
    """Per seed, English accuracy minus the mean over the other languages, in points: what transfer loses."""
    runs = results.runs
    standard = runs[(runs.method == method) & (runs.lang1 == runs.lang2) & runs.lang1.isin(results.languages)]
    wide = standard.pivot_table(index="seed", columns="lang1", values="accuracy")
    others = [lang for lang in results.languages if lang != SOURCE and lang in wide]
    if SOURCE not in wide or not others:
        return pd.Series(dtype=float)
    return 100 * (wide[SOURCE] - wide[others].mean(axis=1)).dropna()


def _our_row(results: Results, method: str, columns: list[str], delta_column: str) -> Row:
    stats = {c: results.mean(method, c, c) for c in columns}
    average_delta = results.improvement(method, AVERAGE, AVERAGE)
    seeds = next((s for s in (stats[AVERAGE], *stats.values()) if s is not None), None)
    display = {"method": results.label(method) + convergence_mark(results, method)}
    display |= {c: mean_std(stats[c]) + collapse_mark(results, method, c, c) for c in columns}
    gap = _transfer_gap(results, method)
    display |= {
        GAP_COLUMN: "" if gap.empty else f"{gap.mean():.1f}" + ("" if len(gap) < 2 else f" ± {gap.std():.1f}"),
        delta_column: "–" if method == results.baseline else delta_ci(average_delta),
        "seeds": seeds_cell(seeds),
    }
    numbers = {"row": method, "row_type": "ours", "method": method, "kind": results.method_kinds.get(method, "")}
    numbers["strength"] = results.strengths.get(method, "")
    numbers["not_converged_seeds"] = " ".join(map(str, results.not_converged(method)))
    numbers["transfer_gap_pp"] = gap.mean() if not gap.empty else np.nan
    for c in columns:
        numbers |= accuracy_numbers(stats[c], f"{c}_pct")
        numbers[f"{c}_collapsed"] = results.collapsed(method, c, c)
    return display, numbers | delta_numbers(average_delta, f"{AVERAGE}_excl_{SOURCE}") | {"seeds": seeds_cell(seeds)}


def _published_row(row: PublishedRow, columns: list[str], method: str) -> Row:
    display = {"method": row.label} | {c: f"{row.accuracy[c]:.1f}" if c in row.accuracy else "" for c in columns}
    numbers = {
        "row": row.label,
        "row_type": "published",
        "method": method,
        "kind": row.kind or "",
        "source": row.source,
    }
    return display, numbers | {f"{c}_pct": row.accuracy.get(c, np.nan) for c in columns}


def _gap_row(results: Results, method: str, row: PublishedRow, columns: list[str]) -> Row:
    """Ours − paper in points; the average only when ours averages the same languages as the paper's."""
    same_languages = set(results.languages) == set(row.accuracy) - {AVERAGE}
    gaps = {}
    for c in columns:
        stats = results.mean(method, c, c)
        comparable = stats is not None and c in row.accuracy and (c != AVERAGE or same_languages)
        gaps[c] = 100 * stats.mean - row.accuracy[c] if comparable else np.nan
    label = f"Δ {method} − paper"
    display = {"method": label} | {c: signed(g) for c, g in gaps.items()}
    numbers = {"row": label, "row_type": "ours_minus_published", "method": method, "kind": row.kind or ""}
    return display, numbers | {f"{c}_pp": g for c, g in gaps.items()}


def _reference_row(results: Results, columns: list[str]) -> list[Row]:
    stats = {c: results.mean(REFERENCE_MODEL, c, c) for c in columns}
    if all(s is None for s in stats.values()):
        return []
    display = {"method": REFERENCE_LABEL} | {c: mean_std(stats[c]) for c in columns} | {"seeds": "–"}
    numbers = {"row": REFERENCE_LABEL, "row_type": "reference", "method": REFERENCE_MODEL}
    for c in columns:
        numbers |= accuracy_numbers(stats[c], f"{c}_pct")
    return [(display, numbers)]


def _paper_note(results: Results) -> str:
    if not results.paper:
        return ""
    sources = "; ".join(dict.fromkeys(p.source for p in results.paper))
    return (
        f"Published rows ({sources}) sit beside ours; an empty cell is a number not published (or not public). "
        "Δ … − paper: ours minus the paper's row of the same method kind, in points (avg: only when ours averages "
        "the same languages)."
    )


def standard_table(results: Results) -> Table:
    """The paper's layout: methods × languages (+ avg), mean ± std over seeds; the paper's rows beside ours."""
    columns = [*results.languages, AVERAGE]
    delta_column = f"Δ avg excl. {SOURCE} [{round(100 * LEVEL)}% CI]"
    rows: list[Row] = []
    for method in results.methods:
        rows.append(_our_row(results, method, columns, delta_column))
        kind = results.method_kinds.get(method)
        for published in results.paper_rows(kind) if kind else []:
            rows += [_published_row(published, columns, method), _gap_row(results, method, published, columns)]
    rows += _reference_row(results, columns)
    rows += [_published_row(published, columns, "") for published in results.paper_rows(None)]
    notes = [
        "Zero-shot accuracy (%), trained on English only, best checkpoint on English dev; mean ± std over seeds.",
        f"avg: per seed the mean over all {len(results.languages)} languages including {SOURCE} (the paper's "
        f"convention); Δ avg excl. {SOURCE}: over the languages other than {SOURCE}; {GAP_COLUMN}: per seed, "
        f"{SOURCE} minus the mean over the other languages, in points (what zero-shot transfer loses).",
        ci_note(results),
        _paper_note(results),
        methods_note(results),
        strength_note(results),
        collapse_note(results),
        convergence_note(results),
        placeholder_note(results),
    ]
    header = ["method", *columns, GAP_COLUMN, delta_column, "seeds"]
    return Table(
        "zero-shot accuracy, standard setting",
        " ".join(n for n in notes if n),
        pd.DataFrame([d for d, _ in rows]).reindex(columns=header).fillna(""),
        pd.DataFrame([n for _, n in rows]),
    )


def improvement_table(results: Results) -> Table:
    """Per language (rows) and compared method (columns): improvement over the baseline with its interval."""
    rows = [*results.languages, AVERAGE]
    display = pd.DataFrame(
        {"language": [f"avg excl. {SOURCE}" if r == AVERAGE else r for r in rows]}
        | {results.label(m): [delta_ci(results.improvement(m, r, r)) for r in rows] for m in results.compared}
    )
    standard = results.delta[(results.delta.lang1 == results.delta.lang2) & results.delta.lang1.isin(rows)]
    notes = [
        ci_note(results),
        f"avg excl. {SOURCE}: mean over the languages other than {SOURCE}, on the seeds common to all of them.",
        methods_note(results),
    ]
    return Table(
        f"improvement over {results.baseline or 'the baseline'}, standard setting",
        " ".join(notes),
        display,
        tidy_delta(standard, results),
    )


def placeholder_note(results: Results) -> str:
    """Untranslated placeholder rows per language: scored in the standard setting, as XTREME does."""
    runs = results.runs
    if "placeholder_rows" not in runs or not runs.placeholder_rows.fillna(0).gt(0).any():
        return ""
    standard = runs[runs.lang1 == runs.lang2]
    placeholders = standard.groupby("lang1").placeholder_rows.max().fillna(0).astype(int)
    listed = ", ".join(f"{lang} {n}" for lang, n in placeholders.items() if n)
    return f"Untranslated placeholder rows (e.g. NS) in the test sets, scored as in XTREME: {listed}."
