# Helpers shared by every stage: validated config, the run grid, paths. No rules here.
import os
import re

from robustxlt.config import (
    generalized_languages,
    method_settings,
    task_languages,
    training_settings,
    validate_config,
)
from robustxlt.figures import FIGURE_FORMATS, FIGURES
from robustxlt.generalized import language_pairs, pair_file_name, result_name
from robustxlt.published import paper_model
from robustxlt.tables import TABLE_FORMATS, TABLES

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
    standard = [
        [lang, lang, f"{data_dir}/test-{lang}.tsv"]
        for lang in task_languages(config, task)
    ]
    pairs = language_pairs(generalized_languages(config, task))
    return standard + [
        [l1, l2, f"{data_dir}/{pair_file_name(l1, l2)}"] for l1, l2 in pairs
    ]


def result_names(task):
    """The evaluation result names of a run of `task` ({name}.json in its eval directory)."""
    return [result_name(l1, l2) for l1, l2, _ in test_sets(task)]


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


# The renderings of one (task, model) that the report leaves out: Markdown and LaTeX tables, PDF figures.
UNREPORTED_RENDERINGS = [
    f"results/tables/{{task}}_{{model}}_{name}.{ext}"
    for name in TABLES
    for ext in ("md", "tex")
] + [f"results/figures/{{task}}_{{model}}_{name}.pdf" for name in FIGURES]


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
    """The paper's encoder this model is (its published rows go beside ours), in the paper's setup only."""
    if config["setup"] != "paper":
        return None
    return paper_model(config["models"][model]["source"])


def embedded_options(wildcards):
    return config["tasks"][wildcards.task].get("embedded", {})
