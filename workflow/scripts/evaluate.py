from pathlib import Path

from robustxlt.evaluation import EvaluationSet, zero_shot_accuracy
from robustxlt.generalized import result_name
from robustxlt.runtime import log_job_to

log_job_to(snakemake.log[0])
wildcards = snakemake.wildcards
zero_shot_accuracy(
    checkpoint=Path(snakemake.input.checkpoint),
    test_sets=[
        EvaluationSet(
            lang1, lang2, Path(path), encoded=Path(snakemake.input.encoded) / f"{result_name(lang1, lang2)}.npz"
        )
        for lang1, lang2, path in snakemake.params.test_sets
    ],
    out_dir=Path(snakemake.output.results),
    run={
        "task": wildcards.task,
        "model": wildcards.model,
        "method": wildcards.method,
        "seed": int(wildcards.seed),
    },
    batch_size=snakemake.params.batch_size,
    threads=snakemake.threads,
    smoothing=snakemake.params.smoothing,
    precision=snakemake.params.precision,
)
