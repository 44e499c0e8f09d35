# robustxlt: robust training for zero-shot cross-lingual transfer (Huang et al., EMNLP 2021).
# Thin entry point: configuration, validation, rule files, targets. Logic lives in workflow/robustxlt.
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))


from robustxlt.pipeline.config import (
    load_config_file,
    stop_on_config_error,
    with_default_recipe,
)
from robustxlt.pipeline.failures import report_failures
from robustxlt.pipeline.recovery import clear_stale_locks, forget_run, record_run
from robustxlt.analysis.summary import print_summary

# A file given with --configfile that names its setup (every preset) is a whole configuration, not a patch on
# config.yaml; one without setup is your data on the default's recipe: each top-level key it leaves out comes
# from config.yaml (robustxlt.pipeline.config.with_default_recipe). Every configuration file is read once more
# by a strict reader first: YAML keeps the last of two equal keys silently, and Snakemake's own reader names
# neither file nor line of a syntax error.
DEFAULT_CONFIG = str(Path(workflow.basedir) / "config.yaml")
CONFIG_FILES = list(map(str, workflow.overwrite_configfiles)) or [DEFAULT_CONFIG]
for path in CONFIG_FILES:
    stop_on_config_error(load_config_file, path)
if not workflow.overwrite_configfiles:

    configfile: DEFAULT_CONFIG


# config.yaml is read again only for a file without setup (a whole configuration needs nothing from it).
default_tasks = []
if "setup" not in config:
    default = stop_on_config_error(load_config_file, DEFAULT_CONFIG)
    default_tasks = list(default["tasks"])
taken = "setup" not in config and with_default_recipe(config, default)
# The default's methods carry strengths chosen on its own task's English dev: the summary says so for other tasks.
STRENGTHS_CHOSEN_ON = default_tasks if taken and "methods" in taken else []
if taken:
    print(
        f"robustxlt: {', '.join(CONFIG_FILES)} names no setup: {', '.join(taken)} taken from config.yaml, "
        "setup: custom",
        file=sys.stderr,
    )


include: "workflow/rules/common.smk"


wildcard_constraints:
    task="|".join(map(re.escape, TASKS)),
    model="|".join(map(re.escape, MODELS)),
    method="|".join(map(re.escape, variant_names())),
    seed=r"\d+",
    lang=r"[a-z]{2,3}",


include: "workflow/rules/data.smk"
include: "workflow/rules/augment.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/report.smk"


# A run killed outright (kill -9) leaves its lock: removed here when its process is provably gone from this
# host (robustxlt.pipeline.recovery), so that the same command resumes without --unlock.
for lock in clear_stale_locks():
    print(
        f"robustxlt: removed {lock}, left by a run on this host that was killed",
        file=sys.stderr,
    )


onstart:
    # After the DAG is built, before any job: what this run would download.
    stop_on_config_error(
        check_hub_access,
        config,
        CONFIG_SOURCE,
        pending_preparations(workflow.dag.needrun_jobs()),
    )
    record_run(getattr(workflow.persistence, "_lockfile", {}).values())


onsuccess:
    # The run's answer last, below the job listing (when this run produced it or left it current).
    print_summary(SUMMARY, "results/metrics.csv")
    forget_run()


onerror:
    # Each failed job's own error line, beside Snakemake's "check log file(s)".
    report_failures(log)
    forget_run()


# The strength selections are asked for here too: aggregate's inputs wait on them (a checkpoint), and a finished run
# given a new swept method would otherwise find metrics.csv up to date and never train it.
rule all:
    default_target: True
    input:
        selection_files(),
        "results/metrics.csv",
        rendered_files(),
        SUMMARY,
