import copy

import pytest
import yaml
from conftest import REPO
from robustxlt.config import (
    ConfigError,
    generalized_languages,
    method_settings,
    task_languages,
    training_settings,
    validate_config,
)


def load(name: str) -> dict:
    return yaml.safe_load((REPO / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "presets/smoke.yaml", "presets/paper.yaml"])
def test_shipped_configurations_are_valid(name):
    validate_config(load(name), name)


def broken(change) -> dict:
    config = copy.deepcopy(load("config.yaml"))
    change(config)
    return config


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(colour="red"), "unknown key colour"),
        (lambda c: c["training"].update(lr=0.1), "unknown key training.lr"),
        (lambda c: c["training"].update(batch_size="16"), "training.batch_size"),
        (lambda c: c["training"].update(learning_rate=-1), "training.learning_rate"),
        (lambda c: c["methods"]["baseline"].update(kind="magic"), "methods.baseline.kind"),
        (lambda c: c["tasks"].update(mnli={"source": "hub"}), "tasks.mnli"),
        (lambda c: c["tasks"]["sameapp"].update(languages=["en", "xx"]), "tasks.sameapp.languages"),
        (lambda c: c["tasks"]["sameapp"].update(source="ftp"), "tasks.sameapp.source"),
        (lambda c: c.update(seeds=[]), "seeds"),
        (lambda c: c["models"].update(lexical_overlap={"source": "embedded"}), "models"),
        (lambda c: c["methods"].update(adv={"kind": "adversarial", "steps": 0}), "methods.adv.steps"),
        (lambda c: c["methods"].update(adv={"kind": "adversarial", "injection": "pooler"}), "methods.adv.injection"),
        (
            lambda c: c["tasks"]["sameapp"].update(languages=["en", "de"], generalized={"languages": ["en", "ja"]}),
            "tasks.sameapp.generalized.languages: ja not among",
        ),
        (lambda c: c["tasks"]["sameapp"].update(generalized={"languages": ["en"]}), "one language makes no pair"),
        (lambda c: c["tasks"]["sameapp"].update(generalized={"max_examples": 0}), "generalized.max_examples"),
        (lambda c: c.update(cache_dir=""), "cache_dir"),
    ],
)
def test_bad_configuration_gives_one_line_naming_the_key(change, expected):
    with pytest.raises(ConfigError) as error:
        validate_config(broken(change), "config.yaml")
    message = str(error.value)
    assert expected in message and "\n" not in message and message.startswith("config.yaml")


def test_embedded_source_is_refused_for_the_paper_tasks():
    config = broken(lambda c: c["tasks"].update(pawsx={"source": "embedded"}))
    with pytest.raises(ConfigError, match="tasks.pawsx.source"):
        validate_config(config)


def test_training_overrides_merge_global_then_task_then_model():
    config = validate_config(load("presets/paper.yaml"))
    mbert = training_settings(config, "pawsx", "mbert")
    assert (mbert["batch_size"], mbert["gradient_accumulation"], mbert["eval_every"]) == (8, 4, 500)
    xlmr = training_settings(config, "xnli", "xlmr-large")
    assert (xlmr["batch_size"], xlmr["gradient_accumulation"], xlmr["eval_every"], xlmr["epochs"]) == (2, 16, 1000, 1)


def test_language_subset_keeps_registry_order():
    subset = {"languages": ["zh", "en", "de"], "generalized": {"languages": ["zh", "en"]}}
    config = validate_config(broken(lambda c: c["tasks"]["sameapp"].update(subset)))
    assert task_languages(config, "sameapp") == ["en", "de", "zh"]
    assert generalized_languages(config, "sameapp") == ["en", "zh"]


def test_per_task_method_settings_override_the_method_and_are_checked():
    config = validate_config(load("presets/paper.yaml"))
    assert method_settings(config, "pawsx", "rs-da") == {"kind": "synonym_augmentation", "copies": 10}
    assert method_settings(config, "xnli", "rs-da") == {"kind": "synonym_augmentation", "copies": 3}
    bad = load("presets/paper.yaml")
    bad["tasks"]["xnli"]["methods"]["rs-da"] = {"sigma": 0.1}
    with pytest.raises(ConfigError, match="tasks.xnli.methods.rs-da: unknown key sigma"):
        validate_config(bad, "paper.yaml")
    bad["tasks"]["xnli"]["methods"] = {"rsda": {"copies": 3}}
    with pytest.raises(ConfigError, match="tasks.xnli.methods.rsda: no method of that name"):
        validate_config(bad, "paper.yaml")
