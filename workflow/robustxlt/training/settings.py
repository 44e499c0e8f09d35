"""A run's training settings and their documented defaults, without torch: the rules, the preflight and the
training job all read them from here, so a key the configuration leaves out means the same default everywhere."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingSettings:
    """Optimisation settings; the defaults are the paper's mBERT recipe (docs/paper-choices.md)."""

    learning_rate: float = 2e-5
    # The budget, in passes over the (augmented) English training set; max_steps caps it in optimizer steps.
    epochs: float = 3.0
    max_steps: int | None = None
    # Stop once English dev has not improved by more than the threshold (accuracy, a fraction) for this many
    # consecutive evaluations (None: train the whole budget, as the paper does); the best checkpoint is kept.
    early_stopping_patience: int | None = None
    early_stopping_threshold: float = 0.0
    # Evaluations up to this optimizer step never count toward the patience: a model still leaving its initial loss
    # plateau swings on dev, and a dip there is no sign that it has peaked.
    early_stopping_start: int = 0
    batch_size: int = 8
    gradient_accumulation: int = 4
    # On a GPU, raise the micro-batch to the largest divisor of batch_size × gradient_accumulation that the card's
    # memory holds (robustxlt.training.micro_batch), keeping the effective batch; the log records what ran.
    fit_micro_batch: bool = False
    max_length: int = 128
    eval_every: int = 500
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    freeze_word_embeddings: bool = False
    # Freeze the embedding layer and the bottom N transformer layers (0: none): the backward pass stops there.
    freeze_layers: int = 0
    # Compute the frozen layers' output once per English train and dev example, without their dropout, instead of
    # on every step (robustxlt.training.frozen_prefix); needs freeze_layers.
    cache_frozen_layers: bool = False
    eval_batch_size: int = 64
    length_group_size: int = 50
    log_every: int = 10
    # auto: bf16 autocast where the device computes bf16 natively (models.runtime.resolve_precision), else fp32.
    precision: str = "auto"
    # Save the full training state every N optimizer steps, so that a killed job resumes there (None: never).
    save_every: int | None = None
    # Also save it once this many minutes have passed since the last save (None: by steps only), so that a job
    # killed at a cluster's time limit loses at most that much, however fast its steps are.
    save_every_minutes: float | None = None
    # The units of ε and σ (mean norms at the injection point) are measured on a seeded sample of this many English
    # training pairs (None: all); the same rows in training and in premise_pretrained (docs/methods.md).
    unit_examples: int | None = 10_000

    def __post_init__(self) -> None:
        if self.cache_frozen_layers and not self.freeze_layers:
            raise ValueError(
                "training setting cache_frozen_layers: true needs frozen layers to cache (freeze_layers > 0); "
                "set freeze_layers or cache_frozen_layers: false"
            )

    @classmethod
    def from_dict(cls, values: dict) -> TrainingSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def total_steps(self, steps_per_epoch: int) -> int:
        """Optimizer steps of the budget: `epochs` passes, capped at `max_steps`."""
        steps = math.ceil(self.epochs * steps_per_epoch)
        return min(steps, self.max_steps) if self.max_steps else steps
