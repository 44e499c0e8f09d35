# Helpers shared by every stage: validated config, the run grid, paths. No rules here.
import os
import re
import sys
from pathlib import Path

from snakemake.resources import Resource

from robustxlt.pipeline.config import (
    described_setup,
    generalized_languages,
    method_settings,
    method_variants,
    stop_on_config_error,
    task_languages,
    training_settings,
    validate_config,
)
from robustxlt.analysis.figures import FIGURE_FORMATS, FIGURES
from robustxlt.data.generalized import language_pairs, pair_file_name, result_name
from robustxlt.data.origins import local_dir
from robustxlt.pipeline.limits import rule_limits
from robustxlt.pipeline.preflight import check_hub_access, check_sources
from robustxlt.training.kinds import KINDS
from robustxlt.analysis.published import paper_model
from robustxlt.training.sweep import chosen_variant
from robustxlt.data.tasks import get_task
from robustxlt.analysis.tables.registry import TABLE_FORMATS, TABLES


def cap_cores_at_machine():
    """A local run with `--cores N` above this machine's cores schedules at most the machine's cores of threads
    at once: N is what a user types, but oversubscribed jobs (e.g. two 2-thread trainings on 2 cores) run
    several times slower together than one after the other. Cluster runs (`--jobs`) are left alone.
    """
    machine = len(os.sched_getaffinity(0))
    cores = workflow.resource_settings.cores
    if (
        workflow.resource_settings.nodes is None
        and isinstance(cores, int)
        and cores > machine
    ):
        workflow.global_resources["_cores"] = Resource("_cores", machine)
        print(
            f"robustxlt: --cores {cores} > {machine} cores on this machine; running at most {machine} threads at once",
            file=sys.stderr,
        )


cap_cores_at_machine()

CONFIG_SOURCE = ", ".join(map(str, workflow.overwrite_configfiles)) or "config.yaml"


stop_on_config_error(validate_config, config, source=CONFIG_SOURCE)
# Local paths and model positions: before the DAG, not hours later inside a job.
stop_on_config_error(check_sources, config, where=CONFIG_SOURCE)
# What the captions call this setup: `embedded` only when every task and model source is.
SETUP, setup_warning = described_setup(config, CONFIG_SOURCE)
if setup_warning:
    print(f"robustxlt: {setup_warning}", file=sys.stderr)

TASKS = list(config["tasks"])
MODELS = list(config["models"])
METHODS = list(config["methods"])
SEEDS = config["seeds"]
RUN_DIR = "results/{task}/{model}/{method}/seed{seed}"
AUGMENTED_TRAIN = "results/{task}/augmented/{method}/seed{seed}/train-en.tsv"


# Every method's variants per task: {task: {method: {variant: settings}}}. An unswept method is its own variant.
VARIANTS = {
    task: {method: method_variants(config, task, method) for method in METHODS}
    for task in TASKS
}
# Sweeps train every variant on this seed; the variant best on English dev runs on the others too.
SELECTION_SEED = SEEDS[0]
SELECTION = "results/{task}/{model}/{method}/selection.json"
SUMMARY = "results/summary.md"


def is_swept(task, method):
    return len(VARIANTS[task][method]) > 1


def candidate_logs(wildcards):
    """Training logs of every variant of a swept method on the selection seed: English dev only."""
    return {
        variant: f"{RUN_DIR}/train_log.jsonl".format(
            task=wildcards.task,
            model=wildcards.model,
            method=variant,
            seed=SELECTION_SEED,
        )
        for variant in VARIANTS[wildcards.task][wildcards.method]
    }


def evaluated_variant(task, model, method):
    """The variant of `method` whose runs are evaluated: itself, or the one chosen on English dev (a checkpoint:
    the DAG is re-evaluated once the selection exists)."""
    if not is_swept(task, method):
        return method
    selection = checkpoints.select_strength.get(task=task, model=model, method=method)
    return chosen_variant(selection.output.selection)


def evaluated_runs(swept):
    """The evaluated runs (task, model, method, seed) of the unswept methods, or of the swept ones with their
    chosen variant as method. Apart, so that a dry run plans the unswept runs before any selection exists.
    """
    return [
        dict(task=task, model=model, method=variant, seed=seed)
        for task in TASKS
        for model in MODELS
        for method in METHODS
        if is_swept(task, method) == swept
        for variant in [evaluated_variant(task, model, method)]
        for seed in SEEDS
    ]


def run_files(pattern, swept):
    """An input function: `pattern` filled in for every evaluated run (see evaluated_runs), in one fixed order."""
    return lambda wildcards: [pattern.format(**run) for run in evaluated_runs(swept)]


def selection_files():
    return [
        SELECTION.format(task=task, model=model, method=method)
        for task in TASKS
        for model in MODELS
        for method in METHODS
        if is_swept(task, method)
    ]


def variant_names():
    """Every method and variant name a run directory may carry (for the wildcard constraint)."""
    names = set(METHODS)
    for by_method in VARIANTS.values():
        for variants in by_method.values():
            names.update(variants)
    return sorted(names, key=len, reverse=True)


def pending_preparations(jobs):
    """("data", task) and ("model", name) of the preparation jobs among `jobs`."""
    kinds = {"prepare_data": ("data", "task"), "prepare_model": ("model", "model")}
    return {
        (kinds[job.rule.name][0], job.wildcards[kinds[job.rule.name][1]])
        for job in jobs
        if job.rule.name in kinds
    }


def data_source_files(wildcards):
    """The files prepare_data reads from a task's local source: its inputs, so that editing, adding or removing
    one re-runs the preparation and everything downstream."""
    directory = local_dir(config["tasks"][wildcards.task]["source"])
    if directory is None:
        return []
    languages = task_languages(config, wildcards.task)
    return [
        str(directory / f"{split}-{lang}.tsv")
        for split, lang in get_task(wildcards.task).required_files(languages)
    ]


def model_source_files(wildcards):
    """Every file of a model's local source directory (config, weights, tokenizer), as prepare_model's inputs."""
    directory = local_dir(config["models"][wildcards.model]["source"])
    if directory is None or not directory.is_dir():
        return []
    return sorted(str(path) for path in directory.iterdir() if path.is_file())


def test_sets(task):
    """[lang1, lang2, file] of every test set of a task: each language, then each ordered language pair."""
    data_dir = f"resources/data/{task}"
    standard = [
        [lang, lang, f"{data_dir}/test-{lang}.tsv"]
        for lang in task_languages(config, task)
    ]
    pairs = language_pairs(generalized_languages(config, task))
    return standard + [
        [l1, l2, f"{data_dir}/{pair_file_name(l1, l2)}"] for l1, l2 in pairs
    ]


def frozen_states_of(wildcards):
    """The task's test-set states of the model's frozen layers (rule frozen_test_states) when its runs cache their
    frozen layers, else none: the evaluation jobs then run the whole encoder."""
    settings = training_settings(config, wildcards.task, wildcards.model)
    if settings["freeze_layers"] and settings["cache_frozen_layers"]:
        return f"resources/frozen/{wildcards.task}/{wildcards.model}"
    return []


def result_names(task):
    """The evaluation result names of a run of `task` ({name}.json in its eval directory)."""
    return [result_name(l1, l2) for l1, l2, _ in test_sets(task)]


def training_inputs(wildcards):
    """Data, tokenised English train and dev, and model of a run; RS-DA methods train on their augmented copies of
    train-en.tsv."""
    inputs = {
        "manifest": f"resources/data/{wildcards.task}/manifest.json",
        "model": f"resources/models/{wildcards.model}",
        "encoded": f"resources/encoded-training/{wildcards.task}/{wildcards.model}/train-en.npz",
    }
    method = method_settings(config, wildcards.task, wildcards.method)
    if KINDS[method["kind"]].trains_on_augmented_data:
        inputs["train"] = AUGMENTED_TRAIN.format(
            task=wildcards.task, method=wildcards.method, seed=wildcards.seed
        )
    return inputs


def render_outputs():
    """The render rule's named outputs, one per table and figure of a (task, model): the table's CSV or the
    figure's PNG in the report (caption: workflow/report/{name}.rst), and as `unreported` the other renderings
    (Markdown and LaTeX tables, PDF figures)."""
    assert not set(TABLES) & set(FIGURES), "a table and a figure share a name"
    reported = {
        name: report(
            f"results/{kind}/{{task}}_{{model}}_{name}.{ext}",
            caption=f"../report/{name}.rst",
            category=kind.capitalize(),
            subcategory="{task} / {model}",
        )
        for kind, names, ext in (("tables", TABLES, "csv"), ("figures", FIGURES, "png"))
        for name in names
    }
    unreported = [
        f"results/tables/{{task}}_{{model}}_{name}.{ext}"
        for name in TABLES
        for ext in ("md", "tex")
    ] + [f"results/figures/{{task}}_{{model}}_{name}.pdf" for name in FIGURES]
    return {**reported, "unreported": unreported}


def rendered_files():
    """Every table and figure of the configured (task, model) grid."""
    return [
        f"results/{kind}/{task}_{model}_{name}.{ext}"
        for task in TASKS
        for model in MODELS
        for kind, names, formats in (
            ("tables", TABLES, TABLE_FORMATS),
            ("figures", FIGURES, FIGURE_FORMATS),
        )
        for name in names
        for ext in formats
    ]


def paper_reference(model):
    """The paper's encoder this model is, or stands in for (its published rows go beside ours), in the paper's
    setups only."""
    if config["setup"] not in ("paper", "paper-tiny", "paper-scale"):
        return None
    settings = config["models"][model]
    return settings.get("stands_in_for") or paper_model(settings["source"])


def generator_options(wildcards):
    """The sizes of a generated task source: the task's `embedded` or `tiny` section."""
    task = config["tasks"][wildcards.task]
    return task.get(task["source"], {})
