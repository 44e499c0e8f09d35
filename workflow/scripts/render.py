from pathlib import Path

from robustxlt.analysis.render import render_all
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
render_all(
    metrics_file=Path(snakemake.input.metrics),
    distances_file=Path(snakemake.input.distances),
    tables_dir=Path(snakemake.params.tables_dir),
    figures_dir=Path(snakemake.params.figures_dir),
    task=snakemake.wildcards.task,
    model=snakemake.wildcards.model,
    methods=snakemake.params.methods,
    method_kinds=snakemake.params.method_kinds,
    languages=snakemake.params.languages,
    setup=snakemake.params.setup,
    paper_reference=snakemake.params.paper_reference,
    n_boot=snakemake.params.n_boot,
    selection_file=Path(snakemake.input.selection),
    premise_file=Path(snakemake.input.premise),
    method_settings=snakemake.params.method_settings,
)
