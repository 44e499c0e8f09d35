"""The premise through the real code paths: an evaluation job measures a planted shift (a 'language' whose rows are
English's: no shift, full consistency) from its own forward passes; the pretrained encoder's job gives the units
training uses; aggregation writes premise.csv in those units; the premise table and figure render from it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from robustxlt.data.canonical import Pair, read_pairs, write_pairs
from robustxlt.evaluation.outcomes import decode_outcomes
from robustxlt.evaluation.premise_pretrained import premise_pretrained
from robustxlt.evaluation.zero_shot import EvaluationSet, zero_shot_accuracy
from robustxlt.models.perturbation import mean_token_norm
from robustxlt.training.loop import TrainingSettings, fine_tune

SETTINGS = TrainingSettings(
    learning_rate=3e-3, epochs=100, max_steps=4, batch_size=16, max_length=32, eval_every=2, log_every=2
)
RUN = {"task": "topic", "model": "tiny", "method": "baseline", "seed": 1}


@pytest.fixture(scope="module")
def planted(tiny_task_dir, tmp_path_factory):
    """Test sets: en, `de` = English's rows (no shift), `fr` = English's rows with sentence 2 reversed."""
    directory = tmp_path_factory.mktemp("planted")
    english = read_pairs(tiny_task_dir / "test-en.tsv")
    shutil.copy(tiny_task_dir / "test-en.tsv", directory / "test-en.tsv")
    shutil.copy(tiny_task_dir / "test-en.tsv", directory / "test-de.tsv")
    reversed_rows = [Pair(p.sentence1, " ".join(reversed(p.sentence2.split())), p.label, p.id) for p in english]
    write_pairs(directory / "test-fr.tsv", reversed_rows)
    return [EvaluationSet(lang, lang, directory / f"test-{lang}.tsv") for lang in ("de", "en", "fr")]


@pytest.fixture(scope="module")
def checkpoint(tiny_model_dir, tiny_task_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "checkpoint"
    fine_tune(tiny_model_dir, tiny_task_dir, out, out.parent / "train_log.jsonl", SETTINGS, seed=1, run=RUN)
    return out


def test_an_evaluation_measures_a_planted_shift_from_its_own_forward_passes(checkpoint, planted, tmp_path):
    results = zero_shot_accuracy(checkpoint, planted, tmp_path / "eval", RUN)
    plain = zero_shot_accuracy(checkpoint, planted, tmp_path / "plain", RUN, premise=False)
    # Same predictions with and without the measurement, results in the order asked (English measured first).
    assert [r["lang1"] for r in results] == ["de", "en", "fr"]
    assert [r["outcomes"] for r in results] == [r["outcomes"] for r in plain]
    assert not (tmp_path / "plain" / "premise.json").exists()
    premise = json.loads((tmp_path / "eval" / "premise.json").read_text())
    assert premise["method"] == "baseline" and set(premise["languages"]) == {"de", "fr"}
    copy, moved = premise["languages"]["de"], premise["languages"]["fr"]
    assert copy["rows"] == moved["rows"] == 60
    for point in ("embeddings", "hidden"):
        assert copy[point]["token_q90"] == pytest.approx(0.0, abs=1e-4)
        assert copy[point]["sentence_q90"] == pytest.approx(0.0, abs=1e-4)
        assert premise["mean_token_norm"][point] > 0
    # Reversing sentence 2 keeps its words (embeddings: no token shift; the mean pools alike) but moves the
    # contextual vectors (positions).
    assert moved["embeddings"]["token_q90"] == pytest.approx(0.0, abs=1e-4)
    assert moved["hidden"]["token_q50"] > 1e-3
    assert copy["consistency"] == 1.0 and decode_outcomes(copy["consistency_outcomes"], 60).all()
    same = decode_outcomes(moved["consistency_outcomes"], 60)
    assert same.mean() == pytest.approx(moved["consistency"])


def test_the_pretrained_job_gives_the_units_training_uses(tiny_model_dir, tiny_task_dir, planted, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    out = tmp_path / "premise_pretrained.json"
    summary = premise_pretrained(
        tiny_model_dir, tiny_task_dir / "train-en.tsv", planted, out, {"task": "topic", "model": "tiny"}, 32
    )
    assert json.loads(out.read_text()) == summary
    tokenizer, encoder = AutoTokenizer.from_pretrained(tiny_model_dir), AutoModel.from_pretrained(tiny_model_dir)
    train = read_pairs(tiny_task_dir / "train-en.tsv")
    train_ids = tokenizer([p.sentence1 for p in train], [p.sentence2 for p in train])["input_ids"]
    vocabulary = torch.tensor(sorted({i for row in train_ids for i in row}))
    assert summary["units"]["embeddings"] == pytest.approx(
        mean_token_norm(encoder.get_input_embeddings().weight, vocabulary)
    )
    assert summary["units"]["hidden"] > 0
    assert summary["languages"]["de"]["hidden"]["token_q90"] == pytest.approx(0.0, abs=1e-4)
    assert "consistency" not in summary["languages"]["de"]
    assert np.isfinite(summary["mean_token_norm"]["hidden"])
