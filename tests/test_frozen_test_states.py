"""The test sets' frozen-layer states (rule frozen_test_states): an evaluation and the premise measurement from them
give what the whole encoder gives, and a checkpoint whose frozen weights moved is refused."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch
from robustxlt.evaluation.frozen_test_states import write_frozen_test_states
from robustxlt.evaluation.premise_pretrained import premise_pretrained
from robustxlt.evaluation.zero_shot import EvaluationSet, encode_test_sets, zero_shot_accuracy
from robustxlt.models.batching import load_encoded
from robustxlt.models.frozen_layers import FrozenTestStates
from robustxlt.training.loop import TrainingSettings, fine_tune

# fp32 on every CPU: `auto` is bf16 where the CPU computes it, and the states compared here are fp32.
SETTINGS = TrainingSettings(
    learning_rate=3e-3, epochs=100, max_steps=20, batch_size=16, max_length=32, eval_every=10, log_every=10,
    freeze_layers=1, cache_frozen_layers=True, precision="fp32",
)  # fmt: skip
RUN = {"task": "topic", "model": "tiny", "method": "baseline", "seed": 1}


@pytest.fixture(scope="module")
def test_sets(tiny_model_dir, tiny_task_dir, tmp_path_factory):
    """English and a second language's test sets (sentence 2 and 1 swapped: other tokens, the same labels)."""
    directory = tmp_path_factory.mktemp("sets")
    lines = (tiny_task_dir / "test-en.tsv").read_text().splitlines()
    header, rows = lines[0], [line.split("\t") for line in lines[1:]]
    columns = header.split("\t")
    a, b = columns.index("sentence1"), columns.index("sentence2")
    for row in rows:
        row[a], row[b] = row[b], row[a]
    (directory / "test-xx.tsv").write_text("\n".join([header, *("\t".join(r) for r in rows)]) + "\n")
    sets = [
        EvaluationSet("en", "en", tiny_task_dir / "test-en.tsv"),
        EvaluationSet("xx", "xx", directory / "test-xx.tsv"),
    ]
    encode_test_sets(tiny_model_dir, sets, directory / "encoded", SETTINGS.max_length)
    return [dataclasses.replace(s, encoded=directory / "encoded" / f"{s.name}.npz") for s in sets]


@pytest.fixture(scope="module")
def states(tiny_model_dir, test_sets, tmp_path_factory):
    """fp32 on every CPU (`auto` is bf16 where the CPU computes it): the premise reads only fp32 states."""
    out = tmp_path_factory.mktemp("frozen") / "states"
    meta = write_frozen_test_states(
        tiny_model_dir, test_sets, out, layers=1, max_length=SETTINGS.max_length, precision="fp32"
    )
    assert meta["sets"]["en"]["tokens"] == int(load_encoded(test_sets[0].encoded)[0].lengths().sum())
    return out


@pytest.fixture(scope="module")
def zeroed(states, tmp_path_factory):
    """The same states with every vector zero: what reads them cannot give the whole encoder's results."""
    out = tmp_path_factory.mktemp("zeroed") / "states"
    shutil.copytree(states, out)
    for path in out.glob("*.npy"):
        np.save(path, np.zeros_like(np.load(path)))
    return out


def _train(tiny_model_dir, tiny_task_dir, out, settings=SETTINGS):
    fine_tune(tiny_model_dir, tiny_task_dir, out, out.parent / "log.jsonl", settings, seed=1, run=RUN)
    return out


def test_an_evaluation_from_the_states_gives_the_whole_encoders_results(
    tiny_model_dir, tiny_task_dir, test_sets, states, zeroed, tmp_path
):
    checkpoint = _train(tiny_model_dir, tiny_task_dir, tmp_path / "run" / "checkpoint")
    whole = zero_shot_accuracy(checkpoint, test_sets, tmp_path / "whole", RUN, precision="fp32")
    cached = zero_shot_accuracy(checkpoint, test_sets, tmp_path / "cached", RUN, precision="fp32", frozen_states=states)
    assert [r["outcomes"] for r in cached] == [r["outcomes"] for r in whole]
    assert 0.5 < whole[0]["accuracy"] < 1.0  # the comparison is between predictions that vary
    for name in ("en", "xx"):
        assert (tmp_path / "cached" / f"{name}.predictions.tsv").read_text() == (
            tmp_path / "whole" / f"{name}.predictions.tsv"
        ).read_text()
    # The states are what the cached evaluation reads: zeroed, they change its predictions.
    read = zero_shot_accuracy(checkpoint, test_sets, tmp_path / "zeroed", RUN, precision="fp32", frozen_states=zeroed)
    assert read[0]["outcomes"] != whole[0]["outcomes"]
    premise = [json.loads((tmp_path / d / "premise.json").read_text())["languages"]["xx"] for d in ("whole", "cached")]
    assert premise[0]["consistency_outcomes"] == premise[1]["consistency_outcomes"]
    assert premise[0]["hidden"]["token_q50"] > 1e-3  # swapping the sentences moves the contextual vectors
    for key, value in premise[0]["hidden"].items():
        assert premise[1]["hidden"][key] == pytest.approx(value, rel=1e-4, abs=1e-5)


def test_a_checkpoint_whose_frozen_layers_moved_is_refused(tiny_model_dir, tiny_task_dir, test_sets, states, tmp_path):
    unfrozen = dataclasses.replace(SETTINGS, freeze_layers=0, cache_frozen_layers=False)
    checkpoint = _train(tiny_model_dir, tiny_task_dir, tmp_path / "run" / "checkpoint", unfrozen)
    with pytest.raises(ValueError, match="differ from the weights the frozen states in .* were computed with"):
        zero_shot_accuracy(checkpoint, test_sets, tmp_path / "eval", RUN, precision="fp32", frozen_states=states)
    assert not (tmp_path / "eval").exists()
    with pytest.raises(ValueError, match="evaluated in bf16, but the frozen states in .* were computed in fp32"):
        FrozenTestStates.open(states).check(torch.nn.Identity(), "a model", "bf16")


def test_the_premise_of_the_pretrained_encoder_from_the_states(tiny_model_dir, tiny_task_dir, test_sets, states,
                                                               zeroed, tmp_path):  # fmt: skip
    run = {"task": "topic", "model": "tiny", "method": "pretrained"}
    train = tiny_task_dir / "train-en.tsv"
    whole = premise_pretrained(tiny_model_dir, train, test_sets, tmp_path / "a.json", run, SETTINGS.max_length)
    cached = premise_pretrained(
        tiny_model_dir, train, test_sets, tmp_path / "b.json", run, SETTINGS.max_length, frozen_states=states
    )
    assert cached["units"] == whole["units"]
    read = premise_pretrained(
        tiny_model_dir, train, test_sets, tmp_path / "c.json", run, SETTINGS.max_length, frozen_states=zeroed
    )
    assert read["languages"]["xx"]["hidden"]["token_q50"] != pytest.approx(
        whole["languages"]["xx"]["hidden"]["token_q50"]
    )
    for point in ("embeddings", "hidden"):
        for key, value in whole["languages"]["xx"][point].items():
            assert cached["languages"]["xx"][point][key] == pytest.approx(value, rel=1e-4, abs=1e-5)


def test_states_that_do_not_fit_the_token_ids_are_refused(test_sets, states):
    data, _ = load_encoded(test_sets[1].encoded)
    shorter = dataclasses.replace(data, input_ids=[ids[:-1] for ids in data.input_ids])
    with pytest.raises(ValueError, match="delete .* and rerun"):
        FrozenTestStates.open(states).load("en", shorter)
    rows = FrozenTestStates.open(states).load("en", load_encoded(test_sets[0].encoded)[0]).rows
    assert len(rows) == 60 and all(bool(torch.isfinite(row).all()) for row in rows)


def test_states_too_large_for_the_disk_are_refused_before_any_is_computed(
    tiny_model_dir, test_sets, tmp_path, monkeypatch
):
    from robustxlt.evaluation import frozen_test_states

    monkeypatch.setattr(frozen_test_states, "MAX_STATES_BYTES", 1000)
    with pytest.raises(ValueError, match="GiB on disk .* set cache_frozen_layers to false"):
        write_frozen_test_states(tiny_model_dir, test_sets, tmp_path / "states", layers=1, max_length=32)
    assert not list(tmp_path.iterdir())  # nothing written
