from pathlib import Path

from robustxlt.augmentation.substitution import SubstitutionRule, augment_file
from robustxlt.pipeline.jobs import log_job_to
from robustxlt.training.methods import make_method

log_job_to(snakemake.log[0])
method = make_method(snakemake.params.method)
augment_file(
    train_file=Path(snakemake.params.train_file),
    synonyms_file=Path(snakemake.input.synonyms),
    out_file=Path(snakemake.output.train),
    copies=method.copies,
    rate=method.substitution_rate,
    seed=int(snakemake.wildcards.seed),
    rule=SubstitutionRule(method.stop_words, method.case_fallback, method.max_neighbours),
)
