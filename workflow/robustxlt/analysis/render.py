"""All tables and figures of one (task, model), from metrics.csv, distances.csv, selection.csv and premise.csv: the
one call the render rule makes."""

from __future__ import annotations

from pathlib import Path

from robustxlt.analysis.figures import write_figures
from robustxlt.analysis.tables.registry import write_tables
from robustxlt.analysis.tables.results import load_results


def render_all(
    metrics_file: Path,
    distances_file: Path,
    tables_dir: Path,
    figures_dir: Path,
    task: str,
    model: str,
    methods: list[str],
    method_kinds: dict[str, str],
    languages: list[str],
    setup: str,
    paper_reference: str | None = None,
    n_boot: int = 2000,
    selection_file: Path | None = None,
    premise_file: Path | None = None,
    method_settings: dict[str, dict] | None = None,
) -> list[Path]:
    """All tables and figures of one (task, model) from metrics.csv and distances.csv (and selection.csv, the
    English-dev record of strength sweeps); returns the paths written.

    `paper_reference`: the paper's encoder ("mbert" or "xlmr-large", see published.paper_model) whose published
    rows sit beside ours, or None.
    """
    results = load_results(
        Path(metrics_file),
        Path(distances_file),
        task,
        model,
        methods,
        method_kinds,
        languages,
        setup,
        paper_reference,
        n_boot,
        selection_file,
        premise_file,
        method_settings,
    )
    return write_tables(results, Path(tables_dir)) + write_figures(results, Path(figures_dir))
