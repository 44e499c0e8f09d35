"""Zero-shot evaluation: accuracy of a fine-tuned checkpoint on each language's and language pair's test set."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from robustxlt.data.canonical import placeholder_rows, read_pairs
from robustxlt.data.generalized import result_name
from robustxlt.evaluation.outcomes import encode_outcomes
from robustxlt.evaluation.premise import SOURCE, PremiseMeasurement, RowVectors, real_token_ids, real_token_masks
from robustxlt.models.batching import EncodedPairs, encode_file, encode_pairs, load_checked
from robustxlt.models.frozen_layers import FrozenTestStates, predict_from_states
from robustxlt.models.prediction import Smoothing, accuracy, collapsed, embedding_lookup, predict
from robustxlt.models.runtime import (
    attention_implementation,
    configure_threads,
    resolve_precision,
    select_device,
)

log = logging.getLogger(__name__)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass(frozen=True)
class EvaluationSet:
    """One test file of a run's evaluation: the standard setting (lang1 == lang2) or a generalized pair.

    `encoded`: the file's token ids as written by encode_test_sets (once per task and model, shared by every
    run), or None to tokenise `path` here.
    """

    lang1: str
    lang2: str
    path: Path
    encoded: Path | None = None
    # Rows of the source test sets left out of this generalized pair (placeholder, labels that differ, missing).
    dropped_rows: int = 0

    @property
    def name(self) -> str:
        return result_name(self.lang1, self.lang2)


def encode_test_sets(model_dir: Path, test_sets: list[EvaluationSet], out_dir: Path, max_length: int) -> None:
    """Tokenise every test set of a task once for all runs of a model: `{name}.npz` per set in `out_dir`."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for test_set in test_sets:
        pairs = read_pairs(test_set.path)
        encode_file(tokenizer, test_set.path, out_dir / f"{test_set.name}.npz", max_length, pairs)
        log.info("%s: %d pairs tokenised", test_set.name, len(pairs))


def test_set_pairs(test_set: EvaluationSet, tokenizer, max_length: int) -> tuple[EncodedPairs, int]:
    """The test set's token ids: from its encoded file (checked against the source file, max_length and the
    checkpoint's tokenizer: robustxlt.models.batching.load_checked), or tokenised here. Also returns how many of
    its pairs hold a placeholder sentence (scored, as in XTREME, and reported)."""
    pairs = read_pairs(test_set.path)
    if test_set.encoded is None:
        return encode_pairs(tokenizer, pairs, max_length), placeholder_rows(pairs)
    return load_checked(test_set.encoded, test_set.path, tokenizer, max_length, pairs), placeholder_rows(pairs)


def plain_forward(
    model: torch.nn.Module,
    pad_id: int,
    name: str,
    data: EncodedPairs,
    batch_size: int,
    precision: str,
    special: set[int] | None,
    states: FrozenTestStates | None,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Predicted labels and, with `special` (the tokenizer's special ids), each row's last hidden states at its
    real tokens: from the test set's frozen-layer states when given, else from its token ids."""
    if states is None:
        if special is None:
            return predict(model, data, batch_size, pad_id, precision=precision), None
        return predict(model, data, batch_size, pad_id, None, precision, special)
    real = None if special is None else real_token_masks(data.input_ids, special)
    return predict_from_states(model, states.layers, states.load(name, data), batch_size, precision, real)


def evaluate_test_set(
    model: torch.nn.Module,
    tokenizer,
    training_summary: dict,
    test_set: EvaluationSet,
    batch_size: int,
    smoothing: dict | None,
    precision: str = "fp32",
    vectors: bool = False,
    states: FrozenTestStates | None = None,
) -> tuple[dict, dict[str, np.ndarray], list[int], RowVectors | None]:
    """Accuracy on one test file (and the smoothed prediction's when asked), the predictions and the labels; with
    `vectors`, also each row's real-token ids and last hidden states from the same forward passes. With `states`
    (checked against the model), the plain prediction runs only the layers above the frozen ones."""
    data, placeholders = test_set_pairs(test_set, tokenizer, training_summary["settings"]["max_length"])
    special = set(tokenizer.all_special_ids) if vectors else None
    predictions, hidden = plain_forward(model, tokenizer.pad_token_id, test_set.name, data, batch_size, precision,
                                        special, states)  # fmt: skip
    rows = None
    if vectors:
        rows = RowVectors(read_pairs(test_set.path), real_token_ids(data.input_ids, special), hidden, predictions)
    columns = {"prediction": predictions}
    result = {
        "lang1": test_set.lang1,
        "lang2": test_set.lang2,
        "accuracy": accuracy(predictions, data.labels),
        # One predicted class for every example: a constant classifier, whatever its accuracy says.
        "collapsed": collapsed(predictions),
        "n": len(data),
        "placeholder_rows": placeholders,
        "dropped_rows": test_set.dropped_rows,
        # Per-example correctness, paired across runs (same rows, same order): the bootstrap's input.
        "outcomes": encode_outcomes(predictions == np.asarray(data.labels, dtype=np.int64)),
    }
    if smoothing and smoothing["draws"] > 0:
        vote = Smoothing(
            draws=smoothing["draws"],
            sigma=smoothing["sigma"] * training_summary["embedding_unit"],
            distribution=smoothing["distribution"],
            seed=training_summary["seed"],
        )
        columns["smoothed_prediction"] = predict(model, data, batch_size, tokenizer.pad_token_id, vote, precision)
        result["smoothed_accuracy"] = accuracy(columns["smoothed_prediction"], data.labels)
        result["smoothing"] = {**smoothing, "sigma_absolute": vote.sigma}
    return result, columns, data.labels, rows


def zero_shot_accuracy(
    checkpoint: Path,
    test_sets: list[EvaluationSet],
    out_dir: Path,
    run: dict,
    batch_size: int = 64,
    threads: int = 1,
    smoothing: dict | None = None,
    precision: str = "auto",
    premise: bool = True,
    frozen_states: Path | None = None,
) -> list[dict]:
    """Evaluate `checkpoint` on every test set, loading it once; write `{name}.json` (accuracy, n, outcomes,
    run keys, which model and data) and `{name}.predictions.tsv` per test set into `out_dir`.

    With `premise` and an English standard-setting test set, also `premise.json`: every other standard-setting
    language's shift from English (robustxlt.evaluation.premise) at the word embeddings and the last hidden
    states, from the same forward passes, and its cross-lingual consistency. English is evaluated first.

    With `frozen_states` (a directory written by rule frozen_test_states) the plain predictions run only the layers
    above the frozen ones, after checking that the checkpoint's frozen weights are those the states came from.

    With `smoothing` ({"draws": n, "sigma": s, "distribution": d}, n > 0; σ in units of the checkpoint's mean
    token-embedding norm) the smoothed prediction's accuracy is reported beside the plain one. The files are
    assembled in `out_dir`.partial and moved into place together, so an interrupted job leaves no results.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    configure_threads(threads)
    device = select_device()
    precision = resolve_precision(precision, device)
    training_summary = json.loads((Path(checkpoint) / "robustxlt_training.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForSequenceClassification.from_pretrained(
        checkpoint, attn_implementation=attention_implementation(device, precision)
    ).to(device)
    states = FrozenTestStates.open(frozen_states) if frozen_states else None
    if states is not None:
        states.check(model, str(checkpoint), precision)
        log.info("plain predictions from the frozen-layer states in %s (bottom %d layers)", states.directory,
                 states.layers)  # fmt: skip
    out_dir = Path(out_dir)
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    results = {}
    measured = premise and any(t.lang1 == t.lang2 == SOURCE for t in test_sets)
    measurement = PremiseMeasurement(embedding_lookup(model)) if measured else None
    premise_seconds = 0.0
    for test_set in sorted(test_sets, key=lambda t: not t.lang1 == t.lang2 == SOURCE):  # English first
        started = time.perf_counter()
        standard = measurement is not None and test_set.lang1 == test_set.lang2
        result, columns, labels, rows = evaluate_test_set(
            model, tokenizer, training_summary, test_set, batch_size, smoothing, precision, standard, states
        )
        if rows is not None:
            measuring = time.perf_counter()
            measurement.add(test_set.lang1, rows)
            premise_seconds += time.perf_counter() - measuring
            del rows
        result = {
            **run,
            **result,
            "test_file": str(test_set.path),
            "seconds": time.perf_counter() - started,
            "train_precision": training_summary.get("precision", "fp32"),
            "train_device": training_summary.get("hardware", {}).get("name", ""),
            "train_peak_device_memory_mb": training_summary.get("peak_device_memory_mb"),
            # Whether English dev had stopped improving when training ended (robustxlt.training.converged).
            "converged": training_summary.get("converged"),
            "best_step": training_summary.get("best_step"),
            "steps_trained": training_summary.get("steps_trained"),
            "eval_precision": precision,
            "model_description": training_summary["model_description"],
            "data_description": training_summary["data_description"],
        }
        rows = zip(*columns.values(), labels)
        _write_atomic(
            partial / f"{test_set.name}.predictions.tsv",
            "\t".join(["index", *columns, "label"])
            + "\n"
            + "".join("\t".join(map(str, (i, *row))) + "\n" for i, row in enumerate(rows)),
        )
        _write_atomic(partial / f"{test_set.name}.json", json.dumps(result, indent=2) + "\n")
        log.info(
            "%s: accuracy %.4f on %d pairs (%.1f s)", test_set.name, result["accuracy"], result["n"], result["seconds"]
        )
        results[test_set.name] = result
    if measurement is not None:
        summary = {**run, **measurement.summary(), "seconds": premise_seconds, "eval_precision": precision}
        _write_atomic(partial / "premise.json", json.dumps(summary, indent=2) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(partial, out_dir)
    return [results[test_set.name] for test_set in test_sets]
