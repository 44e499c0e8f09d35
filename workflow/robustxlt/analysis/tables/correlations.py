"""The correlation table: improvement over the baseline against the language's distance from English (URIEL types)."""

from __future__ import annotations

import pandas as pd

from robustxlt.analysis.statistics import smallest_detectable_correlation
from robustxlt.analysis.tables.formatting import Table, methods_note
from robustxlt.analysis.tables.results import LEVEL, SOURCE, Results, config_order

# URIEL's distance types in the order the outputs list them; types not named here (the measured shifts) follow,
# sorted.
DISTANCE_TYPES = ["syntactic", "geographic", "genetic", "phonological", "inventory", "featural"]


def distance_types(distances: pd.DataFrame) -> list[str]:
    present = set(distances.distance_type)
    return [t for t in DISTANCE_TYPES if t in present] + sorted(present - set(DISTANCE_TYPES))


def distance_note(distances: pd.DataFrame) -> str:
    """Where the distances come from, per the distances file itself."""
    sources = distances.drop_duplicates(["source", "metric"])
    described = "; ".join(f"{s.source} ({s.metric})" for s in sources.itertuples()) or "none"
    return f"Distance from {SOURCE} per type (URIEL; measured shift: the premise table), from {described}."


def _correlation(estimate: float, low: float, high: float) -> str:
    if pd.isna(estimate):
        return "undefined"
    return f"{estimate:+.2f}" + ("" if pd.isna(low) else f" [{low:+.2f}, {high:+.2f}]")


def _detectable(frame: pd.DataFrame) -> str:
    """The smallest correlation the table's number of languages can show (80% power, two-sided 5% test)."""
    counts = sorted({int(n) for n in frame.n_languages.dropna()})
    if not counts:
        return ""
    smallest = ", ".join(f"|r| ≥ {smallest_detectable_correlation(n):.2f} with {n}" for n in counts)
    return f"Smallest correlation detectable (80% power, 5% two-sided): {smallest} languages."


def correlation_table(results: Results) -> Table:
    """Per compared method and distance type: Pearson r and Spearman ρ of improvement with distance, with CIs."""
    level = f"{round(100 * LEVEL)}% CI"
    methods, types = config_order(results.methods), config_order(distance_types(results.distances))
    frame = results.correlations.sort_values(
        ["method", "distance_type"], key=lambda c: c.map(methods if c.name == "method" else types)
    )
    display = pd.DataFrame(
        {
            "method": frame.method,
            "distance": frame.distance_type,
            f"Pearson r [{level}]": list(map(_correlation, frame.pearson_r, frame.pearson_low, frame.pearson_high)),
            f"Spearman ρ [{level}]": list(
                map(_correlation, frame.spearman_rho, frame.spearman_low, frame.spearman_high)
            ),
            "languages": frame.n_languages.astype(str),
        }
    )
    notes = [
        f"Correlation over the standard-setting languages other than {SOURCE} of the improvement over "
        f"{results.baseline or 'the baseline'} with the distance from {SOURCE}; intervals from {results.n_boot} "
        "bootstrap resamples of the languages (few languages: wide intervals). " + _detectable(frame),
        distance_note(results.distances),
        "" if len(frame) else "No method other than the baseline, or no distances: nothing to correlate.",
        methods_note(results),
    ]
    return Table(
        f"improvement vs. distance from {SOURCE}",
        " ".join(n for n in notes if n),
        display,
        frame.drop(columns=["task", "model"]).reset_index(drop=True),
    )
