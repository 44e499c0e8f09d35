"""Task registry, canonical format and the hub/local data sources, all offline."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # the hub must never be contacted from the tests

import re
import sys
import types
from collections import Counter
from pathlib import Path

import datasets
import pytest
from robustxlt.data import tasks
from robustxlt.data.canonical import (
    DataError,
    Pair,
    read_manifest,
    read_pairs,
    sha256_file,
    write_manifest,
    write_pairs,
)
from robustxlt.data.sources import convert_hub_split, prepare_from_hub, prepare_from_local
from robustxlt.data.tasks import PAWSX, XNLI, get_task, task_from_spec

SHA = re.compile(r"[0-9a-f]{40}")


# ---------------------------------------------------------------- registry


def test_registry_has_pawsx_and_xnli_as_in_the_paper():
    pawsx, xnli = get_task("pawsx"), get_task("xnli")
    assert pawsx.languages == ("en", "de", "es", "fr", "ja", "ko", "zh")
    assert len(pawsx.labels) == 2 and pawsx.labels[1] == "paraphrase"
    assert pawsx.eval_every == 500
    assert xnli.languages == ("en", "ar", "bg", "de", "el", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
    assert xnli.labels == ("entailment", "neutral", "contradiction")
    assert xnli.eval_every == 1000
    assert pawsx.hub_columns == ("sentence1", "sentence2", "label")
    assert xnli.hub_columns == ("premise", "hypothesis", "label")
    for task in (pawsx, xnli):
        assert SHA.fullmatch(task.hub_revision)
        assert task.hub_split("dev") == "validation"
        assert all(task.hub_config(lang) == lang for lang in task.languages)


def test_registry_includes_the_embedded_task_from_its_spec():
    from robustxlt.data.embedded_benchmark import SPEC

    embedded = get_task(SPEC["name"])
    assert embedded.hub_id is None and embedded.languages[0] == "en"
    assert embedded.labels == tuple(SPEC["labels"])


def test_task_from_spec_with_a_stand_in_module(monkeypatch):
    stand_in = types.ModuleType("robustxlt.data.embedded_benchmark")
    stand_in.SPEC = {"name": "proxy", "languages": ["en", "de"], "labels": ["no", "yes"], "description": "stand-in"}
    monkeypatch.setitem(sys.modules, "robustxlt.data.embedded_benchmark", stand_in)
    monkeypatch.setattr(tasks, "_REGISTRY", None)
    proxy = get_task("proxy")
    assert (proxy.languages, proxy.labels, proxy.hub_id, proxy.eval_every) == (("en", "de"), ("no", "yes"), None, 500)
    assert sorted(tasks.registered_tasks()) == ["pawsx", "proxy", "xnli"]
    with pytest.raises(ValueError, match="en"):
        task_from_spec({**stand_in.SPEC, "languages": ["de", "en"]})


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(KeyError) as info:
        get_task("mnli")
    assert "mnli" in info.value.args[0] and "pawsx" in info.value.args[0] and "xnli" in info.value.args[0]


def test_label_spellings():
    assert [PAWSX.label_id(v) for v in ("0", "1", "Paraphrase", "NOT_PARAPHRASE", "2", "yes")] == [
        0,
        1,
        1,
        0,
        None,
        None,
    ]
    assert [XNLI.label_id(v) for v in ("entailment", "Neutral", "CONTRADICTION", "contradictory", "2", " 1 ")] == [
        0,
        1,
        2,
        2,
        2,
        1,
    ]


# ---------------------------------------------------------------- canonical format


def test_canonical_round_trip_cleans_tabs_and_newlines(tmp_path):
    pairs = [
        Pair('He said "hi"', "it's 'quoted'", 1),
        Pair("tab\there", "new\nline\r\u2028x", 0),
        Pair("", "ü 日本", 2),
    ]
    path = tmp_path / "train-en.tsv"
    assert write_pairs(path, pairs) == 3
    assert path.read_text(encoding="utf-8").splitlines()[0] == "sentence1\tsentence2\tlabel"
    assert read_pairs(path) == [pairs[0], Pair("tab here", "new line  x", 0), pairs[2]]


def test_row_ids_round_trip_and_plain_tuples_are_written_too(tmp_path):
    from robustxlt.data.canonical import write_split_files

    with_ids = [Pair("a", "b", 1, "p-1"), Pair("NS", "NS", 0, "p-2")]
    write_pairs(tmp_path / "ids.tsv", with_ids)
    assert (tmp_path / "ids.tsv").read_text().splitlines()[0] == "sentence1\tsentence2\tlabel\tid"
    assert read_pairs(tmp_path / "ids.tsv") == with_ids
    with pytest.raises(DataError, match="pair 2 lacks an id unlike pair 1"):
        write_pairs(tmp_path / "mixed.tsv", [Pair("a", "b", 1, "x"), Pair("c", "d", 0)])
    # Sources that build plain (sentence1, sentence2, label) tuples, like the embedded benchmark.
    files = write_split_files(tmp_path / "out", {("test", "de"): [("a", "b", 1), ("NS", "c", 0)]})
    assert files["test-de.tsv"]["rows"] == 2 and files["test-de.tsv"]["placeholder_rows"] == 1
    assert read_pairs(tmp_path / "out" / "test-de.tsv") == [Pair("a", "b", 1), Pair("NS", "c", 0)]


def test_atomic_writes_leave_no_temporary_files(tmp_path):
    write_pairs(tmp_path / "a.tsv", [Pair("a", "b", 0)])
    write_manifest(tmp_path / "manifest.json", {"x": 1})

    def failing():
        yield Pair("a", "b", 0)
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_pairs(tmp_path / "b.tsv", failing())
    with pytest.raises(DataError, match="b.tsv"):
        write_pairs(tmp_path / "b.tsv", [Pair("a", "b", "entailment")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tsv", "manifest.json"]
    assert read_manifest(tmp_path / "manifest.json") == {"x": 1}


def test_read_pairs_names_file_and_line(tmp_path):
    path = tmp_path / "dev-en.tsv"
    path.write_text("sentence1\tsentence2\tlabel\na\tb\t1\nc\td\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"dev-en\.tsv, line 3"):
        read_pairs(path)


# ---------------------------------------------------------------- hub conversion (no network)


def test_convert_pawsx_hub_split_drops_unlabeled_and_empty_rows():
    ds = datasets.Dataset.from_dict(
        {
            "id": [1, 2, 3, 4],
            "sentence1": ["A cat sat.", "Tab\tinside", "", "x"],
            "sentence2": ["The cat sat.", "other", "y", "z"],
            "label": [1, 0, 1, -1],
        },
        features=datasets.Features(
            {
                "id": datasets.Value("int32"),
                "sentence1": datasets.Value("string"),
                "sentence2": datasets.Value("string"),
                "label": datasets.ClassLabel(names=["0", "1"]),
            }
        ),
    )
    dropped = Counter()
    pairs = convert_hub_split(ds, PAWSX, "de", dropped)
    # Each pair keeps the hub's id: the generalized setting matches languages by it, so dropped rows shift nothing.
    assert pairs == [Pair("A cat sat.", "The cat sat.", 1, "1"), Pair("Tab\tinside", "other", 0, "2")]
    assert dropped == {"missing_text": 1, "no_label": 1}


def test_convert_xnli_hub_split_uses_premise_and_hypothesis():
    ds = datasets.Dataset.from_dict(
        {"premise": ["p1", "p2", "p3", None], "hypothesis": ["h1", "h2", "h3", "h4"], "label": [0, -1, 2, 1]},
        features=datasets.Features(
            {
                "premise": datasets.Value("string"),
                "hypothesis": datasets.Value("string"),
                "label": datasets.ClassLabel(names=["entailment", "neutral", "contradiction"]),
            }
        ),
    )
    dropped = Counter()
    # No id column: a pair's id is its position in the split, kept past the dropped row 1.
    assert convert_hub_split(ds, XNLI, "sw", dropped) == [Pair("p1", "h1", 0, "0"), Pair("p3", "h3", 2, "2")]
    assert dropped == {"no_label": 1, "missing_text": 1}


def test_convert_hub_split_rejects_drifted_revisions():
    reordered = datasets.Dataset.from_dict(
        {"premise": ["p"], "hypothesis": ["h"], "label": [0]},
        features=datasets.Features(
            {
                "premise": datasets.Value("string"),
                "hypothesis": datasets.Value("string"),
                "label": datasets.ClassLabel(names=["contradiction", "entailment", "neutral"]),
            }
        ),
    )
    with pytest.raises(DataError, match="label names"):
        convert_hub_split(reordered, XNLI, "en")
    with pytest.raises(DataError, match="premise"):
        convert_hub_split(
            datasets.Dataset.from_dict({"sentence1": ["a"], "sentence2": ["b"], "label": [0]}), XNLI, "en"
        )


def test_prepare_from_hub_offline_fails_fast_with_the_way_out(tmp_path):
    with pytest.raises(DataError) as info:
        prepare_from_hub(PAWSX, tmp_path / "out", tmp_path / "cache")
    message = str(info.value)
    assert "google-research-datasets/paws-x" in message and "local:" in message and "embedded" in message
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- local source

ROWS = [('He said "yes".', "Er sagte 'ja'.", 1), ("A b c.", "C b a.", 0), ("x", "y", 1)]


def write_local(directory: Path, task, *, header: bool, names: bool, rows=ROWS, languages=None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for split, lang in task.required_files(languages):
        lines = ["sentence1\tsentence2\tlabel"] if header else []
        lines += [f"{s1}\t{s2}\t{task.labels[y] if names else y}" for s1, s2, y in rows]
        (directory / f"{split}-{lang}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


@pytest.mark.parametrize("task", [PAWSX, XNLI], ids=lambda t: t.name)
def test_local_variants_give_identical_canonical_files(tmp_path, task):
    outputs = []
    for header in (True, False):
        for names in (True, False):
            variant = f"h{int(header)}n{int(names)}"
            src = write_local(tmp_path / "src" / variant, task, header=header, names=names)
            out = tmp_path / "out" / variant
            manifest = prepare_from_local(task, src, out)
            outputs.append({p.name: p.read_bytes() for p in out.glob("*.tsv")})
            assert manifest["labels"] == list(task.labels) and manifest["source"] == "local"
    assert all(o == outputs[0] for o in outputs)
    assert sorted(outputs[0]) == sorted(f"{s}-{l}.tsv" for s, l in task.required_files())
    assert read_pairs(tmp_path / "out" / "h0n0" / "train-en.tsv") == [Pair(*row, str(i)) for i, row in enumerate(ROWS)]


def test_local_header_with_extra_columns_and_crlf(tmp_path):
    src = write_local(tmp_path / "src", PAWSX, header=True, names=False, languages=["en"])
    (src / "test-en.tsv").write_bytes(b'id\tsentence1\tsentence2\tlabel\r\n7\ta "q\tb\t1\r\n')
    prepare_from_local(PAWSX, src, tmp_path / "out", languages=["en"])
    assert read_pairs(tmp_path / "out" / "test-en.tsv") == [Pair('a "q', "b", 1, "7")]  # the file's own id


def test_manifest_hashes_match_files(tmp_path):
    src = write_local(tmp_path / "src", XNLI, header=False, names=True, languages=["en", "sw"])
    manifest = prepare_from_local(XNLI, src, tmp_path / "out", languages=["sw"])
    assert read_manifest(tmp_path / "out" / "manifest.json") == manifest
    assert sorted(manifest["files"]) == ["dev-en.tsv", "test-en.tsv", "test-sw.tsv", "train-en.tsv"]
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_file(tmp_path / "out" / name)
        assert entry["rows"] == len(read_pairs(tmp_path / "out" / name)) == len(ROWS)


@pytest.mark.parametrize(
    "content, line, words",
    [
        ("a\tb\t1\nc\td\t0\textra\n", 2, "columns"),
        ("a\tb\t1\nc\td\tmaybe\n", 2, "maybe"),
        ("", 1, "empty"),
        ("a\tb\nc\td\n", 1, "unlabeled"),
        ("sentence1\tsentence2\na\tb\n", 1, "label"),
        ("a\tb\t1\rc\td\t0\r" * 200, 1, "CR only"),
        ("a\tb\t1\nc\x00d\te\t0\n", 2, "NUL byte at column 2"),
        ("a\tb\t1\n \td\t0\nx\ty\t1\n", 2, "sentence 1 is blank"),
        ("a\tb\t1\nc\td\t" + "z" * 4000 + "\n", 2, "unknown label 'zzz"),
    ],
    ids=[
        "extra-column",
        "bad-label",
        "empty-file",
        "unlabeled-test",
        "unlabeled-header",
        "cr-only",
        "nul-byte",
        "blank-test-sentence",
        "long-field",
    ],
)
def test_malformed_local_input_names_file_and_line(tmp_path, content, line, words):
    src = write_local(tmp_path / "src", PAWSX, header=False, names=False)
    (src / "test-ja.tsv").write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(DataError) as info:
        prepare_from_local(PAWSX, src, out)
    message = str(info.value)
    assert "test-ja.tsv" in message and f"line {line}" in message and words in message
    assert "\n" not in message and len(message) < 400  # one readable line, never the file's content
    assert not out.exists()  # nothing is written before everything is validated


def test_missing_column_names_file_and_line(tmp_path):
    src = write_local(tmp_path / "src", XNLI, header=True, names=True, languages=["en"])
    (src / "dev-en.tsv").write_text("sentence1\tsentence2\tlabel\np\th\tneutral\np2\tcontradiction\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"dev-en\.tsv, line 3: expected 3 tab-separated columns, found 2"):
        prepare_from_local(XNLI, src, tmp_path / "out", languages=["en"])


def test_bad_label_lists_the_allowed_ones(tmp_path):
    src = write_local(tmp_path / "src", XNLI, header=False, names=True, languages=["en"])
    (src / "train-en.tsv").write_text("p\th\tentails\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        prepare_from_local(XNLI, src, tmp_path / "out", languages=["en"])
    assert "train-en.tsv, line 1" in str(info.value) and "'entails'" in str(info.value)
    assert "entailment" in str(info.value) and "contradiction" in str(info.value)


def test_missing_file_is_named(tmp_path):
    src = write_local(tmp_path / "src", PAWSX, header=False, names=False)
    (src / "dev-en.tsv").rename(src / "validation-en.tsv")
    with pytest.raises(DataError) as info:
        prepare_from_local(PAWSX, src, tmp_path / "out")
    assert str(src / "dev-en.tsv") in str(info.value) and "rename" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_canonical_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    from robustxlt.data.canonical import Pair, write_pairs

    write_pairs(tmp_path / "train-en.tsv", [Pair("a", "b", 0)])
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "train-en.tsv").stat().st_mode) == 0o666 & ~umask
