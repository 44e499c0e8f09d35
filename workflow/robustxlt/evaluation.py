"""Zero-shot evaluation: accuracy of a fine-tuned checkpoint on one language's (or language pair's) test set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from robustxlt.batching import EncodedPairs, encode_pairs, iterate_batches, sorted_batches
from robustxlt.canonical import read_pairs
from robustxlt.runtime import autocast, configure_threads, evaluation_mode, select_device


def predict(model: torch.nn.Module, data: EncodedPairs, batch_size: int, pad_token_id: int) -> np.ndarray:
    """Predicted label ids, in the order of `data`."""
    device = next(model.parameters()).device
    predictions = np.empty(len(data), dtype=np.int64)
    with evaluation_mode(model), autocast(device):
        for indices, batch in iterate_batches(data, sorted_batches(data.lengths(), batch_size), pad_token_id, device):
            batch.pop("labels")
            predictions[indices] = model(**batch).logits.argmax(dim=-1).cpu().numpy()
    return predictions


def accuracy(predictions: np.ndarray, labels: list[int]) -> float:
    return float(np.mean(predictions == np.asarray(labels))) if len(labels) else float("nan")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def zero_shot_accuracy(
    checkpoint: Path,
    test_file: Path,
    result_file: Path,
    predictions_file: Path,
    run: dict,
    batch_size: int = 64,
    threads: int = 1,
) -> dict:
    """Evaluate `checkpoint` on `test_file`; write the result JSON (accuracy, n, run keys) and the predictions."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    configure_threads(threads)
    device = select_device()
    training_summary = json.loads((Path(checkpoint) / "robustxlt_training.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint).to(device)
    pairs = read_pairs(test_file)
    data = encode_pairs(tokenizer, pairs, training_summary["settings"]["max_length"])
    predictions = predict(model, data, batch_size, tokenizer.pad_token_id)
    result = {
        **run,
        "accuracy": accuracy(predictions, data.labels),
        "n": len(data),
        "test_file": str(test_file),
        "model_description": training_summary["model_description"],
        "data_description": training_summary["data_description"],
    }
    Path(result_file).parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(
        Path(predictions_file),
        "index\tprediction\tlabel\n"
        + "".join(f"{i}\t{p}\t{y}\n" for i, (p, y) in enumerate(zip(predictions, data.labels))),
    )
    _write_atomic(Path(result_file), json.dumps(result, indent=2) + "\n")
    return result
