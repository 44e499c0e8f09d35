# Helpers shared by every stage: validated config, the run grid, paths. No rules here.
import itertools
import re

from robustxlt.config import (
    generalized_languages,
    method_settings,
    task_languages,
    training_settings,
    validate_config,
)

validate_config(
    config, source=", ".join(map(str, workflow.overwrite_configfiles)) or "config.yaml"
)

TASKS = list(config["tasks"])
MODELS = list(config["models"])
METHODS = list(config["methods"])
SEEDS = config["seeds"]
RUN_DIR = "results/{task}/{model}/{method}/seed{seed}"
AUGMENTED_TRAIN = "results/{task}/augmented/{method}/seed{seed}/train-en.tsv"


RUNS = [
    dict(task=task, model=model, method=method, seed=seed)
    for task in TASKS
    for model in MODELS
    for method in METHODS
    for seed in SEEDS
]


def run_files(pattern):
    """`pattern` filled in for every run of the configured grid, in one fixed order."""
    return [pattern.format(**run) for run in RUNS]


def test_sets(task):
    """[lang1, lang2, file] of every test set of a task: each language, then each ordered language pair."""
    data_dir = f"resources/data/{task}"
    standard = [[lang, lang, f"{data_dir}/test-{lang}.tsv"] for lang in task_languages(config, task)]
    pairs = itertools.permutations(generalized_languages(config, task), 2)
    return standard + [[l1, l2, f"{data_dir}/test-{l1}-{l2}.tsv"] for l1, l2 in pairs]


def training_inputs(wildcards):
    """Data and model of a run; RS-DA methods train on their augmented copies of train-en.tsv."""
    inputs = {
        "manifest": f"resources/data/{wildcards.task}/manifest.json",
        "model": f"resources/models/{wildcards.model}",
    }
    method = method_settings(config, wildcards.task, wildcards.method)
    if method["kind"] == "synonym_augmentation":
        inputs["train"] = AUGMENTED_TRAIN.format(
            task=wildcards.task, method=wildcards.method, seed=wildcards.seed
        )
    return inputs


def table_files():
    return expand("results/tables/{task}_{model}.md", task=TASKS, model=MODELS)


def embedded_options(wildcards):
    return config["tasks"][wildcards.task].get("embedded", {})
