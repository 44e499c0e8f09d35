"""Per-example correctness of an evaluation (the `outcomes` of its results), packed as hex: written by evaluation,
paired across runs by the analysis's bootstrap."""

from __future__ import annotations

import numpy as np


def encode_outcomes(correct: np.ndarray) -> str:
    """Per-example correctness as hex of its big-endian packed bits, zero-padded to a whole byte."""
    correct = np.asarray(correct)
    if correct.ndim != 1:
        raise ValueError(f"outcomes must be one-dimensional, got shape {correct.shape}")
    return np.packbits(correct.astype(bool)).tobytes().hex()


def decode_outcomes(hex_string: str, n: int) -> np.ndarray:
    """The `n` booleans that `encode_outcomes` packed into `hex_string`."""
    if not isinstance(hex_string, str):
        raise ValueError(
            f"outcomes must be a hex string, got {type(hex_string).__name__} {hex_string!r}: "
            "read metrics.csv with analysis.statistics.read_metrics, which keeps the column as text"
        )
    packed = np.frombuffer(bytes.fromhex(hex_string), dtype=np.uint8)
    if len(packed) != (n + 7) // 8:
        raise ValueError(
            f"outcomes hold {len(packed)} byte(s) but n = {n} examples need {(n + 7) // 8}: "
            "the outcomes and n columns of this row disagree"
        )
    return np.unpackbits(packed, count=n).astype(bool)
