"""A training's token ids: English train and dev tokenised once per task and model (rule encode_training_sets) and
read by every training of that model, whatever its method and seed; RS-DA's augmented copies, read by one training
each, are tokenised by it. Without the encoded files (a training called from Python), everything is tokenised here."""

from __future__ import annotations

import logging
from pathlib import Path

from robustxlt.data.canonical import read_pairs
from robustxlt.models.batching import EncodedPairs, encode_file, encode_pairs, load_checked

log = logging.getLogger(__name__)

SPLITS = ("train-en", "dev-en")


def encode_training_sets(model_dir: Path, data_dir: Path, out_dir: Path, max_length: int) -> None:
    """`{split}.npz` in `out_dir` for English train and dev of the task in `data_dir`."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        source = Path(data_dir) / f"{split}.tsv"
        pairs = read_pairs(source)
        encode_file(tokenizer, source, Path(out_dir) / f"{split}.npz", max_length, pairs)
        log.info("%s: %d pairs tokenised", source, len(pairs))


def training_sets(
    tokenizer, data_dir: Path, max_length: int, train_file: Path | None = None, encoded_dir: Path | None = None
) -> tuple[EncodedPairs, EncodedPairs, EncodedPairs]:
    """English train (the units of ε and σ are measured on it), the set trained on (`train_file`, RS-DA's copies,
    or English train) and English dev. Encoded files are checked against their source, max_length and tokenizer
    (robustxlt.models.batching.load_checked)."""

    def english(split: str) -> EncodedPairs:
        source = Path(data_dir) / f"{split}.tsv"
        pairs = read_pairs(source)
        if encoded_dir is None:
            return encode_pairs(tokenizer, pairs, max_length)
        return load_checked(Path(encoded_dir) / f"{split}.npz", source, tokenizer, max_length, pairs)

    train_en, dev = english("train-en"), english("dev-en")
    train = encode_pairs(tokenizer, read_pairs(train_file), max_length) if train_file else train_en
    return train_en, train, dev
