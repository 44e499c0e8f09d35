import re

import numpy as np
import pandas as pd
import pytest
from robustxlt.analysis.published import PUBLISHED, paper_model, published_rows
from robustxlt.analysis.tables.formatting import latex_text
from robustxlt.analysis.tables.registry import write_tables
from robustxlt.analysis.tables.results import load_results
from robustxlt.evaluation.outcomes import encode_outcomes

KINDS = {
    "baseline": "baseline",
    "adv": "adversarial",
    "rs-rp": "random_perturbation",
    "rs-da": "synonym_augmentation",
    "freelb": "freelb",
}
DISTANCE_TYPES = ["syntactic", "geographic", "genetic", "phonological", "inventory", "featural"]
GAINS = [0.0, 1.0, 1.4, 1.2, 0.3]  # per method, in config order: the baseline gains nothing
PAWSX = ["en", "de", "es", "fr", "ja", "ko", "zh"]


def _row(task, model, method, seed, lang1, lang2, correct, **costs):
    return dict(
        task=task,
        model=model,
        method=method,
        seed=seed,
        lang1=lang1,
        lang2=lang2,
        accuracy=float(np.mean(correct)),
        smoothed_accuracy=np.nan,
        n=len(correct),
        outcomes=encode_outcomes(correct),
        train_seconds=costs.get("train_seconds", np.nan),
        train_peak_rss_mb=costs.get("train_peak_rss_mb", np.nan),
        eval_seconds=costs.get("eval_seconds", np.nan),
        eval_peak_rss_mb=costs.get("eval_peak_rss_mb", np.nan),
        model_description="tiny model" if model != "lexical_overlap" else "no model",
        data_description="tiny data",
    )


def write_synthetic(directory, task, languages, methods, seeds, pair_languages=(), n=200, n_pairs=100, model="m"):
    """metrics.csv and distances.csv in the contracts' shapes: methods gain more on languages far from English."""
    rng = np.random.default_rng(0)
    distance = {lang: 0.0 if lang == "en" else rng.uniform(0.2, 0.9) for lang in languages}
    rows = []
    for seed in seeds:
        test_sets = [(lang, lang, n) for lang in languages]
        test_sets += [(a, b, n_pairs) for a in pair_languages for b in pair_languages if a != b]
        costs = {
            "train_seconds": 100.0 + seed,
            "train_peak_rss_mb": 1000.0,
            "eval_seconds": 10.0,
            "eval_peak_rss_mb": 500.0,
        }
        for lang1, lang2, size in test_sets:
            difficulty = (distance[lang1] + distance[lang2]) / 2
            draw = rng.random(size)  # shared by the methods: their outcomes are paired, as on one test set
            for i, method in enumerate(methods):
                p = 0.9 - 0.2 * difficulty + GAINS[i % len(GAINS)] * (0.07 * difficulty - 0.01 + 0.003 * seed)
                scale = 1 + 2 * i  # adversarial-like methods cost more
                run_costs = {k: v * scale if k.endswith("seconds") else v for k, v in costs.items()}
                rows.append(_row(task, model, method, seed, lang1, lang2, draw < p, **run_costs))
    rows += [_row(task, "lexical_overlap", "lexical_overlap", 0, lang, lang, rng.random(n) < 0.6) for lang in languages]
    metrics = directory / "metrics.csv"
    directory.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(metrics, index=False)
    distances = pd.DataFrame(
        [
            dict(
                lang=lang,
                iso639_3=lang + "x",
                distance_type=kind,
                distance=min(1.0, d + 0.1 * k * rng.random()),
                source="synthetic URIEL",
                metric="angular",
            )
            for lang, d in distance.items()
            for k, kind in enumerate(DISTANCE_TYPES)
        ]
    )
    distances.to_csv(directory / "distances.csv", index=False)
    return metrics, directory / "distances.csv"


def _counted(k, n=100):
    """n outcomes of which the first k are correct: accuracy k / n exactly."""
    return np.arange(n) < k


def _two_language_metrics(tmp_path):
    rows = []
    for method, base in (("baseline", 70), ("adv", 80)):
        for seed, shift in ((1, 0), (2, 2)):
            for lang, delta in (("en", 10), ("de", 0)):
                costs = {
                    "train_seconds": 100.0 * (1 + (method == "adv")) + seed,
                    "train_peak_rss_mb": 1000.0 + seed,
                    "eval_seconds": 10.0,
                    "eval_peak_rss_mb": 400.0,
                }
                rows.append(_row("t", "m", method, seed, lang, lang, _counted(base + delta + shift), **costs))
    rows.append(_row("t", "lexical_overlap", "lexical_overlap", 0, "en", "en", _counted(50)))
    metrics = tmp_path / "metrics.csv"
    pd.DataFrame(rows).to_csv(metrics, index=False)
    distances = tmp_path / "distances.csv"
    pd.DataFrame(
        [dict(lang="de", iso639_3="deu", distance_type="syntactic", distance=0.4, source="s", metric="angular")]
    ).to_csv(distances, index=False)
    return metrics, distances


def render_tables(metrics, distances, out, task, model, methods, languages, setup="embedded", paper=None):
    """The tables of one (task, model) in `out`, with a small bootstrap; returns the paths written."""
    results = load_results(metrics, distances, task, model, methods, KINDS, languages, setup, paper, n_boot=200)
    return write_tables(results, out)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("two")
    metrics, distances = _two_language_metrics(tmp_path)
    return tmp_path, render_tables(metrics, distances, tmp_path / "tables", "t", "m", ["baseline", "adv"], ["en", "de"])


def test_every_table_is_written_in_markdown_latex_and_csv(rendered):
    tmp_path, paths = rendered
    for name in ("standard", "improvements", "generalized", "generalized_pairs", "costs", "correlations"):
        for suffix in ("md", "tex", "csv"):
            path = tmp_path / "tables" / f"t_m_{name}.{suffix}"
            assert path in paths and path.stat().st_size > 0
    assert not list((tmp_path / "tables").glob(".*"))  # no temporary file left behind


def test_standard_table_has_languages_as_columns_mean_std_over_seeds_and_a_caption(rendered):
    tmp_path, _ = rendered
    text = (tmp_path / "tables" / "t_m_standard.md").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("**t / m: zero-shot accuracy, standard setting.**")
    assert "EMBEDDED PROXY" in lines[0] and "- Model: tiny model" in lines and "- Data: tiny data" in lines
    assert "| method | en | de | avg | transfer gap (en − others) | Δ avg excl. en [95% CI] | seeds |" in lines
    assert "| baseline | 81.0 ± 1.4 | 71.0 ± 1.4 | 76.0 ± 1.4 | 10.0 ± 0.0 | – | 2 |" in lines
    adv = next(line for line in lines if line.startswith("| adv |"))
    assert adv.startswith("| adv | 91.0 ± 1.4 | 81.0 ± 1.4 | 86.0 ± 1.4 | 10.0 ± 0.0 | +10.0 [")
    assert adv.endswith("]* | 2 |")  # ten more of 100 right in every seed: the interval excludes 0
    assert "| lexical overlap (no model) | 50.0 |  |  |  |  | – |" in lines
    assert "| paper:" not in text and "XTREME" not in text and "− paper" not in text


def test_latex_has_a_tabular_a_caption_and_no_raw_unicode_symbols(rendered):
    tmp_path, _ = rendered
    tex = (tmp_path / "tables" / "t_m_standard.tex").read_text()
    assert "\\begin{tabular}" in tex and "\\caption{" in tex and "EMBEDDED PROXY" in tex
    assert "81.0 $\\pm$ 1.4" in tex and "±" not in tex and "Δ" not in tex
    assert latex_text("rs_da 5% -0.3 [x] a-1") == "rs\\_da 5\\% $-$0.3 [x] a-1"


def test_csv_has_raw_numbers_with_units_in_the_column_names(rendered):
    tmp_path, _ = rendered
    table = pd.read_csv(tmp_path / "tables" / "t_m_standard.csv")
    baseline = table[table.row == "baseline"].iloc[0]
    assert baseline.en_pct == pytest.approx(81.0) and baseline.en_pct_std == pytest.approx(
        100 * np.std([0.8, 0.82], ddof=1)
    )
    adv = table[table.row == "adv"].iloc[0]
    assert adv.avg_excl_en_improvement_pp == pytest.approx(10.0)
    improvements = pd.read_csv(tmp_path / "tables" / "t_m_improvements.csv")
    assert {"improvement_pp", "ci_low_pp", "ci_high_pp", "p_value"} <= set(improvements.columns)
    assert set(improvements.lang1) == {"en", "de", "avg"}


def test_cost_table_gives_time_and_memory_relative_to_the_baseline(rendered):
    tmp_path, _ = rendered
    costs = pd.read_csv(tmp_path / "tables" / "t_m_costs.csv").set_index("method")
    assert costs.train_seconds["adv"] == pytest.approx(201.5) and costs.train_seconds["baseline"] == pytest.approx(
        101.5
    )
    assert costs.train_seconds_vs_baseline["adv"] == pytest.approx(201.5 / 101.5)
    assert costs.train_peak_rss_mb["baseline"] == 1002.0  # the peak over seeds
    text = (tmp_path / "tables" / "t_m_costs.md").read_text()
    assert "benchmark:" in text and "| adv | 202 ± 1 | 1.99 |" in text


def test_cost_table_names_the_hardware_and_a_gpu_runs_peak_memory(tmp_path):
    """Runs trained on a card: the caption names it with the precision, the table has its peak GPU memory."""
    from robustxlt.analysis.tables.costs import cost_table

    write_synthetic(tmp_path, "t", ["en", "de"], ["baseline", "adv"], [1, 2])
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    metrics["train_device"], metrics["train_precision"] = "NVIDIA A100-SXM4-80GB", "bf16"
    metrics["train_peak_device_memory_mb"] = np.where(metrics.method == "adv", 9000.0, 4000.0)
    metrics.to_csv(tmp_path / "metrics.csv", index=False)
    kinds = {"baseline": "baseline", "adv": "adversarial"}
    results = load_results(
        tmp_path / "metrics.csv", tmp_path / "distances.csv", "t", "m", list(kinds), kinds, ["en", "de"], "custom",
        n_boot=100,
    )  # fmt: skip
    table = cost_table(results)
    assert "Trained on: NVIDIA A100-SXM4-80GB (bf16)." in table.notes
    numbers = table.numbers.set_index("method")
    assert numbers.train_peak_device_memory_mb["adv"] == 9000.0
    assert numbers.train_peak_device_memory_mb_vs_baseline["adv"] == pytest.approx(2.25)


def test_without_generalized_results_the_tables_say_so(rendered):
    tmp_path, _ = rendered
    assert "No generalized-setting results" in (tmp_path / "tables" / "t_m_generalized.md").read_text()


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("paper")
    methods = ["baseline", "adv", "rs-rp", "rs-da"]
    metrics, distances = write_synthetic(tmp_path, "pawsx", PAWSX, methods, [1, 2], pair_languages=["en", "de", "ja"])
    return tmp_path, metrics, distances, methods


def _render(paper_run, paper_reference, languages=PAWSX, name="out"):
    tmp_path, metrics, distances, methods = paper_run
    render_tables(metrics, distances, tmp_path / name, "pawsx", "m", methods, languages, "paper", paper_reference)
    return tmp_path / name


def test_published_rows_sit_beside_ours_only_when_asked(paper_run):
    lines = (_render(paper_run, "mbert", name="mbert") / "pawsx_m_standard.md").read_text().splitlines()
    row = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ")}
    assert row["paper: RS-RP"].startswith("| paper: RS-RP | 94.5 | 87.4 | 90.0 | 89.5 | 77.9 | 77.5 | 82.0 | 85.5 |")
    assert "| XTREME: mBERT (published) | 94.0 |" in row["XTREME: mBERT (published)"]
    assert re.match(r"\| Δ rs-rp − paper \| [+-]\d+\.\d \|", row["Δ rs-rp − paper"])
    assert [line.split(" | ")[0] for line in lines if line.startswith("| ")][1:5] == [
        "| baseline",
        "| paper: baseline (paper's run)",
        "| Δ baseline − paper",
        "| adv",
    ]
    without = (_render(paper_run, None, name="none") / "pawsx_m_standard.md").read_text()
    assert "paper:" not in without and "XTREME" not in without


def test_cells_the_paper_does_not_publish_stay_empty(paper_run):
    tables = _render(paper_run, "xlmr-large", name="xlmr")
    lines = (tables / "pawsx_m_standard.md").read_text().splitlines()
    assert "| paper: RS-RP |  |  |  |  |  |  |  |  |  |  |  |" in lines
    assert any(line.startswith("| XTREME: XLM-R large (published) | 94.7 |") for line in lines)
    numbers = pd.read_csv(tables / "pawsx_m_standard.csv")
    assert numbers[numbers.row == "paper: RS-RP"].en_pct.isna().all()
    # Two languages of ours against the paper's seven: no average to compare.
    subset = (_render(paper_run, "mbert", ["en", "de"], name="subset") / "pawsx_m_standard.md").read_text()
    gap = next(line for line in subset.splitlines() if line.startswith("| Δ adv − paper"))
    assert gap.split(" | ")[3] == ""


def test_generalized_table_says_which_languages_and_n_it_covers(paper_run):
    tables = _render(paper_run, None, name="generalized")
    text = (tables / "pawsx_m_generalized.md").read_text()
    assert "3 of 7 languages (en, de, ja)" in text and "6 ordered pairs" in text and "n = 100 test pairs" in text
    numbers = pd.read_csv(tables / "pawsx_m_generalized.csv").set_index("method")
    assert numbers.generalized_improvement_pp["baseline"] != numbers.generalized_improvement_pp["baseline"]  # NaN
    assert numbers.generalized_improvement_pp[["adv", "rs-rp", "rs-da"]].gt(0).all()
    pairs = pd.read_csv(tables / "pawsx_m_generalized_pairs.csv")
    assert len(pairs[pairs.method == "adv"]) == 6 and pairs.mean_pct.between(0, 100).all()


def test_correlation_table_has_every_method_and_distance_type(paper_run):
    tables = _render(paper_run, None, name="correlations")
    numbers = pd.read_csv(tables / "pawsx_m_correlations.csv")
    assert len(numbers) == 3 * len(DISTANCE_TYPES) and (numbers.n_languages == 6).all()
    assert "synthetic URIEL (angular)" in (tables / "pawsx_m_correlations.md").read_text()


def test_published_numbers_and_paper_models():
    rows = published_rows("pawsx", "mbert")
    assert [r.kind for r in rows] == [None, "baseline", "adversarial", "random_perturbation", "synonym_augmentation"]
    for row in (r for rows in PUBLISHED.values() for r in rows if r.accuracy):
        languages = [v for k, v in row.accuracy.items() if k != "avg"]
        assert row.accuracy["avg"] == pytest.approx(np.mean(languages), abs=0.06), row.label
    assert paper_model("hub:google-bert/bert-base-multilingual-cased") == "mbert"
    assert paper_model("hub:FacebookAI/xlm-roberta-large") == "xlmr-large" and paper_model("embedded") is None
    with pytest.raises(ValueError, match="unknown paper model"):
        published_rows("pawsx", "gpt")


def test_an_unknown_setup_or_missing_runs_are_refused(tmp_path):
    metrics, distances = _two_language_metrics(tmp_path)
    with pytest.raises(ValueError, match="unknown setup"):
        load_results(metrics, distances, "t", "m", ["baseline"], KINDS, ["en"], "demo")
    with pytest.raises(ValueError, match="no rows for task 'x'"):
        load_results(metrics, distances, "x", "m", ["baseline"], KINDS, ["en"], "smoke")


def test_with_the_baseline_alone_the_tables_say_there_is_nothing_to_compare(tmp_path):
    metrics, distances = _two_language_metrics(tmp_path)
    render_tables(metrics, distances, tmp_path, "t", "m", ["baseline"], ["en", "de"])
    assert "No method other than the baseline" in (tmp_path / "t_m_improvements.md").read_text()
    standard = (tmp_path / "t_m_standard.md").read_text()
    assert "| baseline | 81.0 ± 1.4 | 71.0 ± 1.4 | 76.0 ± 1.4 | 10.0 ± 0.0 | – | 2 |" in standard
    assert len(pd.read_csv(tmp_path / "t_m_correlations.csv")) == 0


def test_captions_report_placeholder_rows_and_rows_left_out_of_the_pairs(paper_run, tmp_path):
    _, metrics, distances, methods = paper_run
    quirky = pd.read_csv(metrics)
    standard, pairs = quirky.lang1 == quirky.lang2, quirky.lang1 != quirky.lang2
    quirky["placeholder_rows"] = np.where(standard & quirky.lang1.isin(["de", "ja"]), 12, 0)
    quirky["dropped_rows"] = np.where(pairs, np.where(quirky.lang1.eq("ja") | quirky.lang2.eq("ja"), 14, 12), 0)
    quirky.to_csv(tmp_path / "metrics.csv", index=False)
    render_tables(tmp_path / "metrics.csv", distances, tmp_path / "t", "pawsx", "m", methods, PAWSX, "paper")
    standard_text = (tmp_path / "t" / "pawsx_m_standard.md").read_text()
    assert "placeholder rows (e.g. NS) in the test sets, scored as in XTREME: de 12, ja 12." in standard_text
    generalized_text = (tmp_path / "t" / "pawsx_m_generalized.md").read_text()
    assert "Rows left out of each pair" in generalized_text and "12–14 per pair" in generalized_text
    # Data without such rows says nothing about them.
    assert "placeholder" not in (_render(paper_run, None, name="plain") / "pawsx_m_standard.md").read_text()


def test_runs_cut_short_are_marked_and_named_with_their_seeds(tmp_path):
    metrics, distances = _two_language_metrics(tmp_path)
    table = pd.read_csv(metrics)
    table["converged"] = (~((table.method == "adv") & (table.seed == 2))).astype(object)
    table.loc[table.model == "lexical_overlap", "converged"] = None
    table.to_csv(metrics, index=False)
    render_tables(metrics, distances, tmp_path / "tables", "t", "m", ["baseline", "adv"], ["en", "de"])
    text = (tmp_path / "tables" / "t_m_standard.md").read_text()
    assert any(line.startswith("| adv ‡ |") for line in text.splitlines())
    assert not any(line.startswith("| baseline ‡") for line in text.splitlines())
    assert "‡: not converged" in text and "adv: seed 2" in text and "raise training.epochs" in text
    numbers = pd.read_csv(tmp_path / "tables" / "t_m_standard.csv", dtype={"not_converged_seeds": str})
    ours = numbers[numbers.row_type == "ours"].set_index("method")
    assert ours.not_converged_seeds.fillna("").to_dict() == {"baseline": "", "adv": "2"}


def test_the_selection_table_gives_standard_errors_and_doubts_a_choice_among_runs_cut_short(tmp_path):
    metrics, distances = _two_language_metrics(tmp_path)
    selection = tmp_path / "selection.csv"
    rows = [
        ("epsilon=0.01", 0.75, True, True, True),
        ("epsilon=0.1", 0.74, False, False, True),
        ("epsilon=1.0", 0.60, False, False, False),
    ]
    pd.DataFrame(
        [
            dict(task="t", model="m", method="adv", kind="adversarial", strength=s, variant=f"adv@{s}", seed=1,
                 dev_accuracy=a, dev_examples=400, dev_standard_error=(a * (1 - a) / 400) ** 0.5, best_step=50,
                 dev_collapsed=False, converged=conv, close_to_chosen=close, chosen=chosen)
            for s, a, chosen, conv, close in rows
        ]
    ).to_csv(selection, index=False)  # fmt: skip
    results = load_results(
        metrics, distances, "t", "m", ["baseline", "adv"], KINDS, ["en", "de"], "embedded", None, 200, selection
    )
    write_tables(results, tmp_path / "tables")
    lines = (tmp_path / "tables" / "t_m_selection.md").read_text().splitlines()
    chosen = next(line for line in lines if "epsilon=0.01" in line)
    close = next(line for line in lines if "epsilon=0.1 |" in line)
    assert "75.0 ± 2.2" in chosen and "✓ (within 1 SE of another) ?" in chosen
    assert "74.0 ± 2.2 ‡" in close and close.endswith("| within 1 SE |")
    assert next(line for line in lines if "epsilon=1.0" in line).endswith("|  |")
