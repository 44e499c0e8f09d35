"""Where δ enters the model: the input word embeddings (the default) or the encoder's last hidden states.

Either way a method sees one batch the same way, as a `PerturbableBatch`: `embed()` gives the tensor δ is added
to (attached to the graph, so the update also trains what produced it), `loss_of(X)` the loss with X in its place
(`loss_of(None)` is the clean loss from the token ids), `logits_of(X)` the classifier's logits with X in its place
(for methods that compare predictions), `labels` the gold labels and `mask` the real tokens. At the last hidden
states only the classification head lies between δ and the loss, so PGD's ascent steps there cost almost nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from robustxlt.models.batching import EncodedPairs, iterate_batches, sorted_batches
from robustxlt.models.frozen_layers import classification_head
from robustxlt.models.runtime import autocast, evaluation_mode

INJECTION_POINTS = ("embeddings", "hidden")
LossOf = Callable[[torch.Tensor | None], torch.Tensor]
Embed = Callable[[], torch.Tensor]


@dataclass(frozen=True)
class PerturbableBatch:
    """One batch as a training method sees it (see the module's docstring)."""

    loss_of: LossOf
    embed: Embed
    mask: torch.Tensor
    logits_of: LossOf
    labels: torch.Tensor


def perturbable_batch(
    model: torch.nn.Module,
    batch: dict[str, torch.Tensor],
    device: torch.device,
    injection: str = "embeddings",
    precision: str = "fp32",
    last_hidden: Embed | None = None,
) -> PerturbableBatch:
    """The batch's loss as a function of the tensor δ is added to, that tensor and the batch's mask (`precision`
    resolved: fp32 or bf16 autocast). `last_hidden` gives the encoder's last hidden states another way (from cached
    frozen layers, robustxlt.training.frozen_prefix): the clean loss then comes from them too, and δ can be added
    only there."""
    without_ids = {k: v for k, v in batch.items() if k != "input_ids"}

    def clean_loss() -> torch.Tensor:
        with autocast(device, precision):
            return model(**batch).loss

    if injection == "embeddings" and last_hidden is None:

        def loss_of(embeds: torch.Tensor | None) -> torch.Tensor:
            if embeds is None:
                return clean_loss()
            with autocast(device, precision):
                return model(inputs_embeds=embeds, **without_ids).loss

        def embed() -> torch.Tensor:
            return model.get_input_embeddings()(batch["input_ids"])

        def logits_of(embeds: torch.Tensor) -> torch.Tensor:
            inputs = {k: v for k, v in without_ids.items() if k != "labels"}
            with autocast(device, precision):
                return model(inputs_embeds=embeds, **inputs).logits

        return PerturbableBatch(loss_of, embed, batch["attention_mask"], logits_of, batch["labels"])
    if injection in INJECTION_POINTS:
        head = classification_head(model)
        inputs = {k: v for k, v in batch.items() if k != "labels"}

        def encode() -> torch.Tensor:
            with autocast(device, precision):
                return last_hidden() if last_hidden else model.base_model(**inputs).last_hidden_state

        def loss_of(hidden: torch.Tensor | None) -> torch.Tensor:
            if hidden is None:
                if last_hidden is None:
                    return clean_loss()
                hidden = encode()
            with autocast(device, precision):
                return F.cross_entropy(head(hidden).float(), batch["labels"])

        def logits_of(hidden: torch.Tensor) -> torch.Tensor:
            with autocast(device, precision):
                return head(hidden)

        return PerturbableBatch(loss_of, encode, batch["attention_mask"], logits_of, batch["labels"])
    raise ValueError(f"unknown injection point {injection!r}; expected one of {INJECTION_POINTS}")


def unit_rows(rows: int, examples: int | None) -> np.ndarray:
    """Which English training pairs the units are measured on: all `rows`, or a sample of `examples` of them drawn
    with a fixed seed (sorted), so that every job measuring a unit on the same file measures it on the same rows."""
    if examples is None or rows <= examples:
        return np.arange(rows)
    return np.sort(np.random.default_rng(0).choice(rows, size=examples, replace=False))


def mean_hidden_norm(model: torch.nn.Module, data: EncodedPairs, batch_size: int, pad_token_id: int) -> float:
    """Mean ℓ2 norm of the last hidden state over the real (non-padding) tokens of `data`: the unit of ε and σ
    at the hidden states, measured on the pretrained encoder in eval mode."""
    device = next(model.parameters()).device
    total, tokens = 0.0, 0
    with evaluation_mode(model), torch.no_grad():
        for _, batch in iterate_batches(data, sorted_batches(data.lengths(), batch_size), pad_token_id, device):
            batch.pop("labels")
            hidden = model.base_model(**batch).last_hidden_state.double()
            mask = batch["attention_mask"].bool()
            total += float(torch.linalg.vector_norm(hidden, dim=-1)[mask].sum())
            tokens += int(mask.sum())
    return total / tokens
