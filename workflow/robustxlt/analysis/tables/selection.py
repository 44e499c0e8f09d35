"""The selection table: every swept variant's English dev accuracy and the chosen one."""

from __future__ import annotations

import pandas as pd

from robustxlt.analysis.tables.formatting import COLLAPSED, NOT_CONVERGED, Table, pct
from robustxlt.analysis.tables.results import Results


def _standard_error(row) -> str:
    error = getattr(row, "dev_standard_error", float("nan"))
    return "" if pd.isna(error) else f" ± {100 * error:.1f}"


def selection_table(results: Results) -> Table:
    """Every variant of each swept method with its English dev accuracy on the selection seed; the chosen one."""
    selection = results.selection
    display, numbers = [], []
    for method in results.methods:
        candidates = selection[selection.method == method]
        # English dev cannot tell the chosen value from a candidate within one standard error of it.
        close = candidates.close_to_chosen & ~candidates.chosen
        doubtful = bool((candidates.close_to_chosen & ~candidates.converged).any())
        for row in candidates.itertuples(index=False):
            chosen, collapsed, converged = bool(row.chosen), bool(row.dev_collapsed), bool(row.converged)
            marks = (f" {COLLAPSED}" if collapsed else "") + ("" if converged else f" {NOT_CONVERGED}")
            if chosen:
                verdict = "✓" + (" (within 1 SE of another)" if close.any() else "") + (" ?" if doubtful else "")
            else:
                verdict = "within 1 SE" if bool(row.close_to_chosen) else ""
            display.append(
                {
                    "method": method,
                    "strength": row.strength,
                    "English dev accuracy (%)": pct(row.dev_accuracy) + _standard_error(row) + marks,
                    "best step": str(int(row.best_step)),
                    "chosen": verdict,
                }
            )
            numbers.append(
                {
                    "method": method,
                    "kind": results.method_kinds.get(method, ""),
                    "strength": row.strength,
                    "seed": int(row.seed),
                    "dev_accuracy_pct": 100 * row.dev_accuracy,
                    "best_step": int(row.best_step),
                    "dev_standard_error_pct": 100 * getattr(row, "dev_standard_error", float("nan")),
                    "dev_collapsed": collapsed,
                    "converged": converged,
                    "close_to_chosen": bool(row.close_to_chosen),
                    "chosen": chosen,
                    "doubtful": chosen and doubtful,
                }
            )
    if not display:
        notes = "No method lists several values for a strength setting: nothing was selected."
    else:
        seeds = ", ".join(str(int(s)) for s in sorted(set(selection.seed)))
        notes = (
            f"Strength sweeps: each listed value trained on seed {seeds}; the value with the best English dev accuracy "
            "(ties: the first listed) is chosen, trained on the other seeds and evaluated zero-shot. Only English dev "
            f"is read: target-language test data never takes part. ± is the binomial standard error of each dev "
            "accuracy; a candidate within one standard error of the chosen one is one English dev cannot tell apart "
            f"from it. {COLLAPSED}: the best checkpoint predicted one class for every dev example. {NOT_CONVERGED}: "
            "not converged (its best checkpoint was its last dev evaluation); ?: the chosen value or one within a "
            "standard error of it did not converge, so the choice may change with a longer budget."
        )
    columns = ["method", "strength", "English dev accuracy (%)", "best step", "chosen"]
    return Table(
        "strength selection on English dev",
        notes,
        pd.DataFrame(display, columns=columns),
        pd.DataFrame(numbers),
    )
