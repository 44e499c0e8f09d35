from pathlib import Path

from robustxlt.analysis.aggregate import collect_metrics, collect_premise, collect_selections
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
collect_metrics(
    eval_dirs=[Path(p) for p in [*snakemake.input.results, *snakemake.input.chosen_results]],
    expected=snakemake.params.expected,
    train_benchmarks=[Path(p) for p in [*snakemake.input.train_benchmarks, *snakemake.input.chosen_train_benchmarks]],
    eval_benchmarks=[Path(p) for p in [*snakemake.input.eval_benchmarks, *snakemake.input.chosen_eval_benchmarks]],
    reference_files=[Path(p) for p in snakemake.input.overlap],
    out_file=Path(snakemake.output.metrics),
)
collect_selections(
    selection_files=[Path(p) for p in snakemake.input.selections],
    method_kinds=snakemake.params.method_kinds,
    out_file=Path(snakemake.output.selection),
)
collect_premise(
    eval_dirs=[Path(p) for p in [*snakemake.input.results, *snakemake.input.chosen_results]],
    pretrained_files=[Path(p) for p in snakemake.input.premise_pretrained],
    out_file=Path(snakemake.output.premise),
)
