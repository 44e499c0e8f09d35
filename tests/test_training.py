import json
import shutil

import numpy as np
import pytest
import torch
from robustxlt.evaluation.outcomes import decode_outcomes
from robustxlt.evaluation.zero_shot import EvaluationSet, zero_shot_accuracy
from robustxlt.training.loop import LoopState, TrainingSettings, converged, fine_tune
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification

SETTINGS = TrainingSettings(
    learning_rate=3e-3,
    epochs=100,  # max_steps decides
    max_steps=60,
    batch_size=16,
    gradient_accumulation=2,
    max_length=32,
    eval_every=20,
    log_every=10,
    length_group_size=4,
)
RUN = {"task": "topic", "model": "tiny", "method": "baseline", "seed": 1}


@pytest.fixture(scope="module")
def trained(tiny_model_dir, tiny_task_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "checkpoint"
    log_file = out.parent / "train_log.jsonl"
    summary = fine_tune(tiny_model_dir, tiny_task_dir, out, log_file, SETTINGS, seed=1, run=RUN)
    return out, log_file, summary


def test_checkpoint_is_the_best_on_dev_and_loads_with_from_pretrained(trained):
    out, log_file, summary = trained
    model = AutoModelForSequenceClassification.from_pretrained(out)
    assert model.config.num_labels == 2 and model.config.id2label[1] == "same"
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    dev = [e for e in events if e["event"] == "dev"]
    assert [e["step"] for e in dev] == [20, 40, 60]
    assert summary["best_dev_accuracy"] == max(e["dev_accuracy"] for e in dev)
    assert summary["best_step"] == next(e["step"] for e in dev if e["dev_accuracy"] == summary["best_dev_accuracy"])
    assert [e["step"] for e in events if e["event"] == "train"] == [10, 20, 30, 40, 50, 60]
    assert not any(p.name.endswith((".partial", ".tmp")) for p in out.parent.iterdir())


def test_training_learns_the_fixture_task(trained, tiny_task_dir, tmp_path):
    out, _, summary = trained
    assert summary["best_dev_accuracy"] > 0.8
    (result,) = zero_shot_accuracy(
        out, [EvaluationSet("xx", "xx", tiny_task_dir / "test-xx.tsv")], tmp_path / "eval", RUN
    )
    assert result["n"] == 60 and result["accuracy"] > 0.8
    assert (result["lang1"], result["lang2"]) == ("xx", "xx")
    assert json.loads((tmp_path / "eval" / "xx.json").read_text())["accuracy"] == result["accuracy"]
    assert len((tmp_path / "eval" / "xx.predictions.tsv").read_text().splitlines()) == 61
    correct = decode_outcomes(result["outcomes"], result["n"])
    assert correct.mean() == result["accuracy"]


def test_test_sets_tokenised_once_per_task_give_the_same_results_and_stale_ones_are_refused(
    trained, tiny_model_dir, tiny_task_dir, tmp_path
):
    from robustxlt.evaluation.zero_shot import encode_test_sets

    out, _, _ = trained
    source = tmp_path / "test-xx.tsv"
    source.write_bytes((tiny_task_dir / "test-xx.tsv").read_bytes())
    encode_test_sets(tiny_model_dir, [EvaluationSet("xx", "xx", source)], tmp_path / "encoded", SETTINGS.max_length)
    cached = EvaluationSet("xx", "xx", source, encoded=tmp_path / "encoded" / "xx.npz")
    (from_file,) = zero_shot_accuracy(out, [cached], tmp_path / "a", RUN)
    (tokenised_here,) = zero_shot_accuracy(out, [EvaluationSet("xx", "xx", source)], tmp_path / "b", RUN)
    assert (from_file["accuracy"], from_file["outcomes"]) == (tokenised_here["accuracy"], tokenised_here["outcomes"])
    # Written with another max_length, or from a source file edited since: refused, naming the file and the fix.
    encode_test_sets(tiny_model_dir, [EvaluationSet("xx", "xx", source)], tmp_path / "short", 16)
    with pytest.raises(ValueError, match=r"short/xx.npz was tokenised with another max_length.*delete it"):
        zero_shot_accuracy(out, [EvaluationSet("xx", "xx", source, tmp_path / "short" / "xx.npz")], tmp_path / "c", RUN)
    # Tokenised by another tokenizer (two words' ids swapped): the spot check of the first pairs refuses it.
    other = tmp_path / "other-tokenizer"
    shutil.copytree(tiny_model_dir, other)
    definition = json.loads((other / "tokenizer.json").read_text())
    vocab = definition["model"]["vocab"]
    first, second = source.read_text().splitlines()[1].split()[:2]
    vocab[first], vocab[second] = vocab[second], vocab[first]
    (other / "tokenizer.json").write_text(json.dumps(definition))
    encode_test_sets(other, [EvaluationSet("xx", "xx", source)], tmp_path / "other", SETTINGS.max_length)
    with pytest.raises(ValueError, match="another tokenizer"):
        zero_shot_accuracy(out, [EvaluationSet("xx", "xx", source, tmp_path / "other" / "xx.npz")], tmp_path / "e", RUN)
    source.write_text(source.read_text().replace("\t1\n", "\t0\n", 1))
    with pytest.raises(ValueError, match="another source_sha256"):
        zero_shot_accuracy(out, [cached], tmp_path / "d", RUN)
    assert not any((tmp_path / name).exists() for name in "cde")


def test_the_shared_tokenised_training_set_is_what_each_training_reads(
    trained, tiny_model_dir, tiny_task_dir, tmp_path
):
    """English train and dev tokenised once (rule encode_training_sets) train the same weights as tokenising them
    in the training; an encoding of another data file is refused before any step, naming the file and the fix."""
    from robustxlt.training.encoded import encode_training_sets

    encode_training_sets(tiny_model_dir, tiny_task_dir, tmp_path / "encoded", SETTINGS.max_length)
    assert sorted(p.name for p in (tmp_path / "encoded").iterdir()) == ["dev-en.npz", "train-en.npz"]
    out, _, summary = trained
    shared = fine_tune(
        tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", SETTINGS, seed=1, run=RUN,
        encoded_dir=tmp_path / "encoded",
    )  # fmt: skip
    assert shared["best_dev_accuracy"] == summary["best_dev_accuracy"]
    first, second = load_file(out / "model.safetensors"), load_file(tmp_path / "ckpt" / "model.safetensors")
    assert all(torch.equal(first[k], second[k]) for k in first)
    edited = tmp_path / "edited"
    shutil.copytree(tiny_task_dir, edited)
    (edited / "train-en.tsv").write_text((edited / "train-en.tsv").read_text().replace("\t1\n", "\t0\n", 1))
    with pytest.raises(ValueError, match=r"encoded/train-en.npz was tokenised with another source_sha256.*delete it"):
        fine_tune(tiny_model_dir, edited, tmp_path / "c2", tmp_path / "l2.jsonl", SETTINGS, seed=1, run=RUN,
                  encoded_dir=tmp_path / "encoded")  # fmt: skip
    assert not (tmp_path / "c2").exists()


def test_same_seed_gives_identical_weights_on_cpu(trained, tiny_model_dir, tiny_task_dir, tmp_path):
    out, _, summary = trained
    again = fine_tune(
        tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", SETTINGS, seed=1, run=RUN
    )
    assert again["best_dev_accuracy"] == summary["best_dev_accuracy"]
    first, second = load_file(out / "model.safetensors"), load_file(tmp_path / "ckpt" / "model.safetensors")
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_interrupted_training_leaves_no_checkpoint(tiny_model_dir, tiny_task_dir, tmp_path, monkeypatch):
    import robustxlt.training.loop as training

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training.torch.nn.utils, "clip_grad_norm_", crash)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", SETTINGS, seed=1, run=RUN)
    assert not (tmp_path / "ckpt").exists()


def test_frozen_word_embeddings_do_not_move(tiny_model_dir, tiny_task_dir, tmp_path):
    settings = TrainingSettings(
        **{**SETTINGS.__dict__, "max_steps": 5, "eval_every": 5, "freeze_word_embeddings": True}
    )
    fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", settings, seed=1, run=RUN)
    before = load_file(tiny_model_dir / "model.safetensors")
    after = load_file(tmp_path / "ckpt" / "model.safetensors")
    key = next(k for k in before if k.endswith("word_embeddings.weight"))
    assert torch.equal(before[key], after[next(k for k in after if k.endswith("word_embeddings.weight"))])


def test_unknown_training_setting_is_named():
    with pytest.raises(ValueError, match="lr"):
        TrainingSettings.from_dict({"lr": 1e-3})


def test_smoothed_prediction_is_reported_beside_the_plain_one(trained, tiny_task_dir, tmp_path):
    out, _, _ = trained
    run = {**RUN, "lang1": "xx", "lang2": "xx"}
    off = {"draws": 5, "sigma": 0.0, "distribution": "gaussian"}
    test_sets = [EvaluationSet("xx", "xx", tiny_task_dir / "test-xx.tsv")]
    (result,) = zero_shot_accuracy(out, test_sets, tmp_path / "a", run, smoothing=off)
    assert result["smoothed_accuracy"] == result["accuracy"]  # σ = 0: every vote is the plain prediction
    header = (tmp_path / "a" / "xx.predictions.tsv").read_text().splitlines()[0].split("\t")
    assert header == ["index", "prediction", "smoothed_prediction", "label"]
    noisy = {"draws": 9, "sigma": 20.0, "distribution": "gaussian"}
    (first,) = zero_shot_accuracy(out, test_sets, tmp_path / "b", run, smoothing=noisy)
    (again,) = zero_shot_accuracy(out, test_sets, tmp_path / "c", run, smoothing=noisy)
    predictions = {d: (tmp_path / d / "xx.predictions.tsv").read_text() for d in "bc"}
    assert predictions["b"] == predictions["c"]  # seeded votes
    assert first["smoothing"]["sigma_absolute"] > 0 and 0 <= first["smoothed_accuracy"] <= 1
    assert first["smoothed_accuracy"] == again["smoothed_accuracy"]
    # Large noise moves some votes away from the plain prediction.
    rows = [line.split("\t") for line in predictions["b"].splitlines()[1:]]
    assert any(r[1] != r[2] for r in rows)


def test_max_length_beyond_the_model_positions_is_refused_before_training(tiny_model_dir, tiny_task_dir, tmp_path):
    settings = TrainingSettings(**{**SETTINGS.__dict__, "max_length": 128})  # the tiny model has 64 positions
    with pytest.raises(ValueError, match="max_length=128"):
        fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", settings, seed=1, run=RUN)
    assert not (tmp_path / "ckpt").exists() and not (tmp_path / "log.jsonl").exists()


def test_a_constant_classifier_is_flagged_collapsed(trained, tiny_task_dir, tmp_path):
    from robustxlt.models.prediction import collapsed

    assert collapsed(np.array([1, 1, 1])) and not collapsed(np.array([1, 0, 1])) and not collapsed(np.array([0]))
    out, log_file, summary = trained
    (result,) = zero_shot_accuracy(out, [EvaluationSet("xx", "xx", tiny_task_dir / "test-xx.tsv")], tmp_path, RUN)
    assert result["collapsed"] is False and summary["dev_collapsed"] is False
    assert result["train_precision"] == summary["precision"] and result["eval_precision"] in ("fp32", "bf16")
    assert result["train_device"] == summary["hardware"]["name"] and result["train_peak_device_memory_mb"] is None
    dev = [json.loads(line) for line in log_file.read_text().splitlines() if '"dev"' in line]
    assert all(isinstance(e["collapsed"], bool) for e in dev)
    # A classifier whose bias dominates predicts one class everywhere: flagged, whatever its accuracy.
    model = AutoModelForSequenceClassification.from_pretrained(out)
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([0.0, 1e4]))
    constant = tmp_path / "constant"
    model.save_pretrained(constant)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "robustxlt_training.json"):
        if (out / name).exists():
            (constant / name).write_bytes((out / name).read_bytes())
    (flat,) = zero_shot_accuracy(
        constant, [EvaluationSet("xx", "xx", tiny_task_dir / "test-xx.tsv")], tmp_path / "c", RUN
    )
    assert flat["collapsed"] is True and flat["accuracy"] == pytest.approx(0.5, abs=0.1)


def test_frozen_bottom_layers_do_not_move_and_the_top_does(tiny_model_dir, tiny_task_dir, tmp_path):
    settings = TrainingSettings(**{**SETTINGS.__dict__, "max_steps": 5, "eval_every": 5, "freeze_layers": 1})
    fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", settings, seed=1, run=RUN)
    before = load_file(tiny_model_dir / "model.safetensors")
    after = {k.removeprefix("bert."): v for k, v in load_file(tmp_path / "ckpt" / "model.safetensors").items()}
    frozen = [k for k in before if k.startswith(("embeddings.", "encoder.layer.0."))]
    trained = [k for k in before if k.startswith("encoder.layer.1.")]
    assert frozen and trained
    assert all(torch.equal(before[k], after[k]) for k in frozen)
    assert not all(torch.equal(before[k], after[k]) for k in trained)
    with pytest.raises(ValueError, match="freeze_layers=3 exceeds the 2 layers"):
        fine_tune(
            tiny_model_dir,
            tiny_task_dir,
            tmp_path / "c2",
            tmp_path / "l2.jsonl",
            TrainingSettings(**{**SETTINGS.__dict__, "freeze_layers": 3}),
            seed=1,
            run=RUN,
        )


def test_the_checkpoint_holds_the_best_dev_step_weights(tiny_model_dir, tiny_task_dir, tmp_path, monkeypatch):
    """The best step's weights are kept in memory and written once at the end: the checkpoint has the weights of
    the best dev step, not the last step's."""
    import robustxlt.training.loop as training

    snapshots, original = {}, training.evaluate_dev

    def recording(run, state):
        original(run, state)
        snapshots[state.step] = {n: p.detach().clone() for n, p in run.model.named_parameters()}

    monkeypatch.setattr(training, "evaluate_dev", recording)
    summary = fine_tune(
        tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", SETTINGS, seed=1, run=RUN
    )
    saved = load_file(tmp_path / "ckpt" / "model.safetensors")
    best, last = snapshots[summary["best_step"]], snapshots[max(snapshots)]
    assert summary["best_step"] < max(snapshots)  # the fixture's best dev step is not the last one
    assert all(torch.equal(saved[name], best[name]) for name in best if name in saved)
    assert not all(torch.equal(saved[name], last[name]) for name in last if name in saved)


def _log(log_file, kind):
    return [e for e in map(json.loads, log_file.read_text().splitlines()) if e["event"] == kind]


def test_a_run_cut_short_while_english_dev_rises_is_flagged_not_converged(tiny_model_dir, tiny_task_dir, tmp_path):
    short = TrainingSettings(**{**SETTINGS.__dict__, "max_steps": 30, "eval_every": 5})
    summary = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "a", tmp_path / "a.jsonl", short, seed=1, run=RUN)
    dev = [e["dev_accuracy"] for e in _log(tmp_path / "a.jsonl", "dev")]
    assert dev[-1] > max(dev[:-1]) and summary["best_step"] == summary["steps_trained"] == 30
    assert summary["converged"] is False and summary["stopped_early"] is False
    (end,) = _log(tmp_path / "a.jsonl", "end")
    assert end["converged"] is False


def test_a_best_step_just_before_the_budgets_end_is_not_a_plateau():
    # eval_every 50, a 504-step budget: a best checkpoint at step 500 is followed only by the final evaluation at
    # 504, which cannot show that English dev stopped improving; one at 450 is followed by a full interval.
    assert converged(LoopState(step=504, best_step=500), eval_every=50) is False
    assert converged(LoopState(step=504, best_step=504), eval_every=50) is False
    assert converged(LoopState(step=504, best_step=450), eval_every=50) is True
    assert converged(LoopState(step=300, best_step=290, stopped_early=True), eval_every=5) is True


def test_early_stopping_ends_on_the_plateau_keeps_the_best_checkpoint_and_converges(
    tiny_model_dir, tiny_task_dir, tmp_path
):
    settings = TrainingSettings(
        **{**SETTINGS.__dict__, "max_steps": 600, "eval_every": 5, "early_stopping_patience": 3}
    )
    summary = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", settings, 1, RUN)
    dev = _log(tmp_path / "log.jsonl", "dev")
    assert summary["stopped_early"] is True and summary["converged"] is True
    assert summary["steps_trained"] < 600 and summary["total_steps"] == 600
    # Stopped at the third evaluation without improvement; the checkpoint is the best one, not the last.
    best = max(e["dev_accuracy"] for e in dev)
    assert summary["best_dev_accuracy"] == best and summary["best_step"] == [e for e in dev if e["best"]][-1]["step"]
    assert [e["step"] for e in dev][-1] == summary["steps_trained"] == summary["best_step"] + 3 * 5
    assert all(e["dev_accuracy"] <= best for e in dev[-3:])
    # A threshold above what the last evaluations gained stops at least as early.
    lenient = TrainingSettings(**{**settings.__dict__, "early_stopping_threshold": 0.05})
    other = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "c2", tmp_path / "log2.jsonl", lenient, 1, RUN)
    assert other["steps_trained"] <= summary["steps_trained"]
    # With early_stopping_start at the step where that run stopped, evaluations up to it never count: the run goes
    # on past it and stops only after three evaluations without improvement beyond it.
    start = summary["steps_trained"]
    late = TrainingSettings(**{**settings.__dict__, "early_stopping_start": start})
    later = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "c3", tmp_path / "log3.jsonl", late, 1, RUN)
    assert later["stopped_early"] is True and later["steps_trained"] == max(start, later["best_step"]) + 3 * 5


def test_epochs_are_the_budget_and_max_steps_caps_it(tiny_model_dir, tiny_task_dir, tmp_path):
    # 400 training pairs in batches of 16 x 2: 13 optimizer steps per epoch.
    by_epochs = TrainingSettings(**{**SETTINGS.__dict__, "epochs": 2.0, "max_steps": None, "eval_every": 100})
    summary = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "a", tmp_path / "a.jsonl", by_epochs, 1, RUN)
    assert summary["total_steps"] == summary["steps_trained"] == 26
    capped = TrainingSettings(**{**by_epochs.__dict__, "max_steps": 7})
    assert capped.total_steps(13) == 7 and by_epochs.total_steps(13) == 26


def test_early_stopping_waits_until_english_dev_leaves_its_first_plateau(tiny_model_dir, tiny_task_dir, tmp_path):
    """The tiny model sits at chance for its first evaluations: patience counts only once dev has improved."""
    settings = TrainingSettings(
        **{**SETTINGS.__dict__, "max_steps": 200, "eval_every": 2, "early_stopping_patience": 3}
    )
    summary = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "ckpt", tmp_path / "log.jsonl", settings, 1, RUN)
    dev = [e["dev_accuracy"] for e in _log(tmp_path / "log.jsonl", "dev")]
    assert dev[:4] == [0.5] * 4  # four evaluations without improvement on the initial plateau: no stop there
    assert summary["stopped_early"] and summary["best_dev_accuracy"] > 0.9
