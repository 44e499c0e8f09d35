"""A classifier's predictions on encoded pairs: plain, or smoothed by a vote over noisy copies; their accuracy and
whether they collapsed to one class; optionally, from the same forward passes, each row's last hidden states at its
real tokens (what `injection: hidden` perturbs). Used by training (dev) and evaluation (test)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import torch

from robustxlt.models.batching import EncodedPairs, iterate_batches, sorted_batches
from robustxlt.models.perturbation import sample_noise
from robustxlt.models.runtime import autocast, evaluation_mode


@dataclass(frozen=True)
class Smoothing:
    """Smoothed prediction: the majority vote over `draws` copies of each input with random δ on its word
    embeddings (σ absolute, per token; padding never perturbed)."""

    draws: int
    sigma: float
    distribution: str = "gaussian"
    seed: int = 0


def _vote(model: torch.nn.Module, batch: dict[str, torch.Tensor], smoothing: Smoothing, generator) -> torch.Tensor:
    """Majority label over the noisy copies of a batch; ties go to the lowest label id."""
    embeds = model.get_input_embeddings()(batch["input_ids"])
    rest = {k: v for k, v in batch.items() if k != "input_ids"}
    votes = None
    for _ in range(smoothing.draws):
        noise = sample_noise(embeds, batch["attention_mask"], smoothing.distribution, smoothing.sigma, generator)
        logits = model(inputs_embeds=embeds + noise, **rest).logits
        one_hot = torch.nn.functional.one_hot(logits.argmax(dim=-1), logits.shape[-1])
        votes = one_hot if votes is None else votes + one_hot
    return votes.argmax(dim=-1)


def real_tokens(input_ids: torch.Tensor, attention_mask: torch.Tensor, special_ids: Collection[int]) -> torch.Tensor:
    """(batch, seq) bool: the positions holding a real token (neither padding nor a special token)."""
    special = torch.tensor(sorted(special_ids), dtype=input_ids.dtype, device=input_ids.device)
    return attention_mask.bool() & ~torch.isin(input_ids, special)


def row_vectors(hidden: torch.Tensor, batch: dict[str, torch.Tensor], special_ids: Collection[int]) -> list[np.ndarray]:
    """Per row of a batch, its vectors at the real tokens ([tokens, H], fp32 numpy)."""
    mask = real_tokens(batch["input_ids"], batch["attention_mask"], special_ids).cpu()
    hidden = hidden.detach().float().cpu()
    return [hidden[row][mask[row]].numpy() for row in range(hidden.shape[0])]


def predict(
    model: torch.nn.Module,
    data: EncodedPairs,
    batch_size: int,
    pad_token_id: int,
    smoothing: Smoothing | None = None,
    precision: str = "fp32",
    hidden_of: Collection[int] | None = None,
) -> np.ndarray | tuple[np.ndarray, list[np.ndarray]]:
    """Predicted label ids, in the order of `data`: plain, or smoothed by a vote over noisy copies
    (`precision` resolved: fp32 or bf16 autocast).

    With `hidden_of` (the tokenizer's special token ids) a plain prediction also returns, per row in the order of
    `data`, the last hidden states at its real tokens (neither padding nor special; [tokens, H], fp32), read from
    the same forward passes.
    """
    if smoothing is not None and hidden_of is not None:
        raise ValueError("hidden states come from the plain prediction's forward passes: not with smoothing")
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(smoothing.seed) if smoothing else None
    predictions = np.empty(len(data), dtype=np.int64)
    vectors: list[np.ndarray | None] = [None] * len(data)
    with evaluation_mode(model), autocast(device, precision):
        for indices, batch in iterate_batches(data, sorted_batches(data.lengths(), batch_size), pad_token_id, device):
            batch.pop("labels")
            if smoothing is not None:
                predicted = _vote(model, batch, smoothing, generator)
            elif hidden_of is not None:
                output = model(**batch, output_hidden_states=True)
                predicted = output.logits.argmax(dim=-1)
                for i, row in zip(indices, row_vectors(output.hidden_states[-1], batch, hidden_of)):
                    vectors[i] = row
            else:
                predicted = model(**batch).logits.argmax(dim=-1)
            predictions[indices] = predicted.cpu().numpy()
    return (predictions, vectors) if hidden_of is not None else predictions


def encode_hidden(
    encoder: torch.nn.Module,
    data: EncodedPairs,
    batch_size: int,
    pad_token_id: int,
    special_ids: Collection[int],
    precision: str = "fp32",
) -> list[np.ndarray]:
    """An encoder's (no head) last hidden states per row at its real tokens, in the order of `data`."""
    device = next(encoder.parameters()).device
    vectors: list[np.ndarray | None] = [None] * len(data)
    with evaluation_mode(encoder), autocast(device, precision):
        for indices, batch in iterate_batches(data, sorted_batches(data.lengths(), batch_size), pad_token_id, device):
            batch.pop("labels")
            for i, row in zip(indices, row_vectors(encoder(**batch).last_hidden_state, batch, special_ids)):
                vectors[i] = row
    return vectors


def collapsed(predictions: np.ndarray) -> bool:
    """Whether a classifier predicted one class for every example (more than one example)."""
    return len(predictions) > 1 and bool(np.all(predictions == predictions[0]))


def accuracy(predictions: np.ndarray, labels: list[int]) -> float:
    return float(np.mean(predictions == np.asarray(labels))) if len(labels) else float("nan")


def embedding_lookup(model: torch.nn.Module):
    """A function of real-token ids ([tokens] int) giving their input word embeddings ([tokens, H], fp32 numpy):
    a lookup in the embedding matrix, no forward pass."""
    weight = model.get_input_embeddings().weight.detach()

    def embed(ids: np.ndarray) -> np.ndarray:
        return (
            weight.index_select(0, torch.as_tensor(ids, dtype=torch.long, device=weight.device)).float().cpu().numpy()
        )

    return embed
