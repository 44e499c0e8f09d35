# Data: canonical {split}-{lang}.tsv files per task (from the hub, a local directory or the embedded
# benchmark), the model as a local Hugging Face directory, and the lexical-overlap reference.


# Downloads run on the submitting host: compute nodes are often offline.
localrules:
    prepare_data,
    prepare_model,


rule prepare_data:
    input:
        data_source_files,
    output:
        manifest="resources/data/{task}/manifest.json",
    log:
        "results/logs/prepare_data/{task}.log",
    benchmark:
        "results/benchmarks/prepare_data/{task}.tsv"
    conda:
        "../../envs/training.yaml"
    params:
        source=lambda wildcards: config["tasks"][wildcards.task]["source"],
        languages=lambda wildcards: task_languages(config, wildcards.task),
        options=generator_options,
        cache_dir=config["cache_dir"],
    script:
        "../scripts/prepare_data.py"


rule prepare_model:
    input:
        model_source_files,
    output:
        model=directory("resources/models/{model}"),
    log:
        "results/logs/prepare_model/{model}.log",
    benchmark:
        "results/benchmarks/prepare_model/{model}.tsv"
    conda:
        "../../envs/training.yaml"
    params:
        source=lambda wildcards: config["models"][wildcards.model]["source"],
        revision=lambda wildcards: config["models"][wildcards.model]["revision"],
        cache_dir=config["cache_dir"],
    script:
        "../scripts/prepare_model.py"


rule lexical_overlap:
    input:
        manifest=rules.prepare_data.output.manifest,
    output:
        metrics="results/{task}/lexical_overlap.csv",
    log:
        "results/logs/lexical_overlap/{task}.log",
    benchmark:
        "results/benchmarks/lexical_overlap/{task}.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        languages=lambda wildcards: task_languages(config, wildcards.task),
    script:
        "../scripts/lexical_overlap.py"
