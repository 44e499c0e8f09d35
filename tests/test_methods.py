"""The robust objectives inside the shared training loop: their degenerate settings equal the baseline
exactly, their real settings do not, and their settings are checked."""

import json

import pytest
import torch
from robustxlt.training.loop import TrainingSettings, fine_tune
from robustxlt.training.methods import make_method
from safetensors.torch import load_file

SETTINGS = TrainingSettings(
    learning_rate=3e-3,
    epochs=100,  # max_steps decides
    max_steps=6,
    batch_size=16,
    gradient_accumulation=2,
    max_length=32,
    eval_every=6,
    log_every=3,
    length_group_size=4,
)


def train(method, tiny_model_dir, tiny_task_dir, directory):
    run = {"task": "topic", "model": "tiny", "method": method["kind"], "seed": 3}
    fine_tune(
        tiny_model_dir,
        tiny_task_dir,
        directory / "ckpt",
        directory / "log.jsonl",
        SETTINGS,
        seed=3,
        run=run,
        method=make_method(method),
    )
    return load_file(directory / "ckpt" / "model.safetensors"), directory / "log.jsonl"


@pytest.fixture(scope="module")
def baseline(tiny_model_dir, tiny_task_dir, tmp_path_factory):
    return train({"kind": "baseline"}, tiny_model_dir, tiny_task_dir, tmp_path_factory.mktemp("baseline"))[0]


def same_weights(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "method",
    [
        {"kind": "adversarial", "steps": 0, "epsilon": 1.0},
        {"kind": "random_perturbation", "sigma": 0.0},
        {"kind": "freelb", "steps": 1, "random_init": False},
        {"kind": "adversarial", "steps": 0, "epsilon": 1.0, "injection": "hidden"},
        {"kind": "random_perturbation", "sigma": 0.0, "injection": "hidden"},
        {"kind": "freelb", "steps": 1, "random_init": False, "injection": "hidden"},
        {"kind": "consistency", "sigma": 0.5, "weight": 0.0},
        {"kind": "consistency", "sigma": 0.5, "weight": 0.0, "injection": "hidden"},
    ],
    ids=[
        "pgd-k0", "rs-rp-sigma0", "freelb-k1-zero-init", "hidden-pgd-k0", "hidden-rs-rp-sigma0", "hidden-freelb-k1",
        "r3f-weight0", "hidden-r3f-weight0",
    ],
)  # fmt: skip
def test_degenerate_settings_equal_the_baseline_exactly(method, baseline, tiny_model_dir, tiny_task_dir, tmp_path):
    weights, _ = train(method, tiny_model_dir, tiny_task_dir, tmp_path)
    assert same_weights(weights, baseline)


@pytest.mark.parametrize(
    "method",
    [
        {"kind": "adversarial", "steps": 2, "epsilon": 1.0, "step_size": 0.5},
        {"kind": "random_perturbation", "sigma": 0.5},
        {"kind": "freelb", "steps": 2, "epsilon": 1.0, "step_size": 0.5},
        {"kind": "adversarial", "steps": 2, "epsilon": 1.0, "step_size": 0.5, "injection": "hidden"},
        {"kind": "random_perturbation", "sigma": 0.5, "injection": "hidden"},
        {"kind": "consistency", "sigma": 0.5, "weight": 1.0},
        {"kind": "consistency", "sigma": 0.5, "weight": 1.0, "injection": "hidden"},
    ],
    ids=["pgd-k2", "rs-rp", "freelb-k2", "hidden-pgd-k2", "hidden-rs-rp", "r3f", "hidden-r3f"],
)
def test_real_settings_change_training_and_log_absolute_sizes(
    method, baseline, tiny_model_dir, tiny_task_dir, tmp_path
):
    weights, log_file = train(method, tiny_model_dir, tiny_task_dir, tmp_path)
    assert not same_weights(weights, baseline)
    start = json.loads(log_file.read_text().splitlines()[0])
    unit = start["method"]["perturbation_unit"]
    assert unit > 0
    if method["kind"] in ("random_perturbation", "consistency"):
        assert start["method"]["sigma_absolute"] == pytest.approx(0.5 * unit)
    else:
        assert start["method"]["epsilon_absolute"] == pytest.approx(1.0 * unit)
        assert start["method"]["step_size_absolute"] == pytest.approx(0.5 * unit)


def test_same_seed_same_adversarial_run(tiny_model_dir, tiny_task_dir, tmp_path):
    method = {"kind": "adversarial", "steps": 2, "random_init": True}
    first, _ = train(method, tiny_model_dir, tiny_task_dir, tmp_path / "a")
    second, _ = train(method, tiny_model_dir, tiny_task_dir, tmp_path / "b")
    assert same_weights(first, second)


def test_unknown_method_settings_are_named():
    with pytest.raises(ValueError, match="sigma"):
        make_method({"kind": "adversarial", "sigma": 0.1})
    with pytest.raises(ValueError, match="unknown method kind"):
        make_method({"kind": "magic"})


def test_hidden_injection_measures_its_unit_on_the_hidden_states(tiny_model_dir, tiny_task_dir, tmp_path):
    _, embeddings_log = train(
        {"kind": "random_perturbation", "sigma": 0.5}, tiny_model_dir, tiny_task_dir, tmp_path / "e"
    )
    method = {"kind": "random_perturbation", "sigma": 0.5, "injection": "hidden"}
    _, hidden_log = train(method, tiny_model_dir, tiny_task_dir, tmp_path / "h")
    embeddings_start = json.loads(embeddings_log.read_text().splitlines()[0])["method"]
    hidden_start = json.loads(hidden_log.read_text().splitlines()[0])["method"]
    assert hidden_start["injection"] == "hidden"
    # The tiny BERT's last layer ends in a LayerNorm: its token norms are about sqrt(hidden size), unlike
    # the small random token embeddings.
    assert hidden_start["perturbation_unit"] != pytest.approx(embeddings_start["perturbation_unit"], rel=0.1)
    assert hidden_start["sigma_absolute"] == pytest.approx(0.5 * hidden_start["perturbation_unit"])


def test_consistency_learns_and_its_penalty_is_the_symmetric_kl(tiny_model_dir, tiny_task_dir, tmp_path):
    """R3F on the tiny task learns as the baseline does; the penalty is KL both ways, 0 for equal predictions."""
    from robustxlt.training.methods import symmetric_kl

    logits = torch.tensor([[2.0, -1.0], [0.5, 0.5]])
    assert symmetric_kl(logits, logits).item() == pytest.approx(0.0, abs=1e-7)
    p, q = torch.softmax(logits, -1), torch.softmax(logits.flip(-1), -1)
    by_hand = ((p * (p / q).log()).sum(-1) + (q * (q / p).log()).sum(-1)).mean()
    assert symmetric_kl(logits, logits.flip(-1)).item() == pytest.approx(by_hand.item(), rel=1e-5)
    settings = TrainingSettings(learning_rate=3e-3, epochs=100, max_steps=60, batch_size=16, gradient_accumulation=1,
                                max_length=32, eval_every=20, log_every=20, length_group_size=4)  # fmt: skip
    run = {"task": "topic", "model": "tiny", "method": "consistency", "seed": 3}
    method = make_method({"kind": "consistency", "sigma": 0.3, "weight": 1.0})
    summary = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "c", tmp_path / "l.jsonl", settings, 3, run, method)
    assert summary["best_dev_accuracy"] >= 0.8 and method.passes() == 2


def test_lp_ft_probes_with_the_encoder_fixed_then_fine_tunes_everything(tiny_model_dir, tiny_task_dir, tmp_path):
    """During its probe steps only the classification head (BERT: classifier and pooler) moves; afterwards the
    encoder moves too; with no probe steps it is the baseline, bit for bit."""
    from transformers import AutoModel

    pretrained = {f"bert.{k}": v for k, v in AutoModel.from_pretrained(tiny_model_dir).state_dict().items()}
    encoder = [k for k in pretrained if ".pooler." not in k and "position_ids" not in k]
    probe, _ = train({"kind": "lp_ft", "probe_steps": 6}, tiny_model_dir, tiny_task_dir, tmp_path / "probe")
    assert all(torch.equal(probe[k], pretrained[k]) for k in encoder)
    assert not torch.equal(probe["bert.pooler.dense.weight"], pretrained["bert.pooler.dense.weight"])
    both, _ = train({"kind": "lp_ft", "probe_steps": 3}, tiny_model_dir, tiny_task_dir, tmp_path / "both")
    assert not all(torch.equal(both[k], pretrained[k]) for k in encoder)
    none, _ = train({"kind": "lp_ft", "probe_steps": 0}, tiny_model_dir, tiny_task_dir, tmp_path / "none")
    assert same_weights(none, train({"kind": "baseline"}, tiny_model_dir, tiny_task_dir, tmp_path / "b")[0])
