"""The premise table: how far each language's test rows lie from their English translations (the pretrained
encoder's token shift at both injection points, in units of its mean token norm there) beside the radii the δ
methods trained with (in the same units), and per method the cross-lingual consistency (same prediction on a row
and its translation) with its change against the baseline, and whether its hidden-state shift is smaller."""

from __future__ import annotations

import numpy as np
import pandas as pd

from robustxlt.analysis import statistics
from robustxlt.analysis.tables.formatting import Table, delta_ci, delta_numbers, methods_note, pct
from robustxlt.analysis.tables.results import AVERAGE, LEVEL, PRETRAINED, SOURCE, Results

POINTS = ("embeddings", "hidden")
RADIUS_SETTINGS = ("epsilon", "sigma")  # the settings that are a δ radius, in units of the injection point's norm


def radius(results: Results, method: str) -> tuple[str, float, str] | None:
    """(setting, value, injection point) of a δ method's radius: the swept value chosen on English dev (the
    strength column, e.g. `epsilon=0.003`) or its unswept setting; None for a method without δ."""
    settings = results.method_settings.get(method, {})
    chosen = dict(part.split("=", 1) for part in results.strengths.get(method, "").split(",") if "=" in part)
    for name in RADIUS_SETTINGS:
        value = chosen.get(name, settings.get(name))
        if value is not None and not isinstance(value, list):
            return name, float(value), settings.get("injection", "embeddings")
    return None


def shift_means(results: Results) -> pd.DataFrame:
    """Per (method, lang, point): the mean over seeds of the token shift quantiles (units), consistency, seeds."""
    premise = results.premise
    if premise.empty:
        return pd.DataFrame(columns=["method", "lang", "point", "token_q10", "token_q50", "consistency", "seeds"])
    grouped = premise.groupby(["method", "lang", "point"], sort=False)
    means = grouped[["token_q10", "token_q50", "token_q90", "sentence_q50", "consistency"]].mean()
    return means.assign(seeds=grouped.size()).reset_index()


def consistency_delta(results: Results) -> pd.DataFrame:
    """statistics.improvements on the consistency bits (a frame shaped like metrics: accuracy = consistency rate,
    outcomes = consistency bits over the parallel rows), per language and averaged over languages."""
    runs = results.premise[(results.premise.method != PRETRAINED) & (results.premise.point == "hidden")]
    runs = runs.dropna(subset=["consistency"])
    if results.baseline is None or runs.method.nunique() < 2 or results.baseline not in set(runs.method):
        return pd.DataFrame(columns=statistics.IMPROVEMENT_COLUMNS)
    frame = runs.assign(
        lang1=runs.lang, lang2=runs.lang, accuracy=runs.consistency, n=runs.rows, outcomes=runs.consistency_outcomes
    )
    return statistics.improvements(frame, results.baseline, n_boot=results.n_boot, level=LEVEL)


def _shift_cell(row) -> str:
    return "" if row is None else f"{row.token_q50:.3g} [{row.token_q10:.3g}]"


def premise_table(results: Results) -> Table:
    """Per language: the pretrained encoder's token shift at both points; per method its radius, its checkpoint's
    shifts, consistency (%), Δ consistency over the baseline with its paired interval, and hidden shift < baseline."""
    means = shift_means(results)
    cells = {(r.method, r.lang, r.point): r for r in means.itertuples(index=False)}
    delta = consistency_delta(results)
    deltas = {(r.method, r.lang1): r for r in delta.itertuples(index=False)}
    langs = [lang for lang in results.languages if lang != SOURCE and lang in set(means.lang)]
    methods = [m for m in results.methods if m in set(means.method)]
    display, numbers = [], []
    for lang in [*langs, *([AVERAGE] if langs else [])]:
        for method in [PRETRAINED, *methods]:
            found = {point: cells.get((method, lang, point)) for point in POINTS}
            if lang == AVERAGE:
                found = {point: None for point in POINTS}
                if method == PRETRAINED or (method, AVERAGE) not in deltas:
                    continue
            given = radius(results, method) if method != PRETRAINED else None
            hidden, base = found["hidden"], cells.get((results.baseline, lang, "hidden"))
            smaller = (
                ""
                if method in (PRETRAINED, results.baseline) or hidden is None or base is None
                else ("yes" if hidden.token_q50 < base.token_q50 else "no")
            )
            stats = deltas.get((method, lang))
            rate = hidden.consistency if hidden is not None else _average_consistency(means, method, langs)
            display.append(
                {
                    "lang": lang,
                    "encoder": "pretrained encoder" if method == PRETRAINED else results.label(method),
                    "δ radius (units)": "" if given is None else f"{given[0]} = {given[1]:g} ({given[2]})",
                    "token shift, embeddings: median [p10]": _shift_cell(found["embeddings"]),
                    "token shift, hidden: median [p10]": _shift_cell(found["hidden"]),
                    "consistency (%)": pct(rate),
                    f"Δ consistency (pp) [{round(100 * LEVEL)}% CI]": delta_ci(stats),
                    "hidden shift < baseline": smaller,
                }
            )
            numbers.append(
                {
                    "lang": lang,
                    "method": method,
                    "radius_setting": given[0] if given else "",
                    "radius_units": given[1] if given else np.nan,
                    "injection": given[2] if given else "",
                    **{
                        f"{point}_token_{q}_units": getattr(found[point], f"token_{q}", np.nan)
                        for point in POINTS
                        for q in ("q10", "q50", "q90")
                    },
                    "consistency_pct": 100 * rate if rate is not None else np.nan,
                    **delta_numbers(stats, "consistency"),
                    "hidden_shift_below_baseline": smaller,
                    "seeds": hidden.seeds if hidden is not None else np.nan,
                }
            )
    units = results.premise.drop_duplicates("point").set_index("point").unit if not results.premise.empty else {}
    unit_text = ", ".join(f"{point} {units[point]:.4g}" for point in POINTS if point in units)
    notes = [
        f"The premise, E_tgt = E_{SOURCE} + δ, measured on the parallel test rows (same row, neither a placeholder, "
        "same label): per target token, the distance to the nearest token of its English row; median [p10] over "
        "the tokens, mean over seeds. Units: the pretrained encoder's mean token norm at each point, as training "
        f"uses them for ε and σ (absolute: {unit_text or 'none measured'}); a δ method's radius is in the same "
        "units at its injection point.",
        "Consistency: the share of parallel rows predicted as their English row is; Δ against "
        f"{results.baseline or 'the baseline'} in percentage points, {round(100 * LEVEL)}% paired bootstrap interval "
        f"(B = {results.n_boot}, rows and seeds resampled; * = interval excludes 0); avg: over the languages other "
        f"than {SOURCE}. Hidden shift < baseline: the checkpoint's median hidden-state token shift below the "
        "baseline checkpoint's.",
        "" if len(display) else "No premise measurements for this task and model.",
        methods_note(results),
    ]
    return Table(
        f"the premise: shift from {SOURCE} against the trained radii, and cross-lingual consistency",
        " ".join(n for n in notes if n),
        pd.DataFrame(display, columns=list(display[0]) if display else ["lang", "encoder"]),
        pd.DataFrame(numbers),
    )


def _average_consistency(means: pd.DataFrame, method: str, langs: list[str]) -> float | None:
    rows = means[(means.method == method) & means.lang.isin(langs) & (means.point == "hidden")]
    return float(rows.consistency.mean()) if len(rows) else None
