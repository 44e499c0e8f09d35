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
from dataclasses import dataclass

import numpy as np
import torch

from robustxlt.models.batching import EncodedPairs, iterate_batches, sorted_batches
from robustxlt.models.runtime import autocast, evaluation_mode
from robustxlt.training.injection import classification_head
from robustxlt.training.methods import Baseline, Method
from robustxlt.training.settings import TrainingSettings

log = logging.getLogger(__name__)

# The cache lives in memory (fp32); a larger one is refused before it is computed.
MAX_CACHE_BYTES = 8 * 2**30


def additive_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The attention mask as the layers take it: 0 at real tokens, the dtype's minimum at padding, [B, 1, 1, L], in
    the dtype attention computes in (the autocast dtype when autocast is on)."""
    device_type = like.device.type
    dtype = torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else like.dtype
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def run_layers(layers: torch.nn.ModuleList, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`hidden` through `layers` (BERT-style encoder layers) with padding masked out."""
    extended = additive_mask(mask, hidden)
    for layer in layers:
        out = layer(hidden, attention_mask=extended)
        hidden = out[0] if isinstance(out, tuple) else out  # a tuple before transformers 5
    return hidden


def bottom_layers(model: torch.nn.Module, layers: int, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """A batch through the encoder's embedding layer and its bottom `layers` layers."""
    encoder = model.base_model
    hidden = encoder.embeddings(input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids"))
    return run_layers(encoder.encoder.layer[:layers], hidden, batch["attention_mask"])


@dataclass(frozen=True)
class FrozenStates:
    """The frozen layers' output for every example of a data set: per example [tokens, H], fp32, unpadded."""

    rows: list[torch.Tensor]

    def batch(self, indices: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The selected examples' states padded to the longest ([B, L, H]), and their attention mask ([B, L])."""
        rows = [self.rows[i] for i in indices]
        lengths = torch.tensor([len(r) for r in rows])
        mask = (torch.arange(int(lengths.max()))[None, :] < lengths[:, None]).long()
        return torch.nn.utils.rnn.pad_sequence(rows, batch_first=True).to(device), mask.to(device)


class FrozenPrefix:
    """A model split at its frozen layers, with the bottom's output cached for the English train and dev sets."""

    def __init__(self, model: torch.nn.Module, layers: int, train: EncodedPairs, dev: EncodedPairs, pad_id: int,
                 batch_size: int, precision: str):  # fmt: skip
        self.model, self.layers, self.precision = model, layers, precision
        self.device = next(model.parameters()).device
        self.head = classification_head(model)
        self.train = self._states(train, pad_id, batch_size)
        self.dev = self._states(dev, pad_id, batch_size)

    def _states(self, data: EncodedPairs, pad_id: int, batch_size: int) -> FrozenStates:
        """The bottom's output per example, computed once in eval mode (no dropout), no graph kept. Not under
        torch.inference_mode: its tensors could not enter the training graph."""
        rows: list[torch.Tensor | None] = [None] * len(data)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad(), autocast(self.device, self.precision):
                batches = sorted_batches(data.lengths(), batch_size)
                for indices, batch in iterate_batches(data, batches, pad_id, self.device):
                    hidden = bottom_layers(self.model, self.layers, batch).float()
                    for row, i in enumerate(indices):
                        rows[i] = hidden[row, : len(data.input_ids[i])].clone()
        finally:
            self.model.train(was_training)
        return FrozenStates(rows)

    def last_hidden(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The encoder's last hidden states from the cached states: the layers above the frozen ones."""
        return run_layers(self.model.base_model.encoder.layer[self.layers :], states, mask)

    def train_batch(self, indices: np.ndarray) -> Callable[[], torch.Tensor]:
        """The last hidden states of a training batch as a function (each call runs the trained layers anew, with
        the graph), for robustxlt.training.injection.perturbable_batch."""
        states, mask = self.train.batch(indices, self.device)
        return lambda: self.last_hidden(states, mask)

    def predict_dev(self, batch_size: int) -> np.ndarray:
        """Predicted label ids on English dev, in its order, from the cached states."""
        predictions = np.empty(len(self.dev.rows), dtype=np.int64)
        lengths = np.fromiter((len(r) for r in self.dev.rows), dtype=np.int64, count=len(self.dev.rows))
        with evaluation_mode(self.model), autocast(self.device, self.precision):
            for indices in sorted_batches(lengths, batch_size):
                states, mask = self.dev.batch(indices, self.device)
                predictions[indices] = self.head(self.last_hidden(states, mask)).argmax(dim=-1).cpu().numpy()
        return predictions


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
