"""fp32 against bf16 autocast on the embedded model and data: seconds per optimizer step and accuracy.

    python benchmarks/precision.py --workdir DIR [--steps 150] [--threads 2]

DIR must hold the default run's resources/ (models/e5small and data/sameapp), e.g. from
benchmarks/pipeline.py --workdir DIR. Trains the baseline with the default config's recipe once per precision
(same seed), then evaluates each best checkpoint on English test in the same precision. Writes
benchmarks/results/precision.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import yaml
from robustxlt.evaluation.zero_shot import EvaluationSet, zero_shot_accuracy
from robustxlt.models.runtime import cpu_has_native_bf16
from robustxlt.training.loop import TrainingSettings, fine_tune

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=None, help="default: the config's max_steps")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model_dir = args.workdir / "resources" / "models" / "e5small"
    data_dir = args.workdir / "resources" / "data" / "sameapp"
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    recipe = {**config["training"], **config["models"]["e5small"].get("training", {})}
    if args.steps:
        recipe.update(epochs=10**4, max_steps=args.steps, early_stopping_patience=None)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for precision in ("fp32", "bf16"):
            settings = dataclasses.replace(TrainingSettings.from_dict(recipe), precision=precision)
            out = Path(scratch) / precision
            summary = fine_tune(
                model_dir, data_dir, out / "ckpt", out / "log.jsonl", settings, seed=1, run={}, threads=args.threads
            )
            (test,) = zero_shot_accuracy(
                out / "ckpt",
                [EvaluationSet("en", "en", data_dir / "test-en.tsv")],
                out / "eval",
                run={},
                threads=args.threads,
                precision=precision,
            )
            rows.append(
                {
                    "precision": precision,
                    "seconds_per_step": round(summary["seconds_per_step"], 4),
                    "best_step": summary["best_step"],
                    "best_dev_accuracy": round(summary["best_dev_accuracy"], 4),
                    "test_en_accuracy": round(test["accuracy"], 4),
                    "eval_seconds_test_en": round(test["seconds"], 2),
                }
            )
            print(rows[-1])
    speedup = rows[0]["seconds_per_step"] / rows[1]["seconds_per_step"]
    record = {
        "steps": recipe["max_steps"],
        "threads": args.threads,
        "cpu_native_bf16": cpu_has_native_bf16(),
        "runs": rows,
        "bf16_speedup": round(speedup, 2),
    }
    out = REPO / "benchmarks" / "results" / "precision.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"bf16 autocast: {speedup:.2f}x the fp32 step -> {out}")


if __name__ == "__main__":
    main()
