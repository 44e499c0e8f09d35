from pathlib import Path

from robustxlt.data.prepare import prepare_task_data
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
prepare_task_data(
    task_name=snakemake.wildcards.task,
    source=snakemake.params.source,
    out_dir=Path(snakemake.output.manifest).parent,
    cache_dir=Path(snakemake.params.cache_dir),
    languages=snakemake.params.languages,
    options=snakemake.params.options,
)
