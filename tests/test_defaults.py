"""Defaults are defaults everywhere: any configuration the schema accepts, down to the few required keys, either
parses as the workflow parses it and plans its runs, or is refused with the project's one-line error.

Configurations are generated from the default and every preset by deleting any subset of the keys the schema
marks optional; the few required keys stay."""

from __future__ import annotations

import copy
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, assert_config_message, snakemake
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robustxlt.pipeline.config import (
    ConfigError,
    _schema,
    load_config_file,
    method_settings,
    method_variants,
    training_settings,
    validate_config,
)
from robustxlt.pipeline.preflight import check_sources
from robustxlt.training.methods import make_method
from robustxlt.training.settings import TrainingSettings
from snakemake.utils import update_config

BASES = {
    "default": REPO / "config.yaml",
    **{path.stem: path for path in sorted((REPO / "presets").glob("*.yaml"))},
}
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].removeprefix("#/$defs/")] | {
            k: v for k, v in schema.items() if k != "$ref"
        }
    return schema


def _entry_schema(schema: dict, value: dict, root: dict) -> dict:
    """A method entry's schema is chosen by its kind (allOf of if/then); other objects are as written."""
    for branch in schema.get("allOf", []):
        if value.get("kind") == branch["if"]["properties"]["kind"]["const"]:
            chosen = _resolve(branch["then"], root)
            return {**chosen, "required": sorted({*schema.get("required", []), *chosen.get("required", [])})}
    return schema


def optional_paths(node, schema: dict, root: dict, prefix: tuple = ()) -> list[tuple]:
    """Key paths of `node` that the schema lets a configuration leave out, outermost first."""
    schema = _resolve(schema, root)
    if not isinstance(node, dict):
        return []
    paths = []
    properties, required = schema.get("properties", {}), set(schema.get("required", []))
    entries = schema.get("additionalProperties")
    for key, value in node.items():
        if key in properties:
            sub = properties[key]
            if key not in required:
                paths.append((*prefix, key))
        elif isinstance(entries, dict):
            sub = _entry_schema(_resolve(entries, root), value if isinstance(value, dict) else {}, root)
            if "minProperties" not in schema:
                paths.append((*prefix, key))
        else:
            continue
        paths += optional_paths(value, sub, root, (*prefix, key))
    return paths


def without(config: dict, paths) -> dict:
    config = copy.deepcopy(config)
    for path in paths:
        parent = config
        for part in path[:-1]:
            parent = parent.get(part, {}) if isinstance(parent, dict) else {}
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return config


def parse_as_the_workflow(config: dict, where: str, prepared: Path) -> None:
    """What the Snakefile and the rules compute from a configuration before any job: validation with defaults,
    the preflight, every run's complete training settings and method object."""
    validate_config(config, where)
    check_sources(config, where=where, prepared=prepared)
    for task in config["tasks"]:
        for model in config["models"]:
            complete = training_settings(config, task, model)
            assert set(complete) == {field.name for field in dataclasses.fields(TrainingSettings)}, complete
            TrainingSettings.from_dict(complete)
        for method in config["methods"]:
            for variant in method_variants(config, task, method):
                make_method(method_settings(config, task, variant))


def _base_config(path: Path) -> dict:
    """A whole configuration; a patch (a preset without `setup`, e.g. presets/embedded-full.yaml) merged over
    config.yaml as Snakemake merges `--configfile config.yaml PATCH`."""
    config = load_config_file(path)
    if "setup" in config:
        return config
    merged = load_config_file(BASES["default"])
    update_config(merged, config)
    return merged


BASE_CONFIGS = {name: _base_config(path) for name, path in BASES.items()}
OPTIONAL = {name: optional_paths(config, _schema(), _schema()) for name, config in BASE_CONFIGS.items()}


def test_every_base_has_optional_keys_and_parses_whole(tmp_path):
    for name, config in BASE_CONFIGS.items():
        assert len(OPTIONAL[name]) >= 5, name
        parse_as_the_workflow(copy.deepcopy(config), name, tmp_path)
    assert ("training",) in OPTIONAL["default"] and ("training", "max_length") in OPTIONAL["default"]
    for required in [("setup",), ("tasks", "sameapp", "source"), ("methods", "adversarial", "kind")]:
        assert required not in OPTIONAL["default"]


@st.composite
def reduced_configs(draw) -> tuple[str, dict]:
    name = draw(st.sampled_from(sorted(BASE_CONFIGS)))
    paths = draw(st.sets(st.sampled_from(OPTIONAL[name])))
    return name, without(BASE_CONFIGS[name], sorted(paths, key=len))


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=reduced_configs())
def test_a_configuration_without_optional_keys_parses_or_is_refused_naming_every_key(case, tmp_path_factory):
    name, config = case
    try:
        parse_as_the_workflow(config, name, tmp_path_factory.mktemp("prepared"))
    except ConfigError as error:
        assert_config_message(str(error), name)


def test_training_settings_without_a_training_block_are_the_documented_defaults():
    config = without(BASE_CONFIGS["default"], [("training",), ("models", "e5small", "training")])
    validate_config(config)
    settings = training_settings(config, "sameapp", "e5small")
    assert settings == {**dataclasses.asdict(TrainingSettings()), "eval_every": settings["eval_every"]}


def _dry_run(config: dict, workdir: Path) -> subprocess.CompletedProcess:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return subprocess.run(
        [str(SNAKEMAKE), "-n", "--snakefile", str(REPO / "Snakefile"), "--configfile", str(path)],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=300,
    )


@pytest.mark.parametrize("name", sorted(BASES))
def test_snakemake_plans_each_base_with_every_optional_key_removed(name, tmp_path):
    """The Snakefile parse, the preflight and the DAG: the rules read the configuration too."""
    result = _dry_run(without(BASE_CONFIGS[name], OPTIONAL[name]), tmp_path)
    last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    output = result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "Error" not in last, output
    assert result.returncode == 0 or last.startswith("robustxlt: "), output


@pytest.mark.slow("a whole configuration of a tiny model and local data end to end: about 30 s")
def test_a_minimal_local_configuration_runs_to_the_end(tmp_path):
    """Local XNLI-style files, a model, one method and a seed; no training block: the paper's recipe by default."""
    from robustxlt.data.tiny import write_task
    from robustxlt.models.tiny import write_model

    data = write_task(tmp_path / "xnli", "xnli")
    write_model(tmp_path / "bert", "bert", max_positions=TrainingSettings().max_length)
    config = {
        "setup": "custom",
        "tasks": {"xnli": {"source": f"local:{data}", "languages": ["en", "de", "ar"]}},
        "models": {"tiny": {"source": f"local:{tmp_path / 'bert'}"}},
        "methods": {"baseline": {"kind": "baseline"}},
        "seeds": [1],
    }
    plan = _dry_run(config, tmp_path)
    assert plan.returncode == 0, plan.stderr[-3000:]
    result = subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--snakefile", str(REPO / "Snakefile"), "--configfile", "config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = (tmp_path / "results/xnli/tiny/baseline/seed1/train_log.jsonl").read_text().splitlines()
    start = yaml.safe_load(log[0])
    assert start["settings"]["max_length"] == 128 and start["settings"]["batch_size"] == 8
    assert (tmp_path / "results" / "metrics.csv").is_file()


def readme_own_data_snippet() -> str:
    """The YAML block of the README's "Your own data" section, as a user would copy it."""
    section = (REPO / "README.md").read_text().split("\n## Your own data\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


@pytest.mark.slow("the README's own-data file end to end: 4 methods x 2 seeds on tiny data, about 3 minutes")
def test_the_readme_own_data_file_runs_to_the_end(tmp_path):
    """The README's snippet with its two paths pointed at a local XNLI-format directory and a model directory (tiny
    stand-ins), run as the README says: every key it leaves out comes from config.yaml."""
    from robustxlt.data.tiny import write_task
    from robustxlt.models.tiny import write_model

    snippet = readme_own_data_snippet()
    data = write_task(tmp_path / "xnli", "xnli")
    model = write_model(tmp_path / "mbert", "bert", max_positions=128)
    mine = tmp_path / "my.yaml"
    mine.write_text(
        snippet.replace("/data/xnli", str(data)).replace("/models/bert-base-multilingual-cased", str(model))
    )
    assert mine.read_text() != snippet and "setup" not in load_config_file(mine)
    result = snakemake("--cores", "2", "--configfile", str(mine), workdir=tmp_path / "run", timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"robustxlt: {mine} names no setup: " in result.stderr
    default = load_config_file(BASES["default"])
    metrics = pd.read_csv(tmp_path / "run" / "results" / "metrics.csv")
    runs = metrics[metrics.model == "mbert"]
    assert set(runs.task) == {"xnli"} and set(runs.method) == set(default["methods"])
    assert set(runs.seed) == set(default["seeds"]) and "sameapp" not in set(metrics.task)
    table = (tmp_path / "run" / "results" / "tables" / "xnli_mbert_standard.md").read_text()
    assert "Setup: a custom setup" in table
