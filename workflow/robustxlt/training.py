"""Fine-tuning on English with checkpoint selection on English dev: one shared loop for every method."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from robustxlt.batching import encode_pairs, iterate_batches, length_grouped_batches
from robustxlt.canonical import read_manifest, read_pairs
from robustxlt.evaluation import accuracy, predict
from robustxlt.injection import loss_functions, mean_hidden_norm
from robustxlt.methods import make_method
from robustxlt.models import describe_model
from robustxlt.perturbation import mean_token_norm
from robustxlt.runtime import configure_threads, seed_everything, select_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingSettings:
    """Optimisation settings; the defaults are the paper's mBERT recipe (PAPER.md)."""

    learning_rate: float = 2e-5
    epochs: float = 3.0
    max_steps: int | None = None
    batch_size: int = 8
    gradient_accumulation: int = 4
    max_length: int = 128
    eval_every: int = 500
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    freeze_word_embeddings: bool = False
    eval_batch_size: int = 64
    length_group_size: int = 50
    log_every: int = 10

    @classmethod
    def from_dict(cls, values: dict) -> TrainingSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)


class JsonLinesLog:
    """Append-only JSON-lines training log (one event per line, flushed at once so progress is visible)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "w", encoding="utf-8")

    def write(self, event: str, **fields) -> None:
        self._file.write(json.dumps({"event": event, **fields}) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _optimizer_and_schedule(model: torch.nn.Module, settings: TrainingSettings, total_steps: int):
    from transformers import get_linear_schedule_with_warmup

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        params, lr=settings.learning_rate, eps=settings.adam_epsilon, weight_decay=settings.weight_decay
    )
    warmup = int(settings.warmup_ratio * total_steps)
    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, total_steps)


def _save_checkpoint(model, tokenizer, directory: Path) -> None:
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(tmp, directory)


def fine_tune(
    model_dir: Path,
    data_dir: Path,
    out_dir: Path,
    log_file: Path,
    settings: TrainingSettings,
    seed: int,
    run: dict,
    method: dict | None = None,
    threads: int = 1,
    train_file: Path | None = None,
) -> dict:
    """Fine-tune `model_dir` on `data_dir`/train-en.tsv with `method` (default: the baseline); keep the
    checkpoint best on dev-en.tsv as `out_dir`. `train_file` replaces train-en.tsv (RS-DA's augmented copies).

    The checkpoint is assembled in `out_dir`.partial and moved into place only when training has finished,
    so an interrupted job never leaves a complete-looking checkpoint.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    configure_threads(threads)
    seed_everything(seed)
    device = select_device()
    out_dir, data_dir = Path(out_dir), Path(data_dir)
    manifest = read_manifest(data_dir / "manifest.json")
    labels = manifest["labels"]

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    ).to(device)
    if settings.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    model.train()
    # Longer inputs would index past the position embeddings, possibly hours into a run: refuse now.
    max_positions = min(tokenizer.model_max_length, getattr(model.config, "max_position_embeddings", math.inf))
    if settings.max_length > max_positions:
        raise ValueError(
            f"training setting max_length={settings.max_length} exceeds what {model_dir} accepts ({max_positions}); "
            "lower training.max_length"
        )

    english = encode_pairs(tokenizer, read_pairs(data_dir / "train-en.tsv"), settings.max_length)
    train = encode_pairs(tokenizer, read_pairs(train_file), settings.max_length) if train_file else english
    dev = encode_pairs(tokenizer, read_pairs(data_dir / "dev-en.tsv"), settings.max_length)
    steps_per_epoch = math.ceil(len(train) / (settings.batch_size * settings.gradient_accumulation))
    total_steps = settings.max_steps or math.ceil(settings.epochs * steps_per_epoch)
    optimizer, schedule = _optimizer_and_schedule(model, settings, total_steps)
    rng = np.random.default_rng(seed)
    objective = make_method(method or {"kind": "baseline"})
    # The unit of ε and σ, from the original English train file (so RS-DA's copies do not change the scale):
    # the mean norm of its tokens' embeddings, or of its tokens' last hidden states in the pretrained encoder.
    embedding_unit = mean_token_norm(
        model.get_input_embeddings().weight, torch.tensor(sorted({i for ids in english.input_ids for i in ids}))
    )
    if objective.injection == "hidden":
        unit = mean_hidden_norm(model, english, settings.eval_batch_size, tokenizer.pad_token_id)
    else:
        unit = embedding_unit
    # δ draws get their own generator, seeded apart from torch's global one (dropout), so the two never
    # share a random stream and δ draws never shift the dropout masks.
    generator = torch.Generator(device=device).manual_seed(int(np.random.SeedSequence([seed, 1]).generate_state(1)[0]))

    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    trace = JsonLinesLog(Path(log_file))
    trace.write(
        "start",
        run=run,
        settings=dataclasses.asdict(settings),
        device=str(device),
        threads=torch.get_num_threads(),
        method={
            "kind": objective.kind,
            **dataclasses.asdict(objective),
            "perturbation_unit": unit,
            **objective.absolute(unit),
        },
        train_examples=len(train),
        dev_examples=len(dev),
        total_steps=total_steps,
        steps_per_epoch=steps_per_epoch,
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
    )
    log.info("training %s: %d examples, %d optimizer steps on %s", run, len(train), total_steps, device)

    best = {"step": -1, "dev_accuracy": -1.0}
    started = time.perf_counter()
    step, micro, step_loss, running_loss, logged_steps, eval_seconds, skipped = 0, 0, 0.0, 0.0, 0, 0.0, 0

    def evaluate_dev() -> None:
        nonlocal eval_seconds
        eval_started = time.perf_counter()
        dev_accuracy = accuracy(predict(model, dev, settings.eval_batch_size, tokenizer.pad_token_id), dev.labels)
        improved = dev_accuracy > best["dev_accuracy"]
        if improved:
            best.update(step=step, dev_accuracy=dev_accuracy)
            _save_checkpoint(model, tokenizer, partial / "checkpoint")
        eval_seconds += time.perf_counter() - eval_started
        trace.write("dev", step=step, dev_accuracy=dev_accuracy, best=improved, elapsed=time.perf_counter() - started)
        log.info("step %d/%d: dev accuracy %.4f%s", step, total_steps, dev_accuracy, " (best)" if improved else "")

    while step < total_steps:
        batches = length_grouped_batches(train.lengths(), settings.batch_size, settings.length_group_size, rng)
        for _, batch in iterate_batches(train, batches, tokenizer.pad_token_id, device):
            loss_of, embed = loss_functions(model, batch, device, objective.injection)
            step_loss += (
                objective.backward(
                    loss_of, embed, batch["attention_mask"], 1.0 / settings.gradient_accumulation, unit, generator
                )
                / settings.gradient_accumulation
            )
            micro += 1
            if micro % settings.gradient_accumulation:
                continue
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
            if not torch.isfinite(grad_norm):
                # An overflow (e.g. a large adversarial δ) must not poison the weights: skip this update.
                skipped += 1
                trace.write("skipped", step=step, grad_norm=float(grad_norm), loss=step_loss)
                optimizer.zero_grad(set_to_none=True)
                step_loss = 0.0
                if skipped > max(10, total_steps // 10):
                    raise FloatingPointError(
                        f"{skipped} updates with non-finite gradients; lower the learning rate or ε"
                    )
                continue
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running_loss, step_loss, logged_steps = running_loss + step_loss, 0.0, logged_steps + 1
            if step % settings.log_every == 0 or step == total_steps:
                trace.write(
                    "train",
                    step=step,
                    loss=running_loss / logged_steps,
                    lr=schedule.get_last_lr()[0],
                    grad_norm=float(grad_norm),
                    elapsed=time.perf_counter() - started,
                )
                running_loss, logged_steps = 0.0, 0
            if step % settings.eval_every == 0 or step == total_steps:
                evaluate_dev()
            if step == total_steps:
                break

    elapsed = time.perf_counter() - started
    summary = {
        "run": run,
        "seed": seed,
        "settings": dataclasses.asdict(settings),
        "best_step": best["step"],
        "best_dev_accuracy": best["dev_accuracy"],
        "total_steps": total_steps,
        "skipped_updates": skipped,
        "train_seconds": elapsed,
        "dev_eval_seconds": eval_seconds,
        "seconds_per_step": (elapsed - eval_seconds) / total_steps,
        "labels": labels,
        "injection": objective.injection,
        "perturbation_unit": unit,
        # Smoothed prediction perturbs the word embeddings, whatever the training method's injection point.
        "embedding_unit": embedding_unit,
        "model_description": describe_model(model_dir),
        "data_description": manifest["description"],
    }
    (partial / "checkpoint" / "robustxlt_training.json").write_text(json.dumps(summary, indent=2) + "\n")
    trace.write("end", **{k: v for k, v in summary.items() if k not in ("run", "settings")})
    trace.close()
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(partial / "checkpoint", out_dir)
    partial.rmdir()
    return summary
