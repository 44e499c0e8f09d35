import json
import time

import pytest
from robustxlt.canonical import read_manifest, read_pairs
from robustxlt.data import prepare_task_data
from robustxlt.models import ModelUnavailableError, describe_model, prepare_model


def test_hub_model_offline_fails_fast_and_says_how_to_get_it(tmp_path):
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as error:
        prepare_model("hub:google-bert/bert-base-multilingual-cased", "main", tmp_path / "mbert")
    assert time.perf_counter() - started < 5
    message = str(error.value)
    assert "HF_HUB_OFFLINE" in message and "local:" in message and "--revision main" in message
    assert not (tmp_path / "mbert").exists()


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
