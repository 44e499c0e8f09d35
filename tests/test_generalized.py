"""Generalized-setting pair files: row i pairs sentence 1 of l1 with sentence 2 of l2 under row i's label."""

import json

import pytest
from robustxlt.canonical import DataError, Pair, read_pairs, write_pairs
from robustxlt.generalized import language_pairs, write_generalized_pairs

LANGS = ["en", "de", "ja"]


def parallel_test_sets(directory, rows=12):
    for lang in LANGS:
        pairs = [Pair(f"{lang} first {i}", f"{lang} second {i}", i % 3) for i in range(rows)]
        write_pairs(directory / f"test-{lang}.tsv", pairs)
    return directory


def test_every_ordered_pair_aligned_by_row_with_its_label(tmp_path):
    manifest = write_generalized_pairs(parallel_test_sets(tmp_path), LANGS, tmp_path / "generalized.json")
    assert manifest["pairs"] == ["en-de", "en-ja", "de-en", "de-ja", "ja-en", "ja-de"]
    assert len(language_pairs(LANGS)) == 6
    for lang1, lang2 in language_pairs(LANGS):
        pairs = read_pairs(tmp_path / f"test-{lang1}-{lang2}.tsv")
        assert pairs == [Pair(f"{lang1} first {i}", f"{lang2} second {i}", i % 3) for i in range(12)]
    assert not (tmp_path / "test-en-en.tsv").exists()
    recorded = json.loads((tmp_path / "generalized.json").read_text())
    assert recorded["files"]["test-de-ja.tsv"]["rows"] == 12 and recorded["rows_used"] == list(range(12))


def test_a_sample_uses_the_same_rows_for_every_pair(tmp_path):
    manifest = write_generalized_pairs(parallel_test_sets(tmp_path), LANGS, tmp_path / "g.json", max_examples=5, seed=3)
    rows = manifest["rows_used"]
    assert len(rows) == 5 and rows == sorted(rows) and len(set(rows)) == 5
    for lang1, lang2 in language_pairs(LANGS):
        pairs = read_pairs(tmp_path / f"test-{lang1}-{lang2}.tsv")
        assert pairs == [Pair(f"{lang1} first {i}", f"{lang2} second {i}", i % 3) for i in rows]
    again = write_generalized_pairs(tmp_path, LANGS, tmp_path / "g2.json", max_examples=5, seed=3)
    assert again["rows_used"] == rows


def test_test_sets_that_are_not_parallel_are_refused_naming_the_file(tmp_path):
    parallel_test_sets(tmp_path)
    shuffled = read_pairs(tmp_path / "test-ja.tsv")
    write_pairs(tmp_path / "test-ja.tsv", shuffled[1:] + shuffled[:1])
    with pytest.raises(DataError, match=r"test-ja\.tsv, line 2: row 1 has label 1 but test-en\.tsv has 0"):
        write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json")
    write_pairs(tmp_path / "test-ja.tsv", shuffled[:-1])
    with pytest.raises(DataError, match="11 rows, but test-en.tsv has 12"):
        write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json")
    assert not (tmp_path / "g.json").exists() and not (tmp_path / "test-en-de.tsv").exists()


def test_no_languages_turns_the_setting_off(tmp_path):
    manifest = write_generalized_pairs(parallel_test_sets(tmp_path), [], tmp_path / "g.json")
    assert manifest["pairs"] == [] and not list(tmp_path.glob("test-*-*.tsv"))
