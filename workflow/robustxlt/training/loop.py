"""Fine-tuning on English with checkpoint selection on English dev: one shared loop for every method."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from robustxlt.data.canonical import read_manifest
from robustxlt.models.batching import EncodedPairs, iterate_batches, length_grouped_batches
from robustxlt.models.loading import describe_model
from robustxlt.models.prediction import accuracy, collapsed, predict
from robustxlt.models.runtime import (
    configure_threads,
    device_description,
    gradient_scaler,
    peak_device_memory_mb,
    resolve_precision,
    seed_everything,
    select_device,
)
from robustxlt.training.encoded import training_sets
from robustxlt.training.frozen_prefix import FrozenPrefix, cache_frozen_layers
from robustxlt.training.injection import perturbable_batch
from robustxlt.training.methods import Baseline, Method, RunContext
from robustxlt.training.micro_batch import fitted_micro_batch, model_shape_of
from robustxlt.training.model_setup import delta_generator, load_model, optimizer_and_schedule, perturbation_units
from robustxlt.training.outputs import JsonLinesLog, publish, save_best_checkpoint
from robustxlt.training.resume import (
    capture_random_streams,
    read_state,
    restore_random_streams,
    run_signature,
    save_due,
    write_state,
)
from robustxlt.training.settings import TrainingSettings

log = logging.getLogger(__name__)


@dataclass
class Run:
    """Everything one training run works with, prepared before the first step."""

    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    precision: str
    settings: TrainingSettings
    objective: Method
    train: EncodedPairs
    dev: EncodedPairs
    total_steps: int
    optimizer: torch.optim.Optimizer
    schedule: object
    unit: float
    generator: torch.Generator
    rng: np.random.Generator
    checkpoint_dir: Path
    trace: JsonLinesLog | None = None
    # Where the full training state is saved every settings.save_every steps, and whose run it is.
    state_file: Path | None = None
    signature: str = ""
    # The frozen layers' cached output (settings.cache_frozen_layers), or None: every step runs the whole model.
    frozen: FrozenPrefix | None = None
    # fp16's dynamic loss scale (None in fp32 and bf16).
    scaler: torch.amp.GradScaler | None = None

    def log_start(self, run_keys: dict, steps_per_epoch: int) -> None:
        """The log's first line: what is trained, how, where, and the perturbation sizes in absolute units."""
        method = {"kind": self.objective.kind, **dataclasses.asdict(self.objective), "perturbation_unit": self.unit}
        self.trace.write(
            "start",
            run=run_keys,
            settings=dataclasses.asdict(self.settings),
            device=str(self.device),
            precision=self.precision,
            hardware=device_description(self.device, self.precision),
            threads=torch.get_num_threads(),
            method=method | self.objective.absolute(self.unit),
            train_examples=len(self.train),
            dev_examples=len(self.dev),
            total_steps=self.total_steps,
            steps_per_epoch=steps_per_epoch,
            trainable_parameters=sum(p.numel() for p in self.model.parameters() if p.requires_grad),
            frozen_layers_cached=self.frozen_layers_cached,
        )
        log.info(
            "training %s: %d examples, %d optimizer steps on %s (%s)",
            run_keys, len(self.train), self.total_steps, self.device, self.precision,
        )  # fmt: skip

    def outcome(self, state: LoopState) -> dict:
        """What the finished run records about itself: settings, the best dev checkpoint, its costs."""
        elapsed = time.perf_counter() - state.started
        return {
            "settings": dataclasses.asdict(self.settings),
            "precision": self.precision,
            "best_step": state.best_step,
            "best_dev_accuracy": state.best_dev_accuracy,
            "dev_collapsed": state.best_collapsed,
            "converged": converged(state, self.settings.eval_every),
            "stopped_early": state.stopped_early,
            "steps_trained": state.step,
            "evaluations": state.evaluations,
            "total_steps": self.total_steps,
            "skipped_updates": state.skipped,
            "train_seconds": elapsed,
            "dev_eval_seconds": state.eval_seconds,
            "seconds_per_step": (elapsed - state.eval_seconds) / max(state.step, 1),
            "injection": self.objective.injection,
            "perturbation_unit": self.unit,
            "frozen_layers_cached": self.frozen_layers_cached,
            "peak_device_memory_mb": peak_device_memory_mb(self.device),
            "hardware": device_description(self.device, self.precision),
        }

    @property
    def frozen_layers_cached(self) -> int:
        """How many bottom layers each step skipped, their output cached (0: none)."""
        return self.frozen.layers if self.frozen else 0


@dataclass
class LoopState:
    """What the loop carries from step to step."""

    step: int = 0
    micro: int = 0
    step_loss: float = 0.0
    running_loss: float = 0.0
    logged_steps: int = 0
    skipped: int = 0
    best_step: int = -1
    best_dev_accuracy: float = -1.0
    best_collapsed: bool = False  # the best checkpoint predicts one class on dev
    evaluations: int = 0
    # English dev evaluations since the last improvement by more than early_stopping_threshold (early stopping).
    stale_evaluations: int = 0
    stopped_early: bool = False
    # The trainable parameters at the best dev step, kept in memory: written once at the end instead of a
    # ~0.5 GB checkpoint per improvement that a later one overwrites unread.
    best_weights: dict[str, torch.Tensor] | None = None
    eval_seconds: float = 0.0
    started: float = dataclasses.field(default_factory=time.perf_counter)
    last_save: float = dataclasses.field(default_factory=time.perf_counter)  # the clock of save_every_minutes
    # The current epoch's batches (None: draw the next epoch's) and how many of them have been consumed.
    epoch_batches: list[np.ndarray] | None = None
    position: int = 0


# LoopState fields saved as they are (the rest: tensors, the batch order, the clock).
_COUNTERS = ("step", "micro", "running_loss", "logged_steps", "skipped", "best_step", "best_dev_accuracy",
             "best_collapsed", "evaluations", "stale_evaluations", "eval_seconds", "position")  # fmt: skip


def save_state(run: Run, state: LoopState) -> None:
    """Everything the next step depends on, replacing the previous save (robustxlt.training.resume)."""
    write_state(
        run.state_file,
        {
            "signature": run.signature,
            "counters": json.dumps({name: getattr(state, name) for name in _COUNTERS}),
            "elapsed": time.perf_counter() - state.started,
            "epoch_batches": None
            if state.epoch_batches is None
            else [torch.from_numpy(b) for b in state.epoch_batches],
            "trained": {n: p.detach() for n, p in run.model.named_parameters() if p.requires_grad},
            "best_weights": state.best_weights,
            "optimizer": run.optimizer.state_dict(),
            "schedule": run.schedule.state_dict(),
            "scaler": run.scaler.state_dict() if run.scaler else None,
            "random": capture_random_streams(run.generator, run.rng),
            "log": run.trace.path.read_text(encoding="utf-8"),
        },
    )


def restore_state(run: Run) -> tuple[LoopState, str]:
    """The loop state to start from and the log so far: the saved state of this very run, else a fresh start."""
    saved = read_state(run.state_file, run.signature) if run.state_file else None
    if saved is None:
        return LoopState(), ""
    state = LoopState(**json.loads(saved["counters"]))
    state.started -= saved["elapsed"]
    state.best_weights = saved["best_weights"]
    if saved["epoch_batches"] is not None:
        state.epoch_batches = [b.numpy() for b in saved["epoch_batches"]]
    with torch.no_grad():
        for name, parameter in run.model.named_parameters():
            if parameter.requires_grad:
                parameter.copy_(saved["trained"][name])
    run.optimizer.load_state_dict(saved["optimizer"])
    run.schedule.load_state_dict(saved["schedule"])
    if run.scaler:
        run.scaler.load_state_dict(saved["scaler"])
    restore_random_streams(saved["random"], run.generator, run.rng)
    log.info("resuming from the state saved at step %d of %d (%s)", state.step, run.total_steps, run.state_file)
    return state, saved["log"]


def evaluate_dev(run: Run, state: LoopState) -> None:
    """English dev accuracy now; keep the checkpoint when it is the best so far."""
    eval_started = time.perf_counter()
    if run.frozen:
        predictions = run.frozen.predict_dev(run.settings.eval_batch_size)
    else:
        predictions = predict(
            run.model, run.dev, run.settings.eval_batch_size, run.tokenizer.pad_token_id, precision=run.precision
        )
    dev_accuracy, dev_collapsed = accuracy(predictions, run.dev.labels), collapsed(predictions)
    improved = dev_accuracy > state.best_dev_accuracy
    significant = dev_accuracy > state.best_dev_accuracy + run.settings.early_stopping_threshold
    state.evaluations += 1
    if improved:
        state.best_step, state.best_dev_accuracy, state.best_collapsed = state.step, dev_accuracy, dev_collapsed
        state.best_weights = {n: p.detach().clone() for n, p in run.model.named_parameters() if p.requires_grad}
    # Early stopping's count starts once dev has improved on its first evaluation (a model still on its initial
    # plateau has not started to learn, and stopping there would compare nothing) and the step is past
    # early_stopping_start (the swings on the way off the plateau are no peak).
    started = state.best_step > run.settings.eval_every and state.step > run.settings.early_stopping_start
    state.stale_evaluations = 0 if significant or not started else state.stale_evaluations + 1
    state.eval_seconds += time.perf_counter() - eval_started
    elapsed = time.perf_counter() - state.started
    run.trace.write(
        "dev",
        step=state.step,
        dev_accuracy=dev_accuracy,
        best=improved,
        collapsed=dev_collapsed,
        elapsed=elapsed,
    )
    log.info(
        "step %d/%d: dev accuracy %.4f%s", state.step, run.total_steps, dev_accuracy, " (best)" if improved else ""
    )


def patience_exhausted(settings: TrainingSettings, state: LoopState) -> bool:
    """Early stopping: English dev has not improved by more than the threshold for `patience` evaluations since it
    left its first evaluation's value and the step passed early_stopping_start (evaluate_dev counts them)."""
    patience = settings.early_stopping_patience
    return patience is not None and state.stale_evaluations >= patience


def converged(state: LoopState, eval_every: int) -> bool:
    """False when the run ended while English dev was still improving: no full evaluation interval without
    improvement followed its best checkpoint. That covers a best checkpoint at the last evaluation, and one at the
    last regular evaluation when the budget ends a few steps later, whose final evaluation cannot show a plateau
    (docs/methods.md, "Training budget and convergence"). A run stopped early has converged."""
    return state.stopped_early or state.step - state.best_step >= eval_every


def is_head_parameter(name: str) -> bool:
    """A weight of the classification head (Hugging Face's `classifier`, and BERT's pooler, which only it reads)."""
    return name.startswith("classifier.") or ".pooler." in name


def optimizer_step(run: Run, state: LoopState) -> bool:
    """Clip and apply the accumulated gradients; skip an update whose gradients are not finite (an overflow,
    e.g. from a large adversarial δ, must not poison the weights; in fp16, the loss scale then halves). True
    when the weights moved."""
    if not getattr(run.objective, "trains_encoder", lambda step: True)(state.step):  # LP-FT's probe: the head only
        for name, parameter in run.model.named_parameters():
            if not is_head_parameter(name):
                parameter.grad = None
    if run.scaler:
        run.scaler.unscale_(run.optimizer)
    grad_norm = torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.settings.max_grad_norm)
    if not torch.isfinite(grad_norm):
        state.skipped += 1
        run.trace.write("skipped", step=state.step, grad_norm=float(grad_norm), loss=state.step_loss)
        if run.scaler:
            run.scaler.update()
        run.optimizer.zero_grad(set_to_none=True)
        state.step_loss = 0.0
        if state.skipped > max(10, run.total_steps // 10):
            raise FloatingPointError(f"{state.skipped} updates with non-finite gradients; lower the learning rate or ε")
        return False
    if run.scaler:
        run.scaler.step(run.optimizer)
        run.scaler.update()
    else:
        run.optimizer.step()
    run.schedule.step()
    run.optimizer.zero_grad(set_to_none=True)
    state.step += 1
    state.running_loss, state.step_loss = state.running_loss + state.step_loss, 0.0
    state.logged_steps += 1
    if state.step % run.settings.log_every == 0 or state.step == run.total_steps:
        run.trace.write(
            "train",
            step=state.step,
            loss=state.running_loss / state.logged_steps,
            lr=run.schedule.get_last_lr()[0],
            grad_norm=float(grad_norm),
            elapsed=time.perf_counter() - state.started,
            **({"loss_scale": run.scaler.get_scale()} if run.scaler else {}),
        )
        state.running_loss, state.logged_steps = 0.0, 0
    return True


def train_steps(run: Run, state: LoopState) -> LoopState:
    """The shared loop: each method back-propagates its loss; accumulation, clipping, the optimizer step, logging,
    English-dev checkpoint selection and saving the state are the same for all. Starts from `state` (a fresh
    one, or a saved one: then mid-epoch, at the batch after the last one it consumed)."""
    settings = run.settings
    accumulation = settings.gradient_accumulation
    pad_id = run.tokenizer.pad_token_id
    context = RunContext(unit=run.unit, generator=run.generator, scale=1.0 / accumulation, scaler=run.scaler)
    while state.step < run.total_steps and not state.stopped_early:
        if state.epoch_batches is None:
            lengths = run.train.lengths()
            state.epoch_batches = length_grouped_batches(
                lengths, settings.batch_size, settings.length_group_size, run.rng
            )
            state.position = 0
        for indices, batch in iterate_batches(run.train, state.epoch_batches[state.position :], pad_id, run.device):
            state.position += 1
            last_hidden = run.frozen.train_batch(indices) if run.frozen else None
            view = perturbable_batch(run.model, batch, run.device, run.objective.injection, run.precision, last_hidden)
            loss = run.objective.backward(view, context)
            state.step_loss += loss / accumulation
            state.micro += 1
            if state.micro % accumulation or not optimizer_step(run, state):
                continue
            if state.step % settings.eval_every == 0 or state.step == run.total_steps:
                evaluate_dev(run, state)
                state.stopped_early = patience_exhausted(settings, state) and state.step < run.total_steps
            if state.step == run.total_steps or state.stopped_early:
                break
            if run.state_file and save_due(settings, state.step, time.perf_counter() - state.last_save):
                save_state(run, state)
                state.last_save = time.perf_counter()
        else:
            state.epoch_batches = None
    return state


def fine_tune(
    model_dir: Path,
    data_dir: Path,
    out_dir: Path,
    log_file: Path,
    settings: TrainingSettings,
    seed: int,
    run: dict,
    method: Method | None = None,
    threads: int = 1,
    train_file: Path | None = None,
    encoded_dir: Path | None = None,
) -> dict:
    """Fine-tune `model_dir` on `data_dir`/train-en.tsv with `method` (default: the baseline); keep the
    checkpoint best on dev-en.tsv as `out_dir`. `train_file` replaces train-en.tsv (RS-DA's augmented copies);
    `encoded_dir` holds English train and dev already tokenised (robustxlt.training.encoded).

    The checkpoint is assembled in `out_dir`.partial and moved into place only when training has finished,
    so an interrupted job never leaves a complete-looking checkpoint.
    """
    configure_threads(threads)
    seed_everything(seed)
    device = select_device()
    precision = resolve_precision(settings.precision, device)
    out_dir, data_dir = Path(out_dir), Path(data_dir)
    manifest = read_manifest(data_dir / "manifest.json")
    objective = method or Baseline()
    model, tokenizer = load_model(model_dir, manifest["labels"], settings, device, precision)
    if settings.fit_micro_batch and device.type == "cuda":
        memory_gb = torch.cuda.get_device_properties(device).total_memory / 1e9
        settings = fitted_micro_batch(settings, model_shape_of(model), memory_gb)
        log.info("micro-batch %d × %d accumulated for this card", settings.batch_size, settings.gradient_accumulation)

    english, train, dev = training_sets(tokenizer, data_dir, settings.max_length, train_file, encoded_dir)
    steps_per_epoch = math.ceil(len(train) / (settings.batch_size * settings.gradient_accumulation))
    total_steps = settings.total_steps(steps_per_epoch)
    optimizer, schedule = optimizer_and_schedule(model, settings, total_steps)
    frozen = cache_frozen_layers(model, settings, objective, train, dev, tokenizer.pad_token_id, precision)
    unit, embedding_unit = perturbation_units(model, objective, english, settings, tokenizer.pad_token_id)

    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    training = Run(
        model=model,
        tokenizer=tokenizer,
        device=device,
        precision=precision,
        settings=settings,
        objective=objective,
        train=train,
        dev=dev,
        total_steps=total_steps,
        optimizer=optimizer,
        schedule=schedule,
        unit=unit,
        generator=delta_generator(seed, device),
        rng=np.random.default_rng(seed),
        checkpoint_dir=partial / "checkpoint",
        state_file=out_dir.with_name(out_dir.name + ".resume.pt"),
        signature=run_signature(run, seed, settings, objective, model_dir, data_dir, train_file, precision, device),
        frozen=frozen,
        scaler=gradient_scaler(device, precision),
    )
    state, earlier = restore_state(training)
    training.trace = JsonLinesLog(Path(log_file), earlier)
    if earlier:
        training.trace.write("resumed", step=state.step)
    else:
        training.log_start(run, steps_per_epoch)
    state = train_steps(training, state)
    save_best_checkpoint(training, state)
    summary = {
        "run": run,
        "seed": seed,
        **training.outcome(state),
        "labels": manifest["labels"],
        # Smoothed prediction perturbs the word embeddings, whatever the training method's injection point.
        "embedding_unit": embedding_unit,
        "model_description": describe_model(model_dir),
        "data_description": manifest["description"],
    }
    publish(summary, training.trace, training.checkpoint_dir, out_dir)
    for saved in (training.state_file, training.state_file.with_name(training.state_file.name + ".tmp")):
        saved.unlink(missing_ok=True)
    return summary
