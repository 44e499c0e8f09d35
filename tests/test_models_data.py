import json
import time

import pytest
from robustxlt.data.canonical import read_manifest, read_pairs
from robustxlt.data.prepare import prepare_task_data
from robustxlt.models.loading import ModelUnavailableError, describe_model, prepare_model


def test_hub_model_offline_fails_fast_and_says_how_to_get_it(tmp_path):
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as error:
        prepare_model("hub:google-bert/bert-base-multilingual-cased", "main", tmp_path / "mbert", tmp_path / "cache")
    assert time.perf_counter() - started < 5
    message = str(error.value)
    assert "HF_HUB_OFFLINE is set and it is not in the cache" in message and "local:" in message
    assert "--revision main" in message and not (tmp_path / "mbert").exists()


def fill_hub_cache(cache, model_id, files_dir, revision="main", commit="0123456789abcdef0123456789abcdef01234567"):
    """A Hugging Face cache as the hub client leaves it: blobs named by hash, a snapshot of symlinks, a ref."""
    import hashlib
    import os

    repo = cache / f"models--{model_id.replace('/', '--')}"
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / revision).write_text(commit)
    for file in files_dir.iterdir():
        if file.name == "robustxlt_source.json":
            continue
        blob = repo / "blobs" / hashlib.sha256(file.read_bytes()).hexdigest()
        blob.write_bytes(file.read_bytes())
        os.symlink(os.path.relpath(blob, repo / "snapshots" / commit), repo / "snapshots" / commit / file.name)
    return cache


def test_a_hub_model_comes_from_a_filled_cache_offline(tiny_model_dir, tmp_path):
    from robustxlt.pipeline.preflight import check_hub_access, hub_model_cached

    cache = fill_hub_cache(tmp_path / "cache", "org/tiny-bert", tiny_model_dir)
    assert hub_model_cached("org/tiny-bert", "main", cache) and not hub_model_cached("org/tiny-bert", "v2", cache)
    config = {
        "cache_dir": str(cache),
        "tasks": {},
        "models": {"tiny": {"source": "hub:org/tiny-bert", "revision": "main"}},
    }
    check_hub_access(config, "c.yaml", {("model", "tiny")})  # cached: no refusal, though offline
    out = prepare_model("hub:org/tiny-bert", "main", tmp_path / "tiny", cache)
    files = sorted(p.name for p in out.iterdir())
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(files)
    assert not any((out / f).is_symlink() for f in files)  # real files (links into blobs), not cache symlinks
    assert (out / "model.safetensors").read_bytes() == (tiny_model_dir / "model.safetensors").read_bytes()
    assert describe_model(out) == "hub:org/tiny-bert@main"
    # A revision the cache does not hold: refused with the way out.
    with pytest.raises(ModelUnavailableError, match="not in the cache"):
        prepare_model("hub:org/tiny-bert", "v2", tmp_path / "v2", cache)


def test_local_model_is_copied_with_its_provenance(tiny_model_dir, tmp_path):
    out = prepare_model(f"local:{tiny_model_dir}", None, tmp_path / "tiny")
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert describe_model(out) == f"local:{tiny_model_dir}"


def test_local_directory_that_is_not_a_model_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match="config.json"):
        prepare_model(f"local:{tmp_path / 'empty'}", None, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_local_task_data_gets_canonical_files_and_a_described_manifest(tiny_task_dir, tmp_path):
    source = tmp_path / "xtreme"
    source.mkdir()
    # XTREME-style files without a header; every test language gets the fixture's English test set.
    names = {0: "not_paraphrase", 1: "paraphrase"}
    for split, lang in [("train", "en"), ("dev", "en")] + [
        ("test", lang) for lang in ("en", "de", "es", "fr", "ja", "ko", "zh")
    ]:
        rows = read_pairs(tiny_task_dir / f"{split}-en.tsv")
        (source / f"{split}-{lang}.tsv").write_text(
            "".join(f"{p.sentence1}\t{p.sentence2}\t{names[p.label]}\n" for p in rows)
        )
    manifest = prepare_task_data("pawsx", f"local:{source}", tmp_path / "data", tmp_path / "cache")
    assert manifest["description"] == f"pawsx from local files ({source})"
    assert read_manifest(tmp_path / "data" / "manifest.json")["description"] == manifest["description"]
    # the same rows, now with their row ids (positions in the source file)
    expected = [p[:3] for p in read_pairs(tiny_task_dir / "test-en.tsv")]
    assert [p[:3] for p in read_pairs(tmp_path / "data" / "test-ja.tsv")] == expected
    assert [p.id for p in read_pairs(tmp_path / "data" / "test-ja.tsv")][:3] == ["0", "1", "2"]


def test_local_task_data_for_a_language_subset(tiny_task_dir, tmp_path):
    source = tmp_path / "xtreme"
    source.mkdir()
    for split, lang in (("train", "en"), ("dev", "en"), ("test", "en"), ("test", "de")):
        (source / f"{split}-{lang}.tsv").write_text((tiny_task_dir / "test-en.tsv").read_text())
    prepare_task_data("pawsx", f"local:{source}", tmp_path / "data", tmp_path / "cache", languages=["en", "de"])
    written = sorted(p.name for p in (tmp_path / "data").glob("*.tsv"))
    assert written == ["dev-en.tsv", "test-de.tsv", "test-en.tsv", "train-en.tsv"]
    assert json.loads((tmp_path / "data" / "manifest.json").read_text())["source"] == "local"


def test_the_tiny_source_generates_the_configured_sizes(tmp_path):
    """The scale rehearsal's data: the tiny source at chosen sizes, each language's test set of n_test rows but
    for the real files' quirks (a missing row in zh), the generator and sizes named in the manifest."""
    manifest = prepare_task_data(
        "pawsx", "tiny", tmp_path / "pawsx", tmp_path / "cache", options={"n_train": 500, "n_dev": 40, "n_test": 70}
    )
    files = manifest["files"]
    assert (files["train-en.tsv"]["rows"], files["dev-en.tsv"]["rows"], files["test-de.tsv"]["rows"]) == (500, 40, 70)
    assert files["test-zh.tsv"]["rows"] == 69
    assert "'train': 500" in manifest["source_dir"]
    assert len(read_pairs(tmp_path / "pawsx" / "train-en.tsv")) == 500
