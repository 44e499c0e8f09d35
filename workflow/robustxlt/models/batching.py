"""Tokenised sentence pairs in length-grouped, dynamically padded batches (never padded to max_length)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from robustxlt.data.canonical import Pair, sha256_file


@dataclass(frozen=True)
class EncodedPairs:
    """Token ids of sentence pairs (unpadded) and their labels."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]] | None
    labels: list[int]

    def __len__(self) -> int:
        return len(self.labels)

    def lengths(self) -> np.ndarray:
        return np.fromiter((len(ids) for ids in self.input_ids), dtype=np.int64, count=len(self))

    def rows(self, indices: Sequence[int]) -> EncodedPairs:
        """These pairs, in this order."""
        pick = lambda column: None if column is None else [column[i] for i in indices]  # noqa: E731
        return EncodedPairs(pick(self.input_ids), pick(self.token_type_ids), pick(self.labels))


def encode_pairs(tokenizer, pairs: Sequence[Pair], max_length: int) -> EncodedPairs:
    """Tokenise pairs with the model's own pair template, truncating the longer sentence first."""
    encoded = tokenizer(
        [p.sentence1 for p in pairs],
        [p.sentence2 for p in pairs],
        truncation="longest_first",
        max_length=max_length,
        padding=False,
    )
    return EncodedPairs(
        input_ids=encoded["input_ids"],
        token_type_ids=encoded.get("token_type_ids"),
        labels=[p.label for p in pairs],
    )


def save_encoded(path: Path, data: EncodedPairs, meta: dict) -> None:
    """Write encoded pairs as flat arrays with offsets (numpy .npz, no pickle) and `meta` (JSON), atomically."""
    offsets = np.cumsum([0, *map(len, data.input_ids)])
    arrays = {
        "input_ids": np.fromiter((t for ids in data.input_ids for t in ids), dtype=np.int64, count=offsets[-1]),
        "offsets": offsets,
        "labels": np.asarray(data.labels, dtype=np.int64),
        "meta": np.array(json.dumps(meta)),
    }
    if data.token_type_ids is not None:
        arrays["token_type_ids"] = np.fromiter(
            (t for ids in data.token_type_ids for t in ids), dtype=np.int64, count=offsets[-1]
        )
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_encoded(path: Path) -> tuple[EncodedPairs, dict]:
    """Encoded pairs and their meta, as written by save_encoded."""
    with np.load(path, allow_pickle=False) as arrays:
        offsets = arrays["offsets"].tolist()

        def split(flat: np.ndarray) -> list[list[int]]:
            flat = flat.tolist()
            return [flat[start:end] for start, end in zip(offsets, offsets[1:])]

        data = EncodedPairs(
            input_ids=split(arrays["input_ids"]),
            token_type_ids=split(arrays["token_type_ids"]) if "token_type_ids" in arrays else None,
            labels=arrays["labels"].tolist(),
        )
        return data, json.loads(str(arrays["meta"]))


# Pairs a loaded encoding is re-tokenised on to check the tokenizer (hashing a 250k-word tokenizer costs more than
# tokenising every test set).
SPOT_CHECKED = 16


def encode_file(tokenizer, source: Path, out_file: Path, max_length: int, pairs: Sequence[Pair]) -> EncodedPairs:
    """Tokenise `pairs` (read from `source`) and save them to `out_file` with what load_checked checks."""
    data = encode_pairs(tokenizer, pairs, max_length)
    meta = {"max_length": max_length, "source": str(source), "source_sha256": sha256_file(source)}
    save_encoded(out_file, data, meta)
    return data


def load_checked(encoded: Path, source: Path, tokenizer, max_length: int, pairs: Sequence[Pair]) -> EncodedPairs:
    """The token ids of `pairs` (read from `source`) from their encoded file. Refused if it was written from another
    source file (sha256) or max_length, or if `tokenizer` gives other ids for its first pairs."""
    data, meta = load_encoded(encoded)
    expected = {"source_sha256": sha256_file(source), "max_length": max_length}
    stale = [key for key, value in expected.items() if meta.get(key) != value]
    if encode_pairs(tokenizer, pairs[:SPOT_CHECKED], max_length).input_ids != data.input_ids[:SPOT_CHECKED]:
        stale.append("tokenizer")
    if stale:
        raise ValueError(
            f"{encoded} was tokenised with another {', '.join(stale)} than this run's ({source}, max_length "
            f"{max_length}, the model's tokenizer): delete it and rerun so that it is written anew"
        )
    return data


def length_grouped_batches(
    lengths: np.ndarray, batch_size: int, group_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Random batches of similar length: shuffle, sort within mega-batches of `group_size` batches, shuffle batches.

    Keeps the randomness of SGD while cutting padding; group_size 1 gives plain random batches.
    """
    order = rng.permutation(len(lengths))
    mega = batch_size * group_size
    batches = []
    for start in range(0, len(order), mega):
        chunk = order[start : start + mega]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Deterministic batches by decreasing length, for evaluation (order does not change predictions)."""
    order = np.argsort(-lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def collate(data: EncodedPairs, indices: np.ndarray, pad_token_id: int) -> dict[str, torch.Tensor]:
    """Pad the selected examples to the longest one in the batch."""
    width = max(len(data.input_ids[i]) for i in indices)
    input_ids = torch.full((len(indices), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(indices), width), dtype=torch.long)
    token_type_ids = torch.zeros((len(indices), width), dtype=torch.long) if data.token_type_ids else None
    for row, i in enumerate(indices):
        ids = data.input_ids[i]
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention_mask[row, : len(ids)] = 1
        if token_type_ids is not None:
            token_type_ids[row, : len(ids)] = torch.tensor(data.token_type_ids[i])
    batch = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "labels": torch.tensor([data.labels[i] for i in indices], dtype=torch.long),
    }
    if token_type_ids is not None:
        batch["token_type_ids"] = token_type_ids
    return batch


def iterate_batches(
    data: EncodedPairs, batches: list[np.ndarray], pad_token_id: int, device: torch.device
) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor]]]:
    """Collated batches moved to `device`, with the example indices they hold."""
    for indices in batches:
        yield indices, {k: v.to(device) for k, v in collate(data, indices, pad_token_id).items()}
