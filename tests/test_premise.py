"""The premise's measurements: a planted shift is recovered at its size, and copies are perfectly consistent."""

from __future__ import annotations

import numpy as np
import pytest
from robustxlt.data.canonical import Pair
from robustxlt.evaluation.premise import consistent, nearest_token_distances, parallel_rows, sentence_distance, shift


def test_a_planted_per_token_shift_is_recovered_in_units_of_the_mean_token_norm():
    rng = np.random.default_rng(0)
    unit = 3.0
    sources = [rng.normal(size=(int(rng.integers(5, 12)), 32)) * 20 for _ in range(50)]
    # Target = English + δ with every ‖δ_i‖ = 0.4 units: small against the distance between tokens.
    deltas = [rng.normal(size=s.shape) for s in sources]
    targets = [s + 0.4 * unit * d / np.linalg.norm(d, axis=1, keepdims=True) for s, d in zip(sources, deltas)]
    measured = shift(targets, sources, unit)
    assert measured["rows"] == 50 and measured["tokens"] == sum(len(s) for s in sources)
    for q in ("10", "50", "90"):
        assert measured[f"token_q{q}"] == pytest.approx(0.4, abs=1e-9)
    assert measured["sentence_q50"] < 0.4  # mean pooling averages the per-token δ's directions
    assert shift([s.copy() for s in sources], sources, unit)["token_q90"] == pytest.approx(0.0, abs=1e-6)


def test_greedy_matching_takes_the_nearest_source_token_whatever_the_order():
    source = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    target = np.array([[0.0, 9.0], [11.0, 0.0]])  # reordered tokens of another length
    assert nearest_token_distances(target, source) == pytest.approx([1.0, 1.0])
    assert sentence_distance(target, source) == pytest.approx(np.linalg.norm([5.5, 4.5] - np.array([10 / 3, 10 / 3])))


def test_copies_of_the_english_rows_are_fully_consistent_and_parallel_rows_skip_the_data_quirks():
    english = [Pair(f"a{i}", f"b{i}", i % 2, str(i)) for i in range(6)]
    target = [Pair(f"x{i}", f"y{i}", i % 2, str(i)) for i in range(6) if i != 2]  # row 2 missing
    target[0] = Pair("NS", "NS", 0, "0")  # a placeholder
    target[3] = Pair("x4", "y4", 1 - english[4].label, "4")  # another label
    assert parallel_rows(english, target) == [(1, 1), (3, 2), (5, 4)]
    predictions = np.array([0, 1, 1, 0, 1, 0])
    assert consistent(predictions, predictions.copy()).all()
    assert consistent(np.array([0, 1]), np.array([0, 0])).tolist() == [True, False]
