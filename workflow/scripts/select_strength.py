from pathlib import Path

from robustxlt.pipeline.jobs import log_job_to
from robustxlt.training.sweep import select_strength

log_job_to(snakemake.log[0])
select_strength(
    method=snakemake.wildcards.method,
    seed=snakemake.params.seed,
    variant_logs={name: Path(path) for name, path in snakemake.input.items()},
    out_file=Path(snakemake.output.selection),
)
