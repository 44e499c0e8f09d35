"""The statistics behind the tables: outcome encoding, seed summaries, paired bootstrap, correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from robustxlt.analysis.statistics import (
    CORRELATION_COLUMNS,
    IMPROVEMENT_COLUMNS,
    correlations,
    improvements,
    read_metrics,
    seed_summary,
)
from robustxlt.evaluation.lexical_overlap import REFERENCE_MODEL
from robustxlt.evaluation.outcomes import decode_outcomes, encode_outcomes


def metrics_frame(runs: dict[tuple[str, int, str, str], np.ndarray], task: str = "t", model: str = "m") -> pd.DataFrame:
    """metrics.csv rows from {(method, seed, lang1, lang2): per-example correctness}."""
    rows = [
        {
            "task": task,
            "model": model,
            "method": method,
            "seed": seed,
            "lang1": lang1,
            "lang2": lang2,
            "accuracy": float(np.mean(correct)) if len(correct) else float("nan"),
            "n": len(correct),
            "outcomes": encode_outcomes(correct),
        }
        for (method, seed, lang1, lang2), correct in runs.items()
    ]
    return pd.DataFrame(rows)


def with_extra_correct(base: np.ndarray, k: int) -> np.ndarray:
    """`base` plus the first k examples it gets wrong."""
    better = base.copy()
    better[np.flatnonzero(~base)[:k]] = True
    return better


def flip(correct: np.ndarray, wrong_to_right: float, right_to_wrong: float, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(len(correct))
    return np.where(correct, u >= right_to_wrong, u < wrong_to_right)


def one(table: pd.DataFrame, **where) -> pd.Series:
    selected = table[np.logical_and.reduce([table[k] == v for k, v in where.items()])]
    assert len(selected) == 1, selected
    return selected.iloc[0]


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 13, 64, 1001])
def test_outcomes_round_trip(n):
    correct = np.random.default_rng(n).random(n) < 0.5
    hex_string = encode_outcomes(correct)
    assert len(hex_string) == 2 * ((n + 7) // 8)
    decoded = decode_outcomes(hex_string, n)
    assert decoded.dtype == bool and np.array_equal(decoded, correct)


def test_outcomes_bit_order_is_big_endian_and_zero_padded():
    assert encode_outcomes(np.array([True, False, True])) == "a0"
    assert encode_outcomes(np.array([0, 0, 0, 0, 0, 0, 0, 1, 1])) == "0180"


def test_decode_rejects_hex_of_the_wrong_length_or_type():
    with pytest.raises(ValueError, match="n = 9"):
        decode_outcomes("ff", 9)
    with pytest.raises(ValueError, match="read_metrics"):
        decode_outcomes(101, 8)


def test_read_metrics_keeps_outcomes_as_text(tmp_path):
    frame = metrics_frame(
        {
            ("baseline", 1, "de", "de"): np.array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], dtype=bool),
            ("baseline", 1, "fr", "fr"): np.zeros(0, dtype=bool),
        }
    )
    assert list(frame.outcomes) == ["0101", ""]
    frame.to_csv(tmp_path / "metrics.csv", index=False)
    assert list(read_metrics(tmp_path / "metrics.csv").outcomes) == ["0101", ""]


def test_seed_summary():
    base = np.zeros(10, dtype=bool)
    frame = metrics_frame(
        {
            ("baseline", 1, "de", "de"): with_extra_correct(base, 5),
            ("baseline", 2, "de", "de"): with_extra_correct(base, 7),
            ("adv", 1, "de", "de"): with_extra_correct(base, 6),
        }
    )
    summary = seed_summary(frame)
    assert list(summary.columns) == ["task", "model", "method", "lang1", "lang2", "mean", "std", "seeds", "n"]
    baseline = one(summary, method="baseline")
    assert baseline["mean"] == pytest.approx(0.6)
    assert baseline["std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert (baseline.seeds, baseline.n) == (2, 10)
    assert np.isnan(one(summary, method="adv")["std"])


def test_known_improvement_has_the_analytic_paired_interval():
    n, k, n_boot = 2000, 100, 2000
    base = np.random.default_rng(0).random(n) < 0.7
    frame = metrics_frame({("baseline", 1, "de", "de"): base, ("adv", 1, "de", "de"): with_extra_correct(base, k)})
    row = one(improvements(frame, n_boot=n_boot), lang1="de")
    assert row.improvement == pytest.approx(k / n, abs=1e-12)
    # The per-example difference is 1 on k examples and 0 elsewhere: a proportion k/n with its binomial error.
    standard_error = np.sqrt(k / n * (1 - k / n) / n)
    assert row.ci_high - row.ci_low == pytest.approx(2 * 1.959964 * standard_error, rel=0.15)
    assert row.ci_low > 0
    assert row.p_value == pytest.approx(2 / (n_boot + 1))  # no replicate reaches 0
    assert (row.seeds, row.n) == (1, n)


def test_identical_method_improves_by_exactly_zero():
    base = np.random.default_rng(1).random(500) < 0.6
    frame = metrics_frame({("baseline", 1, "de", "de"): base, ("same", 1, "de", "de"): base})
    row = one(improvements(frame), lang1="de")
    assert (row.improvement, row.ci_low, row.ci_high, row.p_value) == (0, 0, 0, 1)


def test_pairing_narrows_the_interval_of_correlated_methods():
    n, n_boot = 1000, 2000
    rng = np.random.default_rng(2)
    base = rng.random(n) < 0.7
    method = flip(base, 0.2, 0.03, rng)  # mostly right where the baseline is right
    frame = metrics_frame({("baseline", 1, "de", "de"): base, ("adv", 1, "de", "de"): method})
    row = one(improvements(frame, n_boot=n_boot), lang1="de")
    # Unpaired: each method's examples resampled on their own, as if the test sets were independent.
    draws = rng.integers(0, n, size=(2, n_boot, n))
    unpaired = method[draws[0]].mean(axis=1) - base[draws[1]].mean(axis=1)
    unpaired_width = np.subtract(*np.quantile(unpaired, [0.975, 0.025]))
    assert row.ci_high - row.ci_low < 0.6 * unpaired_width
    assert row.ci_low <= row.improvement <= row.ci_high


def test_seeds_are_paired_by_id_and_resampled():
    base = np.random.default_rng(3).random(1000) < 0.5
    runs = {("baseline", s, "de", "de"): base for s in (3, 1, 2)}
    runs |= {("varies", s, "de", "de"): with_extra_correct(base, k) for s, k in [(2, 50), (1, 0), (3, 100)]}
    runs |= {("steady", s, "de", "de"): with_extra_correct(base, 50) for s in (1, 2, 3)}
    runs |= {("partial", s, "de", "de"): with_extra_correct(base, 50) for s in (1, 2, 4)}
    table = improvements(metrics_frame(runs), average=False)
    varies, steady = one(table, method="varies"), one(table, method="steady")
    assert varies.improvement == steady.improvement == pytest.approx(0.05)
    assert (varies.seeds, steady.seeds, one(table, method="partial").seeds) == (3, 3, 2)
    # Seed-to-seed spread (0 to 0.1) must show in the interval, beyond the example-level noise.
    assert varies.ci_high - varies.ci_low > 3 * (steady.ci_high - steady.ci_low)


def test_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(4)
    runs = {}
    for i in range(250):  # 250 independent test sets, each compared once
        lang = f"l{i:03d}"
        base = rng.random(200) < 0.7
        runs[("baseline", 1, lang, lang)] = base
        runs[("better", 1, lang, lang)] = flip(base, 0.4, 0.1, rng)  # true difference 0.3·0.4 − 0.7·0.1 = 0.05
        runs[("null", 1, lang, lang)] = flip(base, 0.35, 0.15, rng)  # 0.3·0.35 − 0.7·0.15 = 0
    table = improvements(metrics_frame(runs), n_boot=1000, average=False)
    for method, truth in [("better", 0.05), ("null", 0.0)]:
        rows = table[table.method == method]
        coverage = np.mean((rows.ci_low <= truth) & (truth <= rows.ci_high))
        assert 0.90 <= coverage <= 0.99, (method, coverage)
    # The p-value inverts the interval: p < 5% exactly when 0 lies outside the 95% interval (up to the +1).
    excludes_zero = (table.ci_low > 0) | (table.ci_high < 0)
    assert np.mean((table.p_value < 0.05) == excludes_zero) > 0.97


def test_average_over_languages_resamples_rows_jointly():
    rng = np.random.default_rng(5)
    n = 400
    base = {lang: rng.random(n) < 0.6 for lang in ("en", "de", "fr")}
    gain = rng.random(n) < 0.1
    runs = {("baseline", 1, lang, lang): correct for lang, correct in base.items()}
    runs[("baseline", 1, "de", "fr")] = base["de"]
    runs[("adv", 1, "en", "en")] = base["en"] | gain
    # de gains on exactly the rows on which fr loses: the average is unchanged on every row.
    runs[("adv", 1, "de", "de")] = base["de"] | (gain & ~base["de"] & base["fr"])
    runs[("adv", 1, "fr", "fr")] = base["fr"] & ~(gain & ~base["de"] & base["fr"])
    runs[("adv", 1, "de", "fr")] = base["de"] | gain  # generalized: not in the average
    table = improvements(metrics_frame(runs))
    de, fr, average = (one(table, lang1=lang, lang2=lang) for lang in ("de", "fr", "avg"))
    assert de.improvement > 0.01 and de.ci_low > 0
    assert average.improvement == pytest.approx((de.improvement + fr.improvement) / 2) == pytest.approx(0)
    assert (average.ci_low, average.ci_high, average.n) == (pytest.approx(0), pytest.approx(0), 2 * n)
    assert list(table.columns) == IMPROVEMENT_COLUMNS
    assert "avg" not in set(improvements(metrics_frame(runs), average=False).lang1)


def test_reference_rows_are_ignored_and_results_are_deterministic():
    rng = np.random.default_rng(6)
    base = rng.random(300) < 0.6
    runs = {("baseline", s, "de", "de"): flip(base, 0.1, 0.1, rng) for s in (1, 2)}
    runs |= {("adv", s, "de", "de"): flip(base, 0.2, 0.1, rng) for s in (1, 2)}
    frame = metrics_frame(runs)
    reference = metrics_frame({(REFERENCE_MODEL, 0, "de", "de"): base}, model=REFERENCE_MODEL)
    first = improvements(pd.concat([frame, reference]), seed=7)
    assert set(first.method) == {"adv"}
    pd.testing.assert_frame_equal(first, improvements(frame, seed=7))
    other = improvements(frame, seed=8)
    assert other.improvement.equals(first.improvement) and not other.ci_low.equals(first.ci_low)


def test_improvements_refuses_inconsistent_input():
    base = np.ones(16, dtype=bool)
    with pytest.raises(ValueError, match="baseline"):
        improvements(metrics_frame({("adv", 1, "de", "de"): base}))
    wrong = metrics_frame({("baseline", 1, "de", "de"): base, ("adv", 1, "de", "de"): base})
    wrong.loc[1, "accuracy"] = 0.5
    with pytest.raises(ValueError, match="disagree with accuracy"):
        improvements(wrong)
    with pytest.raises(ValueError, match="level"):
        improvements(metrics_frame({("baseline", 1, "de", "de"): base}), level=95)


def improvement_table(values: dict[str, float]) -> pd.DataFrame:
    rows = [{"task": "t", "model": "m", "method": "adv", "lang1": lang, "lang2": lang} for lang in values]
    return pd.DataFrame(rows).assign(improvement=list(values.values()))


def distance_table(values: dict[str, float], distance_type: str = "syntactic") -> pd.DataFrame:
    rows = [
        {"lang": lang, "iso639_3": lang + "x", "distance_type": distance_type, "distance": d}
        for lang, d in values.items()
    ]
    return pd.DataFrame(rows).assign(source="test", metric="cosine")


DISTANCE = {"de": 0.1, "es": 0.2, "fr": 0.3, "ja": 0.5, "ko": 0.6, "zh": 0.8}


def test_correlation_of_a_linear_and_of_a_monotone_relation():
    distances = pd.concat([distance_table(DISTANCE), distance_table(DISTANCE, "genetic")])
    linear = improvement_table({lang: 0.02 * d + 0.001 for lang, d in DISTANCE.items()} | {"en": 0.5, "avg": -1})
    table = correlations(linear, distances)
    assert list(table.columns) == CORRELATION_COLUMNS and list(table.distance_type) == ["genetic", "syntactic"]
    row = table.iloc[0]
    assert row.n_languages == 6  # English and the average left out
    values = row[["pearson_r", "pearson_low", "pearson_high", "spearman_rho", "spearman_low", "spearman_high"]]
    assert values.to_numpy(dtype=float) == pytest.approx(np.ones(6))
    monotone = one(
        correlations(improvement_table({lang: np.exp(8 * d) for lang, d in DISTANCE.items()}), distances),
        distance_type="syntactic",
    )
    assert monotone.spearman_rho == pytest.approx(1) and monotone.pearson_r < 0.95
    assert monotone.pearson_low <= monotone.pearson_r <= monotone.pearson_high


def test_correlation_is_nan_when_undefined():
    two = correlations(improvement_table({"de": 0.01, "fr": 0.02}), distance_table(DISTANCE))
    assert two.n_languages.tolist() == [2]
    assert two[CORRELATION_COLUMNS[4:-1]].isna().all(axis=None)
    constant = correlations(improvement_table(dict.fromkeys(DISTANCE, 0.01)), distance_table(DISTANCE))
    assert np.isnan(constant.pearson_r.iloc[0]) and np.isnan(constant.spearman_low.iloc[0])


def test_correlation_bootstrap_is_deterministic_and_skips_degenerate_replicates():
    rng = np.random.default_rng(9)
    noisy = improvement_table({lang: d + rng.normal(0, 0.2) for lang, d in list(DISTANCE.items())[:3]})
    first = correlations(noisy, distance_table(DISTANCE), seed=1)
    pd.testing.assert_frame_equal(first, correlations(noisy, distance_table(DISTANCE), seed=1))
    assert first.iloc[0][CORRELATION_COLUMNS[4:-1]].notna().all()  # 3 languages: some replicates are constant


def test_the_smallest_detectable_correlation_shrinks_with_the_languages():
    """Fisher's z at 80% power and a two-sided 5% test: 6 languages show only |r| ≥ 0.92, XNLI's 14 others 0.69."""
    from robustxlt.analysis.statistics import smallest_detectable_correlation

    assert smallest_detectable_correlation(6) == pytest.approx(0.924, abs=0.002)
    assert smallest_detectable_correlation(14) == pytest.approx(0.688, abs=0.002)
    assert smallest_detectable_correlation(3) == 1.0
