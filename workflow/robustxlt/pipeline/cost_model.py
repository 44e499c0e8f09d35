"""What a job costs on a device class: peak rates, the time a job's compute and rows take there, and the fit that
calibrates them from a run's own benchmark files. The cost plan's arithmetic (robustxlt.pipeline.cost_plan), kept
apart from the grid so that each formula can be checked by hand; the model's own (FLOPs per token, memory of a
training step) is robustxlt.models.shape's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    name: str
    memory_gb: float
    # Dense peak FLOP/s per compute precision: bf16 and fp16 on the tensor cores, fp32 without TF32 (which the
    # jobs leave off); a card that only emulates bf16 has no bf16 entry.
    peaks: dict[str, float]

    def precision(self, configured: str) -> str:
        """What a job's `precision` resolves to on this card (robustxlt.models.runtime.resolve_precision): auto is
        bf16 where the card computes it natively, else fp32; bf16 asked of a card that emulates it runs at fp32's
        speed or slower."""
        if configured == "auto":
            return "bf16" if "bf16" in self.peaks else "fp32"
        return configured if configured in self.peaks else "fp32"

    def peak(self, configured: str) -> float:
        return self.peaks[self.precision(configured)]


# Peaks from the vendors' data sheets (dense, no sparsity).
DEVICES = {
    "a100-40gb": Device("NVIDIA A100 40 GB", 40, {"bf16": 312e12, "fp16": 312e12, "fp32": 19.5e12}),
    "a100-80gb": Device("NVIDIA A100 80 GB", 80, {"bf16": 312e12, "fp16": 312e12, "fp32": 19.5e12}),
    "h100-80gb": Device("NVIDIA H100 SXM 80 GB", 80, {"bf16": 989e12, "fp16": 989e12, "fp32": 67e12}),
    "v100-32gb": Device("NVIDIA V100 32 GB (no native bf16)", 32, {"fp16": 125e12, "fp32": 15.7e12}),
}
DEFAULT_DEVICE = "a100-40gb"
# Share of the peak a fine-tuning step reaches: BERT-sized models at 128 tokens with short micro-batches keep a card
# far from its peak (kernel launches, the optimizer, data loading). An assumption, printed with every plan; a
# calibrated plan replaces it with the run's own rate.
DEFAULT_UTILISATION = 0.25
# Seconds a job spends apart from the model: start-up (imports, loading the model) and, per row read, reading and
# tokenising on one CPU thread; refitted from the run's own benchmark files once jobs have finished.
STARTUP_SECONDS = 60.0
SECONDS_PER_ROW = 1e-4


def device_seconds(flops: float, rows: float, peak: float, utilisation: float) -> float:
    """Expected wall time of a job on a device of `peak` FLOP/s (at the job's precision) before calibration."""
    return STARTUP_SECONDS + rows * SECONDS_PER_ROW + flops / (peak * utilisation)


def fit_nonnegative(features: list[list[float]], targets: list[float]) -> list[float]:
    """Least squares with every coefficient ≥ 0 over a handful of features: the best unconstrained fit among
    the subsets of features whose own fit has no negative coefficient (exact for a few features)."""
    import itertools

    import numpy as np

    x, y = np.asarray(features, dtype=float), np.asarray(targets, dtype=float)
    best, best_error = [0.0] * x.shape[1], float(np.sum(y**2))
    for size in range(1, x.shape[1] + 1):
        for columns in itertools.combinations(range(x.shape[1]), size):
            coef, *_ = np.linalg.lstsq(x[:, columns], y, rcond=None)
            if np.any(coef < 0):
                continue
            error = float(np.sum((x[:, columns] @ coef - y) ** 2))
            if error < best_error - 1e-12:
                best, best_error = [0.0] * x.shape[1], error
                for column, value in zip(columns, coef, strict=True):
                    best[column] = float(value)
    return best
