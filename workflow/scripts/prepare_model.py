from pathlib import Path

from robustxlt.models.loading import prepare_model
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
prepare_model(
    source=snakemake.params.source,
    revision=snakemake.params.revision,
    out_dir=Path(snakemake.output.model),
    cache_dir=Path(snakemake.params.cache_dir),
)
