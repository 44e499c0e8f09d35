import json

import numpy as np
import pytest
import torch
from robustxlt.data.canonical import Pair
from robustxlt.models.batching import encode_pairs, iterate_batches, sorted_batches
from robustxlt.models.frozen_layers import upper_layers
from robustxlt.models.prediction import predict
from robustxlt.models.tiny import write_model
from robustxlt.training import frozen_prefix
from robustxlt.training.frozen_prefix import FrozenPrefix
from robustxlt.training.loop import TrainingSettings, fine_tune
from robustxlt.training.methods import make_method
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification, AutoTokenizer

SETTINGS = TrainingSettings(
    learning_rate=3e-3,
    max_steps=60,
    batch_size=16,
    gradient_accumulation=2,
    max_length=32,
    eval_every=20,
    length_group_size=4,
    freeze_layers=1,
    cache_frozen_layers=True,
)
RUN = {"task": "topic", "model": "tiny", "method": "baseline", "seed": 1}


@pytest.mark.parametrize("architecture", ["bert", "xlm-roberta"])
def test_the_cached_bottom_and_the_layers_above_give_the_encoders_own_last_hidden_states(architecture, tmp_path):
    model_dir = write_model(tmp_path / architecture, architecture)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2).eval()
    pairs = [("a short one", "and its partner sentence here"), ("x", "y"), ("three words here", "two more")]
    data = encode_pairs(tokenizer, [Pair(a, b, 0) for a, b in pairs], 32)
    prefix = FrozenPrefix(model, 1, data, data, tokenizer.pad_token_id, batch_size=2, precision="fp32")
    for indices, batch in iterate_batches(data, sorted_batches(data.lengths(), 3), tokenizer.pad_token_id, "cpu"):
        batch.pop("labels")
        with torch.no_grad():
            expected = model.base_model(**batch).last_hidden_state
            states, mask = prefix.train.batch(indices, torch.device("cpu"))
            cached = upper_layers(model, 1, states, mask)
        assert torch.equal(mask, batch["attention_mask"])  # padded to the same width, the same rows real
        real = mask.bool()
        assert torch.allclose(cached[real], expected[real], atol=1e-5)
    assert np.array_equal(prefix.predict_dev(batch_size=2), predict(model, data, 2, tokenizer.pad_token_id))


def test_training_with_cached_frozen_layers_learns_keeps_them_frozen_and_is_deterministic(
    tiny_model_dir, tiny_task_dir, tmp_path
):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name / "checkpoint"
        summary = fine_tune(tiny_model_dir, tiny_task_dir, out, out.parent / "log.jsonl", SETTINGS, seed=1, run=RUN)
        runs.append((out, summary))
    (out, summary), (again, _) = runs
    assert summary["frozen_layers_cached"] == 1
    assert summary["best_dev_accuracy"] > 0.7  # chance is 0.5; half the tiny encoder is frozen
    start = json.loads((out.parent / "log.jsonl").read_text().splitlines()[0])
    assert start["frozen_layers_cached"] == 1
    before = load_file(tiny_model_dir / "model.safetensors")
    after = load_file(out / "model.safetensors")
    assert all(torch.equal(before[k], after[f"bert.{k}"]) for k in before if k.startswith("encoder.layer.0."))
    assert not all(torch.equal(before[k], after[f"bert.{k}"]) for k in before if k.startswith("encoder.layer.1."))
    repeated = load_file(again / "model.safetensors")
    assert all(torch.equal(after[k], repeated[k]) for k in after)


@pytest.mark.parametrize(
    ("method", "cached"),
    [
        ({"kind": "adversarial", "epsilon": 0.1, "step_size": 0.1, "steps": 1, "injection": "hidden"}, 1),
        ({"kind": "random_perturbation", "sigma": 0.1, "injection": "hidden"}, 1),
        ({"kind": "adversarial", "epsilon": 0.1, "step_size": 0.1, "steps": 1}, 0),  # δ below the frozen layers
    ],
)
def test_the_cache_serves_methods_that_perturb_above_the_frozen_layers_only(
    method, cached, tiny_model_dir, tiny_task_dir, tmp_path
):
    settings = TrainingSettings(**{**SETTINGS.__dict__, "max_steps": 4, "eval_every": 4})
    out = tmp_path / "checkpoint"
    objective = make_method(method)
    summary = fine_tune(tiny_model_dir, tiny_task_dir, out, tmp_path / "log.jsonl", settings, 1, RUN, objective)
    assert summary["frozen_layers_cached"] == cached
    assert summary["skipped_updates"] == 0 and np.isfinite(summary["best_dev_accuracy"])


def test_a_cache_without_frozen_layers_or_beyond_memory_is_refused_before_training(
    tiny_model_dir, tiny_task_dir, tmp_path, monkeypatch
):
    with pytest.raises(ValueError, match="cache_frozen_layers: true needs frozen layers to cache"):
        TrainingSettings(cache_frozen_layers=True)
    monkeypatch.setattr(frozen_prefix, "MAX_CACHE_BYTES", 1000)
    with pytest.raises(ValueError, match=r"cache_frozen_layers: the frozen layers' output for [\d,]+ English train"):
        fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "c", tmp_path / "log.jsonl", SETTINGS, seed=1, run=RUN)
    assert not (tmp_path / "c").exists() and not (tmp_path / "log.jsonl").exists()
