"""The cost plan: its arithmetic by hand, the grid it plans, its calibration, and the paper preset fitting the
rules' limits on the documented device class."""

from __future__ import annotations

import math
import re

import pytest
import yaml
from conftest import REPO
from robustxlt.models.shape import model_shape
from robustxlt.pipeline import cost_plan
from robustxlt.pipeline.cost_model import DEFAULT_DEVICE, DEVICES, fit_nonnegative
from robustxlt.pipeline.limits import RULE_LIMITS, gpu_rules
from robustxlt.training.methods import make_method


@pytest.mark.parametrize(
    ("source", "published"),
    [
        ("hub:google-bert/bert-base-multilingual-cased", 177_853_440),
        ("hub:FacebookAI/xlm-roberta-large", 559_890_432),
    ],
)
def test_published_shapes_count_the_encoders_weights(source, published, tmp_path):
    """The weights the plan counts (encoder blocks and word embeddings) are the model's within 1% (the rest:
    biases, LayerNorms, position embeddings, the pooler)."""
    shape = model_shape(source, tmp_path / "not-prepared")
    assert abs(shape.weights - published) / published < 0.01


def test_a_prepared_models_config_is_read_first(tmp_path):
    (tmp_path / "config.json").write_text(
        '{"num_hidden_layers": 3, "hidden_size": 8, "intermediate_size": 16, "vocab_size": 10}'
    )
    shape = model_shape("hub:google-bert/bert-base-multilingual-cased", tmp_path)
    assert (shape.layers, shape.encoder_weights) == (3, 3 * (4 * 64 + 2 * 8 * 16))


def test_an_unknown_unprepared_model_says_how_to_prepare_it(tmp_path):
    with pytest.raises(ValueError, match="prepare the model first"):
        model_shape("hub:someone/some-encoder", tmp_path / "m")


@pytest.mark.parametrize(
    ("settings", "passes"),
    [
        ({"kind": "baseline"}, 1),
        ({"kind": "synonym_augmentation", "copies": 3}, 1),
        ({"kind": "random_perturbation", "sigma": 0.1}, 1),
        ({"kind": "random_perturbation", "sigma": 0.1, "draws": 4}, 4),
        ({"kind": "adversarial", "epsilon": 0.1, "steps": 3}, 4),
        ({"kind": "adversarial", "epsilon": 0.1, "steps": 3, "clean_loss": True}, 5),
        ({"kind": "freelb", "epsilon": 0.1, "steps": 2}, 2),
    ],
)
def test_each_method_counts_its_forward_and_backward_passes(settings, passes):
    assert make_method(settings).passes() == passes


def _paper_tiny() -> dict:
    return cost_plan.load_configuration([str(REPO / "presets" / "paper-tiny.yaml")])


def test_a_training_jobs_compute_by_hand(tmp_path):
    """paper-tiny's PGD-3 run on PAWS-X: 120 steps of 16 pairs, every pair at the 32-token bound, 4 passes of
    forward and backward (3 forward-equivalents each), and dev (60 pairs) after every 20 steps."""
    jobs, _ = cost_plan.grid_jobs(_paper_tiny(), tmp_path)
    job = next(j for j in jobs if j.rule == "train" and j.name == "pawsx/mbert/adversarial@epsilon=0.05/seed1")
    shape = model_shape("tiny:bert", tmp_path)
    forward = 2 * shape.encoder_weights + 2 * shape.layers * 32 * shape.hidden
    expected = 120 * 16 * 32 * forward * 3 * 4 + math.ceil(120 / 20) * 60 * 32 * forward
    assert job.flops == pytest.approx(expected)
    assert job.rows == 240 + 60


def test_the_grid_has_every_run_evaluation_and_premise(tmp_path):
    """paper-tiny: 2 tasks × 2 models × (8 methods, 4 of them sweeping 2 strengths) trainings on its one seed,
    one evaluation per method, one premise job per task and model."""
    jobs, _ = cost_plan.grid_jobs(_paper_tiny(), tmp_path)
    counts = {rule: sum(j.rule == rule for j in jobs) for rule in ("train", "evaluate", "premise_pretrained")}
    assert counts == {"train": 4 * 12, "evaluate": 4 * 8, "premise_pretrained": 4}


def test_rs_da_reads_its_copies_and_the_english_set(tmp_path):
    config = _paper_tiny()
    jobs, _ = cost_plan.grid_jobs(config, tmp_path)
    rs_da = next(j for j in jobs if j.name == "xnli/mbert/rs-da/seed1")
    assert rs_da.rows == 240 * 2 + 60 + 240  # 2 copies (paper-tiny's XNLI), dev, English train for the units


def test_the_paper_preset_fits_every_limit_on_the_documented_card(tmp_path):
    """No job of presets/paper.yaml passes its rule's first-attempt limits on the default device class, and
    the grid is the preset's: 5 seeds, sweeps on the first."""
    config = cost_plan.load_configuration([str(REPO / "presets" / "paper.yaml")])
    jobs, _ = cost_plan.grid_jobs(config, tmp_path)
    table = cost_plan.plan_table(jobs, DEVICES[DEFAULT_DEVICE], cost_plan.DEFAULT_UTILISATION, {})
    assert (table["flag"] == "").all(), table[table["flag"] != ""]
    # 2 tasks × 2 models: 6 swept methods × 3 strengths + baseline, RS-DA and LP-FT on seed 1, 9 methods on 4 more.
    assert (table["rule"] == "train").sum() == 4 * (6 * 3 + 3) + 4 * 4 * 9


def test_a_job_past_its_limit_is_flagged(tmp_path):
    jobs, _ = cost_plan.grid_jobs(_paper_tiny(), tmp_path)
    slow_card = cost_plan.Device("a slow card", 0.001, {"fp32": 1.0})
    table = cost_plan.plan_table(jobs[:1], slow_card, 0.5, {})
    assert table["flag"].iloc[0] == "time, device memory"
    lines = cost_plan.summary_lines(table, slow_card, 0.5, {}, {})
    assert any(line.startswith("FLAGGED train") for line in lines)


def test_fit_nonnegative_recovers_a_cost_and_drops_a_negative_term():
    rows = [[1.0, float(r), float(f)] for r, f in [(10, 1e9), (200, 5e9), (40, 2e10), (500, 1e10), (90, 3e9)]]
    seconds = [5 + 0.01 * r + f / 1e9 for _, r, f in rows]
    assert fit_nonnegative(rows, seconds) == pytest.approx([5, 0.01, 1e-9], rel=1e-6)
    # Time falling with rows: no negative cost per row, the fit keeps the other terms.
    assert fit_nonnegative([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]], [3.0, 2.0, 1.0])[1] == 0


def test_calibration_from_benchmark_files_predicts_the_left_out_jobs(tmp_path):
    """Benchmark files whose times follow start-up + rows + FLOPs: the calibrated plan predicts each left-out
    job within a few percent, and says so."""
    jobs, origins = cost_plan.grid_jobs(_paper_tiny(), tmp_path)
    for job in jobs:
        path = tmp_path / "benchmarks" / job.rule / f"{job.name}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        seconds = 7 + 0.002 * job.rows + job.flops / 2e9
        path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:01\t500\n")
    fits = cost_plan.calibrate(jobs, tmp_path / "benchmarks")
    assert set(fits) == {"train", "evaluate", "premise_pretrained"}
    assert all(abs(ratio - 1) < 0.01 for ratio in fits["train"]["ratios"])
    table = cost_plan.plan_table(jobs, DEVICES[DEFAULT_DEVICE], 0.25, fits)
    assert set(table["basis"]) == {"calibrated"}
    lines = cost_plan.summary_lines(table, DEVICES[DEFAULT_DEVICE], 0.25, fits, origins)
    assert any(line.startswith("calibrated train on 48 finished jobs") for line in lines)


def test_the_slurm_profile_sends_exactly_the_encoder_rules_to_gpus():
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    on_gpus = sorted(rule for rule, res in profile["set-resources"].items() if res.get("gpu"))
    assert on_gpus == gpu_rules()
    declared = {
        match.group(1)
        for path in (REPO / "workflow" / "rules").glob("*.smk")
        for match in re.finditer(r"^(?:rule|checkpoint) (\w+):", path.read_text(), re.M)
    }
    assert set(RULE_LIMITS) <= declared


def test_the_command_prints_the_plan(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status = cost_plan.main(["--configfile", "presets/paper.yaml", "--benchmarks", "no-such-dir"])
    out = capsys.readouterr().out
    assert status == 0
    assert "encoder jobs, GPU-hours on this device class:" in out and "| train | 228 |" in out


def test_a_card_resolves_the_precision_as_the_jobs_do():
    """auto is bf16 on cards with native bf16 and fp32 on a V100 (which emulates bf16), where fp16 must be chosen
    to reach the tensor cores: the plan times each job at the precision it will run in."""
    a100, v100 = DEVICES["a100-40gb"], DEVICES["v100-32gb"]
    assert (a100.precision("auto"), v100.precision("auto"), v100.precision("fp16")) == ("bf16", "fp32", "fp16")
    assert v100.precision("bf16") == "fp32" and v100.peak("fp16") > 7 * v100.peak("auto")
