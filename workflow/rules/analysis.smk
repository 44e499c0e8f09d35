# Aggregation and tables: read only the per-language results, never retrain.


rule aggregate:
    input:
        results=eval_results(),
        overlap=expand(rules.lexical_overlap.output.metrics, task=TASKS),
    output:
        metrics="results/metrics.csv",
    log:
        "results/logs/aggregate.log",
    conda:
        "../../envs/analysis.yaml"
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
