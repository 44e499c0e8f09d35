# Zero-shot evaluation: one job per run, loading the checkpoint once, on every language's test set
# (standard setting) and every ordered language pair's (generalized setting).


rule generalized_pairs:
    input:
        manifest=rules.prepare_data.output.manifest,
    output:
        manifest="resources/data/{task}/generalized.json",
    log:
        "results/logs/generalized_pairs/{task}.log",
    benchmark:
        "results/benchmarks/generalized_pairs/{task}.tsv"
    conda:
        "../../envs/training.yaml"
    params:
        languages=lambda wildcards: generalized_languages(config, wildcards.task),
        max_examples=lambda wildcards: config["tasks"][wildcards.task]["generalized"][
            "max_examples"
        ],
        max_disagreement=lambda wildcards: config["tasks"][wildcards.task][
            "generalized"
        ]["max_disagreement"],
    script:
        "../scripts/generalized_pairs.py"


# Every test set of a task tokenised once per model, for all its runs (methods x seeds) to read.
rule encode_test_sets:
    input:
        manifest=rules.prepare_data.output.manifest,
        generalized=rules.generalized_pairs.output.manifest,
        model=rules.prepare_model.output.model,
    output:
        encoded=directory("resources/encoded/{task}/{model}"),
    log:
        "results/logs/encode_test_sets/{task}/{model}.log",
    benchmark:
        "results/benchmarks/encode_test_sets/{task}/{model}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=rule_limits("encode_test_sets").by_attempt("mem_mb"),
        runtime=rule_limits("encode_test_sets").by_attempt("runtime"),
    params:
        test_sets=lambda wildcards: test_sets(wildcards.task),
        max_length=lambda wildcards: training_settings(
            config, wildcards.task, wildcards.model
        )["max_length"],
    script:
        "../scripts/encode_test_sets.py"


# With freeze_layers and cache_frozen_layers: every test set through the pretrained encoder's frozen embedding layer
# and bottom layers once, for all the model's checkpoints (they share those weights; each evaluation checks it).
rule frozen_test_states:
    input:
        manifest=rules.prepare_data.output.manifest,
        generalized=rules.generalized_pairs.output.manifest,
        encoded=rules.encode_test_sets.output.encoded,
        model=rules.prepare_model.output.model,
    output:
        states=directory("resources/frozen/{task}/{model}"),
    log:
        "results/logs/frozen_test_states/{task}/{model}.log",
    benchmark:
        "results/benchmarks/frozen_test_states/{task}/{model}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=rule_limits("frozen_test_states").by_attempt("mem_mb"),
        runtime=rule_limits("frozen_test_states").by_attempt("runtime"),
    params:
        test_sets=lambda wildcards: test_sets(wildcards.task),
        layers=lambda wildcards: training_settings(
            config, wildcards.task, wildcards.model
        )["freeze_layers"],
        max_length=lambda wildcards: training_settings(
            config, wildcards.task, wildcards.model
        )["max_length"],
        batch_size=config["evaluation"]["batch_size"],
        precision=config["evaluation"]["precision"],
    script:
        "../scripts/frozen_test_states.py"


rule evaluate:
    input:
        manifest=rules.prepare_data.output.manifest,
        generalized=rules.generalized_pairs.output.manifest,
        encoded=rules.encode_test_sets.output.encoded,
        frozen=frozen_states_of,
        checkpoint=rules.train.output.checkpoint,
    output:
        results=directory(f"{RUN_DIR}/eval"),
    log:
        "results/logs/evaluate/{task}/{model}/{method}/seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate/{task}/{model}/{method}/seed{seed}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=rule_limits("evaluate").by_attempt("mem_mb"),
        runtime=rule_limits("evaluate").by_attempt("runtime"),
    params:
        test_sets=lambda wildcards: test_sets(wildcards.task),
        batch_size=config["evaluation"]["batch_size"],
        smoothing=config["evaluation"]["smoothing"],
        precision=config["evaluation"]["precision"],
    script:
        "../scripts/evaluate.py"


# The paper's premise on the pretrained encoder: the units of epsilon and sigma as training computes them, and
# how far each language's parallel test rows lie from English's (robustxlt.evaluation.premise_pretrained).
rule premise_pretrained:
    input:
        manifest=rules.prepare_data.output.manifest,
        encoded=rules.encode_test_sets.output.encoded,
        frozen=frozen_states_of,
        model=rules.prepare_model.output.model,
    output:
        premise="results/{task}/{model}/premise_pretrained.json",
    log:
        "results/logs/premise_pretrained/{task}/{model}.log",
    benchmark:
        "results/benchmarks/premise_pretrained/{task}/{model}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=rule_limits("premise_pretrained").by_attempt("mem_mb"),
        runtime=rule_limits("premise_pretrained").by_attempt("runtime"),
    params:
        test_sets=lambda wildcards: test_sets(wildcards.task),
        max_length=lambda wildcards: training_settings(
            config, wildcards.task, wildcards.model
        )["max_length"],
        unit_examples=lambda wildcards: training_settings(
            config, wildcards.task, wildcards.model
        )["unit_examples"],
        batch_size=config["evaluation"]["batch_size"],
    script:
        "../scripts/premise_pretrained.py"
