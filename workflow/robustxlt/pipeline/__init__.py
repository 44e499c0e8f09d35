"""Pipeline: what the Snakefile, the rules and the scripts need around the stages, torch-free: the configuration,
checks before the DAG is built, recovery from killed runs, failure reports, and job logging.

Modules:
    config     reading and validating the configuration; the run grid's settings
    preflight  checks of sources, positions and hub access before any job runs
    recovery   stale locks of killed runs
    failures   each failed job's own error line
    jobs       a script's job logging (stderr to the rule's log)
"""
