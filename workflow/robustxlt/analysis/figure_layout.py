"""What every figure shares: one figure of fixed-size panels in inches (no constrained layout: with 24 panels that
engine costs more than drawing them), a title naming task, model and setup, a footer naming model, data and the
statistics, text wrapping, the per-method palette and a message figure for nothing to plot. The Agg backend is
chosen here, before pyplot and seaborn are first imported."""

from __future__ import annotations

import textwrap
from statistics import NormalDist  # the standard library's, not robustxlt.analysis.statistics

import matplotlib

matplotlib.use("Agg")  # files only: no display, and the fastest backend to import

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from robustxlt.analysis.tables.results import LEVEL, Results  # noqa: E402

DPI = 120  # PNG: 7-pt labels stay legible; higher costs render time for little
TITLE_SIZE, FOOTER_SIZE = 12, 8
MIN_WIDTH = 8.0  # inches
Z = NormalDist().inv_cdf((1 + LEVEL) / 2)  # half-width of a normal interval at LEVEL, in standard errors
LINE = {TITLE_SIZE: 0.24, FOOTER_SIZE: 0.15}  # inches per text line at these sizes
CHARS_PER_INCH = {TITLE_SIZE: 10, FOOTER_SIZE: 15}  # average DejaVu Sans characters per inch, for wrapping


def palette(results: Results) -> dict[str, tuple]:
    """One colour per method, the same in every figure; colour-blind safe."""
    return dict(zip(results.methods, sns.color_palette("colorblind", len(results.methods))))


def wrap(text: str, width: float, size: int) -> str:
    return textwrap.fill(text, width=int(width * CHARS_PER_INCH[size]))


def grid(
    results: Results,
    title: str,
    footer: str,
    shape: tuple[int, int],
    panel: tuple[float, float],
    gap: tuple[float, float],
    margins: tuple[float, float, float, float],
    **subplots,
) -> tuple[Figure, np.ndarray]:
    """A figure of rows × columns panels of a fixed size in inches, a title naming task, model and setup, and a
    footer naming model, data and the statistics. `margins` (left, right, top, bottom) exclude title and footer."""
    (rows, cols), (panel_w, panel_h), (gap_w, gap_h), (left, right, top, bottom) = shape, panel, gap, margins
    content = left + right + cols * panel_w + (cols - 1) * gap_w
    width = max(content, MIN_WIDTH)  # narrow figures centred: title and footer need the room
    left, right = left + (width - content) / 2, right + (width - content) / 2
    provenance = results.provenance
    heading = "\n".join(
        wrap(line, width, TITLE_SIZE)
        for line in (f"{provenance.task} / {provenance.model}: {title}", f"Setup: {provenance.setup_note}")
    )
    text = wrap(
        f"Model: {provenance.model_description}. Data: {provenance.data_description}. {footer}", width, FOOTER_SIZE
    )
    top += 0.15 + LINE[TITLE_SIZE] * (heading.count("\n") + 1)
    bottom += 0.1 + LINE[FOOTER_SIZE] * (text.count("\n") + 1)
    height = top + bottom + rows * panel_h + (rows - 1) * gap_h
    fig = plt.figure(figsize=(width, height))
    fig.suptitle(heading, fontsize=TITLE_SIZE, y=1 - 0.1 / height, va="top")
    fig.text(0.1 / width, 0.08 / height, text, fontsize=FOOTER_SIZE, ha="left", va="bottom")
    axes = fig.subplots(
        rows,
        cols,
        squeeze=False,
        gridspec_kw={
            "left": left / width,
            "right": 1 - right / width,
            "top": 1 - top / height,
            "bottom": bottom / height,
            "wspace": gap_w / panel_w,
            "hspace": gap_h / panel_h,
        },
        **subplots,
    )
    return fig, axes


def message(results: Results, title: str, footer: str, message: str) -> Figure:
    fig, axes = grid(results, title, footer, (1, 1), (7.0, 2.0), (0, 0), (0.3, 0.3, 0.1, 0.1))
    axes[0, 0].axis("off")
    axes[0, 0].text(0.5, 0.5, wrap(message, 7.0, TITLE_SIZE), ha="center", va="center", fontsize=TITLE_SIZE)
    return fig
