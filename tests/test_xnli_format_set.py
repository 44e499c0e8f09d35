"""benchmarks/xnli_format_set.py: the local XNLI-format set it writes reads as the xnli task, with balanced classes
and test rows parallel across languages."""

import sys
from collections import Counter
from pathlib import Path

from conftest import load_benchmark
from robustxlt.data.sources import read_local_tsv
from robustxlt.data.tasks import XNLI


def write_benchmark(directory: Path, languages: list[str]) -> None:
    """An embedded-benchmark-shaped directory: train/dev pairs, and test rows with ids in every language
    (one id missing from the last language, so only common ids may be used)."""
    directory.mkdir()

    def pairs(prefix: str, n: int) -> str:
        rows = [f"{prefix} label {i}\t{prefix} help {i if i % 2 else i + 1}\t{i % 2}" for i in range(n)]
        return "sentence1\tsentence2\tlabel\n" + "\n".join(rows) + "\n"

    (directory / "train-en.tsv").write_text(pairs("train", 60))
    (directory / "dev-en.tsv").write_text(pairs("dev", 30))
    for lang in languages:
        ids = range(40) if lang != languages[-1] else range(1, 40)
        rows = [f"{lang} label {i}\t{lang} help {i}\t{i % 2}\t{i:05d}" for i in ids]
        (directory / f"test-{lang}.tsv").write_text("sentence1\tsentence2\tlabel\tid\n" + "\n".join(rows) + "\n")


def test_the_set_reads_as_xnli_balanced_and_parallel(tmp_path, monkeypatch):
    languages = ["en", "de", "zh"]
    write_benchmark(tmp_path / "embedded", languages)
    out = tmp_path / "xnli"
    argv = ["xnli_format_set.py", str(tmp_path / "embedded"), str(out), "--languages", *languages]
    monkeypatch.setattr(sys, "argv", argv + ["--n-train", "30", "--n-dev", "12", "--n-test", "21"])
    load_benchmark("xnli_format_set").main()

    train = read_local_tsv(out / "train-en.tsv", XNLI)
    assert len(train) == 30
    assert Counter(p.label for p in train) == {0: 10, 1: 10, 2: 10}
    assert len(read_local_tsv(out / "dev-en.tsv", XNLI)) == 12
    tests = {lang: read_local_tsv(out / f"test-{lang}.tsv", XNLI) for lang in languages}
    assert all(len(rows) == 21 for rows in tests.values())
    for lang in ("de", "zh"):  # row i of every language is the same benchmark row, with the same class
        assert [p.label for p in tests[lang]] == [p.label for p in tests["en"]]
        assert [p.sentence1.split()[-1] for p in tests[lang]] == [p.sentence1.split()[-1] for p in tests["en"]]
    # Neutral rows re-pair a label with another row's help text; the other classes keep the benchmark's pair.
    for pair in tests["en"]:
        same_row = pair.sentence1.split()[-1] == pair.sentence2.split()[-1]
        assert same_row == (XNLI.labels[pair.label] != "neutral")
    assert "en label 0" not in {p.sentence1 for p in tests["en"]}  # id 0 is missing in zh, so nowhere
