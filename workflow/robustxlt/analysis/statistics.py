"""Uncertainty for the results: mean ± std over seeds, improvement over the baseline with a paired bootstrap
interval, and the correlation of the improvement with the distance from English.

Definitions (the tables and figures cite these):

- **Pairing.** Per-example correctness (`outcomes`) is compared between a method and the baseline on the same
  test examples and, with several seeds, the same seed ids (the seeds both of them have).
- **Bootstrap replicate.** Resample the test examples with replacement (one index draw shared by method and
  baseline) and, with several seeds, the seed ids with replacement (shared likewise); the replicate is the mean
  difference in accuracy over the drawn seeds and examples. The interval is the percentile interval.
- **Common random numbers.** The example draw depends only on (`seed`, n) and the seed draw only on (`seed`,
  number of seeds), so every language with the same n sees the same resampled row indices. Test sets of
  PAWS-X and XNLI are parallel (row i is one item translated), and this is what lets the average respect it.
- **Average** (`lang1 == lang2 == "avg"`). Mean over the standard-setting languages other than English of the
  per-language improvement, on the seeds the method and the baseline share in all of them. Its replicate is the
  mean of the per-language replicates: rows are resampled jointly across languages when their test sets have
  the same size (valid whether or not they are parallel) and independently otherwise; seeds always jointly,
  because one seed is one trained model evaluated in every language. Its `n` is the total over the languages.
- **p-value.** Two-sided, by inverting the percentile interval: p = min(1, 2 min(#{t ≤ 0} + 1, #{t ≥ 0} + 1)
  / (B + 1)) over the B replicates t. The +1 keeps p above 0 with finitely many replicates; p < 1 − level
  exactly when 0 lies outside the interval, up to that correction. A method identical to the baseline has p = 1.
- **Correlation.** Over the standard-setting languages other than English, improvement against distance from
  English, Pearson and Spearman (Pearson on average ranks). Bootstrap over languages with replacement;
  replicates whose languages all have one distance or one improvement have no correlation and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from robustxlt.evaluation.lexical_overlap import REFERENCE_MODEL
from robustxlt.evaluation.outcomes import decode_outcomes

RUN_GROUP = ["task", "model", "method", "lang1", "lang2"]
SOURCE_LANGUAGE = "en"
AVERAGE = "avg"
IMPROVEMENT_COLUMNS = [*RUN_GROUP, "improvement", "ci_low", "ci_high", "p_value", "seeds", "n"]
CORRELATION_COLUMNS = [
    "task",
    "model",
    "method",
    "distance_type",
    "pearson_r",
    "pearson_low",
    "pearson_high",
    "spearman_rho",
    "spearman_low",
    "spearman_high",
    "n_languages",
]
# Independent random streams per kind of draw, each keyed by its size only (see "common random numbers").
_EXAMPLES, _SEEDS, _LANGUAGES = 0, 1, 2
_BATCH = 128  # comparisons per matrix product: about 640 rows with 5 seeds, 13 MB at n = 5010


def as_bool(column: pd.Series, missing: bool = False) -> pd.Series:
    """A CSV column of True/False that may have empty cells (rows it does not apply to): those read as `missing`."""
    known = {"true": True, "false": False}
    return column.map(lambda value: known.get(str(value).lower(), missing)).astype(bool)


def bool_column(table: pd.DataFrame, name: str, missing: bool = False) -> pd.Series:
    """as_bool of `table[name]`, or `missing` everywhere when the table has no such column."""
    return as_bool(table.get(name, pd.Series(index=table.index, dtype=object)), missing)


def read_metrics(path: Path) -> pd.DataFrame:
    """metrics.csv with `outcomes` kept as text (hex of digits only would be read as a number, losing zeros)."""
    metrics = pd.read_csv(path, dtype={"outcomes": str, "strength": str})
    metrics["outcomes"] = metrics["outcomes"].fillna("")  # an empty test set writes an empty field
    # Columns later versions added: a metrics.csv from an earlier run still renders.
    metrics["collapsed"] = bool_column(metrics, "collapsed")
    # A run whose English dev was still improving when it ended (an empty cell: not a run, or not recorded).
    metrics["not_converged"] = ~bool_column(metrics, "converged", missing=True)
    metrics["strength"] = (
        metrics.get("strength", pd.Series(index=metrics.index, dtype=object)).astype(object).fillna("")
    )
    return metrics


def seed_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per (task, model, method, lang1, lang2): accuracy `mean`, `std` over seeds (ddof 1), `seeds`, `n`."""
    summary = metrics.groupby(RUN_GROUP, sort=True).agg(
        mean=("accuracy", "mean"), std=("accuracy", "std"), seeds=("seed", "nunique"), n=("n", "first")
    )
    return summary.reset_index()


def _check_bootstrap(n_boot: int, level: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be a fraction in (0, 1), e.g. 0.95, got {level}")


def _rng(seed: int, kind: int, size: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(kind, size)))


def _draw_counts(size: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of `size` units is drawn in each of `n_boot` resamples with replacement (n_boot × size)."""
    draws = rng.integers(0, size, size=(n_boot, size))
    # float32 keeps the products with outcome differences exact (integers < 2**24) and the matrix product fast.
    return np.stack([np.bincount(row, minlength=size) for row in draws]).astype(np.float32)


def _interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    low, high = np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _p_value(replicates: np.ndarray) -> float:
    """Two-sided bootstrap p for a difference ≠ 0 (the module docstring gives the definition)."""
    side = min(np.sum(replicates <= 0), np.sum(replicates >= 0)) + 1
    return float(min(1.0, 2 * side / (len(replicates) + 1)))


@dataclass(frozen=True)
class _Comparison:
    """One method against the baseline on one test set."""

    key: tuple  # values of RUN_GROUP
    seeds: list[int]  # the seed ids both have, ascending
    differences: np.ndarray  # seeds × examples: method's correctness minus the baseline's (-1, 0, 1)


def _outcomes_by_seed(runs: pd.DataFrame) -> dict[int, np.ndarray]:
    outcomes = {int(s): decode_outcomes(h, int(k)) for s, h, k in zip(runs.seed, runs.outcomes, runs.n)}
    for (s, correct), accuracy in zip(outcomes.items(), runs.accuracy):
        if abs(correct.mean() - accuracy) > 1e-6:  # CSV keeps 6 decimals
            raise ValueError(f"{runs.iloc[0][RUN_GROUP].to_dict()} seed {s}: outcomes disagree with accuracy")
    return outcomes


def _comparisons(runs: pd.DataFrame, baseline: str) -> list[_Comparison]:
    """Every method against the baseline, per test set, on the seeds both have."""
    comparisons = []
    for (task, model, lang1, lang2), test_set in runs.groupby(["task", "model", "lang1", "lang2"], sort=True):
        if test_set.n.nunique() != 1:
            raise ValueError(f"{task}/{model} test-{lang1}-{lang2}: runs disagree on n, so outcomes cannot be paired")
        base = _outcomes_by_seed(test_set[test_set.method == baseline])
        for method, method_runs in test_set[test_set.method != baseline].groupby("method", sort=True):
            other = _outcomes_by_seed(method_runs)
            seeds = sorted(base.keys() & other.keys())
            if seeds:
                differences = np.stack([other[s].astype(np.int8) - base[s].astype(np.int8) for s in seeds])
                comparisons.append(_Comparison((task, model, method, lang1, lang2), seeds, differences))
    return comparisons


def _resampled_means(comparisons: list[_Comparison], n_boot: int, seed: int) -> list[np.ndarray]:
    """Per comparison, seeds × n_boot mean differences over resampled examples (one example draw per test size)."""
    means: list[np.ndarray] = [np.empty(0)] * len(comparisons)
    sizes = np.array([c.differences.shape[1] for c in comparisons])
    for n in np.unique(sizes):
        counts = _draw_counts(int(n), n_boot, _rng(seed, _EXAMPLES, int(n))).T
        members = np.flatnonzero(sizes == n)
        for batch in np.array_split(members, -(-len(members) // _BATCH)):  # big products run near peak speed
            sums = np.concatenate([comparisons[i].differences for i in batch]).astype(np.float32) @ counts
            blocks = np.split(sums, np.cumsum([len(comparisons[i].seeds) for i in batch])[:-1])
            for i, block in zip(batch, blocks):
                means[i] = block.astype(np.float64) / n
    return means


def _row(
    key: tuple, parts: list[tuple[_Comparison, np.ndarray]], seed_counts: Callable[[int], np.ndarray], level: float
) -> dict | None:
    """The improvement row of one comparison, or of the mean over several (the average pseudo-language); None
    when they share no seed."""
    seeds = sorted(set.intersection(*(set(c.seeds) for c, _ in parts)))
    if not seeds:
        return None
    counts = seed_counts(len(seeds))
    estimates, replicates = [], []
    for comparison, means in parts:
        rows = [comparison.seeds.index(s) for s in seeds]
        estimates.append(comparison.differences[rows].mean())
        replicates.append((counts * means[rows].T).sum(axis=1) / len(seeds))  # each seed weighted by its draws
    replicates = np.mean(replicates, axis=0)
    low, high = _interval(replicates, level)
    return {
        **dict(zip(RUN_GROUP, key)),
        "improvement": float(np.mean(estimates)),
        "ci_low": low,
        "ci_high": high,
        "p_value": _p_value(replicates),
        "seeds": len(seeds),
        "n": sum(c.differences.shape[1] for c, _ in parts),
    }


def improvements(
    metrics: pd.DataFrame,
    baseline: str = "baseline",
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    average: bool = True,
) -> pd.DataFrame:
    """Per (task, model, method ≠ baseline, lang1, lang2): improvement in accuracy over the baseline with a paired
    bootstrap interval and p-value; with `average`, also lang1 = lang2 = "avg" (definitions: module docstring).

    Test sets without a baseline run, seeds without a baseline run, and empty test sets are left out.
    """
    _check_bootstrap(n_boot, level)
    runs = metrics[(metrics.model != REFERENCE_MODEL) & (metrics.method != REFERENCE_MODEL) & (metrics.n > 0)]
    if not (runs.method == baseline).any():
        raise ValueError(f"metrics have no runs of the baseline method {baseline!r}")
    duplicated = runs.duplicated([*RUN_GROUP, "seed"])
    if duplicated.any():
        raise ValueError(f"metrics have more than one row per run and test set, e.g.\n{runs[duplicated].head(3)}")
    comparisons = _comparisons(runs, baseline)
    means = _resampled_means(comparisons, n_boot, seed)
    seed_counts = cache(lambda k: _draw_counts(k, n_boot, _rng(seed, _SEEDS, k)))
    rows, standard = [], {}
    for comparison, comparison_means in zip(comparisons, means):
        rows.append(_row(comparison.key, [(comparison, comparison_means)], seed_counts, level))
        task, model, method, lang1, lang2 = comparison.key
        if average and lang1 == lang2 != SOURCE_LANGUAGE:
            standard.setdefault((task, model, method), []).append((comparison, comparison_means))
    rows += [_row((*key, AVERAGE, AVERAGE), parts, seed_counts, level) for key, parts in standard.items()]
    return pd.DataFrame([row for row in rows if row is not None], columns=IMPROVEMENT_COLUMNS).sort_values(
        RUN_GROUP, ignore_index=True
    )


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks (1-based) within each row, ties sharing their mean rank: resampling repeats languages."""
    below = (values[..., :, None] > values[..., None, :]).sum(axis=-1)
    tied = (values[..., :, None] == values[..., None, :]).sum(axis=-1)
    return below + (tied + 1) / 2


def _pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r within each row; NaN for a row whose x or y is constant (no correlation is defined)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    defined = (np.ptp(x, axis=-1) > 0) & (np.ptp(y, axis=-1) > 0)  # exact test: centring leaves rounding residue
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=-1) / np.sqrt((xc**2).sum(axis=-1) * (yc**2).sum(axis=-1))
    return np.where(defined, np.clip(r, -1, 1), np.nan)


def _defined_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    defined = replicates[~np.isnan(replicates)]
    return _interval(defined, level) if len(defined) else (np.nan, np.nan)


def _association(x: np.ndarray, y: np.ndarray, n_boot: int, seed: int, level: float) -> dict:
    """Pearson and Spearman correlation of y with x, each with a percentile interval from resampling the pairs;
    NaN with fewer than 3 pairs or a constant x or y."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    result = dict.fromkeys(CORRELATION_COLUMNS[4:-1], np.nan) | {"n_languages": len(x)}
    if len(x) < 3:  # two points always lie on a line
        return result
    draws = _rng(seed, _LANGUAGES, len(x)).integers(0, len(x), size=(n_boot, len(x)))
    for estimate, name, transform in (
        ("pearson_r", "pearson", np.asarray),
        ("spearman_rho", "spearman", _average_ranks),
    ):
        low, high = _defined_interval(_pearson(transform(x[draws]), transform(y[draws])), level)
        result |= {estimate: float(_pearson(transform(x), transform(y))), f"{name}_low": low, f"{name}_high": high}
    return result


def correlations(
    improvements: pd.DataFrame, distances: pd.DataFrame, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Per (task, model, method, distance_type): correlation over the standard-setting languages other than English
    of the improvement with the distance from English, with bootstrap intervals over languages."""
    _check_bootstrap(n_boot, level)
    if distances.duplicated(["lang", "distance_type"]).any():
        raise ValueError("distances have more than one row per (lang, distance_type): keep one source per type")
    standard = improvements[
        (improvements.lang1 == improvements.lang2) & ~improvements.lang1.isin([SOURCE_LANGUAGE, AVERAGE])
    ]
    paired = standard.merge(distances[["lang", "distance_type", "distance"]], left_on="lang1", right_on="lang")
    paired = paired.dropna(subset=["improvement", "distance"])
    keys = ["task", "model", "method", "distance_type"]
    rows = [
        dict(zip(keys, key)) | _association(group.distance, group.improvement, n_boot, seed, level)
        for key, group in paired.groupby(keys, sort=True)
    ]
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def smallest_detectable_correlation(n: int, level: float = 0.95, power: float = 0.8) -> float:
    """The smallest |r| a two-sided test at `level` detects with probability `power` among `n` points (Fisher's
    z: atanh(r) √(n − 3) ≥ z₁₋α/₂ + z_power); 1.0 where n ≤ 3 leaves nothing detectable. With 6 languages it is
    0.92: a correlation table over few languages can show only a near-perfect relation."""
    from statistics import NormalDist

    if n <= 3:
        return 1.0
    z = NormalDist().inv_cdf(1 - (1 - level) / 2) + NormalDist().inv_cdf(power)
    return float(np.tanh(z / np.sqrt(n - 3)))
