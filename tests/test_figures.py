import re
import struct

import numpy as np
import pytest
from robustxlt.analysis.figures import (
    FIGURE_FORMATS,
    FIGURES,
    _label_heights,
    accuracy_figure,
    distance_figure,
    generalized_figure,
)
from robustxlt.analysis.render import render_all
from robustxlt.analysis.tables.registry import TABLE_FORMATS, TABLES
from robustxlt.analysis.tables.results import load_results
from test_tables import KINDS, PAWSX, write_synthetic

METHODS = ["baseline", "adv", "rs-rp", "rs-da"]


def _png_size(path):
    """Width and height from the PNG header (IHDR)."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("figures")
    metrics, distances = write_synthetic(tmp_path, "pawsx", PAWSX, METHODS, [1, 2], pair_languages=["en", "de", "ja"])
    return tmp_path, metrics, distances


def test_render_all_writes_every_table_and_figure_in_every_format(synthetic):
    tmp_path, metrics, distances = synthetic
    paths = render_all(
        metrics,
        distances,
        tmp_path / "tables",
        tmp_path / "figures",
        "pawsx",
        "m",
        METHODS,
        KINDS,
        PAWSX,
        "embedded",
        "mbert",
        n_boot=200,
    )
    expected = [tmp_path / "tables" / f"pawsx_m_{n}.{f}" for n in TABLES for f in TABLE_FORMATS]
    expected += [tmp_path / "figures" / f"pawsx_m_{n}.{f}" for n in FIGURES for f in FIGURE_FORMATS]
    assert sorted(paths) == sorted(expected) and all(p.stat().st_size > 0 for p in paths)  # a rule's outputs
    for name in FIGURES:
        png, pdf = tmp_path / "figures" / f"pawsx_m_{name}.png", tmp_path / "figures" / f"pawsx_m_{name}.pdf"
        assert png in paths and pdf in paths and pdf.read_bytes()[:5] == b"%PDF-"
        width, height = _png_size(png)
        assert 800 <= width <= 4000 and 400 <= height <= 3000, (name, width, height)
    assert not list((tmp_path / "figures").glob(".*"))  # no temporary file left behind


@pytest.fixture(scope="module")
def results(synthetic):
    _, metrics, distances = synthetic
    return load_results(metrics, distances, "pawsx", "m", METHODS, KINDS, PAWSX, "embedded", "mbert", n_boot=200)


def _texts(fig):
    """The figure's title, footer and panel texts, wrapping undone."""
    texts = [fig._suptitle, *fig.texts, *(t for ax in fig.axes for t in ax.texts)]
    return " ".join(" ".join(t.get_text() for t in texts).split())


@pytest.mark.parametrize(
    "draw",
    [distance_figure, accuracy_figure, lambda r: generalized_figure(r, "accuracy")],
    ids=["distance", "accuracy", "generalized"],
)
def test_every_figure_names_task_model_setup_model_and_data(results, draw):
    text = _texts(draw(results))
    assert "pawsx / m:" in text and "EMBEDDED PROXY" in text
    assert "Model: tiny model" in text and "Data: tiny data" in text


def test_distance_figure_has_a_panel_per_method_and_distance_type_with_r_in_the_title(results):
    fig = distance_figure(results)
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert len(axes) == 3 * 6
    assert all(re.match(r"\w+: r = [+-]\d\.\d\d \[", ax.get_title()) for ax in axes)
    labels = {t.get_text() for t in axes[0].texts}
    assert labels == {"de", "es", "fr", "ja", "ko", "zh"}  # languages other than English, each labelled


def test_generalized_heatmaps_cover_the_evaluated_languages_and_mark_significance(results):
    fig = generalized_figure(results, "improvement")
    panels = [ax for ax in fig.axes if ax.get_title() in METHODS]
    assert [ax.get_title() for ax in panels] == ["adv", "rs-rp", "rs-da"]
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["en", "de", "ja"]
    cells = [t.get_text() for t in panels[0].texts]
    assert len(cells) == 9 and any(c.endswith("*") for c in cells)
    assert "3 languages; n = 100 test pairs" in _texts(fig)


def test_accuracy_bars_carry_error_bars_and_the_papers_values(results):
    ax = accuracy_figure(results).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [*PAWSX, "avg"]
    labels = ax.get_legend_handles_labels()[1]
    assert labels[:4] == METHODS and "paper (published)" in labels and "lexical overlap (no model)" in labels


def test_figures_say_when_there_is_nothing_to_compare(tmp_path):
    metrics, distances = write_synthetic(tmp_path, "t", ["en", "de"], ["baseline"], [1])
    results = load_results(metrics, distances, "t", "m", ["baseline"], KINDS, ["en", "de"], "smoke", n_boot=50)
    assert "No method other than the baseline" in _texts(distance_figure(results))
    assert "no language pairs were evaluated" in _texts(generalized_figure(results, "accuracy"))
    assert "SMOKE TEST" in _texts(accuracy_figure(results))


def test_labels_of_close_points_are_pushed_apart():
    heights = _label_heights(np.array([0.5, 0.5, 0.9]), np.array([1.0, 1.05, 1.0]), near=0.1, gap=0.2)
    assert heights[0] == 1.0 and heights[1] == pytest.approx(1.2) and heights[2] == 1.0
