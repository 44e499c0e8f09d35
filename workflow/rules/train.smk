# Training: one job per (task, model, method, seed), English only, best checkpoint on English dev.


# English train and dev tokenised once per task and model, for every training of the model to read (XNLI: 392,702
# pairs, otherwise tokenised again by each of its trainings).
rule encode_training_sets:
    input:
        manifest=rules.prepare_data.output.manifest,
        model=rules.prepare_model.output.model,
    output:
        train="resources/encoded-training/{task}/{model}/train-en.npz",
        dev="resources/encoded-training/{task}/{model}/dev-en.npz",
    log:
        "results/logs/encode_training_sets/{task}/{model}.log",
    benchmark:
        "results/benchmarks/encode_training_sets/{task}/{model}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=rule_limits("encode_training_sets").by_attempt("mem_mb"),
        runtime=rule_limits("encode_training_sets").by_attempt("runtime"),
    params:
        max_length=lambda wildcards: training_settings(
            config, wildcards.task, wildcards.model
        )["max_length"],
    script:
        "../scripts/encode_training_sets.py"


rule train:
    input:
        unpack(training_inputs),
    output:
        checkpoint=directory(f"{RUN_DIR}/checkpoint"),
        train_log=f"{RUN_DIR}/train_log.jsonl",
    log:
        "results/logs/train/{task}/{model}/{method}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{task}/{model}/{method}/seed{seed}.tsv"
    # Trainings before evaluations: they are the long jobs, and a sweep's choice waits on its candidates.
    priority: 1
    conda:
        "../../envs/training.yaml"
    # One thread: on CPUs the grid's many independent runs use cores better side by side (two 1-thread trainings
    # on 2 cores: 1.57x the steps/s of one 2-thread training, measured); on GPUs a thread feeds the device.
    # Raise it with --set-threads train=N when few runs share many cores.
    threads: 1
    resources:
        mem_mb=rule_limits("train").by_attempt("mem_mb"),
        runtime=rule_limits("train").by_attempt("runtime"),
    params:
        settings=lambda wildcards: training_settings(
            config, wildcards.task, wildcards.model
        ),
        method=lambda wildcards: method_settings(
            config, wildcards.task, wildcards.method
        ),
    script:
        "../scripts/train.py"


# Strength sweeps: the variant with the best English dev accuracy on the selection seed. A checkpoint, so that
# only the chosen variant is trained on the other seeds and evaluated zero-shot. It reads a few JSON lines:
# local, not worth a cluster job.
localrules:
    select_strength,


checkpoint select_strength:
    input:
        unpack(candidate_logs),
    output:
        selection=SELECTION,
    log:
        "results/logs/select_strength/{task}/{model}/{method}.log",
    benchmark:
        "results/benchmarks/select_strength/{task}/{model}/{method}.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        seed=SELECTION_SEED,
    script:
        "../scripts/select_strength.py"
