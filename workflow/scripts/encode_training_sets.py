from pathlib import Path

from robustxlt.pipeline.jobs import log_job_to
from robustxlt.training.encoded import encode_training_sets

log_job_to(snakemake.log[0])
encode_training_sets(
    model_dir=Path(snakemake.input.model),
    data_dir=Path(snakemake.input.manifest).parent,
    out_dir=Path(snakemake.output.train).parent,
    max_length=snakemake.params.max_length,
)
