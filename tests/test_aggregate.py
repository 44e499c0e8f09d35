"""metrics.csv: one row per run × test set, with outcomes and the run's cost; incomplete runs are refused."""

import json

import pandas as pd
import pytest
from robustxlt.analysis.aggregate import METRIC_COLUMNS, SELECTION_COLUMNS, collect_metrics, collect_selections

BENCHMARK_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_run(directory, method, names, seconds):
    eval_dir = directory / method / "eval"
    eval_dir.mkdir(parents=True)
    for name in names:
        lang1, _, lang2 = name.partition("-")
        result = {
            "task": "t",
            "model": "m",
            "method": method,
            "seed": 1,
            "lang1": lang1,
            "lang2": lang2 or lang1,
            "accuracy": 0.5,
            "n": 4,
            "outcomes": "a0",
            "model_description": "tiny model",
            "data_description": "tiny data",
        }
        (eval_dir / f"{name}.json").write_text(json.dumps(result))
    benchmarks = []
    for stage, factor in (("train", 1), ("eval", 0.1)):
        path = directory / method / f"{stage}.tsv"
        path.write_text(BENCHMARK_HEADER + f"{seconds * factor}\t0:00:10\t{1000 * factor}\t1\t1\t1\t1\t1\t1\t1\n")
        benchmarks.append(path)
    return eval_dir, benchmarks


def test_rows_per_test_set_with_costs_and_the_reference_rows(tmp_path):
    names = ["en", "de", "en-de", "de-en"]
    methods = (("baseline", 100), ("adv@epsilon=0.01", 250))  # adv: the variant its sweep chose
    runs = [write_run(tmp_path, method, names, seconds) for method, seconds in methods]
    reference = tmp_path / "overlap.csv"
    reference.write_text(
        "task,model,method,seed,lang1,lang2,accuracy,n,model_description,data_description\n"
        "t,lexical_overlap,lexical_overlap,0,en,en,0.5,4,no model,tiny data\n"
    )
    metrics = collect_metrics(
        [eval_dir for eval_dir, _ in runs],
        {"t": names},
        [b[0] for _, b in runs],
        [b[1] for _, b in runs],
        [reference],
        tmp_path / "metrics.csv",
    )
    assert list(metrics.columns) == METRIC_COLUMNS
    assert len(metrics) == 9
    on_disk = pd.read_csv(tmp_path / "metrics.csv", dtype={"outcomes": str})
    adv = on_disk[on_disk.method == "adv"]
    assert set(zip(adv.lang1, adv.lang2)) == {("en", "en"), ("de", "de"), ("en", "de"), ("de", "en")}
    assert (adv.train_seconds == 250).all() and (adv.eval_peak_rss_mb == 100).all()
    assert (adv.outcomes == "a0").all()
    assert (adv.strength == "epsilon=0.01").all() and on_disk[on_disk.method == "baseline"].strength.isna().all()
    overlap = on_disk[on_disk.method == "lexical_overlap"].iloc[0]
    assert pd.isna(overlap.train_seconds) and pd.isna(overlap.smoothed_accuracy)


def test_a_run_missing_a_test_set_is_named(tmp_path):
    eval_dir, (train, evaluation) = write_run(tmp_path, "baseline", ["en"], 100)
    with pytest.raises(FileNotFoundError, match="no result for de-en; delete the directory"):
        collect_metrics([eval_dir], {"t": ["en", "de-en"]}, [train], [evaluation], [], tmp_path / "metrics.csv")
    assert not (tmp_path / "metrics.csv").exists()


def test_selection_rows_name_every_candidate_and_the_chosen_one(tmp_path):
    path = tmp_path / "results" / "t" / "m" / "adv" / "selection.json"
    path.parent.mkdir(parents=True)
    candidates = [
        {"variant": "adv@epsilon=0.01", "strength": "epsilon=0.01", "dev_accuracy": 0.7, "best_step": 50},
        {"variant": "adv@epsilon=0.1", "strength": "epsilon=0.1", "dev_accuracy": 0.5, "best_step": 10},
    ]
    candidates = [{**c, "dev_collapsed": False, "chosen": c["dev_accuracy"] == 0.7} for c in candidates]
    path.write_text(
        json.dumps({"method": "adv", "selection_seed": 1, "chosen": "adv@epsilon=0.01", "candidates": candidates})
    )
    table = collect_selections([path], {"adv": "adversarial"}, tmp_path / "selection.csv")
    assert list(table.columns) == SELECTION_COLUMNS
    assert table[["task", "model", "method", "kind"]].drop_duplicates().values.tolist() == [
        ["t", "m", "adv", "adversarial"]
    ]
    assert table.set_index("strength").chosen.to_dict() == {"epsilon=0.01": True, "epsilon=0.1": False}
