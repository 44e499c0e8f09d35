"""The Snakemake layer: the DAG builds fast, the lint is clean, bad config stops before any job, and the
smoke preset runs end to end on the embedded default."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, SMOKE, SNAKEMAKE, snakemake
from robustxlt.pipeline.config import method_variants, validate_config


def planned_jobs(output: str) -> dict[str, int]:
    """Job counts per rule from the table a dry run prints."""
    counts, in_table = {}, False
    for line in output.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
        elif in_table and parts and parts[0] == "total":
            break
        elif in_table and len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.mark.parametrize("preset", [None, "presets/paper.yaml", "presets/smoke.yaml"])
def test_dry_run_builds_the_dag_in_seconds(preset, tmp_path):
    args = ["-n", "--cores", "2"] + (["--configfile", str(REPO / preset)] if preset else [])
    started = time.perf_counter()
    result = snakemake(*args, workdir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert time.perf_counter() - started < 30
    jobs = planned_jobs(result.stdout)
    config = validate_config(yaml.safe_load((REPO / (preset or "config.yaml")).read_text()))
    # Before any selection exists: every seed of the unswept methods, every variant of a sweep on the first seed.
    unswept, candidates = 0, 0
    for task in config["tasks"]:
        for method in config["methods"]:
            count = len(method_variants(config, task, method))
            unswept += len(config["seeds"]) if count == 1 else 0
            candidates += count if count > 1 else 0
    assert jobs["train"] == len(config["models"]) * (unswept + candidates)
    assert jobs.get("select_strength", 0) == len(config["models"]) * sum(
        len(method_variants(config, task, method)) > 1 for task in config["tasks"] for method in config["methods"]
    )
    assert jobs["prepare_data"] == len(config["tasks"]) and jobs["prepare_model"] == len(config["models"])
    # One evaluation job per run covers every test set of the standard and the generalized setting.
    assert jobs["evaluate"] == len(config["models"]) * unswept
    assert jobs["render"] == len(config["tasks"]) * len(config["models"])
    assert not (tmp_path / "results").exists()


def test_lint_is_clean(tmp_path):
    result = snakemake("--lint", workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_bad_config_stops_before_any_job_with_one_clear_line(tmp_path):
    config = yaml.safe_load(SMOKE.read_text())
    config["training"]["learning_rat"] = 1e-3
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = snakemake("--cores", "1", "--configfile", str(bad), workdir=tmp_path)
    assert result.returncode != 0
    assert "unknown key training.learning_rat" in result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()


@pytest.mark.slow("the smoke preset end to end on the embedded model (the shared smoke run): about 5 minutes")
def test_smoke_preset_runs_end_to_end(smoke_run, tmp_path):
    workdir = smoke_run
    config = yaml.safe_load(SMOKE.read_text())
    metrics = pd.read_csv(workdir / "results" / "metrics.csv")
    runs = metrics[metrics.model == "e5small"]
    from robustxlt.data.tasks import get_task

    languages = list(get_task("sameapp").languages)
    standard = runs[(runs.lang1 == runs.lang2) & (runs.method == "baseline")]
    assert sorted(standard.lang1) == sorted(languages)
    pairs = runs[(runs.lang1 != runs.lang2) & (runs.method == "baseline")]
    assert sorted(zip(pairs.lang1, pairs.lang2)) == sorted(
        (a, b) for a in ("en", "de", "ja") for b in ("en", "de", "ja") if a != b
    )
    assert (pairs.n == 30).all()
    # n_test caps the English test set; every other language holds the English rows translated into it.
    manifest = json.loads((workdir / "resources" / "data" / "sameapp" / "manifest.json").read_text())
    test_rows = {lang: manifest["files"][f"test-{lang}.tsv"]["rows"] for lang in languages}
    assert 0 < test_rows["en"] <= config["tasks"]["sameapp"]["embedded"]["n_test"]
    assert all(0 < rows <= test_rows["en"] for rows in test_rows.values()), test_rows
    assert (standard.n == standard.lang1.map(test_rows)).all()
    assert runs.accuracy.between(0, 1).all() and runs.outcomes.notna().all()
    # The smoke preset learns: English dev clearly above chance (0.60 is 2.0 binomial std above 0.5 at n = 100),
    # and the baseline is no constant classifier.
    summary = json.loads(
        (workdir / "results/sameapp/e5small/baseline/seed1/checkpoint/robustxlt_training.json").read_text()
    )
    assert summary["best_dev_accuracy"] >= 0.6 and not summary["dev_collapsed"], summary
    assert not runs[(runs.method == "baseline") & (runs.lang1 == "en") & (runs.lang2 == "en")].collapsed.any()
    # The sweep: both σ trained on seed 1, the one best on English dev chosen and the only one evaluated.
    selection = json.loads((workdir / "results/sameapp/e5small/rs-rp/selection.json").read_text())
    dev = {c["variant"]: c["dev_accuracy"] for c in selection["candidates"]}
    assert set(dev) == {"rs-rp@sigma=0.01", "rs-rp@sigma=0.03"}
    assert dev[selection["chosen"]] == max(dev.values())
    rs_rp = runs[runs.method == "rs-rp"]
    assert set(rs_rp.strength) == {selection["chosen"].split("@")[1]}
    others = [v for v in dev if v != selection["chosen"]]
    assert not (workdir / "results/sameapp/e5small" / others[0] / "seed1/eval").exists()
    chosen_table = (workdir / "results" / "tables" / "sameapp_e5small_selection.md").read_text()
    assert "✓" in chosen_table and "sigma=0.01" in chosen_table and "sigma=0.03" in chosen_table
    assert (runs.train_seconds > 0).all() and (runs.eval_peak_rss_mb > 0).all()
    assert sorted(metrics[metrics.model == "lexical_overlap"].lang1) == sorted(languages)
    table = (workdir / "results" / "tables" / "sameapp_e5small_standard.md").read_text()
    assert "SMOKE TEST" in table and all(f" {lang} " in table for lang in languages)
    distances = pd.read_csv(workdir / "results" / "distances.csv")
    assert set(distances.lang) == set(languages) and distances.distance_type.nunique() == 6
    assert f"rs-rp ({selection['chosen'].split('@')[1]})" in table  # the chosen strength is named
    # The premise: measured in every evaluation job and on the pretrained encoder, aggregated, tabled and drawn.
    premise = pd.read_csv(workdir / "results" / "premise.csv")
    assert {"pretrained", "baseline", "rs-rp"} <= set(premise.method)
    assert set(premise.lang) == set(languages) - {"en"} and set(premise.point) == {"embeddings", "hidden"}
    assert premise[premise.method != "pretrained"].consistency.between(0, 1).all()
    premise_table = (workdir / "results" / "tables" / "sameapp_e5small_premise.md").read_text()
    assert "pretrained encoder" in premise_table and "(embeddings)" in premise_table
    assert (workdir / "results" / "sameapp" / "e5small" / "baseline" / "seed1" / "eval" / "premise.json").is_file()
    for name in ("distance", "accuracy", "generalized_accuracy", "generalized_improvement", "premise_shift"):
        for ext in ("png", "pdf"):
            assert (workdir / "results" / "figures" / f"sameapp_e5small_{name}.{ext}").stat().st_size > 1000

    # Re-rendering reads only metrics.csv, selection.csv, distances.csv and premise.csv (copied elsewhere, as from a
    # cluster; the shared run stays as it is): no training or evaluation, in seconds, and the same tables.
    copied = tmp_path / "copied"
    (copied / "results").mkdir(parents=True)
    for name in ("metrics", "selection", "distances", "premise"):
        shutil.copy(workdir / "results" / f"{name}.csv", copied / "results")
    started = time.perf_counter()
    again = snakemake("figures", "--cores", "2", "--configfile", str(SMOKE), workdir=copied)
    assert again.returncode == 0, again.stderr[-3000:]
    assert time.perf_counter() - started < 60  # the 15 s target is measured by the benchmark script
    assert "rule train" not in again.stdout + again.stderr and "rule evaluate" not in again.stdout + again.stderr
    for rendered in ("tables", "figures"):
        assert sorted(p.name for p in (copied / "results" / rendered).iterdir()) == sorted(
            p.name for p in (workdir / "results" / rendered).iterdir()
        )
    assert (copied / "results" / "tables" / "sameapp_e5small_standard.md").read_text() == table

    report = tmp_path / "report.html"
    made = snakemake("--configfile", str(SMOKE), "--report", str(report), workdir=workdir)
    assert made.returncode == 0, made.stderr[-3000:]
    assert report.stat().st_size > 10000
    checkpoint = workdir / "results" / "sameapp" / "e5small" / "baseline" / "seed1" / "checkpoint"
    assert (checkpoint / "model.safetensors").is_file() and (checkpoint / "robustxlt_training.json").is_file()
    assert (workdir / "results" / "benchmarks" / "train" / "sameapp" / "e5small" / "baseline" / "seed1.tsv").is_file()


RESUMED_RUN = "results/sameapp/e5small/baseline/seed1"
RESUME_COMMAND = (f"{RESUMED_RUN}/train_log.jsonl", "--cores", "2", "--configfile", str(SMOKE))


@pytest.mark.slow("a real training killed with SIGKILL and resumed under Snakemake: about 2 minutes each")
@pytest.mark.parametrize("killed", ["training process", "whole run"])
def test_a_training_killed_with_sigkill_resumes_with_the_plain_command(smoke_run, tmp_path, killed):
    """SIGKILL after the training's first saved state — to the training process alone (Snakemake reports the
    failure), or to Snakemake and all its children (nothing reports anything; the lock stays) — then the same
    command again: it resumes from that state, and its English dev evaluations equal an uninterrupted run's (the
    smoke run's, which trained the same run)."""
    import signal

    import psutil

    workdir = tmp_path / "killed"
    shutil.copytree(smoke_run / "resources", workdir / "resources")  # the same data and model, not redone
    state_file = workdir / RESUMED_RUN / "checkpoint.resume.pt"
    process = subprocess.Popen(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *RESUME_COMMAND],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 600
    while not state_file.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    children = psutil.Process(process.pid).children(recursive=True)
    (training,) = [p for p in children if "train.py" in " ".join(p.cmdline())]
    for victim in [training] if killed == "training process" else [psutil.Process(process.pid), *children]:
        victim.send_signal(signal.SIGKILL)
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0 and state_file.exists(), output[-3000:]
    if killed == "training process":
        assert "robustxlt: train failed: no error in its log (killed from outside?)" in output
    else:
        assert list((workdir / ".snakemake" / "locks").glob("*.lock"))  # what used to need --unlock

    again = snakemake(*RESUME_COMMAND, workdir=workdir, timeout=900)  # the plain command, no flag to remember
    assert again.returncode == 0, again.stderr[-3000:]
    if killed == "whole run":
        assert "left by a run on this host that was killed" in again.stderr
    events = lambda path: [json.loads(line) for line in path.read_text().splitlines()]  # noqa: E731
    resumed = events(workdir / RESUMED_RUN / "train_log.jsonl")
    assert [e["step"] for e in resumed if e["event"] == "resumed"] == [20]
    dev = lambda log: [(e["step"], e["dev_accuracy"], e["best"]) for e in log if e["event"] == "dev"]  # noqa: E731
    assert dev(resumed) == dev(events(smoke_run / RESUMED_RUN / "train_log.jsonl"))
    assert not state_file.exists() and not list((workdir / ".snakemake" / "robustxlt-runs").glob("*"))


@pytest.mark.slow("RS-DA end to end on the embedded model (the smoke run's data and model): about 2 minutes")
def test_rs_da_trains_on_augmented_copies_end_to_end(smoke_run, tmp_path):
    shutil.copytree(smoke_run / "resources", tmp_path / "resources")  # the same data and model, not redone
    config = yaml.safe_load(SMOKE.read_text())
    config["tasks"]["sameapp"]["languages"] = ["en", "de"]
    config["tasks"]["sameapp"]["generalized"] = {"languages": ["en", "de"], "max_examples": 10}
    config["methods"] = {"baseline": {"kind": "baseline"}, "rs-da": {"kind": "synonym_augmentation", "copies": 2}}
    preset = tmp_path / "rs-da.yaml"
    preset.write_text(yaml.safe_dump(config))
    result = snakemake("--cores", "2", "--configfile", str(preset), workdir=tmp_path, timeout=1800)
    assert result.returncode == 0, result.stderr[-5000:]
    table = json.loads((tmp_path / "resources" / "synonyms" / "en.json").read_text())
    assert table["source"] == "wordnet" and len(table["neighbours"]) > 10000
    original = (tmp_path / "resources" / "data" / "sameapp" / "train-en.tsv").read_text().splitlines()
    augmented = tmp_path / "results" / "sameapp" / "augmented" / "rs-da" / "seed1" / "train-en.tsv"
    assert len(augmented.read_text().splitlines()) - 1 == 2 * (len(original) - 1)
    stats = json.loads(augmented.with_name("train-en.stats.json").read_text())
    assert 0 < stats["fraction_examples_changed"] <= 1
    start = json.loads(
        (augmented.parents[3] / "e5small" / "rs-da" / "seed1" / "train_log.jsonl").read_text().splitlines()[0]
    )
    assert start["train_examples"] == 2 * (len(original) - 1) and start["method"]["kind"] == "synonym_augmentation"
    metrics = pd.read_csv(tmp_path / "results" / "metrics.csv")
    rs_da = metrics[metrics.method == "rs-da"]
    assert sorted(zip(rs_da.lang1, rs_da.lang2)) == [("de", "de"), ("de", "en"), ("en", "de"), ("en", "en")]


@pytest.mark.slow("the paper's grid with tiny stand-ins end to end: 107 jobs, about 9 minutes")
def test_the_paper_tiny_preset_runs_end_to_end(tmp_path):
    """The paper's tasks, methods (both injection points) and model families, with tiny stand-ins: every
    run trains and evaluates, the generalized grid drops the data's quirks and says so, and the paper-layout
    tables carry the published rows and say that ours come from stand-ins."""
    from robustxlt.data.tasks import get_task

    preset = REPO / "presets/paper-tiny.yaml"
    result = snakemake("--cores", "2", "--configfile", str(preset), workdir=tmp_path, timeout=1800)
    assert result.returncode == 0, result.stderr[-5000:]
    config = yaml.safe_load(preset.read_text())
    metrics = pd.read_csv(tmp_path / "results" / "metrics.csv")
    runs = metrics[metrics.model != "lexical_overlap"]
    for task in ("pawsx", "xnli"):
        languages = get_task(task).languages
        for model in ("mbert", "xlmr-large"):
            for method in config["methods"]:
                chosen = runs[(runs.task == task) & (runs.model == model) & (runs.method == method)]
                standard = chosen[chosen.lang1 == chosen.lang2]
                assert sorted(standard.lang1) == sorted(languages), (task, model, method)
                assert len(chosen[chosen.lang1 != chosen.lang2]) == len(languages) * (len(languages) - 1)
            (log,) = (tmp_path / "results" / task / model).glob("adversarial-hidden@epsilon=0.05/seed1/train_log.jsonl")
            start = json.loads(log.read_text().splitlines()[0])
            assert start["method"]["injection"] == "hidden" and start["run"]["model"] == model
    # The stand-ins learn their task: every run is clearly above chance on English and none is constant (the
    # paper's ε collapses them; the sweep's smaller value is chosen on English dev).
    english = runs[(runs.lang1 == "en") & (runs.lang2 == "en")]
    chance = english.task.map({"pawsx": 1 / 2, "xnli": 1 / 3})
    assert (english.accuracy > chance + 0.15).all() and not english.collapsed.any(), english[
        ["task", "model", "method"]
    ]
    architectures = {
        model: json.loads((tmp_path / "resources" / "models" / model / "config.json").read_text())["model_type"]
        for model in ("mbert", "xlmr-large")
    }
    assert architectures == {"mbert": "bert", "xlmr-large": "xlm-roberta"}
    # The quirks: German's placeholder rows and Chinese's missing row are left out of the pairs, and counted.
    generalized = json.loads((tmp_path / "resources" / "data" / "pawsx" / "generalized.json").read_text())
    assert generalized["matched_by"] == "id" and generalized["files"]["test-en-de.tsv"]["dropped"] == {"placeholder": 3}
    assert generalized["files"]["test-en-zh.tsv"]["dropped"] == {}  # row 7 lacks in zh: used for no pair
    assert generalized["common_rows"] == 59
    standard_table = (tmp_path / "results" / "tables" / "pawsx_mbert_standard.md").read_text()
    assert "PAPER-TINY" in standard_table and "paper" in standard_table.lower()
    assert "scored as in XTREME: de 3, ja 1" in standard_table
    assert (
        "Rows left out of each pair"
        in (tmp_path / "results" / "tables" / "pawsx_xlmr-large_generalized.md").read_text()
    )
    published = pd.read_csv(tmp_path / "results" / "tables" / "pawsx_xlmr-large_standard.csv")
    assert set(published[published.row_type == "published"].row) >= {"XTREME: XLM-R large (published)"}


def local_pawsx_preset(tmp_path: Path, source: Path) -> Path:
    """The smoke preset with PAWS-X (en, de) read from a local directory."""
    config = yaml.safe_load(SMOKE.read_text())
    config["tasks"] = {
        "pawsx": {"source": f"local:{source}", "languages": ["en", "de"], "generalized": {"languages": ["en", "de"]}}
    }
    preset = tmp_path / "local.yaml"
    preset.write_text(yaml.safe_dump(config))
    return preset


@pytest.mark.slow("prepares a local task four times through Snakemake: about 30 s")
def test_an_edited_added_or_removed_local_source_file_reruns_preparation(tmp_path):
    from robustxlt.data.canonical import read_pairs
    from robustxlt.data.tasks import get_task

    source = tmp_path / "pawsx"
    source.mkdir()
    for split, lang in get_task("pawsx").required_files(["en", "de"]):
        (source / f"{split}-{lang}.tsv").write_text("A b c.\tC b a.\t1\nx y\ty x\t0\n")
    preset, target = local_pawsx_preset(tmp_path, source), "resources/data/pawsx/manifest.json"
    first = snakemake(target, "--cores", "1", "--configfile", str(preset), workdir=tmp_path / "w")
    assert first.returncode == 0, first.stderr[-3000:]
    canonical = tmp_path / "w" / "resources" / "data" / "pawsx" / "test-de.tsv"
    assert [p.label for p in read_pairs(canonical)] == [1, 0]
    assert "Nothing to be done" in snakemake(target, "-n", "--configfile", str(preset), workdir=tmp_path / "w").stdout

    # A label edited in place: preparation and everything downstream is planned again, and runs.
    (source / "test-de.tsv").write_text("A b c.\tC b a.\t0\nx y\ty x\t0\n")
    planned = snakemake(target, "-n", "--configfile", str(preset), workdir=tmp_path / "w")
    assert planned_jobs(planned.stdout) == {"prepare_data": 1}, planned.stdout
    again = snakemake(target, "--cores", "1", "--configfile", str(preset), workdir=tmp_path / "w")
    assert again.returncode == 0, again.stderr[-3000:]
    assert [p.label for p in read_pairs(canonical)] == [0, 0]
    downstream = snakemake("-n", "--configfile", str(preset), workdir=tmp_path / "w")
    assert "generalized_pairs" in planned_jobs(downstream.stdout)
    # A bad label found inside the job: the console shows the job's own error line, not only its log's path.
    (source / "test-de.tsv").write_text("A b c.\tC b a.\tmaybe\n")
    failed = snakemake(target, "--cores", "1", "--configfile", str(preset), workdir=tmp_path / "w")
    assert failed.returncode != 0
    assert (
        "robustxlt: prepare_data failed: DataError: " in failed.stderr
        and "line 1: unknown label 'maybe'" in failed.stderr
    )
    # A removed source file stops the run before any job, with one line naming it.
    (source / "test-de.tsv").unlink()
    removed = snakemake(target, "-n", "--configfile", str(preset), workdir=tmp_path / "w")
    assert removed.returncode != 0 and "robustxlt:" in removed.stderr and "lacks test-de.tsv" in removed.stderr
    assert "Traceback" not in removed.stderr


@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        (
            "setup: x\ntraining: {batch_size: 4}\ntraining: {learning_rate: 0.1}\n",
            "dup.yaml:3: key 'training' is given twice",
        ),
        ("setup: x\ntasks:\n  sameapp: {source: embedded\nmodels: {}\n", "config.yaml:4:7: not valid YAML"),
    ],
    ids=["duplicate-key", "yaml-syntax"],
)
def test_a_bad_configuration_file_is_refused_with_file_and_line(tmp_path, config_text, message):
    path = tmp_path / "dup.yaml"
    path.write_text(config_text)
    if "not valid YAML" in message:
        # Snakemake's own reader of --configfile fails before the workflow, naming neither file nor line; the
        # default config.yaml beside the Snakefile is read by ours first. A checkout whose config.yaml is broken:
        (tmp_path / "Snakefile").write_text((REPO / "Snakefile").read_text())
        (tmp_path / "workflow").symlink_to(REPO / "workflow")
        (tmp_path / "config.yaml").write_text(config_text)
        message = f"{tmp_path / 'config.yaml'}:4:7: not valid YAML"
        result = subprocess.run(
            [*SNAKEMAKE, "-n"], capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=tmp_path
        )
    else:
        result = snakemake("-n", "--configfile", str(path), workdir=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]


def test_a_hub_download_while_offline_is_refused_before_any_job(tmp_path):
    target = "resources/data/pawsx/manifest.json"
    result = snakemake(target, "--cores", "1", "--configfile", str(REPO / "presets/paper.yaml"), workdir=tmp_path)
    assert result.returncode != 0
    assert "robustxlt: " in result.stderr and "key tasks.pawsx.source: hub data cannot be downloaded" in result.stderr
    assert "rule prepare_data" not in result.stdout + result.stderr.split("robustxlt: ")[0].split("Job stats")[-1]
    assert not (tmp_path / "results" / "logs").exists() and not (tmp_path / ".snakemake" / "locks").exists()


def test_the_figures_target_needs_only_metrics_and_distances(tmp_path):
    """With metrics.csv, selection.csv, distances.csv and premise.csv alone (e.g. copied from a cluster), `figures`
    plans rendering only."""
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "metrics.csv").write_text("task,model,method,seed,lang1,lang2,accuracy,n\n")
    (tmp_path / "results" / "selection.csv").write_text("task,model,method,strength,dev_accuracy,chosen\n")
    (tmp_path / "results" / "distances.csv").write_text("lang,iso639_3,distance_type,distance,source,metric\n")
    (tmp_path / "results" / "premise.csv").write_text("task,model,method,strength,seed,lang,point,unit,token_q50\n")
    result = snakemake("-n", "figures", workdir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert planned_jobs(result.stdout) == {"render": 1, "figures": 1}


@pytest.mark.slow("a dry run over a copy of the shared smoke run: about 20 s, after the smoke run itself")
def test_a_finished_run_given_a_new_method_trains_only_the_new_rows(smoke_run, tmp_path):
    """A swept method added to a finished run's configuration is planned (its candidates and its choice), with the
    finished runs left alone; aggregate waits on the new choice."""
    workdir = tmp_path / "run"
    shutil.copytree(smoke_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("*.lock", "locks"))
    patch = tmp_path / "new-method.yaml"
    patch.write_text("methods:\n  freelb: {kind: freelb, epsilon: [0.01, 0.03], step_size: 0.03, steps: 1}\n")
    result = snakemake("-n", "--configfile", str(SMOKE), str(patch), workdir=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs.get("train") == 2 and jobs.get("select_strength") == 1 and jobs.get("aggregate") == 1, jobs
