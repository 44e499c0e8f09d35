# Helpers shared by every stage: validated config, the run grid, paths. No rules here.
import re

from robustxlt.config import (
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


def eval_results():
    """Every (run, language) result of the configured grid."""
    return [
        f"{RUN_DIR}/eval/{{lang}}.json".format(
            task=task, model=model, method=method, seed=seed, lang=lang
        )
        for task in TASKS
        for model in MODELS
        for method in METHODS
        for seed in SEEDS
        for lang in task_languages(config, task)
    ]


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
