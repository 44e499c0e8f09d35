"""The micro-batch chosen for the card: the settings' effective batch (batch_size × gradient_accumulation) kept, the
micro-batch raised to the largest divisor of it whose training step fits in the card's memory, by the cost plan's
memory model (robustxlt.models.shape: AdamW in fp32 plus one micro-batch's activations at max_length). The
paper preset's 8 × 4 (mBERT) and 2 × 16 (XLM-R large) are XTREME's settings for 12-GB cards; on a 40-GB card both
become 32 × 1, fewer and larger kernels for the same optimisation."""

from __future__ import annotations

import dataclasses

from robustxlt.models.shape import ModelShape
from robustxlt.training.settings import TrainingSettings

# Share of the card's memory the estimate may fill: the allocator's fragmentation and the CUDA context take the rest.
HEADROOM = 0.8


def fitted_micro_batch(settings: TrainingSettings, shape: ModelShape, memory_gb: float) -> TrainingSettings:
    """`settings` with the largest micro-batch that divides the effective batch and fits in `memory_gb` (never
    smaller than the configured one, which the user chose to fit)."""
    effective = settings.batch_size * settings.gradient_accumulation
    fitting = [
        size
        for size in range(settings.batch_size, effective + 1)
        if effective % size == 0 and shape.training_bytes(size, settings.max_length) <= HEADROOM * memory_gb * 1e9
    ]
    size = max(fitting, default=settings.batch_size)
    return dataclasses.replace(settings, batch_size=size, gradient_accumulation=effective // size)


def model_shape_of(model) -> ModelShape:
    return ModelShape.from_config(model.config.to_dict(), "the loaded model")
