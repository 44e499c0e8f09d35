from pathlib import Path

from robustxlt.data.generalized import result_name
from robustxlt.evaluation.premise_pretrained import premise_pretrained
from robustxlt.evaluation.zero_shot import EvaluationSet
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
wildcards = snakemake.wildcards
premise_pretrained(
    model_dir=Path(snakemake.input.model),
    train_file=Path(snakemake.input.manifest).parent / "train-en.tsv",
    test_sets=[
        EvaluationSet(
            lang1, lang2, Path(path), encoded=Path(snakemake.input.encoded) / f"{result_name(lang1, lang2)}.npz"
        )
        for lang1, lang2, path in snakemake.params.test_sets
        if lang1 == lang2
    ],
    out_file=Path(snakemake.output.premise),
    run={"task": wildcards.task, "model": wildcards.model, "method": "pretrained"},
    max_length=snakemake.params.max_length,
    unit_examples=snakemake.params.unit_examples,
    batch_size=snakemake.params.batch_size,
    threads=snakemake.threads,
    frozen_states=Path(snakemake.input.frozen) if snakemake.input.get("frozen") else None,
)
