"""The paper's figures, rendered from the statistics of `tables.results.load_results`, as PNG and PDF (seaborn style).

Per (task, model): improvement vs. distance from English, per-language accuracy bars, and generalized-setting
heatmaps of accuracy and of improvement. Every figure names the task, model and setup in its title and the
model and data descriptions in its footer. `write_figures` draws them all (robustxlt.analysis.render calls it).

Layouts are computed in inches from the panel counts (robustxlt.analysis.figure_layout); the sizes below keep 15
languages legible. The premise figure is in robustxlt.analysis.premise_figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, and the fastest backend to import

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from robustxlt.analysis.figure_layout import DPI, Z, grid, message, palette  # noqa: E402
from robustxlt.analysis.premise_figure import premise_figure  # noqa: E402
from robustxlt.analysis.tables.correlations import distance_note, distance_types  # noqa: E402
from robustxlt.analysis.tables.formatting import COLLAPSED, atomic_write  # noqa: E402
from robustxlt.analysis.tables.generalized import test_set_sizes  # noqa: E402
from robustxlt.analysis.tables.results import AVERAGE, LEVEL, REFERENCE_LABEL, SOURCE, Results  # noqa: E402
from robustxlt.evaluation.lexical_overlap import REFERENCE_MODEL  # noqa: E402


def _ci_footer(results: Results, marks: str) -> str:
    return (
        f"Improvement: method − {results.baseline} accuracy in percentage points; {marks} "
        f"{round(100 * LEVEL)}% paired bootstrap interval (B = {results.n_boot}, test examples and seeds resampled)."
    )


def distance_figure(results: Results) -> Figure:
    """Rows: compared methods; columns: distance types. Improvement per language vs. its distance from English."""
    types, methods = distance_types(results.distances), results.compared
    title = f"improvement over {results.baseline} vs. distance from {SOURCE}"
    footer = (
        f"{_ci_footer(results, 'error bars: the')} Line: least-squares fit; r: Pearson, ρ: Spearman, with "
        f"{round(100 * LEVEL)}% intervals from resampling languages. {distance_note(results.distances)}"
    )
    if not methods or not types:
        return message(results, title, footer, "No method other than the baseline, or no distances: nothing to plot.")
    fig, axes = grid(
        results,
        title,
        footer,
        (len(methods), len(types)),
        (2.5, 2.0),
        (0.25, 0.7),
        (1.0, 0.2, 0.45, 0.5),
        sharex="col",
        sharey="row",
    )
    delta = results.delta[(results.delta.lang1 == results.delta.lang2) & (results.delta.lang1 != SOURCE)]
    points = delta[delta.lang1.isin(results.languages)].merge(
        results.distances[["lang", "distance_type", "distance"]], left_on="lang1", right_on="lang"
    )
    colors = palette(results)
    for row, method in enumerate(methods):
        rows = points[points.method == method]
        low, high = 100 * rows.ci_low.min(), 100 * rows.ci_high.max()
        for col, distance_type in enumerate(types):
            ax = axes[row, col]
            panel = rows[rows.distance_type == distance_type]
            _distance_panel(ax, panel, colors[method], label_gap=0.07 * (high - low))
            ax.set_title(_correlation_title(results, method, distance_type), fontsize=9)
            ax.set_xlabel(f"{distance_type} distance" if row == len(methods) - 1 else "")
            ax.set_ylabel(f"{method}\nimprovement (pp)" if col == 0 else "")
            ax.margins(x=0.12)
    return fig


def _label_heights(x: np.ndarray, y: np.ndarray, near: float, gap: float) -> np.ndarray:
    """Label heights: labels of points at nearly the same x are pushed up until `gap` apart (bottom up)."""
    heights = y.astype(float).copy()
    placed: list[int] = []
    for i in np.argsort(y):
        for j in sorted(placed, key=lambda j: heights[j]):
            if abs(x[j] - x[i]) < near and abs(heights[j] - heights[i]) < gap:
                heights[i] = heights[j] + gap
        placed.append(i)
    return heights


def _distance_panel(ax: plt.Axes, panel: pd.DataFrame, color: tuple, label_gap: float) -> None:
    x, y = panel.distance.to_numpy(float), 100 * panel.improvement.to_numpy(float)
    errors = [y - 100 * panel.ci_low.to_numpy(float), 100 * panel.ci_high.to_numpy(float) - y]
    ax.axhline(0, color="0.4", linewidth=0.8, linestyle="--")
    ax.errorbar(x, y, yerr=errors, fmt="o", color=color, markersize=4, elinewidth=0.8, capsize=2, alpha=0.9)
    spread = np.ptp(x) if len(x) and np.ptp(x) > 0 else 1.0
    for xi, hi, lang in zip(x, _label_heights(x, y, 0.08 * spread, label_gap), panel.lang1):
        ax.text(xi + 0.025 * spread, hi, lang, fontsize=7, va="center")
    if len(x) >= 3 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        ends = np.array([x.min(), x.max()])
        ax.plot(ends, slope * ends + intercept, color=color, linewidth=1.2)


def _correlation_title(results: Results, method: str, distance_type: str) -> str:
    frame = results.correlations
    hit = frame[(frame.method == method) & (frame.distance_type == distance_type)]
    if hit.empty or pd.isna(hit.pearson_r.iloc[0]):
        return f"{distance_type}: r undefined\n(fewer than 3 languages or no spread)"
    c = hit.iloc[0]
    interval = "" if pd.isna(c.pearson_low) else f" [{c.pearson_low:+.2f}, {c.pearson_high:+.2f}]"
    return (
        f"{distance_type}: r = {c.pearson_r:+.2f}{interval}\nρ = {c.spearman_rho:+.2f}, {int(c.n_languages)} languages"
    )


def _sampling_variance(frame: pd.DataFrame, languages: list[str]) -> pd.Series:
    """Binomial variance of each row's accuracy over its test examples; for avg, of the mean over `languages`
    (test sets independent), NaN where a language is missing."""
    variance = frame["mean"] * (1 - frame["mean"]) / frame.n
    single = frame.lang1 != AVERAGE
    totals = variance[single].groupby(frame.method[single]).agg(["sum", "count"])
    average = (totals["sum"] / len(languages) ** 2).where(totals["count"] == len(languages))
    return variance.where(single, frame.method.map(average))


def _accuracy_frame(results: Results) -> pd.DataFrame:
    """Per method (and the reference) and language (and avg): accuracy and error half-width, in percent."""
    summary = results.summary
    frame = summary[
        (summary.lang1 == summary.lang2)
        & summary.lang1.isin([*results.languages, AVERAGE])
        & summary.method.isin([*results.methods, REFERENCE_MODEL])
    ].copy()
    binomial = 100 * Z * np.sqrt(_sampling_variance(frame, results.languages))
    frame["accuracy"] = 100 * frame["mean"]
    # One seed has no spread over seeds: the test set's sampling error stands in.
    frame["error"] = (100 * frame["std"]).where(frame.seeds > 1, binomial)
    return frame


def accuracy_figure(results: Results) -> Figure:
    """Per-language accuracy, methods side by side, error bars, the lexical-overlap reference and the paper's."""
    frame = _accuracy_frame(results)
    ours = frame[frame.method.isin(results.methods)]
    order = [*results.languages, AVERAGE]
    level = round(100 * LEVEL)
    footer = (
        f"Bars: mean accuracy; error bars: ± 1 std over seeds, or with one seed the {level}% binomial interval over "
        f"test examples. Black ticks: {REFERENCE_LABEL}. avg: mean over all languages including {SOURCE}."
        + (" Diamonds: the paper's published value for the method's kind." if results.paper else "")
        + (
            f" {COLLAPSED}: a seed predicted one class for every test example (collapsed)."
            if results.any_collapsed
            else ""
        )
    )
    title = "zero-shot accuracy per language (standard setting)"
    if ours.empty:
        return message(results, title, footer, "No standard-setting results for these methods.")
    labels = [*results.methods, REFERENCE_LABEL, "paper (published)"]
    width = min(20.0, max(6.0, len(order) * (0.16 * len(results.methods) + 0.3)))
    legend = 0.5 + 0.075 * max(map(len, labels))
    fig, axes = grid(results, title, footer, (1, 1), (width, 4.0), (0, 0), (0.8, legend, 0.1, 0.55))
    shown = [m for m in results.methods if m in set(ours.method)]
    ax = axes[0, 0]
    sns.barplot(
        data=ours,
        x="lang1",
        y="accuracy",
        hue="method",
        order=order,
        hue_order=shown,
        palette=palette(results),
        errorbar=None,
        ax=ax,
        saturation=0.9,
    )
    for method, container in zip(shown, list(ax.containers)):  # one bar container per hue level, in order
        values = ours[ours.method == method].set_index("lang1").reindex(order)
        centres = [bar.get_x() + bar.get_width() / 2 for bar in container]
        ax.errorbar(centres, values.accuracy, yerr=values.error, fmt="none", ecolor="0.15", elinewidth=0.8, capsize=1.5)
        _paper_markers(ax, results, method, centres, order)
        for centre, lang, height in zip(centres, order, values.accuracy):
            if results.collapsed(method, lang, lang) and not pd.isna(height):
                ax.text(centre, height + 1, COLLAPSED, ha="center", va="bottom", fontsize=9, color="firebrick")
    _reference_ticks(ax, frame[frame.method == REFERENCE_MODEL].set_index("lang1"), order)
    low = np.nanmin(np.concatenate([ours.accuracy - ours.error.fillna(0), frame.accuracy]))
    ax.set_ylim(max(0.0, 10 * math.floor((low - 5) / 10)), 100)
    ax.set_xlabel("test language (avg: mean over languages)")
    ax.set_ylabel("accuracy (%)")
    handles, names = ax.get_legend_handles_labels()
    names = [results.label(name) if name in results.methods else name for name in names]
    unique = dict(zip(names, handles))  # the paper's marker is drawn once per method: one legend entry
    ax.legend(unique.values(), unique.keys(), loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9)
    return fig


def _paper_markers(ax: plt.Axes, results: Results, method: str, centres: list[float], order: list[str]) -> None:
    """The paper's published accuracy of the method's kind on its bars; languages it does not publish get none."""
    kind = results.method_kinds.get(method)
    for row in results.paper_rows(kind) if kind else []:
        points = [(x, row.accuracy[lang]) for x, lang in zip(centres, order) if lang in row.accuracy]
        if points:
            xs, ys = zip(*points)
            ax.scatter(
                xs,
                ys,
                marker="D",
                s=16,
                facecolor="white",
                edgecolor="black",
                linewidth=0.8,
                zorder=5,
                label="paper (published)",
            )


def _reference_ticks(ax: plt.Axes, reference: pd.DataFrame, order: list[str]) -> None:
    for i, lang in enumerate(order):
        if lang in reference.index:
            ax.hlines(
                reference.accuracy[lang],
                i - 0.45,
                i + 0.45,
                color="black",
                linewidth=1.6,
                zorder=4,
                label=REFERENCE_LABEL,
            )


def _generalized_values(results: Results, what: str) -> pd.DataFrame:
    """Tidy cells (method, lang1, lang2, value, significant) among the generalized languages, diagonal included."""
    covered = set(results.generalized_languages)
    if what == "accuracy":
        frame = results.summary.assign(value=100 * results.summary["mean"], significant=False)
    else:
        delta = results.delta
        frame = delta.assign(value=100 * delta.improvement, significant=(delta.ci_low > 0) | (delta.ci_high < 0))
    return frame[frame.method.isin(results.methods) & frame.lang1.isin(covered) & frame.lang2.isin(covered)]


def generalized_figure(results: Results, what: str) -> Figure:
    """Heatmaps lang1 × lang2, one panel per method: `what` = "accuracy" (%) or "improvement" (pp over baseline)."""
    languages = results.generalized_languages
    methods = results.methods if what == "accuracy" else results.compared
    title = f"generalized setting, {'accuracy' if what == 'accuracy' else f'improvement over {results.baseline}'}"
    scope = (
        f"Rows: language of sentence 1; columns: language of sentence 2; boxed diagonal: standard setting "
        f"(n = {test_set_sizes(results, generalized=False)} test pairs per language). {len(languages)} languages; "
        f"n = {test_set_sizes(results, generalized=True)} test pairs per off-diagonal cell."
    )
    footer = scope + (
        " Cells: mean accuracy (%) over seeds."
        if what == "accuracy"
        else " " + _ci_footer(results, "* marks cells where 0 lies outside the")
    )
    if not languages or not methods:
        reason = "no language pairs were evaluated" if not languages else "no method other than the baseline"
        return message(results, title, footer, f"No generalized-setting {what} to show: {reason}.")
    side = (0.42 if len(languages) > 8 else 0.55) * len(languages)
    cols = (
        len(methods) if len(methods) <= 3 else min(math.ceil(math.sqrt(len(methods))), 3 if len(languages) <= 8 else 2)
    )
    rows = math.ceil(len(methods) / cols)
    fig, axes = grid(results, title, footer, (rows, cols), (side * 1.2, side), (1.5, 0.9), (0.8, 0.5, 0.3, 0.55))
    values = _generalized_values(results, what)
    if what == "accuracy":  # one scale for all panels, so colours compare across methods
        cmap, norm = "viridis", Normalize(values.value.min(), values.value.max())
    else:
        limit = float(np.nanmax(np.abs(values.value))) or 1.0
        cmap, norm = "RdBu", Normalize(-limit, limit)  # diverging, white at 0
    label = "accuracy (%)" if what == "accuracy" else "improvement (pp)"
    for ax, method in zip(axes.flat, methods):
        panel = values[values.method == method]
        matrix = _pair_matrix(panel, "value", languages)
        annot = _annotations(matrix, _pair_matrix(panel, "significant", languages) if what == "improvement" else None)
        _heatmap(ax, matrix, annot, cmap, norm, label)
        ax.set_title(results.label(method), fontsize=11)
    for ax in axes.flat[len(methods) :]:
        ax.axis("off")
    return fig


def _pair_matrix(frame: pd.DataFrame, value: str, languages: list[str]) -> pd.DataFrame:
    return frame.pivot_table(index="lang1", columns="lang2", values=value).reindex(index=languages, columns=languages)


def _annotations(matrix: pd.DataFrame, significant: pd.DataFrame | None) -> np.ndarray:
    digits = 0 if len(matrix) > 8 else 1
    text = matrix.map(lambda v: "" if pd.isna(v) else f"{round(v, digits) + 0.0:.{digits}f}")  # + 0.0: no "-0"
    if significant is not None:
        text = text + significant.fillna(False).astype(bool).map(lambda s: "*" if s else "")
    return text.to_numpy()


def _heatmap(ax: plt.Axes, matrix: pd.DataFrame, annot: np.ndarray, cmap: str, norm: Normalize, label: str) -> None:
    """An annotated heatmap; drawn directly because seaborn's renders the whole figure once per panel."""
    values = matrix.to_numpy(float)
    image = ax.imshow(values, cmap=cmap, norm=norm)
    colours = image.to_rgba(values)
    size = 6.5 if len(matrix) > 8 else 8
    for (i, j), text in np.ndenumerate(annot):
        if not text:
            continue
        dark = colours[i, j, :3] @ [0.2126, 0.7152, 0.0722] < 0.45  # light text on dark cells
        ax.text(j, i, text, ha="center", va="center", fontsize=size, color="white" if dark else "black")
    for i in range(len(matrix)):
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.2))
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, fontsize=8)
    ax.set_yticks(range(len(matrix.index)), matrix.index, fontsize=8)
    ax.grid(False)
    ax.set_xlabel("sentence 2 language")
    ax.set_ylabel("sentence 1 language")
    ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.03, label=label)


# File name suffix → figure; a rule's outputs are {task}_{model}_{name}.{format} for every name and format.
FIGURES: dict[str, Callable[[Results], Figure]] = {
    "distance": distance_figure,
    "accuracy": accuracy_figure,
    "generalized_accuracy": lambda results: generalized_figure(results, "accuracy"),
    "generalized_improvement": lambda results: generalized_figure(results, "improvement"),
    "premise_shift": premise_figure,
}
FIGURE_FORMATS = ("png", "pdf")


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """`stem`.png and `stem`.pdf, each written atomically; the figure is closed."""
    try:
        return [
            atomic_write(stem.with_suffix(f".{fmt}"), lambda p, fmt=fmt: fig.savefig(p, format=fmt, dpi=DPI))
            for fmt in FIGURE_FORMATS
        ]
    finally:
        plt.close(fig)


def write_figures(results: Results, directory: Path) -> list[Path]:
    """Every figure of one (task, model), as PNG and PDF."""
    prefix = f"{results.provenance.task}_{results.provenance.model}"
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        return [
            path
            for name, draw in FIGURES.items()
            for path in save_figure(draw(results), Path(directory) / f"{prefix}_{name}")
        ]
