"""The frozen bottom of the encoder, run once per example instead of once per step.

With `freeze_layers: N` the embedding layer and the bottom N transformer layers never change, so their output for an
example changes only through their dropout. With `cache_frozen_layers: true` a training run computes that output once
for every English train and dev example, in eval mode (the frozen layers then act as a fixed feature extractor,
without dropout), and every step and English dev evaluation runs only the layers above it
(benchmarks/frozen_prefix.py measured a training step 1.41x and an inference batch 1.98x faster with 6 of 12 layers
frozen). δ can then be added only above the cached layers: at the last hidden states (`injection: hidden`), or
nowhere (the baseline, RS-DA). A method that perturbs the word embeddings trains without the cache, and its training
log says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch

from robustxlt.models.batching import EncodedPairs
from robustxlt.models.frozen_layers import frozen_states, predict_from_states, upper_layers
from robustxlt.training.methods import Baseline, Method
from robustxlt.training.settings import TrainingSettings

log = logging.getLogger(__name__)

# The cache lives in memory (fp32); a larger one is refused before it is computed.
MAX_CACHE_BYTES = 8 * 2**30


class FrozenPrefix:
    """A model split at its frozen layers, with the bottom's output cached for the English train and dev sets."""

    def __init__(self, model: torch.nn.Module, layers: int, train: EncodedPairs, dev: EncodedPairs, pad_id: int,
                 batch_size: int, precision: str):  # fmt: skip
        self.model, self.layers, self.precision = model, layers, precision
        self.device = next(model.parameters()).device
        self.train = frozen_states(model, layers, train, pad_id, batch_size, precision)
        self.dev = frozen_states(model, layers, dev, pad_id, batch_size, precision)

    def train_batch(self, indices: np.ndarray) -> Callable[[], torch.Tensor]:
        """The last hidden states of a training batch as a function (each call runs the trained layers anew, with
        the graph), for robustxlt.training.injection.perturbable_batch."""
        states, mask = self.train.batch(indices, self.device)
        return lambda: upper_layers(self.model, self.layers, states, mask)

    def predict_dev(self, batch_size: int) -> np.ndarray:
        """Predicted label ids on English dev, in its order, from the cached states."""
        return predict_from_states(self.model, self.layers, self.dev, batch_size, self.precision)[0]


def perturbs_below(objective: Method) -> bool:
    """Whether a method adds δ to the word embeddings, i.e. below the frozen layers (the baseline and RS-DA add
    none, whatever their nominal injection point)."""
    return objective.injection == "embeddings" and not isinstance(objective, Baseline)


def cache_frozen_layers(
    model: torch.nn.Module,
    settings: TrainingSettings,
    objective: Method,
    train: EncodedPairs,
    dev: EncodedPairs,
    pad_id: int,
    precision: str,
) -> FrozenPrefix | None:
    """The run's frozen prefix with its cache when the settings ask for it and the method allows it, else None.
    Refuses a cache larger than MAX_CACHE_BYTES before computing it."""
    if not settings.cache_frozen_layers:
        return None
    if perturbs_below(objective):
        log.info("cache_frozen_layers: not used, %s adds δ to the word embeddings below the frozen layers",
                 objective.kind)  # fmt: skip
        return None
    tokens = int(train.lengths().sum() + dev.lengths().sum())
    size = tokens * model.config.hidden_size * 4
    if size > MAX_CACHE_BYTES:
        raise ValueError(
            f"training setting cache_frozen_layers: the frozen layers' output for {tokens:,} English train and dev "
            f"tokens would take {size / 2**30:.1f} GiB of memory (at most {MAX_CACHE_BYTES / 2**30:.0f}); set "
            "cache_frozen_layers to false"
        )
    return FrozenPrefix(model, settings.freeze_layers, train, dev, pad_id, settings.eval_batch_size, precision)
