"""Generated task data of the tiny stand-in setup (robustxlt.models.tiny, presets/paper-tiny.yaml): PAWS-X- and
XNLI-shaped rows a tiny model learns, with the real PAWS-X test files' quirks; for the task source `tiny`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robustxlt.data.tasks import get_task

# Words of three topics: a pair's label follows from its sentences' topics, so even a tiny model can learn it.
TOPICS = (
    "apple pear plum grape lemon melon cherry peach mango lime".split(),
    "car bus train plane boat bike truck tram ship cart".split(),
    "red blue green black white pink brown grey gold cyan".split(),
)
ROWS = {"train": 240, "dev": 60, "test": 60}  # per split and language, unless the task's `tiny` section says otherwise
# PAWS-X's human-translated test files hold untranslated placeholder rows; a few carry another label than
# English's, and a row may be missing in one language (e.g. unlabeled on the hub). Reproduced here.
PLACEHOLDER_ROWS = {"de": (3, 11, 19), "ja": (5,)}
LABEL_DIFFERS = {"de": (3,)}
MISSING_ROWS = {"zh": (7,)}


def _sentence(rng: np.random.Generator, topic: int) -> str:
    return " ".join(rng.choice(TOPICS[topic], size=int(rng.integers(2, 7))))


def _rows(task_name: str, n: int, rng: np.random.Generator) -> list[tuple[str, str, int]]:
    """A rule a 2-layer model learns in a few dozen steps: PAWS-X's label says whether sentence 2 is about fruit
    (half the pairs are), XNLI's is sentence 2's topic (entailment, neutral, contradiction)."""
    rows = []
    for i in range(n):
        t1 = int(rng.integers(3))
        if task_name == "pawsx":
            t2 = 0 if i % 2 else int(1 + rng.integers(2))
            label = int(t2 == 0)
        else:
            t2 = label = int(rng.integers(3))
        rows.append((_sentence(rng, t1), _sentence(rng, t2), label))
    return rows


def write_task(directory: Path, task_name: str, seed: int = 0, rows: dict[str, int] | None = None) -> Path:
    """XTREME-style `{split}-{lang}.tsv` files with a header and an id column, for every language of the task;
    `rows` sets the rows per split (keys train, dev, test; the rest from ROWS)."""
    task = get_task(task_name)
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    splits = {split: _rows(task_name, n, rng) for split, n in {**ROWS, **(rows or {})}.items()}
    for split, lang in task.required_files():
        lines = ["id\tsentence1\tsentence2\tlabel"]
        for i, (first, second, label) in enumerate(splits[split]):
            if split == "test" and i in MISSING_ROWS.get(lang, ()):
                continue
            if split == "test" and i in PLACEHOLDER_ROWS.get(lang, ()):
                first = second = "NS"
                label = (label + 1) % len(task.labels) if i in LABEL_DIFFERS.get(lang, ()) else label
            lines.append(f"{i}\t{first}\t{second}\t{task.labels[label]}")
        (directory / f"{split}-{lang}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory
