"""Write a local XNLI-format dataset (three classes, real multilingual text) from a built embedded benchmark.

It stands in for "a user's own XNLI-format data" when checking that the default configuration, with only
`tasks` replaced, trains each run until English dev stops improving. The text is the embedded benchmark's
(software-catalogue field labels and help texts, human-translated); the three classes are CONSTRUCTED:

- entailment: a field's label and its own help text (the benchmark's positive pairs);
- contradiction: a label and another field's help text from the same word-overlap bin and length bucket
  (the benchmark's hard negatives);
- neutral: a label and the help text of a randomly drawn other positive pair (an easy negative).

Test rows are parallel across languages (the same benchmark row ids, in the same order, with the same neutral
re-pairing), so the generalized setting can pair them by row. It is not XNLI: its numbers say nothing about NLI.

    python benchmarks/xnli_format_set.py resources/data/sameapp OUT --languages en de es fr zh \
        --n-train 2000 --n-dev 200 --n-test 500
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

LABELS = ("entailment", "neutral", "contradiction")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def class_plan(positives: list, negatives: list, n: int, rng: random.Random) -> tuple[list, list, list]:
    """(sentence-1 source, sentence-2 source) per row for `n` rows, a third per class: entailment and contradiction
    keep a benchmark pair (a positive, a negative), neutral pairs a positive's label with the next one's help text."""
    rng.shuffle(positives)
    rng.shuffle(negatives)
    per_class = n // 3
    if len(positives) < 2 * per_class or len(negatives) < n - 2 * per_class:
        raise SystemExit(f"too few pairs for {n} rows: {len(positives)} positive, {len(negatives)} negative")
    entail = [(p, p) for p in positives[:per_class]]
    donors = positives[per_class : 2 * per_class]
    neutral = list(zip(donors, donors[1:] + donors[:1]))
    contra = [(q, q) for q in negatives[: n - 2 * per_class]]
    return entail, neutral, contra


def three_class(rows: list[dict[str, str]], n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """`n` English rows, a third per class, from the benchmark's positive and negative pairs."""
    positives = [r for r in rows if r["label"] == "1"]
    negatives = [r for r in rows if r["label"] == "0"]
    entail, neutral, contra = class_plan(positives, negatives, n, rng)
    out = [
        (a["sentence1"], b["sentence2"], label)
        for label, plan in (("entailment", entail), ("neutral", neutral), ("contradiction", contra))
        for a, b in plan
    ]
    rng.shuffle(out)
    return out


def parallel_test(source: Path, languages: list[str], n: int, rng: random.Random) -> dict[str, list]:
    """Per language, `n` rows over the same benchmark ids in the same order; neutral rows re-pair by id."""
    by_lang = {lang: {r["id"]: r for r in read_rows(source / f"test-{lang}.tsv")} for lang in languages}
    common = sorted(set.intersection(*(set(rows) for rows in by_lang.values())))
    english = by_lang["en"]
    positives = [i for i in common if english[i]["label"] == "1"]
    negatives = [i for i in common if english[i]["label"] == "0"]
    entail, neutral, contra = class_plan(positives, negatives, n, rng)
    plan = [
        (a, b, label)
        for label, pairs in (("entailment", entail), ("contradiction", contra), ("neutral", neutral))
        for a, b in pairs
    ]
    rng.shuffle(plan)
    return {
        lang: [(rows[a]["sentence1"], rows[b]["sentence2"], label) for a, b, label in plan]
        for lang, rows in by_lang.items()
    }


def write(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("sentence1\tsentence2\tlabel\n")
        for row in rows:
            handle.write("\t".join(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="a built embedded benchmark (resources/data/<task>)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--languages", nargs="+", default=["en", "de", "es", "fr", "zh"])
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-dev", type=int, default=200)
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "train-en.tsv", three_class(read_rows(args.source / "train-en.tsv"), args.n_train, rng))
    write(args.out / "dev-en.tsv", three_class(read_rows(args.source / "dev-en.tsv"), args.n_dev, rng))
    for lang, rows in parallel_test(args.source, args.languages, args.n_test, rng).items():
        write(args.out / f"test-{lang}.tsv", rows)
    print(f"wrote {args.out}: train {args.n_train}, dev {args.n_dev}, test {args.n_test} x {len(args.languages)}")


if __name__ == "__main__":
    main()
