"""How far the unit of ε and σ moves when it is measured on a sample of English train (training setting
`unit_examples`) instead of all of it: the pipeline's own measurement (robustxlt.training.injection) on samples of
several sizes, each drawn with several seeds, against the whole set.

    python benchmarks/unit_sample.py --workdir DIR [--sizes 250 500 1000 2000] [--draws 5] [--threads 2]

DIR holds a run's resources/ (models/e5small, data/sameapp), e.g. a default or smoke run's working directory.
Prints and writes benchmarks/results/unit-sample.json: per sample size, each draw's unit at the last hidden states
and at the word embeddings, and the largest relative deviation from the whole set's.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from robustxlt.data.canonical import read_pairs
from robustxlt.models.batching import encode_pairs
from robustxlt.models.perturbation import mean_token_norm
from robustxlt.models.runtime import configure_threads, cpu_name
from robustxlt.training.injection import mean_hidden_norm

RESULTS = Path(__file__).resolve().parent / "results" / "unit-sample.json"


def units(encoder, data, pad_id: int) -> dict[str, float]:
    """Both units, as training and premise_pretrained measure them."""
    vocabulary = torch.tensor(sorted({i for ids in data.input_ids for i in ids}))
    return {
        "hidden": mean_hidden_norm(encoder, data, 64, pad_id),
        "embeddings": mean_token_norm(encoder.get_input_embeddings().weight, vocabulary),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=64)
    args = parser.parse_args()
    from transformers import AutoModel, AutoTokenizer

    configure_threads(args.threads)
    model_dir = args.workdir / "resources" / "models" / "e5small"
    tokenizer, encoder = AutoTokenizer.from_pretrained(model_dir), AutoModel.from_pretrained(model_dir)
    pairs = read_pairs(args.workdir / "resources" / "data" / "sameapp" / "train-en.tsv")
    english = encode_pairs(tokenizer, pairs, args.max_length)
    started = time.perf_counter()
    whole = units(encoder, english, tokenizer.pad_token_id)
    seconds_whole = time.perf_counter() - started
    samples = {}
    for size in args.sizes:
        drawn = [
            units(encoder, english.rows(np.sort(rng.choice(len(english), size, replace=False))), tokenizer.pad_token_id)
            for rng in map(np.random.default_rng, range(args.draws))
        ]
        deviation = {point: max(abs(d[point] / whole[point] - 1) for d in drawn) for point in ("hidden", "embeddings")}
        samples[str(size)] = {"draws": drawn, "largest_relative_deviation": deviation}
        print(f"{size:>5} pairs: largest deviation over {args.draws} draws: hidden {deviation['hidden']:.2%}, "
              f"embeddings {deviation['embeddings']:.2%}")  # fmt: skip
    record = {
        "command": "python benchmarks/unit_sample.py " + " ".join(sys.argv[1:]),
        "cpu": cpu_name() or platform.processor(),
        "rows": len(english),
        "whole": whole,
        "seconds_whole": seconds_whole,
        "samples": samples,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"whole set ({len(english)} pairs): {whole}; written {RESULTS}")


if __name__ == "__main__":
    main()
