"""The hub code path, offline, from caches filled the way the hub clients fill them: `datasets.load_dataset` on
the pinned dataset revision and `snapshot_download` of a model, with the real column names and ClassLabel
features — through the same code a user with a network runs, and through the rules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from robustxlt.data.canonical import DataError, read_manifest, read_pairs
from robustxlt.data.prepare import prepare_task_data
from robustxlt.data.tasks import get_task

PAWSX = get_task("pawsx")


def fill_datasets_cache(cache: Path, task, rows: dict, revision: str | None = None, columns=None, names=None) -> Path:
    """`datasets`' own cache of the pinned revision, as a load with network leaves it
    (`<namespace>___<name>/<config>/0.0.0/<revision>/{dataset_info.json, <name>-<split>.arrow}`): built here
    with the parquet builder from `rows` {(lang, hub split): [(id, sentence1, sentence2, label)]}."""
    import datasets

    first, second, label = columns or task.hub_columns
    features = datasets.Features(
        {
            "id": datasets.Value("int32"),
            first: datasets.Value("string"),
            second: datasets.Value("string"),
            label: datasets.ClassLabel(names=list(names or task.hub_label_names)),
        }
    )
    namespace, name = task.hub_id.split("/")
    scratch = cache.parent / "parquet-scratch"
    for lang in sorted({lang for lang, _ in rows}):
        files = {}
        for (row_lang, split), table in rows.items():
            if row_lang == lang:
                data = dict(zip(["id", first, second, label], map(list, zip(*table))))
                path = scratch / lang / f"{split}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                datasets.Dataset.from_dict(data, features=features).to_parquet(path)
                files[split] = str(path)
        builder = datasets.load_dataset_builder("parquet", data_files=files, cache_dir=str(scratch / "cache"))
        builder.download_and_prepare()
        built = Path(builder.cache_dir)
        target = (
            cache / f"{namespace}___{name.lower()}" / task.hub_config(lang) / "0.0.0" / (revision or task.hub_revision)
        )
        target.mkdir(parents=True)
        info = json.loads((built / "dataset_info.json").read_text())
        info.update(dataset_name=name.lower(), config_name=task.hub_config(lang))
        (target / "dataset_info.json").write_text(json.dumps(info))
        for arrow in built.glob("parquet-*.arrow"):
            shutil.copy(arrow, target / arrow.name.replace("parquet-", f"{name.lower()}-"))
    shutil.rmtree(scratch)
    return cache


def pawsx_rows() -> dict:
    """en train/validation/test and de test; de's row 3 is unlabeled on the hub (-1) and row 4 untranslated."""
    table = [(i, f"s{i} a", f"s{i} b", i % 2) for i in range(1, 9)]
    german = [(i, f"de{i} a", f"de{i} b", lab) for i, _, _, lab in table]
    german[2] = (3, "de3 a", "de3 b", -1)
    german[3] = (4, "NS", "NS", 1)
    return {("en", "train"): table, ("en", "validation"): table[:4], ("en", "test"): table, ("de", "test"): german}


def test_hub_data_comes_from_a_filled_datasets_cache_offline(tmp_path):
    from robustxlt.pipeline.preflight import check_hub_access

    cache = fill_datasets_cache(tmp_path / "cache", PAWSX, pawsx_rows())
    config = {"cache_dir": str(cache), "tasks": {"pawsx": {"source": "hub", "languages": ["en", "de"]}}, "models": {}}
    check_hub_access(config, "c.yaml", {("data", "pawsx")})  # cached at the pinned revision: no refusal offline
    manifest = prepare_task_data("pawsx", "hub", tmp_path / "data", cache, languages=["en", "de"])
    assert manifest["revision"] == PAWSX.hub_revision and manifest["source"] == "hub"
    german = read_pairs(tmp_path / "data" / "test-de.tsv")
    assert [p.id for p in german] == ["1", "2", "4", "5", "6", "7", "8"]  # the unlabeled row 3 dropped, ids kept
    assert german[2].sentence1 == "NS" and manifest["files"]["test-de.tsv"]["placeholder_rows"] == 1
    assert manifest["files"]["test-de.tsv"]["dropped"] == {"no_label": 1}
    assert len(read_pairs(tmp_path / "data" / "dev-en.tsv")) == 4


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        (dict(columns=("text1", "sentence2", "label")), "hub data lacks column(s) sentence1"),
        (dict(names=("1", "0")), "hub label names are ['1', '0'], expected ['0', '1']"),
        (dict(revision="0" * 40), "HF_HUB_OFFLINE is set and the pinned revision is not in the datasets cache"),
    ],
    ids=["wrong-columns", "reordered-labels", "other-revision"],
)
def test_a_drifted_or_missing_hub_revision_gives_the_promised_error(tmp_path, fill, message):
    cache = fill_datasets_cache(tmp_path / "cache", PAWSX, pawsx_rows(), **fill)
    with pytest.raises(DataError, match=__import__("re").escape(message)):
        prepare_task_data("pawsx", "hub", tmp_path / "data", cache, languages=["en", "de"])
    assert not (tmp_path / "data" / "manifest.json").exists()


def test_the_rules_prepare_hub_data_and_a_hub_model_from_filled_caches_offline(tmp_path, tiny_model_dir):
    from test_models_data import fill_hub_cache

    cache = fill_datasets_cache(tmp_path / "cache", PAWSX, pawsx_rows())
    fill_hub_cache(cache, "org/tiny-bert", tiny_model_dir)
    config = yaml.safe_load((REPO / "presets/paper.yaml").read_text())
    config["tasks"] = {"pawsx": {"source": "hub", "languages": ["en", "de"]}}
    config["models"] = {"mbert": {"source": "hub:org/tiny-bert", "revision": "main"}}
    config["cache_dir"] = str(cache)
    preset = tmp_path / "hub.yaml"
    preset.write_text(yaml.safe_dump(config))
    targets = ["resources/data/pawsx/manifest.json", "resources/models/mbert"]
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path / "w"),
         "--configfile", str(preset), "--cores", "1", *targets],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_manifest(tmp_path / "w" / targets[0])["revision"] == PAWSX.hub_revision
    assert (tmp_path / "w" / targets[1] / "model.safetensors").is_file()
