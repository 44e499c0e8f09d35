from pathlib import Path

from robustxlt.evaluation.lexical_overlap import lexical_overlap_metrics
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
lexical_overlap_metrics(
    data_dir=Path(snakemake.input.manifest).parent,
    task_name=snakemake.wildcards.task,
    languages=snakemake.params.languages,
    out_file=Path(snakemake.output.metrics),
)
