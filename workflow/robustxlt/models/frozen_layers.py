"""A sequence classifier run in parts: its embedding layer with the bottom N transformer layers, the layers above,
and the classification head; and the frozen bottom's output, computed once per example and kept.

With `freeze_layers: N` training never changes the embedding layer and the bottom N layers, so every checkpoint of a
model shares them with the pretrained encoder, and their output for a test pair is the same for every checkpoint.
`frozen_test_states` (rule frozen_test_states) computes it once per test set, with the pretrained encoder; each
evaluation job then runs only the layers above and the head (`predict_from_states`), after checking that its
checkpoint's frozen weights are the ones the states came from (`frozen_digest`). Training keeps the same states
for English train and dev in memory (robustxlt.training.frozen_prefix).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from robustxlt.models.batching import EncodedPairs, iterate_batches, sorted_batches
from robustxlt.models.runtime import autocast, evaluation_mode

STATES_META = "meta.json"


def classification_head(model: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The logits as a function of the encoder's last hidden states, for the heads that have one such split."""
    model_type = model.config.model_type
    if model_type == "bert":  # pooler on the first token, dropout, linear classifier
        return lambda hidden: model.classifier(model.dropout(model.base_model.pooler(hidden)))
    if model_type in ("roberta", "xlm-roberta"):  # the head reads the first token itself
        return model.classifier
    raise ValueError(
        f"injection 'hidden' supports BERT and (XLM-)RoBERTa classifiers, not model_type {model_type!r}; "
        "set the method's injection to 'embeddings'"
    )


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


def upper_layers(model: torch.nn.Module, layers: int, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The encoder's last hidden states from the bottom's output: the layers above the bottom `layers`."""
    return run_layers(model.base_model.encoder.layer[layers:], states, mask)


@dataclass(frozen=True)
class FrozenStates:
    """The frozen layers' output for every example of a data set: per example [tokens, H], fp32, unpadded."""

    rows: list[torch.Tensor]

    def lengths(self) -> np.ndarray:
        return np.fromiter((len(r) for r in self.rows), dtype=np.int64, count=len(self.rows))

    def batch(self, indices: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The selected examples' states padded to the longest ([B, L, H]), and their attention mask ([B, L])."""
        rows = [self.rows[i] for i in indices]
        lengths = torch.tensor([len(r) for r in rows])
        mask = (torch.arange(int(lengths.max()))[None, :] < lengths[:, None]).long()
        return torch.nn.utils.rnn.pad_sequence(rows, batch_first=True).to(device), mask.to(device)


def frozen_states(
    model: torch.nn.Module, layers: int, data: EncodedPairs, pad_id: int, batch_size: int, precision: str
) -> FrozenStates:
    """The bottom's output per example, computed in eval mode (no dropout), no graph kept. Not under
    torch.inference_mode: training feeds these tensors into its graph."""
    device = next(model.parameters()).device
    rows: list[torch.Tensor | None] = [None] * len(data)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), autocast(device, precision):
            batches = sorted_batches(data.lengths(), batch_size)
            for indices, batch in iterate_batches(data, batches, pad_id, device):
                hidden = bottom_layers(model, layers, batch).float()
                for row, i in enumerate(indices):
                    rows[i] = hidden[row, : len(data.input_ids[i])].clone()
    finally:
        model.train(was_training)
    return FrozenStates(rows)


def predict_from_states(
    model: torch.nn.Module,
    layers: int,
    states: FrozenStates,
    batch_size: int,
    precision: str = "fp32",
    real: list[np.ndarray] | None = None,
) -> tuple[np.ndarray | None, list[np.ndarray] | None]:
    """(predicted label ids, last hidden states) in the order of `states`, from the layers above the bottom `layers`
    (robustxlt.models.prediction.predict from the token ids gives the same predictions). The predictions need a
    classifier (None for a bare encoder); the hidden states need `real`, per row a bool mask of its real tokens
    (neither special nor padding), and are per row [real tokens, H], fp32 (else None)."""
    device = next(model.parameters()).device
    head = classification_head(model) if model.base_model is not model else None
    predictions = np.empty(len(states.rows), dtype=np.int64) if head is not None else None
    vectors: list[np.ndarray | None] | None = [None] * len(states.rows) if real is not None else None
    with evaluation_mode(model), autocast(device, precision):
        for indices in sorted_batches(states.lengths(), batch_size):
            hidden = upper_layers(model, layers, *states.batch(indices, device))
            if head is not None:
                predictions[indices] = head(hidden).argmax(dim=-1).cpu().numpy()
            if vectors is not None:
                hidden = hidden.float().cpu()
                for row, i in enumerate(indices):
                    vectors[i] = hidden[row, : len(real[i])][torch.from_numpy(real[i])].numpy()
    return predictions, vectors


def frozen_digest(model: torch.nn.Module, layers: int) -> str:
    """sha256 of the embedding layer's and the bottom `layers` layers' weights (names, shapes, dtypes and bytes):
    equal for a checkpoint and the encoder it was fine-tuned from exactly when those layers stayed frozen."""
    digest = hashlib.sha256()
    encoder = model.base_model
    parts = [("embeddings", encoder.embeddings)] + [(f"layer.{i}", encoder.encoder.layer[i]) for i in range(layers)]
    for prefix, module in parts:
        for name, tensor in module.state_dict().items():
            tensor = tensor.detach().cpu().contiguous()
            digest.update(f"{prefix}.{name} {tuple(tensor.shape)} {tensor.dtype}\n".encode())
            if tensor.numel():
                digest.update(tensor.view(torch.uint8).numpy())
    return digest.hexdigest()


@dataclass(frozen=True)
class FrozenTestStates:
    """A directory of test sets' frozen-layer states (rule frozen_test_states): which layers, from which weights."""

    directory: Path
    layers: int
    digest: str
    precision: str
    token_ids: dict[str, str]  # per test set, token_ids_digest of the pairs the states were computed from

    @classmethod
    def open(cls, directory: Path) -> FrozenTestStates:
        meta = json.loads((Path(directory) / STATES_META).read_text())
        if any("token_ids_sha256" not in entry for entry in meta["sets"].values()):
            raise ValueError(
                f"{directory} was written by an earlier version (no token-id digests); delete it and rerun so that "
                "frozen_test_states writes it anew"
            )
        token_ids = {name: entry["token_ids_sha256"] for name, entry in meta["sets"].items()}
        return cls(Path(directory), meta["layers"], meta["digest"], meta["precision"], token_ids)

    def check(self, model: torch.nn.Module, name: str, precision: str) -> None:
        """Refuse a model whose embedding layer and bottom layers are not the weights the states came from, or an
        evaluation at another precision than theirs."""
        if precision != self.precision:
            raise ValueError(
                f"{name}: evaluated in {precision}, but the frozen states in {self.directory} were computed in "
                f"{self.precision}; delete {self.directory} and rerun so that frozen_test_states writes it anew"
            )
        if frozen_digest(model, self.layers) != self.digest:
            raise ValueError(
                f"{name}: its embedding layer and bottom {self.layers} layers differ from the weights the frozen "
                f"states in {self.directory} were computed with (were they trained?); evaluate it without them "
                "(training setting cache_frozen_layers: false) or retrain it with freeze_layers: "
                f"{self.layers}"
            )

    def load(self, name: str, data: EncodedPairs) -> FrozenStates:
        """One test set's states; refused when they were computed from other token ids."""
        if self.token_ids.get(name) != token_ids_digest(data):
            raise ValueError(
                f"{self.directory}: the states of test set {name} were computed from other token ids than this "
                f"run's; delete {self.directory} and rerun so that frozen_test_states writes it anew"
            )
        return load_test_states(self.directory, name, data)


def token_ids_digest(data: EncodedPairs) -> str:
    """sha256 of a data set's token ids, row by row (the rows' order and lengths included)."""
    digest = hashlib.sha256()
    for ids in data.input_ids:
        digest.update(np.asarray(ids, dtype=np.int64).tobytes() + b"|")
    return digest.hexdigest()


def save_test_states(out_dir: Path, name: str, states: FrozenStates) -> None:
    """One test set's states as `{name}.npy` ([all tokens, H] fp32, rows in order), written atomically."""
    flat = torch.cat(states.rows).numpy() if states.rows else np.zeros((0, 0), dtype=np.float32)
    tmp = out_dir / f"{name}.tmp.npy"
    np.save(tmp, flat)
    os.replace(tmp, out_dir / f"{name}.npy")


def load_test_states(states_dir: Path, name: str, data: EncodedPairs) -> FrozenStates:
    """One test set's states, split into rows by the lengths of its encoded pairs; refused when they do not add up
    (the states were computed from other token ids)."""
    path = Path(states_dir) / f"{name}.npy"
    flat = torch.from_numpy(np.load(path, allow_pickle=False))
    lengths = data.lengths().tolist()
    if flat.shape[0] != sum(lengths):
        raise ValueError(
            f"{path} holds {flat.shape[0]} token states but the test set's token ids have {sum(lengths)}: "
            f"delete {states_dir} and rerun so that frozen_test_states writes it anew"
        )
    return FrozenStates(list(torch.split(flat, lengths)))
