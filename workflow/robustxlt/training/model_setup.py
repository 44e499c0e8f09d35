"""A run's model before its first step: loaded with a fresh head, frozen where the settings say, its optimizer and
schedule, the units of its perturbations, and the generator of its δ draws."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from robustxlt.models.batching import EncodedPairs
from robustxlt.models.perturbation import mean_token_norm
from robustxlt.models.runtime import attention_implementation
from robustxlt.training.injection import mean_hidden_norm, unit_rows
from robustxlt.training.methods import Method
from robustxlt.training.settings import TrainingSettings


def optimizer_and_schedule(model: torch.nn.Module, settings: TrainingSettings, total_steps: int):
    from transformers import get_linear_schedule_with_warmup

    params = [p for p in model.parameters() if p.requires_grad]
    # The fused kernel: one pass over the weights instead of one per operation (3.3x faster here on the default's
    # 10.6M trained weights, 1 thread: 14 against 46 ms a step, benchmarks/profile_jobs.py).
    fused = params[0].device.type in ("cpu", "cuda", "mps")
    optimizer = torch.optim.AdamW(
        params, lr=settings.learning_rate, eps=settings.adam_epsilon, weight_decay=settings.weight_decay, fused=fused
    )
    warmup = int(settings.warmup_ratio * total_steps)
    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, total_steps)


def load_model(model_dir: Path, labels: list[str], settings: TrainingSettings, device: torch.device, precision: str):
    """The tokenizer and a sequence classifier with a fresh head for `labels`; refuse a max_length the model
    cannot take (it would index past the position embeddings, possibly hours into a run)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
        attn_implementation=attention_implementation(device, precision),
    ).to(device)
    apply_freezing(model, settings, model_dir)
    max_positions = min(tokenizer.model_max_length, getattr(model.config, "max_position_embeddings", math.inf))
    if settings.max_length > max_positions:
        raise ValueError(
            f"training setting max_length={settings.max_length} exceeds what {model_dir} accepts ({max_positions}); "
            "lower training.max_length"
        )
    model.train()
    return model, tokenizer


def apply_freezing(model: torch.nn.Module, settings: TrainingSettings, model_dir: Path) -> None:
    """Freeze what the settings ask: the word-embedding matrix, and the embedding layer with the bottom layers."""
    if settings.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if settings.freeze_layers:
        freeze_bottom_layers(model, settings.freeze_layers, model_dir)


def freeze_bottom_layers(model: torch.nn.Module, count: int, model_dir: Path) -> None:
    """Freeze the embedding layer and the first `count` transformer layers (BERT and XLM-R encoders)."""
    encoder = getattr(model.base_model, "encoder", None)
    layers = getattr(encoder, "layer", None)
    if layers is None or not hasattr(model.base_model, "embeddings"):
        raise ValueError(
            f"training setting freeze_layers: {model_dir} ({model.config.model_type}) has no BERT-style encoder "
            "layers to freeze; set freeze_layers to 0"
        )
    if count > len(layers):
        raise ValueError(
            f"training setting freeze_layers={count} exceeds the {len(layers)} layers of {model_dir}; lower it"
        )
    model.base_model.embeddings.requires_grad_(False)
    for layer in layers[:count]:
        layer.requires_grad_(False)


def perturbation_units(model, objective: Method, english: EncodedPairs, settings: TrainingSettings, pad_id: int):
    """(unit, embedding_unit): the unit of ε and σ at the method's injection point, and at the word embeddings.

    Both come from the original English train file, so RS-DA's copies do not change the scale: the mean norm of
    its tokens' embeddings, or of its tokens' last hidden states in the pretrained encoder, over the pairs
    `unit_rows` picks (settings.unit_examples).
    """
    english = english.rows(unit_rows(len(english), settings.unit_examples))
    vocabulary = torch.tensor(sorted({i for ids in english.input_ids for i in ids}))
    embedding_unit = mean_token_norm(model.get_input_embeddings().weight, vocabulary)
    if objective.injection == "hidden":
        return mean_hidden_norm(model, english, settings.eval_batch_size, pad_id), embedding_unit
    return embedding_unit, embedding_unit


def delta_generator(seed: int, device: torch.device) -> torch.Generator:
    """δ draws get their own generator, seeded apart from torch's global one (dropout), so the two never share
    a random stream and δ draws never shift the dropout masks."""
    return torch.Generator(device=device).manual_seed(int(np.random.SeedSequence([seed, 1]).generate_state(1)[0]))
