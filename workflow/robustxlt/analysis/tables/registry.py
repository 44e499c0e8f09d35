"""Every table of one (task, model) by name (`TABLES`, which the rules read to name the outputs), its formats, and
`write_tables`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from robustxlt.analysis.tables.correlations import correlation_table
from robustxlt.analysis.tables.costs import cost_table
from robustxlt.analysis.tables.formatting import Table, write_table
from robustxlt.analysis.tables.generalized import generalized_pairs_table, generalized_table
from robustxlt.analysis.tables.premise import premise_table
from robustxlt.analysis.tables.results import Results
from robustxlt.analysis.tables.selection import selection_table
from robustxlt.analysis.tables.standard import improvement_table, standard_table

# File name suffix → table; a rule's outputs are {task}_{model}_{name}.{format} for every name and format.
TABLES: dict[str, Callable[[Results], Table]] = {
    "standard": standard_table,
    "improvements": improvement_table,
    "generalized": generalized_table,
    "generalized_pairs": generalized_pairs_table,
    "costs": cost_table,
    "correlations": correlation_table,
    "selection": selection_table,
    "premise": premise_table,
}


TABLE_FORMATS = ("md", "tex", "csv")


def write_tables(results: Results, directory: Path) -> list[Path]:
    """Every table of one (task, model), in all three formats."""
    prefix = f"{results.provenance.task}_{results.provenance.model}"
    return [
        path
        for name, build in TABLES.items()
        for path in write_table(build(results), results.provenance, Path(directory) / f"{prefix}_{name}")
    ]
