from pathlib import Path

from robustxlt.data.generalized import write_generalized_pairs
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
write_generalized_pairs(
    data_dir=Path(snakemake.input.manifest).parent,
    languages=snakemake.params.languages,
    manifest_file=Path(snakemake.output.manifest),
    max_examples=snakemake.params.max_examples,
    max_disagreement=snakemake.params.max_disagreement,
)
