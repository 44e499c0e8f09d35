import copy

import pytest
import yaml
from conftest import REPO
from robustxlt.pipeline.config import (
    ConfigError,
    described_setup,
    generalized_languages,
    method_settings,
    task_languages,
    training_settings,
    validate_config,
    with_default_recipe,
)


def load(name: str) -> dict:
    return yaml.safe_load((REPO / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "presets/smoke.yaml", "presets/paper.yaml", "presets/paper-tiny.yaml"])
def test_shipped_configurations_are_valid(name):
    validate_config(load(name), name)


def test_the_embedded_setup_is_named_only_when_every_source_is_embedded():
    config = load("config.yaml")
    assert described_setup(config) == ("embedded", None)
    config["tasks"] = {"xnli": {"source": "local:/data/xnli", "languages": ["en", "de"]}}
    setup, warning = described_setup(validate_config(config), "config.yaml")
    assert setup == "custom"
    assert warning.startswith("config.yaml: setup is embedded but tasks.xnli.source is local:/data/xnli")
    assert "setup: custom" in warning
    paper = load("presets/paper.yaml")
    assert described_setup(paper) == ("paper", None)


def test_the_full_embedded_patch_evaluates_every_language_of_the_benchmark():
    """presets/embedded-full.yaml, given after config.yaml, merges as Snakemake merges configuration files."""
    from robustxlt.data.tasks import get_task
    from snakemake.utils import update_config

    config = load("config.yaml")
    assert task_languages(validate_config(copy.deepcopy(config)), "sameapp") == [
        "en",
        "de",
        "es",
        "fr",
        "ja",
        "ko",
        "zh",
    ]
    update_config(config, load("presets/embedded-full.yaml"))
    assert task_languages(validate_config(config), "sameapp") == list(get_task("sameapp").languages)
    assert len(task_languages(config, "sameapp")) == 14


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
        # Values that pass a lax schema and fail later, or run wrong.
        (lambda c: c["training"].update(batch_size=16.0), "training.batch_size: 16.0 is not an integer (write 16"),
        (lambda c: c["training"].update(learning_rate=float("nan")), "training.learning_rate: nan is not a finite"),
        (lambda c: c["training"].update(epochs=float("inf"), max_steps=None), "training.epochs: inf is not a finite"),
        (lambda c: c.update(seeds=[1.0]), "seeds.0: 1.0 is not an integer"),
        (lambda c: c["training"].update(max_steps=True), "training.max_steps"),
        (lambda c: c["methods"]["rs-rp"].update(sigma=[0.01, float("inf")]), "methods.rs-rp.sigma.1: inf"),
        # Settings that hold alone but not together, once the training blocks are merged.
        (
            lambda c: c["models"]["e5small"]["training"].update(freeze_layers=0, cache_frozen_layers=True),
            "training of model e5small on task sameapp (the training block merged with the task's and the model's): "
            "training setting cache_frozen_layers: true needs frozen layers to cache",
        ),
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


@pytest.mark.parametrize("section", ["embedded", "tiny"])
def test_generated_sizes_go_with_their_source_only(section):
    config = broken(lambda c: c["tasks"].update(pawsx={"source": "hub", section: {"n_train": 100}}))
    with pytest.raises(ConfigError, match=f"tasks.pawsx.{section} is only valid with source: {section}"):
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
    released = {"kind": "synonym_augmentation", "stop_words": False, "case_fallback": False, "max_neighbours": None}
    assert method_settings(config, "pawsx", "rs-da") == {**released, "copies": 10}
    assert method_settings(config, "xnli", "rs-da") == {**released, "copies": 3}
    bad = load("presets/paper.yaml")
    bad["tasks"]["xnli"]["methods"]["rs-da"] = {"sigma": 0.1}
    with pytest.raises(ConfigError, match="tasks.xnli.methods.rs-da: unknown key sigma"):
        validate_config(bad, "paper.yaml")
    bad["tasks"]["xnli"]["methods"] = {"rsda": {"copies": 3}}
    with pytest.raises(ConfigError, match="tasks.xnli.methods.rsda: no method of that name"):
        validate_config(bad, "paper.yaml")


# ---------------------------------------------------------------- preflight: files, positions, hub access


def preflight(config: dict, tmp_path) -> str:
    from robustxlt.pipeline.preflight import check_sources

    with pytest.raises(ConfigError) as error:
        check_sources(validate_config(config, "config.yaml"), "config.yaml", prepared=tmp_path / "resources")
    message = str(error.value)
    assert "\n" not in message and message.startswith("config.yaml: key ")
    return message


def local_task(config: dict, directory) -> dict:
    config["tasks"] = {"pawsx": {"source": f"local:{directory}", "languages": ["en", "de"]}}
    return config


def test_local_sources_must_exist_and_hold_the_files(tmp_path, tiny_model_dir):
    message = preflight(local_task(load("config.yaml"), tmp_path / "nowhere"), tmp_path)
    assert "tasks.pawsx.source: local directory" in message and "does not exist" in message
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train-en.tsv").write_text("a\tb\t1\n")
    message = preflight(local_task(load("config.yaml"), tmp_path / "data"), tmp_path)
    assert "lacks dev-en.tsv, test-en.tsv, test-de.tsv" in message
    config = load("config.yaml")
    config["models"]["e5small"]["source"] = f"local:{tmp_path / 'no-model'}"
    assert "models.e5small.source" in preflight(config, tmp_path) and "no config.json" in preflight(config, tmp_path)


def test_max_length_is_checked_against_the_model_positions_before_any_job(tmp_path, tiny_model_dir):
    from robustxlt.pipeline.preflight import check_sources

    config = load("config.yaml")
    config["training"]["max_length"] = 1000
    assert "max_length: 1000 (task sameapp) exceeds the 512 positions model e5small" in preflight(config, tmp_path)
    config = load("config.yaml")
    config["models"]["e5small"]["source"] = f"local:{tiny_model_dir}"
    config["training"]["max_length"] = 65  # the tiny model has 64 positions
    assert "exceeds the 64 positions" in preflight(config, tmp_path) and "config.json" in preflight(config, tmp_path)
    config["training"]["max_length"] = 64
    check_sources(validate_config(config, "c"), "c", prepared=tmp_path)


def test_xlm_r_positions_leave_out_the_padding_offset(tmp_path):
    from robustxlt.pipeline.preflight import model_positions

    (tmp_path / "config.json").write_text(
        '{"model_type": "xlm-roberta", "max_position_embeddings": 514, "pad_token_id": 1}'
    )
    assert model_positions(tmp_path)[0] == 512
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": 256}')
    assert model_positions(tmp_path)[0] == 256


def test_hub_preparations_are_refused_at_once_when_offline(monkeypatch):
    from robustxlt.pipeline.preflight import check_hub_access

    config = load("presets/paper.yaml")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError) as error:
        check_hub_access(config, "paper.yaml", {("data", "pawsx"), ("model", "mbert")})
    message = str(error.value)
    assert message.startswith("paper.yaml: key tasks.pawsx.source") and "unset HF_HUB_OFFLINE" in message
    with pytest.raises(ConfigError, match=r"key models.mbert.source: hub:\S+ cannot be downloaded.*hf download"):
        check_hub_access(config, "paper.yaml", {("model", "mbert")})
    check_hub_access(config, "paper.yaml", set())  # everything prepared earlier, or only re-rendering
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    check_hub_access(config, "paper.yaml", {("data", "pawsx"), ("model", "mbert")})  # online: it downloads


# ---------------------------------------------------------------- the configuration file itself


def test_a_duplicated_key_is_refused_naming_file_and_both_lines(tmp_path):
    from robustxlt.pipeline.config import load_config_file

    path = tmp_path / "dup.yaml"
    path.write_text("setup: x\ntraining:\n  learning_rate: 0.1\nseeds: [1]\ntraining:\n  batch_size: 4\n")
    with pytest.raises(
        ConfigError, match=rf"^{path}:5: key 'training' is given twice in one mapping \(first at line 2\)"
    ):
        load_config_file(path)
    path.write_text("training:\n  batch_size: 4\n  batch_size: 8\n")  # nested mappings too
    with pytest.raises(ConfigError, match=r":3: key 'batch_size' is given twice"):
        load_config_file(path)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("setup: x\ntasks:\n  sameapp: {source: embedded\nmodels: {}\n", ":4:"),
        ("setup: x\n\tseeds: [1]\n", ":2:"),
        ("- a\n- b\n", "a YAML mapping"),
    ],
)
def test_a_yaml_syntax_error_names_file_and_line(tmp_path, text, where):
    from robustxlt.pipeline.config import load_config_file

    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config_file(path)
    assert str(error.value).startswith(str(path)) and where in str(error.value) and "\n" not in str(error.value)


def test_the_shipped_files_read_the_same_with_the_strict_reader():
    from robustxlt.pipeline.config import load_config_file

    for name in ("config.yaml", "presets/smoke.yaml", "presets/paper.yaml"):
        assert load_config_file(REPO / name) == load(name)


def test_every_problem_of_a_configuration_is_listed_in_one_message():
    config = broken(lambda c: (c["training"].update(lr=0.1, batch_size="16"), c.update(seeds=[])))
    with pytest.raises(ConfigError) as error:
        validate_config(config, "my.yaml")
    first, *problems = str(error.value).splitlines()
    assert first == "my.yaml: 3 problems:"
    assert [problem.split(":")[0] for problem in problems] == [
        "  key seeds",
        "  unknown key training.lr; allowed here",
        "  key training.batch_size",
    ]


def test_the_registry_checks_list_every_task_that_fails_them():
    config = load("config.yaml")
    config["tasks"] = {
        "pawsx": {"source": "embedded"},
        "xnli": {"source": "local:/data/xnli", "languages": ["en", "xx"]},
    }
    with pytest.raises(ConfigError) as error:
        validate_config(config, "my.yaml")
    message = str(error.value)
    assert message.startswith("my.yaml: 2 problems:\n") and "key tasks.pawsx.source: embedded data" in message
    assert "key tasks.xnli.languages: unknown language(s) xx" in message


def test_a_whole_configuration_missing_keys_names_them_all_and_the_way_out():
    with pytest.raises(ConfigError) as error:
        validate_config({"setup": "custom", "tasks": {"xnli": {"source": "local:/data/xnli"}}}, "my.yaml")
    message = str(error.value)
    for key in ("methods", "models", "seeds"):
        assert f"'{key}' is a required property" in message
    assert "leave setup out to take them from config.yaml" in message.splitlines()[0]


def test_a_file_without_setup_takes_every_other_key_from_the_default():
    """Your data on the default's recipe: the sections you give replace the default's whole (your task runs
    instead of the proxy task, not beside it), the rest comes from config.yaml, and the setup is custom."""
    default = load("config.yaml")
    mine = {"tasks": {"xnli": {"source": "local:/data/xnli", "languages": ["en", "de"]}}}
    taken = with_default_recipe(mine, default)
    assert taken == [key for key in default if key not in ("setup", "tasks")]
    assert mine["setup"] == "custom" and list(mine["tasks"]) == ["xnli"]
    assert mine["methods"] == default["methods"] and mine["models"] == default["models"]
    validate_config(mine, "my.yaml")
    with_model = {"tasks": mine["tasks"], "models": {"mbert": {"source": "local:/models/mbert"}}}
    with_default_recipe(with_model, default)
    assert list(with_model["models"]) == ["mbert"] and with_model["training"] == default["training"]


@pytest.mark.parametrize("name", ["presets/smoke.yaml", "presets/paper.yaml", "presets/paper-tiny.yaml"])
def test_a_preset_is_whole_and_takes_nothing_from_the_default(name):
    preset = load(name)
    assert "setup" in preset and with_default_recipe(preset, load("config.yaml")) == []
    assert preset == load(name)
    # Whole by the default's own keys too: a preset never falls back on a schema default the default overrides.
    assert {"setup", "tasks", "models", "methods", "seeds", "training"} <= set(preset)
