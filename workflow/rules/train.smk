# Training: one job per (task, model, method, seed), English only, best checkpoint on English dev.


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
    conda:
        "../../envs/training.yaml"
    threads: 4
    resources:
        mem_mb=lambda wildcards, attempt: 16000 * attempt,
        runtime=lambda wildcards, attempt: 480 * attempt,
    params:
        settings=lambda wildcards: training_settings(
            config, wildcards.task, wildcards.model
        ),
        method=lambda wildcards: method_settings(
            config, wildcards.task, wildcards.method
        ),
    script:
        "../scripts/train.py"
