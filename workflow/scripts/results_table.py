from pathlib import Path

from robustxlt.runtime import log_job_to
from robustxlt.tables import write_results_table

log_job_to(snakemake.log[0])
write_results_table(
    metrics_file=Path(snakemake.input.metrics),
    task=snakemake.wildcards.task,
    model=snakemake.wildcards.model,
    languages=snakemake.params.languages,
    methods=snakemake.params.methods,
    setup=snakemake.params.setup,
    out_file=Path(snakemake.output.table),
)
