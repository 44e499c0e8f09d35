"""The premise figure: per language, the distribution of the token shift from English (boxes drawn from the
quantiles in premise.csv) at the word embeddings and at the last hidden states, for the pretrained encoder and each
checkpoint, with the δ methods' trained radii as horizontal lines on the same axis (all in units of the pretrained
encoder's mean token norm at that point)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only

from matplotlib.figure import Figure  # noqa: E402

from robustxlt.analysis.figure_layout import grid, message, palette  # noqa: E402
from robustxlt.analysis.tables.premise import POINTS, radius  # noqa: E402
from robustxlt.analysis.tables.results import PRETRAINED, SOURCE, Results  # noqa: E402

QUANTILE_COLUMNS = ("token_q10", "token_q25", "token_q50", "token_q75", "token_q90")


def premise_figure(results: Results) -> Figure:
    """One panel per injection point; per language a box per encoder (p25–p75, whiskers p10–p90, median line)."""
    title = f"token shift from {SOURCE} against the trained radii"
    footer = (
        f"Per target token of a parallel test row, the distance to the nearest token of its {SOURCE} row, in units of "
        "the pretrained encoder's mean token norm at that point (the units of ε and σ); boxes p25–p75, whiskers "
        "p10–p90, line at the median, mean over seeds. Horizontal lines: each δ method's radius at its injection point."
    )
    premise = results.premise
    langs = [lang for lang in results.languages if lang != SOURCE and lang in set(premise.lang)]
    if premise.empty or not langs:
        return message(results, title, footer, "No premise measurements for this task and model.")
    encoders = [PRETRAINED, *(m for m in results.methods if m in set(premise.method))]
    means = premise.groupby(["method", "lang", "point"])[list(QUANTILE_COLUMNS)].mean()
    colors = {PRETRAINED: (0.45, 0.45, 0.45), **palette(results)}
    width = max(4.0, 0.35 * len(langs) * len(encoders) + 0.6 * len(langs))
    fig, axes = grid(results, title, footer, (len(POINTS), 1), (width, 2.4), (0, 0.6), (0.9, 2.2, 0.3, 0.5))
    step = 1.0 / (len(encoders) + 1)
    for ax, point in zip(axes[:, 0], POINTS):
        for k, encoder in enumerate(encoders):
            stats, positions = [], []
            for i, lang in enumerate(langs):
                if (encoder, lang, point) not in means.index:
                    continue
                q10, q25, q50, q75, q90 = means.loc[(encoder, lang, point)]
                stats.append({"whislo": q10, "q1": q25, "med": q50, "q3": q75, "whishi": q90, "fliers": []})
                positions.append(i + (k + 1) * step - 0.5)
            if stats:
                boxes = ax.bxp(stats, positions=positions, widths=0.8 * step, patch_artist=True, showfliers=False)
                for box in boxes["boxes"]:
                    box.set(facecolor=colors[encoder], alpha=0.6, edgecolor="0.2")
                ax.plot([], [], color=colors[encoder], linewidth=6, alpha=0.6, label=_label(results, encoder))
        for method in results.methods:
            given = radius(results, method)
            if given is not None and given[2] == point:
                ax.axhline(given[1], color=colors[method], linestyle="--", linewidth=1.2)
                ax.plot([], [], color=colors[method], linestyle="--", label=f"{method}: {given[0]} = {given[1]:g}")
        ax.set_xticks(range(len(langs)), langs)
        ax.set_xlim(-0.6, len(langs) - 0.4)
        ax.set_ylabel(f"{point}\ntoken shift (units)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    axes[-1, 0].set_xlabel("test language")
    return fig


def _label(results: Results, encoder: str) -> str:
    return "pretrained encoder" if encoder == PRETRAINED else results.label(encoder)
