"""A classifier's predictions on encoded pairs: plain, or smoothed by a vote over noisy copies; their accuracy and
whether they collapsed to one class. Used by training (dev) and evaluation (test)."""

from __future__ import annotations

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


def predict(
    model: torch.nn.Module,
    data: EncodedPairs,
    batch_size: int,
    pad_token_id: int,
    smoothing: Smoothing | None = None,
    precision: str = "fp32",
) -> np.ndarray:
    """Predicted label ids, in the order of `data`: plain, or smoothed by a vote over noisy copies
    (`precision` resolved: fp32 or bf16 autocast)."""
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(smoothing.seed) if smoothing else None
    predictions = np.empty(len(data), dtype=np.int64)
    with evaluation_mode(model), autocast(device, precision):
        for indices, batch in iterate_batches(data, sorted_batches(data.lengths(), batch_size), pad_token_id, device):
            batch.pop("labels")
            if smoothing is None:
                predicted = model(**batch).logits.argmax(dim=-1)
            else:
                predicted = _vote(model, batch, smoothing, generator)
            predictions[indices] = predicted.cpu().numpy()
    return predictions


def collapsed(predictions: np.ndarray) -> bool:
    """Whether a classifier predicted one class for every example (more than one example)."""
    return len(predictions) > 1 and bool(np.all(predictions == predictions[0]))


def accuracy(predictions: np.ndarray, labels: list[int]) -> float:
    return float(np.mean(predictions == np.asarray(labels))) if len(labels) else float("nan")
