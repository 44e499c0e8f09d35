from pathlib import Path

from robustxlt.evaluation import zero_shot_accuracy
from robustxlt.runtime import log_job_to

log_job_to(snakemake.log[0])
wildcards = snakemake.wildcards
zero_shot_accuracy(
    checkpoint=Path(snakemake.input.checkpoint),
    test_file=Path(snakemake.params.test_file),
    result_file=Path(snakemake.output.result),
    predictions_file=Path(snakemake.output.predictions),
    run={
        "task": wildcards.task,
        "model": wildcards.model,
        "method": wildcards.method,
        "seed": int(wildcards.seed),
        "lang1": wildcards.lang,
        "lang2": wildcards.lang,
    },
    batch_size=snakemake.params.batch_size,
    threads=snakemake.threads,
    smoothing=snakemake.params.smoothing,
)
