"""A training job killed with SIGKILL resumes from its last saved state and ends bit-identical to a run that was
never interrupted (weights, dev accuracies, best checkpoint)."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from robustxlt.training.loop import TrainingSettings, fine_tune
from safetensors.torch import load_file

SETTINGS = TrainingSettings(
    learning_rate=3e-3,
    epochs=100,  # max_steps decides
    max_steps=150,
    batch_size=8,
    gradient_accumulation=2,
    max_length=32,
    eval_every=25,
    log_every=10,
    length_group_size=4,
    save_every=10,
)
RUN = {"task": "topic", "model": "tiny", "method": "baseline", "seed": 3}
TRAIN = """
import json, sys
from pathlib import Path
from robustxlt.training.loop import TrainingSettings, fine_tune
model, data, out, log, settings = sys.argv[1:]
fine_tune(Path(model), Path(data), Path(out), Path(log), TrainingSettings(**json.loads(settings)), seed=3,
          run=json.loads('{run}'))
""".replace("{run}", json.dumps(RUN))


def events(log_file, kind):
    return [e for e in map(json.loads, log_file.read_text().splitlines()) if e["event"] == kind]


@pytest.mark.slow("a real training process killed with SIGKILL, then resumed: about 15 s each")
@pytest.mark.parametrize(
    "saves",
    [{"save_every": 10}, {"save_every": None, "save_every_minutes": 0.001}],
    ids=["every-10-steps", "every-60-ms-of-wall-clock"],
)
def test_a_training_killed_with_sigkill_resumes_and_ends_bit_identical(tiny_model_dir, tiny_task_dir, tmp_path, saves):
    """Killed after a save by steps, or after one by wall-clock (as a job at a cluster's time limit)."""
    settings = dataclasses.replace(SETTINGS, **saves)
    whole = fine_tune(
        tiny_model_dir, tiny_task_dir, tmp_path / "a" / "checkpoint", tmp_path / "a.jsonl", settings, 3, RUN
    )
    assert not (tmp_path / "a" / "checkpoint.resume.pt").exists()  # removed once the run is published

    out, log_file = tmp_path / "b" / "checkpoint", tmp_path / "b.jsonl"
    state_file = out.with_name("checkpoint.resume.pt")
    args = [tiny_model_dir, tiny_task_dir, out, log_file, json.dumps(dataclasses.asdict(settings))]
    process = subprocess.Popen(
        [sys.executable, "-c", TRAIN, *map(str, args)], env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    deadline = time.monotonic() + 120
    while not state_file.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # a few steps past the save: those are lost and redone
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert state_file.exists() and not out.exists()
    saved_at = json.loads(torch.load(state_file, weights_only=False)["counters"])["step"]

    resumed = fine_tune(tiny_model_dir, tiny_task_dir, out, log_file, settings, 3, RUN)
    (restart,) = events(log_file, "resumed")
    assert 0 < restart["step"] == saved_at < settings.max_steps
    assert restart["step"] % (settings.save_every or 1) == 0
    strip = lambda e: {k: v for k, v in e.items() if k != "elapsed"}  # noqa: E731
    assert [strip(e) for e in events(log_file, "dev")] == [strip(e) for e in events(tmp_path / "a.jsonl", "dev")]
    assert [strip(e) for e in events(log_file, "train")] == [strip(e) for e in events(tmp_path / "a.jsonl", "train")]
    for key in ("best_step", "best_dev_accuracy", "dev_collapsed", "skipped_updates"):
        assert resumed[key] == whole[key]
    first, second = load_file(tmp_path / "a" / "checkpoint" / "model.safetensors"), load_file(out / "model.safetensors")
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    assert not state_file.exists()


def test_a_saved_state_of_other_settings_or_unreadable_is_ignored(tiny_model_dir, tiny_task_dir, tmp_path, caplog):
    settings = dataclasses.replace(SETTINGS, max_steps=20)
    out, log_file = tmp_path / "checkpoint", tmp_path / "log.jsonl"
    reference = fine_tune(tiny_model_dir, tiny_task_dir, out, log_file, settings, 3, RUN)
    # Keep a state of step 10 by saving it under another name before the run removes it.
    from robustxlt.training import loop as training

    saved = {}
    original = training.save_state
    training.save_state = lambda run, state: (
        original(run, state),
        saved.setdefault("bytes", run.state_file.read_bytes()),
    )
    try:
        fine_tune(tiny_model_dir, tiny_task_dir, out, log_file, settings, 3, RUN)
    finally:
        training.save_state = original
    state_file = out.with_name("checkpoint.resume.pt")
    # Another learning rate: the state is not this run's; it starts over and says so.
    state_file.write_bytes(saved["bytes"])
    other = dataclasses.replace(settings, learning_rate=1e-3)
    fine_tune(tiny_model_dir, tiny_task_dir, out, log_file, other, 3, RUN)
    assert not events(log_file, "resumed") and "belongs to another run" in caplog.text
    # A truncated file: ignored with a warning, never a crash.
    state_file.write_bytes(saved["bytes"][:1000])
    again = fine_tune(tiny_model_dir, tiny_task_dir, out, log_file, settings, 3, RUN)
    assert not events(log_file, "resumed") and "cannot be read" in caplog.text
    assert again["best_dev_accuracy"] == reference["best_dev_accuracy"]
    # The same settings with another save_every: resumed.
    state_file.write_bytes(saved["bytes"])
    fine_tune(tiny_model_dir, tiny_task_dir, out, log_file, dataclasses.replace(settings, save_every=5), 3, RUN)
    assert [e["step"] for e in events(log_file, "resumed")] == [10]


def test_saving_the_state_changes_nothing_in_the_run(tiny_model_dir, tiny_task_dir, tmp_path):
    settings = dataclasses.replace(SETTINGS, max_steps=30, save_every=7)
    summary = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "c", tmp_path / "log.jsonl", settings, 3, RUN)
    plain = fine_tune(
        tiny_model_dir, tiny_task_dir, tmp_path / "d", tmp_path / "plain.jsonl",
        dataclasses.replace(settings, save_every=None), 3, RUN,
    )  # fmt: skip
    assert summary["best_dev_accuracy"] == plain["best_dev_accuracy"]
    first, second = load_file(tmp_path / "c" / "model.safetensors"), load_file(tmp_path / "d" / "model.safetensors")
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_only_locks_of_a_run_gone_from_this_host_are_removed(tmp_path, monkeypatch):
    import socket

    from robustxlt.pipeline import recovery

    monkeypatch.chdir(tmp_path)
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    for name in ("0.input.lock", "0.output.lock", "1.output.lock", "2.output.lock"):
        (locks / name).write_text("results/x\n")
    recovery.record_run([str(locks / "0.input.lock"), str(locks / "0.output.lock")])  # this live process
    records = tmp_path / recovery.RECORDS
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    (records / f"{host}-{dead.pid}.json").write_text(
        json.dumps({"host": host, "pid": dead.pid, "started": 0.0, "locks": [str(locks / "1.output.lock")]})
    )
    (records / "elsewhere-1.json").write_text(  # another host sharing the directory: never touched
        json.dumps({"host": "elsewhere", "pid": 1, "started": 0.0, "locks": [str(locks / "2.output.lock")]})
    )
    assert recovery.clear_stale_locks() == [str(locks / "1.output.lock")]
    assert sorted(p.name for p in locks.iterdir()) == ["0.input.lock", "0.output.lock", "2.output.lock"]
    recovery.forget_run()
    assert sorted(p.name for p in records.iterdir()) == ["elsewhere-1.json"]


def interrupted_then_resumed(monkeypatch, crash_at: int, model_dir, data_dir, out, log_file, settings) -> dict:
    """A training interrupted before optimizer step `crash_at`, then run again: the summary of the resumed run."""
    from robustxlt.training import loop as training

    original = training.optimizer_step

    def crash(run, state):
        if state.step == crash_at:
            raise KeyboardInterrupt
        return original(run, state)

    monkeypatch.setattr(training, "optimizer_step", crash)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(model_dir, data_dir, out, log_file, settings, 3, RUN)
    monkeypatch.setattr(training, "optimizer_step", original)
    resumed = fine_tune(model_dir, data_dir, out, log_file, settings, 3, RUN)
    assert events(log_file, "resumed")
    return resumed


@pytest.mark.parametrize("cached", [False, True], ids=["whole-model", "frozen-layers-cached"])
def test_a_resumed_run_with_early_stopping_ends_identical(tiny_model_dir, tiny_task_dir, tmp_path, monkeypatch, cached):
    """The early-stopping state (evaluations since the last improvement) is saved and restored with the rest; with
    the frozen layers' output cached, the cache is computed anew and the run still ends identical."""

    settings = dataclasses.replace(SETTINGS, max_steps=300, eval_every=5, save_every=5, early_stopping_patience=3)
    if cached:
        settings = dataclasses.replace(settings, freeze_layers=1, cache_frozen_layers=True)
    whole = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "a" / "ckpt", tmp_path / "a.jsonl", settings, 3, RUN)
    assert whole["stopped_early"] and whole["steps_trained"] > 20
    crash_at = whole["steps_trained"] - 3  # after the patience counter started and a state was saved
    out, log_file = tmp_path / "b" / "ckpt", tmp_path / "b.jsonl"
    resumed = interrupted_then_resumed(monkeypatch, crash_at, tiny_model_dir, tiny_task_dir, out, log_file, settings)
    for key in ("best_step", "best_dev_accuracy", "steps_trained", "stopped_early", "converged", "evaluations"):
        assert resumed[key] == whole[key], key
    strip = lambda e: {k: v for k, v in e.items() if k != "elapsed"}  # noqa: E731
    assert [strip(e) for e in events(log_file, "dev")] == [strip(e) for e in events(tmp_path / "a.jsonl", "dev")]
    first, second = load_file(tmp_path / "a" / "ckpt" / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_fp16_training_learns_and_a_resumed_run_ends_identical(tiny_model_dir, tiny_task_dir, tmp_path, monkeypatch):
    """fp16 (chosen for cards without native bf16) trains under a dynamic loss scale that the log records and the
    saved state keeps: a run interrupted after a save resumes and ends identical to one never interrupted."""
    from robustxlt.training import loop as training

    # A scale that moves within 60 steps (overflows halve it, every 8 clean steps double it), so that a resumed run
    # that lost it would end elsewhere; the default starts at 2^16 and grows every 2,000 steps.
    monkeypatch.setattr(
        training,
        "gradient_scaler",
        lambda device, precision: torch.amp.GradScaler(device.type, init_scale=2.0**18, growth_interval=8),
    )
    settings = dataclasses.replace(SETTINGS, max_steps=60, eval_every=20, precision="fp16")
    whole = fine_tune(tiny_model_dir, tiny_task_dir, tmp_path / "a" / "ckpt", tmp_path / "a.jsonl", settings, 3, RUN)
    assert whole["precision"] == "fp16" and whole["best_dev_accuracy"] > 0.7
    scales = [e["loss_scale"] for e in events(tmp_path / "a.jsonl", "train")]
    assert len(scales) == 6 and len(set(scales)) > 1 and events(tmp_path / "a.jsonl", "skipped")
    out, log_file = tmp_path / "b" / "ckpt", tmp_path / "b.jsonl"
    resumed = interrupted_then_resumed(monkeypatch, 35, tiny_model_dir, tiny_task_dir, out, log_file, settings)
    assert resumed["best_dev_accuracy"] == whole["best_dev_accuracy"]
    assert [e["loss_scale"] for e in events(log_file, "train")] == scales
    first, second = load_file(tmp_path / "a" / "ckpt" / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.equal(first[k], second[k]) for k in first)
