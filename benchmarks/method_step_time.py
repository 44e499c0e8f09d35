"""Time per optimizer step of each training method relative to the baseline, on the embedded model and data.

    python benchmarks/method_step_time.py --workdir DIR [--steps 20] [--threads 2]

DIR must hold a finished default run's resources/ (models/e5small and data/sameapp), e.g. from
benchmarks/pipeline.py --workdir DIR. Targets: PGD-K ≤ (K + 1.2)× and FreeLB-K ≤ (K + 0.2)× the
baseline. Writes benchmarks/results/method-step-time.json and exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from robustxlt.training.loop import TrainingSettings, fine_tune
from robustxlt.training.methods import make_method

REPO = Path(__file__).resolve().parent.parent
METHODS = {
    "baseline": {"kind": "baseline"},
    "rs-rp": {"kind": "random_perturbation", "sigma": 0.5},
    "adv-k1": {"kind": "adversarial", "steps": 1},
    "adv-k3": {"kind": "adversarial", "steps": 3},
    "freelb-k2": {"kind": "freelb", "steps": 2},
    "freelb-k3": {"kind": "freelb", "steps": 3},
    # At the last hidden states the ascent steps only run the classification head.
    "adv-k3-hidden": {"kind": "adversarial", "steps": 3, "injection": "hidden"},
}


def target(method: dict) -> float | None:
    """The allowed cost relative to the baseline, where the issue sets one."""
    if method["kind"] == "adversarial":
        return method["steps"] + 1.2
    if method["kind"] == "freelb":
        return method["steps"] + 0.2
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model_dir = args.workdir / "resources" / "models" / "e5small"
    data_dir = args.workdir / "resources" / "data" / "sameapp"
    # Same recipe as config.yaml, without dev evaluation inside the timed steps.
    settings = TrainingSettings(
        learning_rate=1e-4,
        epochs=10**4,  # max_steps decides
        max_steps=args.steps,
        batch_size=16,
        gradient_accumulation=1,
        max_length=64,
        eval_every=10**6,
        freeze_word_embeddings=True,
        log_every=args.steps,
    )
    seconds = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, method in METHODS.items():
            out = Path(scratch) / name
            summary = fine_tune(
                model_dir,
                data_dir,
                out / "ckpt",
                out / "log.jsonl",
                settings,
                seed=1,
                run={"method": name},
                method=make_method(method),
                threads=args.threads,
            )
            seconds[name] = summary["seconds_per_step"]
    rows, missed = [], []
    for name, method in METHODS.items():
        ratio = seconds[name] / seconds["baseline"]
        limit = target(method)
        rows.append(
            {
                "method": name,
                **method,
                "seconds_per_step": round(seconds[name], 4),
                "relative_to_baseline": round(ratio, 2),
                "target": limit,
            }
        )
        if limit is not None and ratio > limit:
            missed.append(name)
        print(f"{name:10s} {seconds[name]:.3f} s/step  {ratio:.2f}x" + (f"  (target ≤ {limit:.1f}x)" if limit else ""))
    out = REPO / "benchmarks" / "results" / "method-step-time.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"steps": args.steps, "threads": args.threads, "methods": rows}, indent=2) + "\n")
    if missed:
        print(f"targets missed: {', '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
