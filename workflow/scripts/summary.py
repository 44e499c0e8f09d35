from pathlib import Path

from robustxlt.analysis.summary import write_summary
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
write_summary(
    standard_tables={tuple(key): Path(path) for key, path in zip(snakemake.params.grid, snakemake.input.standard)},
    setup=snakemake.params.setup,
    out_file=Path(snakemake.output.summary),
    strengths_chosen_on=snakemake.params.strengths_chosen_on,
)
