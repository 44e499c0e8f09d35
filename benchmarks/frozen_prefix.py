"""What caching the frozen bottom layers would save: a training step and an inference batch of the default's model
with every layer run, against the same from the bottom layers' outputs computed beforehand (not timed).

With `freeze_layers: N` and the word embeddings frozen, the embedding layer and the bottom N transformer layers map
a batch to the same states on every pass (up to their dropout), so they could run once per example for a whole
training, and once per test set for every checkpoint evaluated on it. This measures the ceiling of that saving;
training caches them with `cache_frozen_layers: true` (robustxlt.training.frozen_prefix; the frozen layers then
apply no dropout), evaluation does not.

    python benchmarks/frozen_prefix.py --workdir DIR [--threads 1] [--batches 40]

DIR holds a default run's resources/ (models/e5small, data/sameapp). Prints and writes
benchmarks/results/frozen-prefix.json: mean and median seconds per training step (batch 32, fp32 unless the CPU
computes bf16 natively) and per inference batch, for both paths.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from robustxlt.data.canonical import read_pairs
from robustxlt.models.batching import encode_pairs, iterate_batches, length_grouped_batches
from robustxlt.models.frozen_layers import bottom_layers, classification_head, run_layers
from robustxlt.models.runtime import autocast, configure_threads, resolve_precision
from robustxlt.training.model_setup import load_model, optimizer_and_schedule
from robustxlt.training.settings import TrainingSettings

CPU = torch.device("cpu")
RESULTS = Path(__file__).resolve().parent / "results" / "frozen-prefix.json"


def prefix(model, batch: dict, frozen: int) -> torch.Tensor:
    """The bottom layers' output: what a cache holds."""
    with torch.no_grad():
        return bottom_layers(model, frozen, batch)


def loss_from_prefix(model, hidden: torch.Tensor, batch: dict, frozen: int) -> torch.Tensor:
    top = run_layers(model.bert.encoder.layer[frozen:], hidden, batch["attention_mask"])
    return torch.nn.functional.cross_entropy(classification_head(model)(top).float(), batch["labels"])


def timed(items, step) -> dict:
    """Mean and median seconds of `step` per item, after three warm-up items (batch lengths vary: the mean is what
    a run pays)."""
    seconds = []
    for item in items:
        started = time.perf_counter()
        step(item)
        seconds.append(time.perf_counter() - started)
    seconds = seconds[3:]
    return {"mean": round(float(np.mean(seconds)), 4), "median": round(float(np.median(seconds)), 4)}


def ratio(slow: dict, fast: dict) -> float:
    return round(slow["mean"] / fast["mean"], 2)


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--freeze-layers", type=int, default=6)
    args = parser.parse_args()
    configure_threads(args.threads)
    torch.manual_seed(0)
    precision = resolve_precision("auto", CPU)
    settings = TrainingSettings(max_steps=100, batch_size=32, gradient_accumulation=1, max_length=64,
                                freeze_word_embeddings=True, freeze_layers=args.freeze_layers)  # fmt: skip
    model, tokenizer = load_model(args.workdir / "resources/models/e5small", ["0", "1"], settings, CPU, precision)
    data = encode_pairs(tokenizer, read_pairs(args.workdir / "resources/data/sameapp/train-en.tsv"), 64)
    order = length_grouped_batches(data.lengths(), 32, 50, np.random.default_rng(0))[: args.batches]
    batches = [b for _, b in iterate_batches(data, order, tokenizer.pad_token_id, CPU)]
    optimizer, _ = optimizer_and_schedule(model, settings, 100)
    frozen = args.freeze_layers

    def update(loss: torch.Tensor) -> None:
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def train_full(item) -> None:
        batch, _ = item
        with autocast(CPU, precision):
            update(model(**batch).loss)

    def train_from_prefix(item) -> None:
        batch, hidden = item
        with autocast(CPU, precision):
            update(loss_from_prefix(model, hidden, batch, frozen))

    def infer_full(item) -> None:
        batch, _ = item
        model(**{k: v for k, v in batch.items() if k != "labels"})

    def infer_from_prefix(item) -> None:
        batch, hidden = item
        classification_head(model)(run_layers(model.bert.encoder.layer[frozen:], hidden, batch["attention_mask"]))

    # The bottom layers' outputs, computed before any timing: what a cache would hold.
    cached = [(batch, prefix(model, batch, frozen)) for batch in batches]
    results = {"train_full": timed(cached, train_full), "train_from_prefix": timed(cached, train_from_prefix)}
    model.eval()
    with torch.no_grad(), autocast(CPU, precision):
        results["inference_full"] = timed(cached, infer_full)
        results["inference_from_prefix"] = timed(cached, infer_from_prefix)
    record = {
        "cpu": cpu_name(),
        "date": time.strftime("%Y-%m-%d"),
        "precision": precision,
        "threads": args.threads,
        "freeze_layers": frozen,
        "batches": len(batches),
        "seconds": results,
        "speedup_train_mean": ratio(results["train_full"], results["train_from_prefix"]),
        "speedup_inference_mean": ratio(results["inference_full"], results["inference_from_prefix"]),
    }
    print(json.dumps(record, indent=1))
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
