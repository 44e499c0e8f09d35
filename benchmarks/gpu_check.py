"""The first command to run on a GPU node, before submitting the paper's grid:

    python benchmarks/gpu_check.py [--skip-pipeline]

On a machine without usable CUDA it says so in one line and exits 0. With CUDA it
1. describes the card as every job's log will (robustxlt.models.runtime.device_description) and the precision
   `auto` resolves to there;
2. takes one PGD-3 training step (the project's method and loss, AdamW) of an XLM-R-large-shaped classifier with
   random weights (its published configuration; no hub) at batch 32 × 128 tokens, after a warm-up step, and reports
   its seconds and peak device memory: the paper's largest model at an A100's micro-batch;
3. measures mBERT-shaped training and evaluation throughput (random weights, XNLI-length pairs of random token ids)
   of the project's step (length-grouped batches, dynamic padding, precision auto) against the XTREME-style
   reference (every pair padded to 128, fp32), as benchmarks/throughput.py does on CPUs;
4. runs presets/paper-tiny.yaml end to end on the GPU (ROBUSTXLT_DEVICE=cuda) in a scratch directory and checks
   that every training ran on CUDA.
Writes benchmarks/results/gpu-check-<card>.json. The test suite runs steps 2 and 3 on a CPU with tiny shapes
(`--device cpu --shapes tiny`), so that the script cannot rot before the first GPU reaches it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from robustxlt.models.batching import EncodedPairs, iterate_batches, length_grouped_batches
from robustxlt.models.runtime import autocast, device_description, resolve_precision
from robustxlt.models.shape import HUB_CONFIGS
from robustxlt.training.injection import perturbable_batch
from robustxlt.training.methods import RunContext, make_method

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
# The paper's encoders in their published configurations (robustxlt.models.shape), and tiny ones for the test suite.
TINY = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
SHAPES = {
    "paper": {name: HUB_CONFIGS[name] for name in ("xlm-roberta-large", "bert-base-multilingual-cased")},
    "tiny": {
        "xlm-roberta-large": {**TINY, "max_position_embeddings": 514, "type_vocab_size": 1, "pad_token_id": 1},
        "bert-base-multilingual-cased": TINY,
    },
}
XNLI_LENGTHS = (42, 64)  # mBERT tokens of an XNLI pair: mean, 95th percentile (benchmarks/throughput.py)
REFERENCE_LENGTH = 128


def random_classifier(name: str, shapes: str, device: torch.device) -> torch.nn.Module:
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        XLMRobertaConfig,
        XLMRobertaForSequenceClassification,
    )

    torch.manual_seed(0)
    if name == "xlm-roberta-large":
        return XLMRobertaForSequenceClassification(XLMRobertaConfig(num_labels=3, **SHAPES[shapes][name])).to(device)
    return BertForSequenceClassification(BertConfig(num_labels=3, **SHAPES[shapes][name])).to(device)


def synthetic_pairs(n: int, vocab: int, mean: int, p95: int, seed: int = 0) -> EncodedPairs:
    """`n` pairs of random token ids whose lengths follow a normal with this mean and 95th percentile."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.normal(mean, (p95 - mean) / 1.645, n).round(), 8, REFERENCE_LENGTH).astype(int)
    ids = [rng.integers(5, vocab, size=length).tolist() for length in lengths]
    return EncodedPairs(ids, [[0] * len(row) for row in ids], rng.integers(0, 3, size=n).tolist())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def training_steps(model, data: EncodedPairs, batches, method: dict, device, precision: str) -> float:
    """Seconds per optimizer step of `method` over `batches` (the first one warms up and is not timed)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    objective = make_method(method)
    context = RunContext(unit=1.0, generator=torch.Generator(device).manual_seed(0))
    model.train()
    timed = []
    for step, (_, batch) in enumerate(iterate_batches(data, batches, 0, device)):
        _sync(device)
        started = time.perf_counter()
        objective.backward(perturbable_batch(model, batch, device, objective.injection, precision), context)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        _sync(device)
        if step:
            timed.append(time.perf_counter() - started)
    return float(np.mean(timed))


def padded(data: EncodedPairs, length: int = REFERENCE_LENGTH) -> EncodedPairs:
    """The reference's batches: every pair padded with a token of its own to `length` (no dynamic padding)."""
    return EncodedPairs([row + [1] * (length - len(row)) for row in data.input_ids], None, data.labels)


def pgd_step(device: torch.device, shapes: str, batch: int = 32, length: int = REFERENCE_LENGTH) -> dict:
    """One PGD-3 step of an XLM-R-large-shaped classifier at `batch` × `length` tokens: seconds and peak memory."""
    model = random_classifier("xlm-roberta-large", shapes, device)
    precision = resolve_precision("auto", device)
    vocab = model.config.vocab_size
    data = EncodedPairs(torch.randint(5, vocab, (2 * batch, length)).tolist(), None, [0] * (2 * batch))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    pgd = {"kind": "adversarial", "epsilon": 0.2, "step_size": 0.25, "steps": 3}
    seconds = training_steps(model, data, [np.arange(batch), np.arange(batch, 2 * batch)], pgd, device, precision)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return {"batch": batch, "length": length, "precision": precision, "seconds": seconds, "peak_memory_gb": peak}


def throughput(device: torch.device, shapes: str, batch: int = 32, steps: int = 10, eval_pairs: int = 2048) -> dict:
    """mBERT-shaped training and evaluation, pairs per second: the project's path against the reference's."""
    model = random_classifier("bert-base-multilingual-cased", shapes, device)
    precision = resolve_precision("auto", device)
    data = synthetic_pairs(max(batch * (steps + 1), eval_pairs), model.config.vocab_size, *XNLI_LENGTHS)
    grouped = length_grouped_batches(data.lengths(), batch, 50, np.random.default_rng(0))[: steps + 1]
    in_order = [np.arange(i * batch, (i + 1) * batch) for i in range(steps + 1)]
    baseline = {"kind": "baseline"}
    project = training_steps(model, data, grouped, baseline, device, precision)
    reference = training_steps(model, padded(data), in_order, baseline, device, "fp32")
    evaluation = {}
    for name, rows, order, evaluation_precision in (
        ("project", data, np.argsort(-data.lengths()), precision),
        ("reference", padded(data), np.arange(len(data)), "fp32"),
    ):
        chunks = [order[i : i + 128] for i in range(0, eval_pairs, 128)]
        model.eval()
        _sync(device)
        started = time.perf_counter()
        with torch.no_grad(), autocast(device, evaluation_precision):
            for _, batch_tensors in iterate_batches(rows, chunks, 0, device):
                batch_tensors.pop("labels")
                model(**batch_tensors)
        _sync(device)
        evaluation[name] = eval_pairs / (time.perf_counter() - started)
    return {
        "precision": precision,
        "train_pairs_per_second": {"project": batch / project, "reference": batch / reference},
        "train_speedup": reference / project,
        "eval_pairs_per_second": evaluation,
        "eval_speedup": evaluation["project"] / evaluation["reference"],
    }


def paper_tiny_on_gpu() -> dict:
    """presets/paper-tiny.yaml end to end with ROBUSTXLT_DEVICE=cuda in a scratch copy of the repository."""
    with tempfile.TemporaryDirectory(prefix="robustxlt-gpu-check-") as scratch:
        work = Path(scratch) / "repo"
        skipped = shutil.ignore_patterns(".venv", "results", "resources", ".snakemake", ".git")
        shutil.copytree(REPO, work, ignore=skipped)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "presets/paper-tiny.yaml"],
            cwd=work, env={**os.environ, "ROBUSTXLT_DEVICE": "cuda"}, capture_output=True, text=True,
        )  # fmt: skip
        devices = {
            json.loads(log.read_text().splitlines()[0])["device"] for log in (work / "results").rglob("train_log.jsonl")
        }
        return {
            "returncode": done.returncode,
            "seconds": time.perf_counter() - started,
            "training_devices": sorted(devices),
            "log_tail": done.stderr.splitlines()[-5:],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default); cpu only to check the script itself")
    parser.add_argument("--shapes", choices=sorted(SHAPES), default="paper")
    parser.add_argument("--skip-pipeline", action="store_true", help="leave out the paper-tiny run")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/gpu-check-<card>.json")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"gpu_check: no usable CUDA (torch {torch.__version__}, CUDA {torch.version.cuda}); nothing to check")
        return 0
    device = torch.device(args.device)
    described = device_description(device, resolve_precision("auto", device))
    record = {"device": described, "pgd3_xlmr_large": pgd_step(device, args.shapes)}
    record["mbert_throughput"] = throughput(device, args.shapes)
    if not args.skip_pipeline:
        record["paper_tiny"] = paper_tiny_on_gpu()
    card = re.sub(r"[^A-Za-z0-9]+", "-", described.get("name") or device.type).strip("-").lower()
    out = args.out or RESULTS / f"gpu-check-{card}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    if args.skip_pipeline:
        return 0
    ran = record["paper_tiny"]
    return 0 if ran["returncode"] == 0 and ran["training_devices"] == ["cuda"] else 1


if __name__ == "__main__":
    sys.exit(main())
