"""The generalized-setting tables (sentence 1 in lang1, sentence 2 in lang2): the average over language pairs beside
the standard setting on the same languages, and one row per ordered pair."""

from __future__ import annotations

import numpy as np
import pandas as pd

from robustxlt.analysis.tables.formatting import (
    Table,
    accuracy_numbers,
    ci_note,
    delta_ci,
    delta_numbers,
    mean_std,
    methods_note,
    seeds_cell,
    signed,
    tidy_delta,
)
from robustxlt.analysis.tables.results import GENERALIZED_AVERAGE, LEVEL, SOURCE, SUBSET_AVERAGE, Results, config_order


def _span(values: list[int]) -> str:
    return "none" if not values else str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"


def test_set_sizes(results: Results, generalized: bool) -> str:
    """Test examples per test set of one setting, e.g. "306" or "800–1000"."""
    runs = results.runs
    chosen = runs[runs.lang1 != runs.lang2] if generalized else runs[runs.lang1 == runs.lang2]
    return _span(sorted(set(chosen.n.astype(int))))


def generalized_scope(results: Results) -> str:
    """Which languages, pairs and test rows the generalized set covers: the caption's honesty line."""
    pairs = results.runs[results.runs.lang1 != results.runs.lang2][["lang1", "lang2"]].drop_duplicates()
    if pairs.empty:
        return "No generalized-setting results in metrics.csv (no language pairs were evaluated)."
    covered = results.generalized_languages
    pair_n, standard_n = test_set_sizes(results, generalized=True), test_set_sizes(results, generalized=False)
    sampled = (
        " The pairs use a sample of the test rows, so generalized and standard accuracies are on different rows."
        if pair_n != standard_n
        else ""
    )
    return (
        f"Generalized setting: sentence 1 in lang1, sentence 2 in lang2 (lang1 ≠ lang2); "
        f"{len(covered)} of {len(results.languages)} languages ({', '.join(covered)}), "
        f"{len(pairs)} ordered pairs of the {len(covered) * (len(covered) - 1)} possible among them, "
        f"n = {pair_n} test pairs per language pair (standard test sets: n = {standard_n}).{sampled}"
        f"{_rows_left_out(results)}"
    )


def _rows_left_out(results: Results) -> str:
    """The caption's account of rows not scored as they are: placeholder rows (scored in the standard setting,
    as in XTREME) and rows dropped from the generalized pairs (counts per pair in generalized.json)."""
    runs = results.runs
    notes = []
    if "dropped_rows" in runs and runs.dropped_rows.fillna(0).gt(0).any():
        dropped = runs[runs.lang1 != runs.lang2].dropped_rows.fillna(0).astype(int)
        notes.append(
            f" Rows left out of each pair (a placeholder sentence such as NS, labels that differ between the two "
            f"languages, or a row one language lacks): {_span(sorted(set(dropped)))} per pair (counts in "
            "generalized.json)."
        )
    return "".join(notes)


def generalized_table(results: Results) -> Table:
    """Per method: mean accuracy over all ordered pairs, beside the standard setting on the same languages."""
    level = f"{round(100 * LEVEL)}% CI"
    display, numbers = [], []
    for method in results.methods:
        general = results.mean(method, GENERALIZED_AVERAGE, GENERALIZED_AVERAGE)
        standard = results.mean(method, SUBSET_AVERAGE, SUBSET_AVERAGE)
        gap = np.nan if general is None or standard is None else 100 * (general.mean - standard.mean)
        general_delta = results.improvement(method, GENERALIZED_AVERAGE, GENERALIZED_AVERAGE)
        standard_delta = results.improvement(method, SUBSET_AVERAGE, SUBSET_AVERAGE)
        display.append(
            {
                "method": method,
                "generalized acc. (%)": mean_std(general),
                "standard acc., same languages (%)": mean_std(standard),
                "generalized − standard (pp)": signed(gap),
                f"Δ generalized [{level}]": delta_ci(general_delta),
                f"Δ standard, same languages excl. {SOURCE} [{level}]": delta_ci(standard_delta),
                "seeds": seeds_cell(general),
            }
        )
        numbers.append(
            {"method": method, "kind": results.method_kinds.get(method, "")}
            | accuracy_numbers(general, "generalized_pct")
            | accuracy_numbers(standard, "standard_same_languages_pct")
            | {"generalized_minus_standard_pp": gap}
            | delta_numbers(general_delta, "generalized")
            | delta_numbers(standard_delta, f"standard_same_languages_excl_{SOURCE}")
            | {"seeds": np.nan if general is None else general.seeds}
        )
    notes = [
        generalized_scope(results),
        "Accuracy (%): per seed the mean over all ordered pairs (or over the same languages' standard test sets, "
        f"including {SOURCE}), then mean ± std over seeds.",
        ci_note(results),
        "The paper's generalized-setting numbers are not public: no published row." if results.paper else "",
        methods_note(results),
    ]
    return Table(
        "zero-shot accuracy, generalized setting (average over language pairs)",
        " ".join(n for n in notes if n),
        pd.DataFrame(display),
        pd.DataFrame(numbers),
    )


def generalized_pairs_table(results: Results) -> Table:
    """Per ordered pair (rows): each method's accuracy and each compared method's improvement."""
    generalized = results.runs[results.runs.lang1 != results.runs.lang2]
    order = config_order(results.languages)
    pairs = sorted(set(zip(generalized.lang1, generalized.lang2)), key=lambda p: (order(p[0]), order(p[1])))
    display = pd.DataFrame(
        {"lang1": [p[0] for p in pairs], "lang2": [p[1] for p in pairs]}
        | {f"{m} acc. (%)": [mean_std(results.mean(m, *p)) for p in pairs] for m in results.methods}
        | {f"Δ {m}": [delta_ci(results.improvement(m, *p)) for p in pairs] for m in results.compared}
    )
    summary = results.summary[results.summary.method.isin(results.methods)]
    summary = summary[(summary.lang1 != summary.lang2) & summary.lang1.isin(results.languages)]
    accuracy = summary.assign(mean_pct=100 * summary["mean"], std_pct=100 * summary["std"])
    delta = tidy_delta(results.delta[results.delta.lang1 != results.delta.lang2], results)
    numbers = accuracy[["method", "lang1", "lang2", "mean_pct", "std_pct", "seeds", "n"]].merge(
        delta.drop(columns=["kind", "seeds", "n"]), on=["method", "lang1", "lang2"], how="left"
    )
    notes = [generalized_scope(results), "Accuracy (%): mean ± std over seeds per ordered pair.", ci_note(results)]
    return Table(
        "zero-shot accuracy per language pair, generalized setting",
        " ".join(notes),
        display,
        numbers.reset_index(drop=True),
    )
