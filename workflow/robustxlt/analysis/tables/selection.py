"""The selection table: every swept variant's English dev accuracy and the chosen one."""

from __future__ import annotations

import pandas as pd

from robustxlt.analysis.tables.formatting import COLLAPSED, Table, pct
from robustxlt.analysis.tables.results import Results


def selection_table(results: Results) -> Table:
    """Every variant of each swept method with its English dev accuracy on the selection seed; the chosen one."""
    selection = results.selection
    display, numbers = [], []
    for method in results.methods:
        for row in selection[selection.method == method].itertuples(index=False):
            chosen, collapsed = bool(row.chosen), bool(row.dev_collapsed)
            display.append(
                {
                    "method": method,
                    "strength": row.strength,
                    "English dev accuracy (%)": pct(row.dev_accuracy) + (f" {COLLAPSED}" if collapsed else ""),
                    "best step": str(int(row.best_step)),
                    "chosen": "✓" if chosen else "",
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
                    "dev_collapsed": collapsed,
                    "chosen": chosen,
                }
            )
    if not display:
        notes = "No method lists several values for a strength setting: nothing was selected."
    else:
        seeds = ", ".join(str(int(s)) for s in sorted(set(selection.seed)))
        notes = (
            f"Strength sweeps: each listed value trained on seed {seeds}; the value with the best English dev accuracy "
            "(ties: the first listed) is chosen, trained on the other seeds and evaluated zero-shot. Only English dev "
            f"is read: target-language test data never takes part. {COLLAPSED}: the best checkpoint predicted one "
            "class for every dev example."
        )
    columns = ["method", "strength", "English dev accuracy (%)", "best step", "chosen"]
    return Table(
        "strength selection on English dev",
        notes,
        pd.DataFrame(display, columns=columns),
        pd.DataFrame(numbers),
    )
