from pathlib import Path

from robustxlt.evaluation.zero_shot import EvaluationSet, encode_test_sets
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
encode_test_sets(
    model_dir=Path(snakemake.input.model),
    test_sets=[EvaluationSet(lang1, lang2, Path(path)) for lang1, lang2, path in snakemake.params.test_sets],
    out_dir=Path(snakemake.output.encoded),
    max_length=snakemake.params.max_length,
)
