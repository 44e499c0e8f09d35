# Aggregation and tables: read only the per-language results, never retrain.


rule aggregate:
    input:
        results=run_files(rules.evaluate.output.results),
        train_benchmarks=run_files(rules.train.benchmark),
        eval_benchmarks=run_files(rules.evaluate.benchmark),
        overlap=expand(rules.lexical_overlap.output.metrics, task=TASKS),
    output:
        metrics="results/metrics.csv",
    log:
        "results/logs/aggregate.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        expected=[
            [lang1 if lang1 == lang2 else f"{lang1}-{lang2}" for lang1, lang2, _ in test_sets(run["task"])]
            for run in RUNS
        ],
    script:
        "../scripts/aggregate.py"


rule results_table:
    input:
        metrics=rules.aggregate.output.metrics,
    output:
        table="results/tables/{task}_{model}.md",
    log:
        "results/logs/results_table/{task}_{model}.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        languages=lambda wildcards: task_languages(config, wildcards.task),
        methods=METHODS,
        setup=config["setup"],
    script:
        "../scripts/results_table.py"
