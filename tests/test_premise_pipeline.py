"""The premise through the real code paths: an evaluation job measures a planted shift (a 'language' whose rows are
English's: no shift, full consistency) from its own forward passes; the pretrained encoder's job gives the units
training uses; aggregation writes premise.csv in those units; the premise table and figure render from it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from robustxlt.analysis.aggregate import collect_premise
from robustxlt.analysis.render import render_all
from robustxlt.analysis.tables.results import load_results
from robustxlt.data.canonical import Pair, read_pairs, write_pairs
from robustxlt.evaluation.outcomes import decode_outcomes, encode_outcomes
from robustxlt.evaluation.premise_pretrained import premise_pretrained
from robustxlt.evaluation.zero_shot import EvaluationSet, zero_shot_accuracy
from robustxlt.models.perturbation import mean_token_norm
from robustxlt.training.loop import TrainingSettings, fine_tune
from test_tables import write_synthetic

SETTINGS = TrainingSettings(
    learning_rate=3e-3, epochs=100, max_steps=4, batch_size=16, max_length=32, eval_every=2, log_every=2
)
RUN = {"task": "topic", "model": "tiny", "method": "baseline", "seed": 1}


@pytest.fixture(scope="module")
def planted(tiny_task_dir, tmp_path_factory):
    """Test sets: en, `de` = English's rows (no shift), `fr` = English's rows with sentence 2 reversed."""
    directory = tmp_path_factory.mktemp("planted")
    english = read_pairs(tiny_task_dir / "test-en.tsv")
    shutil.copy(tiny_task_dir / "test-en.tsv", directory / "test-en.tsv")
    shutil.copy(tiny_task_dir / "test-en.tsv", directory / "test-de.tsv")
    reversed_rows = [Pair(p.sentence1, " ".join(reversed(p.sentence2.split())), p.label, p.id) for p in english]
    write_pairs(directory / "test-fr.tsv", reversed_rows)
    return [EvaluationSet(lang, lang, directory / f"test-{lang}.tsv") for lang in ("de", "en", "fr")]


@pytest.fixture(scope="module")
def checkpoint(tiny_model_dir, tiny_task_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "checkpoint"
    fine_tune(tiny_model_dir, tiny_task_dir, out, out.parent / "train_log.jsonl", SETTINGS, seed=1, run=RUN)
    return out


def test_an_evaluation_measures_a_planted_shift_from_its_own_forward_passes(checkpoint, planted, tmp_path):
    results = zero_shot_accuracy(checkpoint, planted, tmp_path / "eval", RUN)
    plain = zero_shot_accuracy(checkpoint, planted, tmp_path / "plain", RUN, premise=False)
    # Same predictions with and without the measurement, results in the order asked (English measured first).
    assert [r["lang1"] for r in results] == ["de", "en", "fr"]
    assert [r["outcomes"] for r in results] == [r["outcomes"] for r in plain]
    assert not (tmp_path / "plain" / "premise.json").exists()
    premise = json.loads((tmp_path / "eval" / "premise.json").read_text())
    assert premise["method"] == "baseline" and set(premise["languages"]) == {"de", "fr"}
    copy, moved = premise["languages"]["de"], premise["languages"]["fr"]
    assert copy["rows"] == moved["rows"] == 60
    for point in ("embeddings", "hidden"):
        assert copy[point]["token_q90"] == pytest.approx(0.0, abs=1e-4)
        assert copy[point]["sentence_q90"] == pytest.approx(0.0, abs=1e-4)
        assert premise["mean_token_norm"][point] > 0
    # Reversing sentence 2 keeps its words (embeddings: no token shift; the mean pools alike) but moves the
    # contextual vectors (positions).
    assert moved["embeddings"]["token_q90"] == pytest.approx(0.0, abs=1e-4)
    assert moved["hidden"]["token_q50"] > 1e-3
    assert copy["consistency"] == 1.0 and decode_outcomes(copy["consistency_outcomes"], 60).all()
    same = decode_outcomes(moved["consistency_outcomes"], 60)
    assert same.mean() == pytest.approx(moved["consistency"])


def test_the_pretrained_job_gives_the_units_training_uses(tiny_model_dir, tiny_task_dir, planted, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    out = tmp_path / "premise_pretrained.json"
    summary = premise_pretrained(
        tiny_model_dir, tiny_task_dir / "train-en.tsv", planted, out, {"task": "topic", "model": "tiny"}, 32
    )
    assert json.loads(out.read_text()) == summary
    tokenizer, encoder = AutoTokenizer.from_pretrained(tiny_model_dir), AutoModel.from_pretrained(tiny_model_dir)
    train = read_pairs(tiny_task_dir / "train-en.tsv")
    train_ids = tokenizer([p.sentence1 for p in train], [p.sentence2 for p in train])["input_ids"]
    vocabulary = torch.tensor(sorted({i for row in train_ids for i in row}))
    assert summary["units"]["embeddings"] == pytest.approx(
        mean_token_norm(encoder.get_input_embeddings().weight, vocabulary)
    )
    assert summary["units"]["hidden"] > 0
    assert summary["languages"]["de"]["hidden"]["token_q90"] == pytest.approx(0.0, abs=1e-4)
    assert "consistency" not in summary["languages"]["de"]
    assert np.isfinite(summary["mean_token_norm"]["hidden"])


def _shift(scale: float) -> dict:
    quantiles = {f"token_q{q}": scale * q / 50 for q in (10, 25, 50, 75, 90)}
    return {
        "rows": 100,
        "tokens": 900,
        **quantiles,
        **{f"sentence_q{q}": scale * q / 100 for q in (10, 25, 50, 75, 90)},
    }


def _premise_json(keys: dict, shifts: dict[str, float], rng, consistency: float | None) -> dict:
    languages = {}
    for lang, scale in shifts.items():
        languages[lang] = {"rows": 100, "embeddings": _shift(scale), "hidden": _shift(3 * scale)}
        if consistency is not None:
            same = rng.random(100) < consistency
            languages[lang] |= {"consistency": float(same.mean()), "consistency_outcomes": encode_outcomes(same)}
    return {**keys, "mean_token_norm": {"embeddings": 2.0, "hidden": 12.0}, "languages": languages}


@pytest.fixture(scope="module")
def synthetic_premise(tmp_path_factory):
    """metrics.csv and distances.csv (test_tables' synthetic runs), premise.csv aggregated from premise JSONs."""
    directory = tmp_path_factory.mktemp("premise")
    methods = ["baseline", "adversarial", "rs-rp"]
    metrics, distances = write_synthetic(directory, "pawsx", ["en", "de", "fr", "ja"], methods, [1, 2])
    table = pd.read_csv(metrics)
    table["strength"] = np.where(table.method == "rs-rp", "sigma=0.1", "")  # rs-rp's sweep chose σ = 0.1
    table.to_csv(metrics, index=False)
    rng = np.random.default_rng(0)
    shifts = {"de": 0.4, "fr": 0.5, "ja": 0.9}
    pretrained = directory / "premise_pretrained.json"
    keys = {"task": "pawsx", "model": "m", "method": "pretrained"}
    pretrained.write_text(
        json.dumps({**_premise_json(keys, shifts, rng, None), "units": {"embeddings": 2.0, "hidden": 10.0}})
    )
    eval_dirs = []
    for method, consistency, variant in [
        ("baseline", 0.7, "baseline"),
        ("adversarial", 0.8, "adversarial"),
        ("rs-rp", 0.9, "rs-rp@sigma=0.1"),
    ]:
        for seed in (1, 2):
            eval_dir = directory / method / f"seed{seed}" / "eval"
            eval_dir.mkdir(parents=True)
            keys = {"task": "pawsx", "model": "m", "method": variant, "seed": seed}
            shrink = {"baseline": 1.0, "adversarial": 0.9, "rs-rp": 1.1}[method]
            measured = _premise_json(keys, {k: v * shrink for k, v in shifts.items()}, rng, consistency)
            (eval_dir / "premise.json").write_text(json.dumps(measured))
            eval_dirs.append(eval_dir)
    premise_file = directory / "premise.csv"
    premise = collect_premise(eval_dirs, [pretrained], premise_file)
    return directory, metrics, distances, premise_file, premise


def test_aggregation_writes_premise_csv_in_the_pretrained_encoders_units(synthetic_premise):
    _, _, _, premise_file, premise = synthetic_premise
    written = pd.read_csv(premise_file, dtype={"strength": str, "consistency_outcomes": str})
    assert len(written) == len(premise) == (1 + 6) * 3 * 2
    pretrained = written[written.method == "pretrained"].set_index(["lang", "point"])
    # de: token q50 = 0.4 absolute at the embeddings (unit 2.0), 1.2 at the hidden states (unit 10.0).
    assert pretrained.loc[("de", "embeddings"), "token_q50"] == pytest.approx(0.2)
    assert pretrained.loc[("de", "hidden"), "token_q50"] == pytest.approx(0.12)
    assert pretrained.loc[("de", "hidden"), "mean_norm"] == pytest.approx(1.2)
    assert pretrained.consistency.isna().all()
    rs_rp = written[written.method == "rs-rp"]
    assert set(rs_rp.strength) == {"sigma=0.1"} and set(rs_rp.seed) == {1, 2}
    assert rs_rp.consistency_outcomes.notna().all() and set(written.point) == {"embeddings", "hidden"}


def test_the_premise_table_and_figure_render_from_the_csvs_alone(synthetic_premise, tmp_path):
    _, metrics, distances, premise_file, _ = synthetic_premise
    settings = {
        "baseline": {"kind": "baseline"},
        "adversarial": {"kind": "adversarial", "epsilon": 0.05},
        "rs-rp": {"kind": "random_perturbation", "sigma": [0.01, 0.1], "injection": "hidden"},
    }
    kinds = {m: s["kind"] for m, s in settings.items()}
    results = load_results(
        metrics, distances, "pawsx", "m", list(settings), kinds, ["en", "de", "fr", "ja"], "smoke",
        n_boot=200, premise_file=premise_file, method_settings=settings,
    )  # fmt: skip
    # The measured shift joins the URIEL types as a distance, for the correlation table and the distance figure.
    measured = results.distances[results.distances.distance_type == "measured shift (hidden)"]
    assert dict(zip(measured.lang, measured.distance)) == pytest.approx({"de": 0.12, "fr": 0.15, "ja": 0.27})
    assert "measured shift (hidden)" in set(results.correlations.distance_type)
    paths = render_all(
        metrics, distances, tmp_path / "tables", tmp_path / "figures", "pawsx", "m", list(settings), kinds,
        ["en", "de", "fr", "ja"], "smoke", n_boot=200, premise_file=premise_file, method_settings=settings,
    )  # fmt: skip
    names = {p.name for p in paths}
    assert {"pawsx_m_premise.md", "pawsx_m_premise.csv", "pawsx_m_premise_shift.png"} <= names
    table = (tmp_path / "tables" / "pawsx_m_premise.md").read_text()
    assert "pretrained encoder" in table and "epsilon = 0.05 (embeddings)" in table
    assert "rs-rp (sigma=0.1)" in table and "sigma = 0.1 (hidden)" in table
    numbers = pd.read_csv(tmp_path / "tables" / "pawsx_m_premise.csv")
    row = numbers[(numbers.lang == "de") & (numbers.method == "pretrained")].iloc[0]
    assert row.embeddings_token_q50_units == pytest.approx(0.2) and row.hidden_token_q50_units == pytest.approx(0.12)
    # Consistency 0.9 vs 0.7 on 100 rows, two seeds: the paired interval lies above 0.
    average = numbers[(numbers.lang == "avg") & (numbers.method == "rs-rp")].iloc[0]
    assert average.consistency_ci_low_pp > 0
    adversarial = numbers[(numbers.lang == "ja") & (numbers.method == "adversarial")].iloc[0]
    assert adversarial.hidden_shift_below_baseline == "yes"
    assert numbers[(numbers.lang == "ja") & (numbers.method == "rs-rp")].iloc[0].hidden_shift_below_baseline == "no"
    assert (tmp_path / "figures" / "pawsx_m_premise_shift.png").stat().st_size > 1000


def test_the_units_are_measured_on_one_seeded_sample_in_training_and_premise(
    tiny_model_dir, tiny_task_dir, planted, tmp_path
):
    """A large English train set is measured on `unit_examples` of its pairs, the same ones in both jobs."""
    from robustxlt.models.batching import encode_pairs
    from robustxlt.training.injection import unit_rows
    from robustxlt.training.methods import make_method
    from robustxlt.training.model_setup import perturbation_units
    from robustxlt.training.settings import TrainingSettings
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    picked = unit_rows(400, 150)
    assert len(set(picked)) == 150 and list(picked) == sorted(picked) and (unit_rows(400, 150) == picked).all()
    assert list(unit_rows(400, None)) == list(unit_rows(400, 400)) == list(range(400))
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=2)
    english = encode_pairs(tokenizer, read_pairs(tiny_task_dir / "train-en.tsv"), 32)
    hidden = make_method({"kind": "random_perturbation", "sigma": 0.1, "injection": "hidden"})
    units = {
        examples: perturbation_units(model, hidden, english, TrainingSettings(unit_examples=examples), 0)
        for examples in (150, None)
    }
    assert units[150] != units[None]  # the sample, not the whole set, was measured
    run = {"task": "topic", "model": "tiny"}
    train = tiny_task_dir / "train-en.tsv"
    sampled = premise_pretrained(tiny_model_dir, train, planted, tmp_path / "p.json", run, 32, unit_examples=150)
    assert sampled["units"]["hidden"] == pytest.approx(units[150][0], rel=1e-6)
    assert sampled["units"]["embeddings"] == pytest.approx(units[150][1], rel=1e-6)
