"""Generalized-setting pair files: a row pairs sentence 1 of l1 with sentence 2 of l2 under the row's label, rows
matched by id (else position); the real data's quirks (placeholders, differing labels, a missing row) dropped
and counted, gross misalignment refused; test sets declared to hold subsets of the rows (the embedded benchmark's)
use the rows every language has."""

import json

import pytest
from robustxlt.data.canonical import DataError, Pair, read_pairs, write_manifest, write_pairs
from robustxlt.data.generalized import language_pairs, write_generalized_pairs

LANGS = ["en", "de", "ja"]


def parallel_test_sets(directory, rows=12):
    for lang in LANGS:
        pairs = [Pair(f"{lang} first {i}", f"{lang} second {i}", i % 3) for i in range(rows)]
        write_pairs(directory / f"test-{lang}.tsv", pairs)
    return directory


def test_every_ordered_pair_aligned_by_row_with_its_label(tmp_path):
    manifest = write_generalized_pairs(parallel_test_sets(tmp_path), LANGS, tmp_path / "generalized.json")
    assert manifest["pairs"] == ["en-de", "en-ja", "de-en", "de-ja", "ja-en", "ja-de"]
    assert len(language_pairs(LANGS)) == 6 and manifest["matched_by"] == "position"
    for lang1, lang2 in language_pairs(LANGS):
        pairs = read_pairs(tmp_path / f"test-{lang1}-{lang2}.tsv")
        assert pairs == [Pair(f"{lang1} first {i}", f"{lang2} second {i}", i % 3, str(i)) for i in range(12)]
    assert not (tmp_path / "test-en-en.tsv").exists()
    recorded = json.loads((tmp_path / "generalized.json").read_text())
    assert recorded["files"]["test-de-ja.tsv"]["rows"] == 12 and recorded["files"]["test-de-ja.tsv"]["dropped"] == {}
    assert recorded["rows_used"] == [str(i) for i in range(12)]


def test_a_sample_uses_the_same_rows_for_every_pair(tmp_path):
    manifest = write_generalized_pairs(parallel_test_sets(tmp_path), LANGS, tmp_path / "g.json", max_examples=5, seed=3)
    rows = [int(i) for i in manifest["rows_used"]]
    assert len(rows) == 5 and rows == sorted(rows) and len(set(rows)) == 5
    for lang1, lang2 in language_pairs(LANGS):
        pairs = read_pairs(tmp_path / f"test-{lang1}-{lang2}.tsv")
        assert pairs == [Pair(f"{lang1} first {i}", f"{lang2} second {i}", i % 3, str(i)) for i in rows]
    again = write_generalized_pairs(tmp_path, LANGS, tmp_path / "g2.json", max_examples=5, seed=3)
    assert again["rows_used"] == manifest["rows_used"]


def test_test_sets_that_are_not_parallel_are_refused_naming_the_file(tmp_path):
    parallel_test_sets(tmp_path)
    shuffled = read_pairs(tmp_path / "test-ja.tsv")
    write_pairs(tmp_path / "test-ja.tsv", shuffled[1:] + shuffled[:1])
    with pytest.raises(DataError, match=r"test-ja\.tsv: 0 rows missing and 12 with another label than test-en\.tsv"):
        write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json")
    write_pairs(tmp_path / "test-ja.tsv", shuffled[:-1])
    with pytest.raises(DataError, match="11 rows, but test-en.tsv has 12, and the files have no row ids"):
        write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json")
    assert not (tmp_path / "g.json").exists() and not (tmp_path / "test-en-de.tsv").exists()


def paws_x_like(directory, rows=100):
    """Test sets with the public PAWS-X files' quirks, matched by the hub's id: German has 5 untranslated
    placeholder rows (`NS`), 2 of them with a label that differs from English's; Japanese lacks row 7 (unlabeled
    on the hub, dropped at conversion), and its row 50 has a label that differs from English's."""
    for lang in LANGS:
        pairs = []
        for i in range(rows):
            label, first, second = i % 2, f"{lang} first {i}", f"{lang} second {i}"
            if lang == "de" and i in (3, 11, 19, 27, 35):
                first = second = "NS"
                label = 1 - label if i in (3, 11) else label
            if lang == "ja" and i == 50:
                label = 1 - label
            if lang == "ja" and i == 7:
                continue
            pairs.append(Pair(first, second, label, str(1000 + i)))
        write_pairs(directory / f"test-{lang}.tsv", pairs)
    return directory


def test_the_real_data_s_quirks_are_dropped_and_counted_per_pair(tmp_path):
    manifest = write_generalized_pairs(paws_x_like(tmp_path), LANGS, tmp_path / "g.json")
    assert manifest["matched_by"] == "id" and manifest["test_rows"] == {"en": 100, "de": 100, "ja": 99}
    assert manifest["common_rows"] == 99  # row 1007 lacks in ja: used for no pair
    files = manifest["files"]
    assert (files["test-en-de.tsv"]["rows"], files["test-en-de.tsv"]["dropped"]) == (94, {"placeholder": 5})
    assert (files["test-de-en.tsv"]["rows"], files["test-de-en.tsv"]["dropped"]) == (94, {"placeholder": 5})
    assert (files["test-en-ja.tsv"]["rows"], files["test-en-ja.tsv"]["dropped"]) == (98, {"label_mismatch": 1})
    assert files["test-de-ja.tsv"]["dropped"] == {"placeholder": 5, "label_mismatch": 1}
    assert not any("NS" in (p.sentence1, p.sentence2) for p in read_pairs(tmp_path / "test-en-de.tsv"))
    # Every kept row pairs the same row of both languages under the label both give it.
    for p in read_pairs(tmp_path / "test-ja-de.tsv"):
        i = int(p.id) - 1000
        assert (p.sentence1, p.sentence2, p.label) == (f"ja first {i}", f"de second {i}", i % 2)


def test_misalignment_above_the_share_is_refused_and_the_share_is_configurable(tmp_path):
    paws_x_like(tmp_path)
    pairs = read_pairs(tmp_path / "test-ja.tsv")
    write_pairs(tmp_path / "test-ja.tsv", [p._replace(label=1 - p.label) if int(p.id) < 1010 else p for p in pairs])
    with pytest.raises(
        DataError, match=r"test-ja\.tsv: 1 rows missing and 10 with another label .*max_disagreement 5%"
    ):
        write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json")
    manifest = write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json", max_disagreement=0.2)
    assert (
        manifest["files"]["test-en-ja.tsv"]["dropped"] == {"label_mismatch": 10} and manifest["max_disagreement"] == 0.2
    )


def test_no_languages_turns_the_setting_off(tmp_path):
    manifest = write_generalized_pairs(parallel_test_sets(tmp_path), [], tmp_path / "g.json")
    assert manifest["pairs"] == [] and not list(tmp_path.glob("test-*-*.tsv"))


def subset_test_sets(directory, declared=True):
    """Test sets whose languages hold different subsets of the English rows, matched by id (as the embedded
    benchmark writes them): German lacks rows 8-9, Japanese rows 0-1."""
    rows = {"en": range(10), "de": range(8), "ja": range(2, 10)}
    for lang, ids in rows.items():
        write_pairs(
            directory / f"test-{lang}.tsv",
            [Pair(f"{lang} first {i}", f"{lang} second {i}", i % 2, f"{i:05d}") for i in ids],
        )
    if declared:
        write_manifest(directory / "manifest.json", {"test_rows_are_subsets": True})
    return directory


def test_declared_subsets_use_the_rows_every_language_has(tmp_path):
    manifest = write_generalized_pairs(subset_test_sets(tmp_path), LANGS, tmp_path / "g.json")
    assert manifest["matched_by"] == "id" and manifest["test_rows_are_subsets"] is True
    assert manifest["test_rows"] == {"en": 10, "de": 8, "ja": 8} and manifest["common_rows"] == 6
    for lang1, lang2 in language_pairs(LANGS):
        pairs = read_pairs(tmp_path / f"test-{lang1}-{lang2}.tsv")
        assert pairs == [Pair(f"{lang1} first {i}", f"{lang2} second {i}", i % 2, f"{i:05d}") for i in range(2, 8)]
        assert manifest["files"][f"test-{lang1}-{lang2}.tsv"]["dropped"] == {}
    sampled = write_generalized_pairs(tmp_path, LANGS, tmp_path / "g2.json", max_examples=3, seed=1)
    assert len(sampled["rows_used"]) == 3 and set(sampled["rows_used"]) <= {f"{i:05d}" for i in range(2, 8)}


def test_undeclared_subsets_and_label_disagreements_are_refused(tmp_path):
    subset_test_sets(tmp_path, declared=False)
    with pytest.raises(DataError, match=r"test-de\.tsv: 2 rows missing and 0 with another label"):
        write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json")
    subset_test_sets(tmp_path)
    pairs = read_pairs(tmp_path / "test-ja.tsv")
    write_pairs(tmp_path / "test-ja.tsv", [p._replace(label=1 - p.label) if p.id == "00005" else p for p in pairs])
    with pytest.raises(DataError, match=r"test-ja\.tsv: 0 rows missing and 1 with another label .* the rows they"):
        write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json")
    write_pairs(tmp_path / "test-ja.tsv", [p._replace(id=None) for p in pairs])
    with pytest.raises(DataError, match="8 rows, but test-en.tsv has 10"):
        write_generalized_pairs(tmp_path, LANGS, tmp_path / "g.json")
