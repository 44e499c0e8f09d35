# Zero-shot evaluation: one job per (run, language) on that language's test set.


rule evaluate:
    input:
        manifest=rules.prepare_data.output.manifest,
        checkpoint=rules.train.output.checkpoint,
    output:
        result=f"{RUN_DIR}/eval/{{lang}}.json",
        predictions=f"{RUN_DIR}/eval/{{lang}}.predictions.tsv",
    log:
        "results/logs/evaluate/{task}/{model}/{method}/seed{seed}/{lang}.log",
    benchmark:
        "results/benchmarks/evaluate/{task}/{model}/{method}/seed{seed}/{lang}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        test_file=lambda wildcards: f"resources/data/{wildcards.task}/test-{wildcards.lang}.tsv",
        batch_size=config["evaluation"]["batch_size"],
        smoothing=config["evaluation"]["smoothing"],
    script:
        "../scripts/evaluate.py"
