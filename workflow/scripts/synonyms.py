from pathlib import Path

from robustxlt.augmentation.synonyms import build_synonym_table
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
build_synonym_table(
    out_file=Path(snakemake.output.table),
    source=snakemake.params.source,
    cache_dir=Path(snakemake.params.cache_dir),
)
