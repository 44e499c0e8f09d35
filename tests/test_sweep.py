"""Strength sweeps: variants from lists, the choice on English dev only, and the schema agreeing with the module."""

import json

import pytest
import yaml
from conftest import REPO
from robustxlt.pipeline.config import ConfigError, method_settings, validate_config
from robustxlt.training.kinds import KINDS
from robustxlt.training.sweep import SWEEPABLE, base_method, choose, select_strength, strength_label, variants


def test_a_list_makes_one_variant_per_value_and_a_scalar_none():
    swept = variants("adv", {"kind": "adversarial", "epsilon": [0.01, 0.1], "steps": 1})
    assert list(swept) == ["adv@epsilon=0.01", "adv@epsilon=0.1"]
    assert swept["adv@epsilon=0.1"] == {"kind": "adversarial", "epsilon": 0.1, "steps": 1}
    assert variants("adv", {"kind": "adversarial", "epsilon": 0.1}) == {"adv": {"kind": "adversarial", "epsilon": 0.1}}
    grid = variants("fl", {"kind": "freelb", "epsilon": [0.1, 0.2], "steps": [1, 2]})
    assert list(grid) == [
        "fl@epsilon=0.1,steps=1",
        "fl@epsilon=0.1,steps=2",
        "fl@epsilon=0.2,steps=1",
        "fl@epsilon=0.2,steps=2",
    ]
    assert (
        base_method("fl@epsilon=0.1,steps=2") == "fl"
        and strength_label("fl@epsilon=0.1,steps=2") == "epsilon=0.1,steps=2"
    )
    assert strength_label("baseline") == ""
    # One value is no sweep: the method itself, with that value.
    assert variants("adv", {"kind": "adversarial", "epsilon": [0.01]}) == {
        "adv": {"kind": "adversarial", "epsilon": 0.01}
    }


def write_log(path, dev_accuracy, best_step=50, collapsed=False, converged=True, n_dev=400):
    path.parent.mkdir(parents=True, exist_ok=True)
    events = [
        {"event": "start", "dev_examples": n_dev},
        {"event": "dev", "step": best_step, "dev_accuracy": dev_accuracy},
        {
            "event": "end",
            "best_dev_accuracy": dev_accuracy,
            "best_step": best_step,
            "dev_collapsed": collapsed,
            "converged": converged,
        },
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_the_variant_best_on_english_dev_is_chosen_ties_to_the_first(tmp_path):
    logs = {
        "adv@epsilon=0.001": write_log(tmp_path / "a" / "train_log.jsonl", 0.70),
        "adv@epsilon=0.01": write_log(tmp_path / "b" / "train_log.jsonl", 0.75),
        "adv@epsilon=0.1": write_log(tmp_path / "c" / "train_log.jsonl", 0.75),
        "adv@epsilon=1.0": write_log(tmp_path / "d" / "train_log.jsonl", 0.5, collapsed=True),
    }
    selection = select_strength("adv", 1, logs, tmp_path / "selection.json")
    assert selection["chosen"] == "adv@epsilon=0.01"
    assert json.loads((tmp_path / "selection.json").read_text()) == selection
    assert [c["chosen"] for c in selection["candidates"]] == [False, True, False, False]
    assert selection["candidates"][3]["dev_collapsed"] is True
    with pytest.raises(ValueError, match="no candidates"):
        choose([])


def test_candidates_within_a_standard_error_and_cut_short_make_the_choice_doubtful(tmp_path):
    """With 400 dev pairs at 75% the standard error is 2.2 points: 74% is indistinguishable from the chosen 75%,
    70% is not. A close competitor that was still improving when it stopped puts the choice in doubt."""
    logs = {
        "adv@epsilon=0.01": write_log(tmp_path / "a" / "train_log.jsonl", 0.75),
        "adv@epsilon=0.1": write_log(tmp_path / "b" / "train_log.jsonl", 0.74, converged=False),
        "adv@epsilon=1.0": write_log(tmp_path / "c" / "train_log.jsonl", 0.70, converged=False),
    }
    selection = select_strength("adv", 1, logs, tmp_path / "selection.json")
    assert selection["chosen"] == "adv@epsilon=0.01"
    chosen, close, far = selection["candidates"]
    assert chosen["dev_standard_error"] == pytest.approx((0.75 * 0.25 / 400) ** 0.5)
    assert (chosen["close_to_chosen"], close["close_to_chosen"], far["close_to_chosen"]) == (True, True, False)
    assert selection["doubtful"] is True
    logs["adv@epsilon=0.1"] = write_log(tmp_path / "b" / "train_log.jsonl", 0.74)
    assert select_strength("adv", 1, logs, tmp_path / "selection.json")["doubtful"] is False


def test_target_language_data_cannot_influence_the_choice(tmp_path):
    """The choice reads each candidate's training log (English dev) and nothing else: a candidate that would win on
    every target language still loses when its English dev accuracy is lower, and changing target-language
    results or test files changes nothing."""
    run_dirs = {name: tmp_path / name for name in ("adv@epsilon=0.01", "adv@epsilon=0.1")}
    write_log(run_dirs["adv@epsilon=0.01"] / "train_log.jsonl", 0.72)
    write_log(run_dirs["adv@epsilon=0.1"] / "train_log.jsonl", 0.70)
    logs = {name: d / "train_log.jsonl" for name, d in run_dirs.items()}
    first = select_strength("adv", 1, logs, tmp_path / "first.json")
    # Target-language evidence in favour of the other variant, where a careless selector might look.
    for name, accuracy in (("adv@epsilon=0.01", 0.30), ("adv@epsilon=0.1", 0.95)):
        eval_dir = run_dirs[name] / "eval"
        eval_dir.mkdir()
        for lang in ("de", "ja"):
            (eval_dir / f"{lang}.json").write_text(json.dumps({"lang1": lang, "accuracy": accuracy}))
    second = select_strength("adv", 1, logs, tmp_path / "second.json")
    assert first == second and first["chosen"] == "adv@epsilon=0.01"


def test_the_selection_rule_reads_only_training_logs():
    """In the workflow, the selection's inputs are the candidates' train_log.jsonl files: no test set, no eval."""
    rules = (REPO / "workflow" / "rules" / "train.smk").read_text()
    block = rules[rules.index("checkpoint select_strength:") :]
    inputs = block[block.index("input:") : block.index("output:")]
    assert "unpack(candidate_logs)" in inputs and inputs.count("\n") == 2
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    body = common[common.index("def candidate_logs(") : common.index("def evaluated_variant(")]
    assert "train_log.jsonl" in body and "test" not in body.replace('"""', "").split("English dev only")[1]


def load(path):
    return yaml.safe_load((REPO / path).read_text())


def test_config_lists_become_variants_with_scalar_settings_checked():
    config = load("presets/smoke.yaml")
    config["methods"]["rs-rp"]["sigma"] = [0.01, 0.1]
    validate_config(config)
    assert method_settings(config, "sameapp", "rs-rp@sigma=0.1")["sigma"] == 0.1
    config["methods"]["rs-rp"]["sigma"] = [0.05]
    assert method_settings(config, "sameapp", "rs-rp")["sigma"] == 0.05
    bad = load("presets/smoke.yaml")
    bad["methods"]["rs-rp"]["sigma"] = [0.1, -1.0]
    with pytest.raises(ConfigError, match="methods.rs-rp"):
        validate_config(bad)
    bad["methods"]["rs-rp"]["sigma"] = []
    with pytest.raises(ConfigError, match="methods.rs-rp"):
        validate_config(bad)


def test_the_schema_allows_lists_exactly_for_the_sweepable_settings():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    listed = set()
    for kind in KINDS:  # every registered kind's settings
        for key, spec in schema["$defs"][kind]["properties"].items():
            if "oneOf" in spec and any("$ref" in o or o.get("type") == "array" for o in spec["oneOf"]):
                listed.add(key)
    assert listed == set(SWEEPABLE)
