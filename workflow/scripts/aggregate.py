from pathlib import Path

from robustxlt.aggregate import collect_metrics
from robustxlt.runtime import log_job_to

log_job_to(snakemake.log[0])
collect_metrics(
    eval_dirs=[Path(p) for p in snakemake.input.results],
    expected=snakemake.params.expected,
    train_benchmarks=[Path(p) for p in snakemake.input.train_benchmarks],
    eval_benchmarks=[Path(p) for p in snakemake.input.eval_benchmarks],
    reference_files=[Path(p) for p in snakemake.input.overlap],
    out_file=Path(snakemake.output.metrics),
)
