# The run's answer: a short summary of the standard, generalized and correlation tables (printed when the run
# succeeds), a verdict on each of the paper's claims, and where the rest is.


localrules:
    summary,


rule summary:
    input:
        standard=[
            f"results/tables/{task}_{model}_standard.csv"
            for task in TASKS
            for model in MODELS
        ],
        siblings=[
            f"results/tables/{task}_{model}_{table}.csv"
            for task in TASKS
            for model in MODELS
            for table in ("selection", "generalized", "correlations")
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
        strengths_chosen_on=STRENGTHS_CHOSEN_ON,
    script:
        "../scripts/summary.py"
