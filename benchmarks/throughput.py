"""Training and evaluation throughput of the project's loop against the loop users would otherwise run.

    python benchmarks/throughput.py --workdir DIR [--threads 2] [--steps 8]

DIR holds the default run's resources/ (models/e5small, data/sameapp), e.g. from benchmarks/pipeline.py
--workdir DIR. In one process, on the same model (the default config's frozen layers), data, batch size and
thread count, it times
- a training step of the project (`fine_tune`: length-grouped batches, dynamic padding, precision `auto`) for
  the baseline and each method kind, and a reference step written the way XTREME's `run_classify.py` does it
  (`reference_train_step`: tokenise per batch, pad to 128, fp32, batches in file order);
- evaluation: the project's path (`encode_pairs` once, `predict`: sorted batches, dynamic padding, precision
  `auto`) against the reference's (tokenise per batch, pad to 128, fp32, batch 64);
on three length profiles: the proxy's own pairs, and pairs built from the proxy's real sentences to XNLI's and
PAWS-X's English lengths with this tokenizer (pair = both sentences and specials: XNLI mean ≈ 42, p95 ≈ 64;
PAWS-X mean ≈ 63, p95 ≈ 90). A profile pair draws a target length from a normal with that mean and p95, then
fills sentence 1 and sentence 2 with consecutive words of the proxy's English sentences (a running text of all
train and test sentences) to about half of it each; the lengths reached are recorded.
Writes benchmarks/results/throughput.json; targets: training and evaluation ≥ 3× the reference on
the XNLI profile, PGD-K ≤ (K + 1.2)× and FreeLB-K ≤ (K + 0.2)× the project's baseline step.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from robustxlt.data.canonical import Pair, read_manifest, read_pairs, write_manifest, write_pairs
from robustxlt.models.batching import encode_pairs
from robustxlt.models.prediction import predict
from robustxlt.models.runtime import configure_threads, resolve_precision
from robustxlt.training.loop import TrainingSettings, fine_tune
from robustxlt.training.methods import make_method
from robustxlt.training.model_setup import apply_freezing
from transformers import AutoModelForSequenceClassification, AutoTokenizer

REPO = Path(__file__).resolve().parent.parent
PROFILES = {"xnli": (42, 64), "pawsx": (63, 90)}  # pair tokens: mean, p95
METHODS = {
    "baseline": {"kind": "baseline"},
    "rs-rp": {"kind": "random_perturbation", "sigma": 0.1},
    "pgd-1": {"kind": "adversarial", "epsilon": 0.01, "step_size": 0.01, "steps": 1},
    "pgd-3": {"kind": "adversarial", "epsilon": 0.01, "step_size": 0.005, "steps": 3},
    "freelb-2": {"kind": "freelb", "epsilon": 0.01, "step_size": 0.005, "steps": 2},
}
REFERENCE_LENGTH = 128
EVAL_PAIRS = 640


def profile_pairs(tokenizer, sentences: list[str], mean: int, p95: int, n: int, seed: int) -> list[Pair]:
    """`n` pairs whose token lengths follow a normal with this mean and 95th percentile, from real sentences."""
    rng = np.random.default_rng(seed)
    words = " ".join(sentences).split()
    per_word = np.mean([len(tokenizer.tokenize(s)) / max(1, len(s.split())) for s in sentences[:500]])
    sd = (p95 - mean) / 1.645
    pairs = []
    for i in range(n):
        target = max(8.0, rng.normal(mean, sd)) - 4  # 4 special tokens in an XLM-R pair
        half = max(1, int(round(target / 2 / per_word)))
        start = int(rng.integers(len(words) - 2 * half))
        pairs.append(
            Pair(" ".join(words[start : start + half]), " ".join(words[start + half : start + 2 * half]), i % 2)
        )
    return pairs


def lengths(tokenizer, pairs: list[Pair]) -> dict:
    data = encode_pairs(tokenizer, pairs, 512).lengths()
    return {"mean": round(float(data.mean()), 1), "p95": round(float(np.percentile(data, 95)), 1)}


def reference_model(model_dir: Path, settings: TrainingSettings):
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2)
    apply_freezing(model, settings, model_dir)
    return model


def reference_batch(tokenizer, batch: list[Pair]) -> dict[str, torch.Tensor]:
    """XTREME's preprocessing, per batch: the tokenizer pads every pair to 128 tokens."""
    return tokenizer(
        [p.sentence1 for p in batch],
        [p.sentence2 for p in batch],
        padding="max_length",
        truncation=True,
        max_length=REFERENCE_LENGTH,
        return_tensors="pt",
    )


def reference_train(model_dir: Path, tokenizer, pairs: list[Pair], settings: TrainingSettings, steps: int) -> float:
    """Seconds per step of the XTREME-style loop: tokenise each batch, pad to 128, fp32, file order."""
    model = reference_model(model_dir, settings)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings.learning_rate)
    size = settings.batch_size
    timed = []
    for step in range(steps + 2):  # the first two warm up allocators and kernels
        batch = pairs[(step * size) % len(pairs) :][:size]
        started = time.perf_counter()
        inputs = reference_batch(tokenizer, batch)
        loss = model(**inputs, labels=torch.tensor([p.label for p in batch])).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= 2:
            timed.append(time.perf_counter() - started)
    return float(np.mean(timed))


def project_train(model_dir: Path, task_dir: Path, settings: TrainingSettings, method: dict, steps: int, threads: int):
    """Seconds per step of `fine_tune` (its own clock, dev evaluation excluded)."""
    with tempfile.TemporaryDirectory() as scratch:
        summary = fine_tune(
            model_dir,
            task_dir,
            Path(scratch) / "ckpt",
            Path(scratch) / "log.jsonl",
            dataclasses.replace(settings, epochs=10**4, max_steps=steps, eval_every=10**6, log_every=10**6),
            seed=1,
            run={},
            method=make_method(method),
            threads=threads,
        )
    return summary["seconds_per_step"]


def reference_eval(model, tokenizer, pairs: list[Pair]) -> float:
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(pairs), 64):
            batch = pairs[start : start + 64]
            model(**reference_batch(tokenizer, batch)).logits.argmax(-1)
    return time.perf_counter() - started


def project_eval(model, tokenizer, pairs: list[Pair], precision: str) -> float:
    started = time.perf_counter()
    data = encode_pairs(tokenizer, pairs, REFERENCE_LENGTH)
    predict(model, data, 64, tokenizer.pad_token_id, precision=precision)
    return time.perf_counter() - started


def task_dir_for(pairs: list[Pair], source: Path, directory: Path) -> Path:
    directory.mkdir(parents=True)
    write_pairs(directory / "train-en.tsv", pairs)
    write_pairs(directory / "dev-en.tsv", pairs[:32])
    manifest = read_manifest(source / "manifest.json")
    write_manifest(directory / "manifest.json", {"labels": manifest["labels"], "description": "throughput profile"})
    return directory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8, help="timed training steps per configuration")
    args = parser.parse_args()
    configure_threads(args.threads)
    model_dir = args.workdir / "resources/models/e5small"
    data_dir = args.workdir / "resources/data/sameapp"
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    recipe = {**config["training"], **config["models"]["e5small"]["training"]}
    settings = dataclasses.replace(TrainingSettings.from_dict(recipe), max_length=REFERENCE_LENGTH)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    proxy_train = read_pairs(data_dir / "train-en.tsv")
    proxy_test = [p for f in sorted(data_dir.glob("test-*.tsv")) for p in read_pairs(f)]
    english = [p.sentence2 for p in proxy_train + read_pairs(data_dir / "test-en.tsv")]
    profiles = {"proxy": (proxy_train, proxy_test[:EVAL_PAIRS])}
    for name, (mean, p95) in PROFILES.items():
        built = profile_pairs(tokenizer, english, mean, p95, 400 + EVAL_PAIRS, seed=0)
        profiles[name] = (built[:400], built[400:])
    precision = resolve_precision(settings.precision, torch.device("cpu"))
    record = {"threads": args.threads, "batch_size": settings.batch_size, "steps": args.steps, "precision": precision}
    record["profiles"] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, (train, test) in profiles.items():
            task_dir = task_dir_for(train, data_dir, Path(scratch) / name)
            methods = METHODS if name == "xnli" else {"baseline": METHODS["baseline"]}
            project = {
                m: project_train(model_dir, task_dir, settings, spec, args.steps, args.threads)
                for m, spec in methods.items()
            }
            reference = reference_train(model_dir, tokenizer, train, settings, args.steps)
            eval_model = AutoModelForSequenceClassification.from_pretrained(
                model_dir, num_labels=2, attn_implementation="eager" if precision == "bf16" else None
            ).eval()
            project_seconds = project_eval(eval_model, tokenizer, test, precision)
            reference_seconds = reference_eval(reference_model(model_dir, settings).eval(), tokenizer, test)
            size = settings.batch_size
            row = {
                "lengths": lengths(tokenizer, train),
                "train_pairs_per_s": {m: round(size / s, 1) for m, s in project.items()},
                "train_reference_pairs_per_s": round(size / reference, 1),
                "train_ratio": round(reference / project["baseline"], 2),
                "method_cost_vs_baseline": {m: round(s / project["baseline"], 2) for m, s in project.items()},
                "eval_pairs_per_s": round(len(test) / project_seconds, 1),
                "eval_reference_pairs_per_s": round(len(test) / reference_seconds, 1),
                "eval_ratio": round(reference_seconds / project_seconds, 2),
            }
            record["profiles"][name] = row
            print(name, json.dumps(row), flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
    xnli = record["profiles"]["xnli"]
    costs = xnli["method_cost_vs_baseline"]
    # This process, not a job: it holds the project's and the reference's models and trains every method. A job's
    # own peak (target ≤ 3 GB) is measured by benchmarks/profile_jobs.py and benchmarks/pipeline.py.
    record["harness_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    record["targets"] = {
        "train_ratio_xnli >= 3": xnli["train_ratio"] >= 3,
        "eval_ratio_xnli >= 3": xnli["eval_ratio"] >= 3,
        "pgd-1 <= 2.2": costs["pgd-1"] <= 2.2,
        "pgd-3 <= 4.2": costs["pgd-3"] <= 4.2,
        "freelb-2 <= 2.2": costs["freelb-2"] <= 2.2,
    }
    out = REPO / "benchmarks" / "results" / "throughput.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    for target, met in record["targets"].items():
        print(f"{'met   ' if met else 'MISSED'} {target}")
    print(f"-> {out}")
    return 0 if all(record["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
