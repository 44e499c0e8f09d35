"""The paper's three claims, read from a (task, model)'s rendered tables for the run's summary: robust training
improves zero-shot transfer (the standard table), the improvement grows with a language's distance from English
(the correlation table) and it is larger in the generalized setting, where the two sentences of a pair are in two
languages (the generalized table). Each method gets a verdict per claim from its 95% interval, never from the
estimate alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from robustxlt.analysis.statistics import smallest_detectable_correlation
from robustxlt.analysis.tables.correlations import DISTANCE_TYPES
from robustxlt.analysis.tables.formatting import signed


def verdict(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return "not measured"
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "no difference shown"


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def cell(self, digits: int = 1) -> str:
        if pd.isna(self.estimate):
            return "–"
        if digits == 1:
            return f"{signed(self.estimate)} [{signed(self.low)}, {signed(self.high)}]"
        return f"{self.estimate:+.2f} [{self.low:+.2f}, {self.high:+.2f}]"


NOTHING = Interval(float("nan"), float("nan"), float("nan"))


@dataclass(frozen=True)
class Generalized:
    """The generalized table's answer: the baseline's gap (generalized minus standard accuracy on the same
    languages, points) and each method's Δ over the baseline in the generalized setting."""

    gap: float
    deltas: dict[str, Interval]

    def closed(self, method: str) -> str:
        """The share of the baseline's generalized gap a method's Δ closes (negative: it widens it)."""
        delta = self.deltas.get(method, NOTHING).estimate
        if pd.isna(delta) or pd.isna(self.gap) or self.gap >= 0:
            return "–"
        return f"{100 * delta / -self.gap:+.0f}%"


def read_generalized(path: Path) -> Generalized:
    try:
        table = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return Generalized(float("nan"), {})
    if table.empty or "generalized_improvement_pp" not in table:
        return Generalized(float("nan"), {})
    baseline = table[table.kind == "baseline"]
    gap = float(baseline.generalized_minus_standard_pp.iloc[0]) if len(baseline) else float("nan")
    deltas = {
        row.method: Interval(row.generalized_improvement_pp, row.generalized_ci_low_pp, row.generalized_ci_high_pp)
        for row in table.itertuples(index=False)
        if row.kind != "baseline"
    }
    return Generalized(gap, deltas)


@dataclass(frozen=True)
class Distance:
    """Per method, the URIEL distance type whose correlation with the method's improvement is strongest among
    those whose interval excludes 0 (None: no relation shown), and the correlation with the measured shift."""

    strongest: dict[str, tuple[str, Interval] | None]
    languages: int

    def cell(self, method: str) -> str:
        if method not in self.strongest:
            return "–"
        found = self.strongest[method]
        return "no relation shown" if found is None else f"{found[0]} r {found[1].cell(digits=2)}"


def read_distance(path: Path) -> Distance:
    try:
        table = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return Distance({}, 0)
    if table.empty:
        return Distance({}, 0)
    strongest: dict[str, tuple[str, Interval] | None] = {}
    for method, rows in table.groupby("method", sort=False):
        uriel = rows[rows.distance_type.isin(DISTANCE_TYPES)]
        shown = uriel[(uriel.pearson_low > 0) | (uriel.pearson_high < 0)]
        if shown.empty:
            strongest[method] = None
            continue
        best = shown.loc[shown.pearson_r.abs().idxmax()]
        strongest[method] = (best.distance_type, Interval(best.pearson_r, best.pearson_low, best.pearson_high))
    return Distance(strongest, int(table.n_languages.max()))


def _listed(by_verdict: dict[str, list[str]], order: tuple[str, ...]) -> str:
    return "; ".join(f"{name}: {', '.join(by_verdict[name])}" for name in order if by_verdict.get(name)) or "–"


def claim_lines(standard: dict[str, Interval], generalized: Generalized, distance: Distance) -> list[str]:
    """One line per claim: which methods the run shows better, worse or not different, per the 95% intervals."""
    methods = list(standard)
    order = ("better", "worse", "no difference shown", "not measured")
    in_standard: dict[str, list[str]] = {}
    in_generalized: dict[str, list[str]] = {}
    for method in methods:
        in_standard.setdefault(verdict(standard[method].low, standard[method].high), []).append(method)
        delta = generalized.deltas.get(method, NOTHING)
        in_generalized.setdefault(verdict(delta.low, delta.high), []).append(method)
    grows = [m for m in methods if distance.strongest.get(m) and distance.strongest[m][1].low > 0]
    shrinks = [m for m in methods if distance.strongest.get(m) and distance.strongest[m][1].high < 0]
    unrelated = [m for m in methods if m in distance.strongest and distance.strongest[m] is None]
    gap = "not evaluated" if pd.isna(generalized.gap) else f"the baseline loses {-generalized.gap:.1f} points there"
    relation = _listed(
        {"larger farther from en": grows, "smaller farther from en": shrinks, "no relation shown": unrelated},
        ("larger farther from en", "smaller farther from en", "no relation shown"),
    )
    return [
        f"- Claim 1, zero-shot transfer improves (avg excl. en): {_listed(in_standard, order)}",
        f"- Claim 2, gains grow with distance from en ({distance.languages} languages: only |r| ≥ "
        f"{smallest_detectable_correlation(distance.languages):.2f} detectable): {relation}",
        f"- Claim 3, larger in the generalized setting ({gap}): {_listed(in_generalized, order)}",
    ]
