# Aggregation, language distances, tables and figures. Rendering reads only the CSVs (metrics, selection,
# distances, premise), so re-rendering never retrains (`snakemake figures`).


localrules:
    figures,


rule aggregate:
    input:
        results=run_files(rules.evaluate.output.results, swept=False),
        train_benchmarks=run_files(rules.train.benchmark, swept=False),
        eval_benchmarks=run_files(rules.evaluate.benchmark, swept=False),
        chosen_results=run_files(rules.evaluate.output.results, swept=True),
        chosen_train_benchmarks=run_files(rules.train.benchmark, swept=True),
        chosen_eval_benchmarks=run_files(rules.evaluate.benchmark, swept=True),
        overlap=expand(rules.lexical_overlap.output.metrics, task=TASKS),
        selections=selection_files(),
        premise_pretrained=expand(
            rules.premise_pretrained.output.premise, task=TASKS, model=MODELS
        ),
    output:
        metrics="results/metrics.csv",
        selection="results/selection.csv",
        premise="results/premise.csv",
    log:
        "results/logs/aggregate.log",
    benchmark:
        "results/benchmarks/aggregate.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        expected={task: result_names(task) for task in TASKS},
        method_kinds={method: config["methods"][method]["kind"] for method in METHODS},
    script:
        "../scripts/aggregate.py"


rule distances:
    output:
        distances="results/distances.csv",
    log:
        "results/logs/distances.log",
    benchmark:
        "results/benchmarks/distances.tsv"
    conda:
        "../../envs/analysis.yaml"
    resources:
        mem_mb=2000,
    params:
        languages=sorted(
            {lang for task in TASKS for lang in task_languages(config, task)}
        ),
        iso639_3=config["distances"]["iso639_3"],
    script:
        "../scripts/distances.py"


# Plain inputs, not ancient(): a run that adds methods or seeds to finished results aggregates them anew, and the
# tables must follow; with only the four CSVs present (copied from a cluster) nothing upstream is planned either way.
rule render:
    input:
        metrics=rules.aggregate.output.metrics,
        distances=rules.distances.output.distances,
        selection=rules.aggregate.output.selection,
        premise=rules.aggregate.output.premise,
    output:
        **render_outputs(),
    log:
        "results/logs/render/{task}_{model}.log",
    benchmark:
        "results/benchmarks/render/{task}_{model}.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        tables_dir=lambda wildcards, output: os.path.dirname(output.standard),
        figures_dir=lambda wildcards, output: os.path.dirname(output.distance),
        methods=METHODS,
        method_kinds=lambda wildcards: {
            method: method_settings(config, wildcards.task, method)["kind"]
            for method in METHODS
        },
        languages=lambda wildcards: task_languages(config, wildcards.task),
        setup=SETUP,
        paper_reference=lambda wildcards: paper_reference(wildcards.model),
        n_boot=config["analysis"]["bootstrap_samples"],
        method_settings=lambda wildcards: {
            method: method_settings(config, wildcards.task, method)
            for method in METHODS
        },
    script:
        "../scripts/render.py"


rule figures:
    input:
        rendered_files(),
