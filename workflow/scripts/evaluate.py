from pathlib import Path

from robustxlt.data.canonical import read_manifest
from robustxlt.data.generalized import result_name
from robustxlt.evaluation.zero_shot import EvaluationSet, zero_shot_accuracy
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
wildcards = snakemake.wildcards
# Rows each generalized pair left out (placeholders, labels that differ, missing rows), from generalized_pairs.
pair_files = read_manifest(Path(snakemake.input.generalized)).get("files", {})
zero_shot_accuracy(
    checkpoint=Path(snakemake.input.checkpoint),
    test_sets=[
        EvaluationSet(
            lang1,
            lang2,
            Path(path),
            encoded=Path(snakemake.input.encoded) / f"{result_name(lang1, lang2)}.npz",
            dropped_rows=sum(pair_files.get(Path(path).name, {}).get("dropped", {}).values()),
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
    frozen_states=Path(snakemake.input.frozen) if snakemake.input.get("frozen") else None,
)
