from pathlib import Path

from robustxlt.data.generalized import result_name
from robustxlt.evaluation.frozen_test_states import write_frozen_test_states
from robustxlt.evaluation.zero_shot import EvaluationSet
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
write_frozen_test_states(
    model_dir=Path(snakemake.input.model),
    test_sets=[
        EvaluationSet(
            lang1, lang2, Path(path), encoded=Path(snakemake.input.encoded) / f"{result_name(lang1, lang2)}.npz"
        )
        for lang1, lang2, path in snakemake.params.test_sets
    ],
    out_dir=Path(snakemake.output.states),
    layers=snakemake.params.layers,
    max_length=snakemake.params.max_length,
    batch_size=snakemake.params.batch_size,
    precision=snakemake.params.precision,
    threads=snakemake.threads,
)
