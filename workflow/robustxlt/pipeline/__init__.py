"""Pipeline: what the Snakefile, the rules and the scripts need around the stages, torch-free: the configuration,
checks before the DAG is built, recovery from killed runs, failure reports, and job logging.

Modules:
    config     reading and validating the configuration; the run grid's settings
    preflight  checks of sources, positions and hub access before any job runs
    recovery   stale locks of killed runs
    failures   each failed job's own error line
    jobs       a script's job logging (stderr to the rule's log)
    limits     each rule's memory and time limits and whether it runs on a GPU (the rules read it)
    cost_plan  every encoder job's expected compute, time and memory beside its limits (`python -m ...cost_plan`)
    cost_model device classes, their peaks, and the fit that calibrates the plan from benchmark files
    data_sizes the rows and tokens per pair the plan reads, measured where the data is prepared
"""
