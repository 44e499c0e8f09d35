"""The paper's tables, rendered from metrics.csv and distances.csv alone, in Markdown, LaTeX and CSV.

`load_results` reads the two files once and computes every statistic (robustxlt.analysis.statistics); each `*_table`
function turns those into one `Table`; `write_table` writes its three formats. Display cells are percent
(accuracy) and percentage points (differences); the CSVs carry the same numbers unrounded, the unit in the column
name (`_pct`, `_pp`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from robustxlt.analysis import statistics
from robustxlt.analysis.published import PublishedRow, published_rows
from robustxlt.evaluation.lexical_overlap import REFERENCE_MODEL
from robustxlt.training.kinds import BASELINE

SETUP_NOTES = {
    "paper": "the paper's setup",
    "paper-tiny": (
        "PAPER-TINY: the paper's tasks, methods and model architectures with tiny randomly initialised stand-ins "
        "and a few hundred generated rows; it checks the paper's code paths, its numbers mean nothing, and the "
        "published rows beside them are the paper's real models'"
    ),
    "embedded": "EMBEDDED PROXY (offline demo data and model), not the paper's PAWS-X/XNLI with mBERT/XLM-R",
    "smoke": "SMOKE TEST (tiny budget), numbers carry no meaning beyond checking the pipeline",
    "custom": "a custom setup",
}
LEVEL = 0.95
SOURCE = statistics.SOURCE_LANGUAGE
# Pseudo test sets holding per-seed averages, so that seed_summary gives their mean ± std like any language's.
AVERAGE = statistics.AVERAGE  # standard setting (for improvements: over the languages other than English)
SUBSET_AVERAGE = "avg_subset"  # standard setting on the generalized set's languages
GENERALIZED_AVERAGE = "avg_generalized"  # all ordered pairs of the generalized set
PAIR = "→"  # joins a pair into one test-set name, so that the statistics average over pairs as over languages
REFERENCE_LABEL = "lexical overlap (no model)"
# URIEL's distance types in the order the outputs list them; types not named here follow, sorted.
DISTANCE_TYPES = ["syntactic", "geographic", "genetic", "phonological", "inventory", "featural"]


@dataclass(frozen=True)
class Provenance:
    """What produced a table or figure: the honesty line every output carries."""

    task: str
    model: str
    setup: str
    model_description: str
    data_description: str

    @property
    def setup_note(self) -> str:
        return SETUP_NOTES[self.setup]


@dataclass(frozen=True)
class Results:
    """Everything the tables and figures of one (task, model) show, computed once."""

    provenance: Provenance
    languages: list[str]  # standard setting, config order
    generalized_languages: list[str]  # those the generalized set covers, config order
    methods: list[str]  # config order
    method_kinds: dict[str, str]
    baseline: str | None
    runs: pd.DataFrame  # this task and model: standard and generalized rows
    summary: pd.DataFrame  # seed_summary of the runs and the reference, with the average pseudo test sets
    delta: pd.DataFrame  # improvements per language, per pair, and for the average pseudo test sets
    correlations: pd.DataFrame
    distances: pd.DataFrame
    paper: tuple[PublishedRow, ...]
    n_boot: int
    selection: pd.DataFrame  # every swept variant's English dev accuracy (selection.csv rows of this task/model)

    @cached_property
    def strengths(self) -> dict[str, str]:
        """The chosen strength of each swept method, e.g. {"adversarial": "epsilon=0.01"}."""
        return {m: s for m, s in zip(self.runs.method, self.runs.strength) if s}

    @cached_property
    def _collapsed(self) -> set[tuple[str, str, str]]:
        flagged = self.runs[self.runs.collapsed]
        return set(zip(flagged.method, flagged.lang1, flagged.lang2))

    @property
    def any_collapsed(self) -> bool:
        return bool(self._collapsed)

    def collapsed(self, method: str, lang1: str, lang2: str) -> bool:
        """Whether a seed of `method` predicted one class for every example of this test set."""
        return (method, lang1, lang2) in self._collapsed

    def label(self, method: str) -> str:
        """The method's name with its chosen strength, e.g. `adversarial (epsilon=0.01)`."""
        return f"{method} ({self.strengths[method]})" if method in self.strengths else method

    @cached_property
    def _summary_rows(self) -> dict[tuple[str, str, str], Any]:
        return {(r.method, r.lang1, r.lang2): r for r in self.summary.itertuples(index=False)}

    @cached_property
    def _delta_rows(self) -> dict[tuple[str, str, str], Any]:
        return {(r.method, r.lang1, r.lang2): r for r in self.delta.itertuples(index=False)}

    @property
    def compared(self) -> list[str]:
        """The methods compared with the baseline, config order."""
        return [m for m in self.methods if m != self.baseline and m in set(self.delta.method)]

    def mean(self, method: str, lang1: str, lang2: str) -> Any:
        """The seed_summary row (mean, std, seeds, n) of one method and test set, or None."""
        return self._summary_rows.get((method, lang1, lang2))

    def improvement(self, method: str, lang1: str, lang2: str) -> Any:
        """The improvements row (improvement, ci_low, ci_high, p_value, ...) of one method and test set, or None."""
        return self._delta_rows.get((method, lang1, lang2))

    def paper_rows(self, kind: str | None) -> list[PublishedRow]:
        """The published rows of one of our method kinds; None: the outside references (XTREME)."""
        return [row for row in self.paper if row.kind == kind]


@dataclass(frozen=True)
class Table:
    """One table: `display` (strings) for Markdown and LaTeX, `numbers` (unrounded) for CSV."""

    title: str
    notes: str
    display: pd.DataFrame
    numbers: pd.DataFrame


def _describe(values: pd.Series) -> str:
    return " | ".join(dict.fromkeys(str(v) for v in values.dropna())) or "not recorded"


def _order(names: list[str]) -> Callable[[str], tuple[int, str]]:
    """Sort key: the position in `names` (config order); names not there last, alphabetically."""
    return lambda name: (names.index(name) if name in names else len(names), name)


def _seed_means(runs: pd.DataFrame, test_sets: list[tuple[str, str]], label: str) -> pd.DataFrame:
    """Per run (method, seed), mean accuracy over `test_sets` as a pseudo test set `label`; runs lacking one are out."""
    if runs.empty or not test_sets:
        return runs.iloc[0:0]
    wide = runs.pivot_table(index=["task", "model", "method", "seed"], columns=["lang1", "lang2"], values="accuracy")
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(test_sets, names=["lang1", "lang2"])).dropna()
    sizes = runs.drop_duplicates(["lang1", "lang2"]).set_index(["lang1", "lang2"]).n
    means = wide.mean(axis=1).rename("accuracy").reset_index()
    return means.assign(lang1=label, lang2=label, n=int(sizes.reindex(test_sets).sum()))


def _improvements(runs: pd.DataFrame, baseline: str, n_boot: int) -> pd.DataFrame:
    """Per language and pair, and the averages: standard; all pairs; standard on the pairs' languages."""
    standard, generalized = runs[runs.lang1 == runs.lang2], runs[runs.lang1 != runs.lang2]
    parts = [statistics.improvements(standard, baseline, n_boot=n_boot, level=LEVEL)]
    if not generalized.empty:
        names = generalized.lang1 + PAIR + generalized.lang2
        pairs = statistics.improvements(
            generalized.assign(lang1=names, lang2=names), baseline, n_boot=n_boot, level=LEVEL
        )
        split = pairs.lang1.str.split(PAIR, expand=True, regex=False)
        average = pairs.lang1 == AVERAGE
        pairs["lang1"] = split[0].where(~average, GENERALIZED_AVERAGE)
        pairs["lang2"] = split[1].where(~average, GENERALIZED_AVERAGE)
        subset = standard[standard.lang1.isin(set(generalized.lang1) | set(generalized.lang2))]
        subset_delta = statistics.improvements(subset, baseline, n_boot=n_boot, level=LEVEL)
        subset_delta = subset_delta[subset_delta.lang1 == AVERAGE].assign(lang1=SUBSET_AVERAGE, lang2=SUBSET_AVERAGE)
        parts += [pairs, subset_delta]
    return pd.concat(parts, ignore_index=True)


def load_results(
    metrics_file: Path,
    distances_file: Path,
    task: str,
    model: str,
    methods: list[str],
    method_kinds: dict[str, str],
    languages: list[str],
    setup: str,
    paper_reference: str | None = None,
    n_boot: int = 2000,
    selection_file: Path | None = None,
) -> Results:
    """Read metrics.csv and distances.csv (and selection.csv, the English-dev record of strength sweeps, when
    given), keep one (task, model), and compute every statistic the outputs show.

    `paper_reference` names the paper's encoder ("mbert" or "xlmr-large") whose published rows sit beside ours.
    """
    if setup not in SETUP_NOTES:
        raise ValueError(f"unknown setup {setup!r}; known: {', '.join(SETUP_NOTES)}")
    metrics = statistics.read_metrics(metrics_file)
    metrics = metrics[(metrics.task == task) & metrics.lang1.isin(languages) & metrics.lang2.isin(languages)]
    runs = metrics[(metrics.model == model) & metrics.method.isin(methods)]
    if runs.empty:
        raise ValueError(f"{metrics_file} has no rows for task {task!r}, model {model!r} and methods {methods}")
    reference = metrics[(metrics.model == REFERENCE_MODEL) & (metrics.lang1 == metrics.lang2)]
    baseline = next((m for m in methods if method_kinds.get(m) == BASELINE and m in set(runs.method)), None)
    generalized = runs[runs.lang1 != runs.lang2]
    order = _order(languages)
    pairs = sorted(set(zip(generalized.lang1, generalized.lang2)), key=lambda p: (order(p[0]), order(p[1])))
    covered = sorted({lang for pair in pairs for lang in pair}, key=order)
    standard_sets = [(lang, lang) for lang in languages]
    averages = [
        _seed_means(runs, standard_sets, AVERAGE),
        _seed_means(reference, standard_sets, AVERAGE),
        _seed_means(runs, [(lang, lang) for lang in covered], SUBSET_AVERAGE),
        _seed_means(runs, pairs, GENERALIZED_AVERAGE),
    ]
    compare = baseline is not None and runs.method.nunique() > 1
    delta = _improvements(runs, baseline, n_boot) if compare else pd.DataFrame(columns=statistics.IMPROVEMENT_COLUMNS)
    distances = pd.read_csv(distances_file)
    standard_delta = delta[(delta.lang1 == delta.lang2) & delta.lang1.isin(languages)]
    return Results(
        provenance=Provenance(task, model, setup, _describe(runs.model_description), _describe(runs.data_description)),
        languages=languages,
        generalized_languages=covered,
        methods=methods,
        method_kinds=method_kinds,
        baseline=baseline,
        runs=runs,
        summary=statistics.seed_summary(pd.concat([runs, reference, *averages], ignore_index=True)),
        delta=delta,
        correlations=statistics.correlations(standard_delta, distances, n_boot=n_boot, level=LEVEL),
        distances=distances,
        paper=published_rows(task, paper_reference) if paper_reference else (),
        n_boot=n_boot,
        selection=_selection_rows(selection_file, task, model),
    )


def _selection_rows(selection_file: Path | None, task: str, model: str) -> pd.DataFrame:
    if selection_file is None or Path(selection_file).stat().st_size == 0:
        return pd.DataFrame(columns=["method", "strength", "dev_accuracy", "chosen"])
    selection = pd.read_csv(selection_file, dtype={"strength": str})
    selection = selection[(selection.task == task) & (selection.model == model)].copy()
    for column in ("chosen", "dev_collapsed"):
        selection[column] = statistics.as_bool(selection[column])
    return selection


_DELTA = ("improvement", "ci_low", "ci_high")


# Cells: accuracy in percent, differences in percentage points, minus as ASCII so that every format reads it.
def _pct(fraction: float) -> str:
    return "" if pd.isna(fraction) else f"{100 * fraction:.1f}"


def _mean_std(stats: Any) -> str:
    if stats is None:
        return ""
    return _pct(stats.mean) + ("" if pd.isna(stats.std) else f" ± {100 * stats.std:.1f}")


def _signed(points: float) -> str:
    return "" if pd.isna(points) else f"{round(points, 1) + 0.0:+.1f}"  # + 0.0: no "-0.0"


def _delta_ci(stats: Any) -> str:
    """ "+1.2 [-0.3, +2.6]" in points, starred when the interval excludes 0."""
    if stats is None:
        return ""
    star = "*" if stats.ci_low > 0 or stats.ci_high < 0 else ""
    low, high = _signed(100 * stats.ci_low), _signed(100 * stats.ci_high)
    return f"{_signed(100 * stats.improvement)} [{low}, {high}]{star}"


def _seeds(stats: Any) -> str:
    return "" if stats is None else str(int(stats.seeds))


def _accuracy_numbers(stats: Any, column: str) -> dict[str, float]:
    if stats is None:
        return {column: np.nan, f"{column}_std": np.nan}
    return {column: 100 * stats.mean, f"{column}_std": 100 * stats.std}


def _delta_numbers(stats: Any, prefix: str) -> dict[str, float]:
    values = {f"{prefix}_{k}_pp": np.nan if stats is None else 100 * getattr(stats, k) for k in _DELTA}
    return values | {f"{prefix}_p_value": np.nan if stats is None else stats.p_value}


def _ci_note(results: Results) -> str:
    if not results.compared:
        return "No method other than the baseline was run: nothing to compare."
    return (
        f"Δ: improvement over {results.baseline} in percentage points with a {round(100 * LEVEL)}% paired bootstrap "
        f"interval (B = {results.n_boot}, test examples and seeds resampled; * = interval excludes 0)."
    )


def _methods_note(results: Results) -> str:
    return "Methods: " + ", ".join(f"{m} = {results.method_kinds.get(m, '?')}" for m in results.methods) + "."


Row = tuple[dict[str, str], dict[str, Any]]  # (display cells, CSV numbers) of one table row


COLLAPSED = "†"  # marks a cell where a seed's predictions were all one class


def _collapse_mark(results: Results, method: str, lang1: str, lang2: str) -> str:
    return f" {COLLAPSED}" if results.collapsed(method, lang1, lang2) else ""


def _collapse_note(results: Results) -> str:
    if not results.any_collapsed:
        return ""
    return (
        f"{COLLAPSED}: at least one seed predicted one class for every test example (a collapsed, constant classifier)."
    )


def _strength_note(results: Results) -> str:
    if not results.strengths:
        return ""
    return (
        "Strengths in parentheses were chosen on English dev among the listed values (see the selection table); "
        "no target-language data took part in the choice."
    )


def _our_row(results: Results, method: str, columns: list[str], delta_column: str) -> Row:
    stats = {c: results.mean(method, c, c) for c in columns}
    average_delta = results.improvement(method, AVERAGE, AVERAGE)
    seeds = next((s for s in (stats[AVERAGE], *stats.values()) if s is not None), None)
    display = {"method": results.label(method)}
    display |= {c: _mean_std(stats[c]) + _collapse_mark(results, method, c, c) for c in columns}
    display |= {delta_column: "–" if method == results.baseline else _delta_ci(average_delta), "seeds": _seeds(seeds)}
    numbers = {"row": method, "row_type": "ours", "method": method, "kind": results.method_kinds.get(method, "")}
    numbers["strength"] = results.strengths.get(method, "")
    for c in columns:
        numbers |= _accuracy_numbers(stats[c], f"{c}_pct")
        numbers[f"{c}_collapsed"] = results.collapsed(method, c, c)
    return display, numbers | _delta_numbers(average_delta, f"{AVERAGE}_excl_{SOURCE}") | {"seeds": _seeds(seeds)}


def _published_row(row: PublishedRow, columns: list[str], method: str) -> Row:
    display = {"method": row.label} | {c: f"{row.accuracy[c]:.1f}" if c in row.accuracy else "" for c in columns}
    numbers = {
        "row": row.label,
        "row_type": "published",
        "method": method,
        "kind": row.kind or "",
        "source": row.source,
    }
    return display, numbers | {f"{c}_pct": row.accuracy.get(c, np.nan) for c in columns}


def _gap_row(results: Results, method: str, row: PublishedRow, columns: list[str]) -> Row:
    """Ours − paper in points; the average only when ours averages the same languages as the paper's."""
    same_languages = set(results.languages) == set(row.accuracy) - {AVERAGE}
    gaps = {}
    for c in columns:
        stats = results.mean(method, c, c)
        comparable = stats is not None and c in row.accuracy and (c != AVERAGE or same_languages)
        gaps[c] = 100 * stats.mean - row.accuracy[c] if comparable else np.nan
    label = f"Δ {method} − paper"
    display = {"method": label} | {c: _signed(g) for c, g in gaps.items()}
    numbers = {"row": label, "row_type": "ours_minus_published", "method": method, "kind": row.kind or ""}
    return display, numbers | {f"{c}_pp": g for c, g in gaps.items()}


def _reference_row(results: Results, columns: list[str]) -> list[Row]:
    stats = {c: results.mean(REFERENCE_MODEL, c, c) for c in columns}
    if all(s is None for s in stats.values()):
        return []
    display = {"method": REFERENCE_LABEL} | {c: _mean_std(stats[c]) for c in columns} | {"seeds": "–"}
    numbers = {"row": REFERENCE_LABEL, "row_type": "reference", "method": REFERENCE_MODEL}
    for c in columns:
        numbers |= _accuracy_numbers(stats[c], f"{c}_pct")
    return [(display, numbers)]


def _paper_note(results: Results) -> str:
    if not results.paper:
        return ""
    sources = "; ".join(dict.fromkeys(p.source for p in results.paper))
    return (
        f"Published rows ({sources}) sit beside ours; an empty cell is a number not published (or not public). "
        "Δ … − paper: ours minus the paper's row of the same method kind, in points (avg: only when ours averages "
        "the same languages)."
    )


def standard_table(results: Results) -> Table:
    """The paper's layout: methods × languages (+ avg), mean ± std over seeds; the paper's rows beside ours."""
    columns = [*results.languages, AVERAGE]
    delta_column = f"Δ avg excl. {SOURCE} [{round(100 * LEVEL)}% CI]"
    rows: list[Row] = []
    for method in results.methods:
        rows.append(_our_row(results, method, columns, delta_column))
        kind = results.method_kinds.get(method)
        for published in results.paper_rows(kind) if kind else []:
            rows += [_published_row(published, columns, method), _gap_row(results, method, published, columns)]
    rows += _reference_row(results, columns)
    rows += [_published_row(published, columns, "") for published in results.paper_rows(None)]
    notes = [
        "Zero-shot accuracy (%), trained on English only, best checkpoint on English dev; mean ± std over seeds.",
        f"avg: per seed the mean over all {len(results.languages)} languages including {SOURCE} (the paper's "
        f"convention); Δ avg excl. {SOURCE}: over the languages other than {SOURCE}.",
        _ci_note(results),
        _paper_note(results),
        _methods_note(results),
        _strength_note(results),
        _collapse_note(results),
        _placeholder_note(results),
    ]
    header = ["method", *columns, delta_column, "seeds"]
    return Table(
        "zero-shot accuracy, standard setting",
        " ".join(n for n in notes if n),
        pd.DataFrame([d for d, _ in rows]).reindex(columns=header).fillna(""),
        pd.DataFrame([n for _, n in rows]),
    )


def _tidy_delta(delta: pd.DataFrame, results: Results) -> pd.DataFrame:
    tidy = delta.assign(kind=delta.method.map(results.method_kinds))
    for column in _DELTA:
        tidy[f"{column}_pp"] = 100 * tidy.pop(column)
    columns = ["method", "kind", "lang1", "lang2", "improvement_pp", "ci_low_pp", "ci_high_pp", "p_value", "seeds", "n"]
    return tidy[columns].reset_index(drop=True)


def improvement_table(results: Results) -> Table:
    """Per language (rows) and compared method (columns): improvement over the baseline with its interval."""
    rows = [*results.languages, AVERAGE]
    display = pd.DataFrame(
        {"language": [f"avg excl. {SOURCE}" if r == AVERAGE else r for r in rows]}
        | {results.label(m): [_delta_ci(results.improvement(m, r, r)) for r in rows] for m in results.compared}
    )
    standard = results.delta[(results.delta.lang1 == results.delta.lang2) & results.delta.lang1.isin(rows)]
    notes = [
        _ci_note(results),
        f"avg excl. {SOURCE}: mean over the languages other than {SOURCE}, on the seeds common to all of them.",
        _methods_note(results),
    ]
    return Table(
        f"improvement over {results.baseline or 'the baseline'}, standard setting",
        " ".join(notes),
        display,
        _tidy_delta(standard, results),
    )


def _span(values: list[int]) -> str:
    return "none" if not values else str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"


def test_set_sizes(results: Results, generalized: bool) -> str:
    """Test examples per test set of one setting, e.g. "306" or "800–1000"."""
    runs = results.runs
    chosen = runs[runs.lang1 != runs.lang2] if generalized else runs[runs.lang1 == runs.lang2]
    return _span(sorted(set(chosen.n.astype(int))))


def _generalized_scope(results: Results) -> str:
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


def _placeholder_note(results: Results) -> str:
    """Untranslated placeholder rows per language: scored in the standard setting, as XTREME does."""
    runs = results.runs
    if "placeholder_rows" not in runs or not runs.placeholder_rows.fillna(0).gt(0).any():
        return ""
    standard = runs[runs.lang1 == runs.lang2]
    placeholders = standard.groupby("lang1").placeholder_rows.max().fillna(0).astype(int)
    listed = ", ".join(f"{lang} {n}" for lang, n in placeholders.items() if n)
    return f"Untranslated placeholder rows (e.g. NS) in the test sets, scored as in XTREME: {listed}."


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
                "generalized acc. (%)": _mean_std(general),
                "standard acc., same languages (%)": _mean_std(standard),
                "generalized − standard (pp)": _signed(gap),
                f"Δ generalized [{level}]": _delta_ci(general_delta),
                f"Δ standard, same languages excl. {SOURCE} [{level}]": _delta_ci(standard_delta),
                "seeds": _seeds(general),
            }
        )
        numbers.append(
            {"method": method, "kind": results.method_kinds.get(method, "")}
            | _accuracy_numbers(general, "generalized_pct")
            | _accuracy_numbers(standard, "standard_same_languages_pct")
            | {"generalized_minus_standard_pp": gap}
            | _delta_numbers(general_delta, "generalized")
            | _delta_numbers(standard_delta, f"standard_same_languages_excl_{SOURCE}")
            | {"seeds": np.nan if general is None else general.seeds}
        )
    notes = [
        _generalized_scope(results),
        "Accuracy (%): per seed the mean over all ordered pairs (or over the same languages' standard test sets, "
        f"including {SOURCE}), then mean ± std over seeds.",
        _ci_note(results),
        "The paper's generalized-setting numbers are not public: no published row." if results.paper else "",
        _methods_note(results),
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
    order = _order(results.languages)
    pairs = sorted(set(zip(generalized.lang1, generalized.lang2)), key=lambda p: (order(p[0]), order(p[1])))
    display = pd.DataFrame(
        {"lang1": [p[0] for p in pairs], "lang2": [p[1] for p in pairs]}
        | {f"{m} acc. (%)": [_mean_std(results.mean(m, *p)) for p in pairs] for m in results.methods}
        | {f"Δ {m}": [_delta_ci(results.improvement(m, *p)) for p in pairs] for m in results.compared}
    )
    summary = results.summary[results.summary.method.isin(results.methods)]
    summary = summary[(summary.lang1 != summary.lang2) & summary.lang1.isin(results.languages)]
    accuracy = summary.assign(mean_pct=100 * summary["mean"], std_pct=100 * summary["std"])
    delta = _tidy_delta(results.delta[results.delta.lang1 != results.delta.lang2], results)
    numbers = accuracy[["method", "lang1", "lang2", "mean_pct", "std_pct", "seeds", "n"]].merge(
        delta.drop(columns=["kind", "seeds", "n"]), on=["method", "lang1", "lang2"], how="left"
    )
    notes = [_generalized_scope(results), "Accuracy (%): mean ± std over seeds per ordered pair.", _ci_note(results)]
    return Table(
        "zero-shot accuracy per language pair, generalized setting",
        " ".join(notes),
        display,
        numbers.reset_index(drop=True),
    )


COSTS = {
    "train_seconds": "train time (s)",
    "train_peak_rss_mb": "train peak RSS (MB)",
    "eval_seconds": "eval time (s)",
    "eval_peak_rss_mb": "eval peak RSS (MB)",
}


def cost_table(results: Results) -> Table:
    """Per method: wall time (mean ± std over seeds), peak memory (max over seeds), each relative to the baseline."""
    per_run = results.runs.drop_duplicates(["method", "seed"]).reindex(columns=["method", "seed", *COSTS])
    grouped = per_run.groupby("method")
    means, stds, peaks = grouped.mean(), grouped.std(), grouped.max()
    display, numbers = [], []
    for method in results.methods:
        row, raw = {"method": results.label(method)}, {"method": method, "kind": results.method_kinds.get(method, "")}
        for column, label in COSTS.items():
            memory = column.endswith("_mb")  # a peak: the largest over seeds is what a job must be given
            value = (peaks if memory else means)[column]
            x, spread = value.get(method, np.nan), np.nan if memory else stds[column].get(method, np.nan)
            ratio = x / value.get(results.baseline, np.nan) if results.baseline else np.nan
            row[label] = "" if pd.isna(x) else f"{x:.0f}" + ("" if pd.isna(spread) else f" ± {spread:.0f}")
            row[f"{label.split(' (')[0]} × {results.baseline}"] = "" if pd.isna(ratio) else f"{ratio:.2f}"
            raw |= {column: x, f"{column}_std": spread, f"{column}_vs_baseline": ratio}
        raw["seeds"] = int(per_run[per_run.method == method].seed.nunique())
        display.append(row | {"seeds": str(raw["seeds"])})
        numbers.append(raw)
    notes = (
        "Costs from the rules' Snakemake `benchmark:` files: wall-clock time (mean ± std over seeds) and peak "
        "resident memory (max over seeds) of the training job and of the evaluation job (all test sets of a run), "
        f"each also as a multiple of {results.baseline or 'the baseline'}'s. Measured on whatever machine ran the "
        "jobs: shared cores make times noisy. " + _methods_note(results)
    )
    return Table("cost of each method", notes, pd.DataFrame(display), pd.DataFrame(numbers))


def distance_types(distances: pd.DataFrame) -> list[str]:
    present = set(distances.distance_type)
    return [t for t in DISTANCE_TYPES if t in present] + sorted(present - set(DISTANCE_TYPES))


def distance_note(distances: pd.DataFrame) -> str:
    """Where the distances come from, per the distances file itself."""
    sources = distances.drop_duplicates(["source", "metric"])
    described = "; ".join(f"{s.source} ({s.metric})" for s in sources.itertuples()) or "none"
    return f"Distance from {SOURCE} per URIEL type, from {described}."


def _correlation(estimate: float, low: float, high: float) -> str:
    if pd.isna(estimate):
        return "undefined"
    return f"{estimate:+.2f}" + ("" if pd.isna(low) else f" [{low:+.2f}, {high:+.2f}]")


def correlation_table(results: Results) -> Table:
    """Per compared method and distance type: Pearson r and Spearman ρ of improvement with distance, with CIs."""
    level = f"{round(100 * LEVEL)}% CI"
    methods, types = _order(results.methods), _order(distance_types(results.distances))
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
        "bootstrap resamples of the languages (few languages: wide intervals).",
        distance_note(results.distances),
        "" if len(frame) else "No method other than the baseline, or no distances: nothing to correlate.",
        _methods_note(results),
    ]
    return Table(
        f"improvement vs. distance from {SOURCE}",
        " ".join(n for n in notes if n),
        display,
        frame.drop(columns=["task", "model"]).reset_index(drop=True),
    )


def caption(table: Table, provenance: Provenance) -> str:
    """The caption paragraph: task/model, what the cells are, setup note, model and data descriptions."""
    return (
        f"**{provenance.task} / {provenance.model}: {table.title}.** {table.notes} "
        f"Setup: {provenance.setup_note}.\n\n- Model: {provenance.model_description}\n"
        f"- Data: {provenance.data_description}\n"
    )


def to_markdown(table: Table, provenance: Provenance) -> str:
    header = [str(c) for c in table.display.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.display.itertuples(index=False)]
    return caption(table, provenance) + "\n" + "\n".join(lines) + "\n"


_LATEX_SPECIAL = re.compile(r"([\\&%$#_{}~^])")
_LATEX_SYMBOLS = {
    "±": r"$\pm$",
    "Δ": r"$\Delta$",
    "ρ": r"$\rho$",
    "≠": r"$\neq$",
    "×": r"$\times$",
    "→": r"$\to$",
    "−": "$-$",
    "–": "--",
    "…": r"\dots{}",
}


def latex_text(text: str) -> str:
    """Plain text to LaTeX that pdflatex reads without extra packages: specials escaped, symbols as math."""
    escaped = _LATEX_SPECIAL.sub(lambda m: r"\textbackslash{}" if m[1] == "\\" else "\\" + m[1], text)
    escaped = re.sub(r"(?<![\w-])-(?=\d)", "$-$", escaped)  # a number's minus, not a hyphen
    escaped = escaped.replace("**", "").replace("`", "")
    for symbol, command in _LATEX_SYMBOLS.items():
        escaped = escaped.replace(symbol, command)
    return escaped


def to_latex(table: Table, provenance: Provenance, label: str) -> str:
    """A LaTeX table with the caption and `tab:{label}`; needs the booktabs package (and longtable when long)."""
    display = table.display.map(lambda v: latex_text(str(v)))
    display.columns = [latex_text(str(c)) for c in display.columns]
    flat = caption(table, provenance).replace("\n\n- ", " ").replace("\n- ", ". ").strip()
    long = len(display) > 30  # a page holds about 30 rows: longer tables break across pages
    return display.style.hide(axis="index").to_latex(
        caption=latex_text(flat),
        label=f"tab:{label}",
        hrules=True,
        column_format="l" * len(display.columns),
        **({"environment": "longtable"} if long else {"position_float": "centering"}),
    )


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write through a temporary sibling and rename, so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def write_table(table: Table, provenance: Provenance, stem: Path) -> list[Path]:
    """`stem`.md, .tex and .csv."""
    stem = Path(stem)
    return [
        atomic_write(stem.with_suffix(".md"), lambda p: p.write_text(to_markdown(table, provenance))),
        atomic_write(stem.with_suffix(".tex"), lambda p: p.write_text(to_latex(table, provenance, stem.name))),
        atomic_write(stem.with_suffix(".csv"), lambda p: table.numbers.to_csv(p, index=False, float_format="%.10g")),
    ]


def selection_table(results: Results) -> Table:
    """Every variant of each swept method with its English dev accuracy on the selection seed; the chosen one."""
    selection = results.selection
    display, numbers = [], []
    for method in results.methods:
        for row in selection[selection.method == method].itertuples(index=False):
            chosen, collapsed = bool(row.chosen), bool(row.dev_collapsed)
            display.append(
                {
                    "method": method,
                    "strength": row.strength,
                    "English dev accuracy (%)": _pct(row.dev_accuracy) + (f" {COLLAPSED}" if collapsed else ""),
                    "best step": str(int(row.best_step)),
                    "chosen": "✓" if chosen else "",
                }
            )
            numbers.append(
                {
                    "method": method,
                    "kind": results.method_kinds.get(method, ""),
                    "strength": row.strength,
                    "seed": int(row.seed),
                    "dev_accuracy_pct": 100 * row.dev_accuracy,
                    "best_step": int(row.best_step),
                    "dev_collapsed": collapsed,
                    "chosen": chosen,
                }
            )
    if not display:
        notes = "No method lists several values for a strength setting: nothing was selected."
    else:
        seeds = ", ".join(str(int(s)) for s in sorted(set(selection.seed)))
        notes = (
            f"Strength sweeps: each listed value trained on seed {seeds}; the value with the best English dev accuracy "
            "(ties: the first listed) is chosen, trained on the other seeds and evaluated zero-shot. Only English dev "
            f"is read: target-language test data never takes part. {COLLAPSED}: the best checkpoint predicted one "
            "class for every dev example."
        )
    columns = ["method", "strength", "English dev accuracy (%)", "best step", "chosen"]
    return Table(
        "strength selection on English dev",
        notes,
        pd.DataFrame(display, columns=columns),
        pd.DataFrame(numbers),
    )


# File name suffix → table; a rule's outputs are {task}_{model}_{name}.{format} for every name and format.
TABLES: dict[str, Callable[[Results], Table]] = {
    "standard": standard_table,
    "improvements": improvement_table,
    "generalized": generalized_table,
    "generalized_pairs": generalized_pairs_table,
    "costs": cost_table,
    "correlations": correlation_table,
    "selection": selection_table,
}
TABLE_FORMATS = ("md", "tex", "csv")


def write_tables(results: Results, directory: Path) -> list[Path]:
    """Every table of one (task, model), in all three formats."""
    prefix = f"{results.provenance.task}_{results.provenance.model}"
    return [
        path
        for name, build in TABLES.items()
        for path in write_table(build(results), results.provenance, Path(directory) / f"{prefix}_{name}")
    ]
