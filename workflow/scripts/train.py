from pathlib import Path

from robustxlt.pipeline.jobs import log_job_to
from robustxlt.training.loop import TrainingSettings, fine_tune
from robustxlt.training.methods import make_method

log_job_to(snakemake.log[0])
wildcards = snakemake.wildcards
fine_tune(
    model_dir=Path(snakemake.input.model),
    data_dir=Path(snakemake.input.manifest).parent,
    out_dir=Path(snakemake.output.checkpoint),
    log_file=Path(snakemake.output.train_log),
    settings=TrainingSettings.from_dict(snakemake.params.settings),
    seed=int(wildcards.seed),
    run={"task": wildcards.task, "model": wildcards.model, "method": wildcards.method, "seed": int(wildcards.seed)},
    method=make_method(snakemake.params.method),
    threads=snakemake.threads,
    train_file=Path(snakemake.input.train) if "train" in snakemake.input.keys() else None,
    encoded_dir=Path(snakemake.input.encoded).parent,
)
