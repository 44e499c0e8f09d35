# RS-DA: the English synonym table and the augmented training sets (dev and test are never touched).


# The synonym table is a download: it runs on the submitting host.
localrules:
    synonyms,


rule synonyms:
    output:
        table="resources/synonyms/en.json",
    log:
        "results/logs/synonyms/en.log",
    benchmark:
        "results/benchmarks/synonyms/en.tsv"
    conda:
        "../../envs/training.yaml"
    params:
        source=config["synonyms"]["source"],
        cache_dir=config["cache_dir"],
    script:
        "../scripts/synonyms.py"


rule augment:
    input:
        manifest=rules.prepare_data.output.manifest,
        synonyms=rules.synonyms.output.table,
    output:
        train=AUGMENTED_TRAIN,
    log:
        "results/logs/augment/{task}/{method}/seed{seed}.log",
    benchmark:
        "results/benchmarks/augment/{task}/{method}/seed{seed}.tsv"
    conda:
        "../../envs/training.yaml"
    params:
        train_file=lambda wildcards: f"resources/data/{wildcards.task}/train-en.tsv",
        method=lambda wildcards: method_settings(
            config, wildcards.task, wildcards.method
        ),
    script:
        "../scripts/augment.py"
