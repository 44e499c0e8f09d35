# The run's answer: a short summary of the standard tables (printed when the run succeeds) and where the rest is.


localrules:
    summary,


rule summary:
    input:
        standard=[
            f"results/tables/{task}_{model}_standard.csv"
            for task in TASKS
            for model in MODELS
        ],
        selection=[
            f"results/tables/{task}_{model}_selection.csv"
            for task in TASKS
            for model in MODELS
        ],
    output:
        summary=SUMMARY,
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        grid=[[task, model] for task in TASKS for model in MODELS],
        setup=SETUP,
    script:
        "../scripts/summary.py"
