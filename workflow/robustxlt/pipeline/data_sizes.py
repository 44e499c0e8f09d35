"""How many rows a task's jobs read, and how many tokens a pair holds, for the cost plan: measured from the
prepared data where it exists, else from what the configuration says (the hub's published sizes, a generated
source's settings, a local directory's files) and an upper bound on the tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from robustxlt.data.tasks import get_task


@dataclass(frozen=True)
class TaskSizes:
    train: int  # English training pairs
    dev: int  # English dev pairs
    test: int  # test pairs per language (the largest language's)
    origin: str


def _count_rows(path: Path) -> int:
    with open(path, encoding="utf-8") as lines:
        return max(sum(1 for _ in lines) - 1, 0)  # the header


def task_sizes(config: dict, task_name: str, root: Path) -> TaskSizes:
    """Rows of a task's splits: its prepared manifest, else the configured source's sizes."""
    task, task_cfg = get_task(task_name), config["tasks"][task_name]
    manifest_file = root / "resources" / "data" / task_name / "manifest.json"
    if manifest_file.exists():
        files = json.loads(manifest_file.read_text())["files"]
        tests = [entry["rows"] for name, entry in files.items() if name.startswith("test-")]
        return TaskSizes(files["train-en.tsv"]["rows"], files["dev-en.tsv"]["rows"], max(tests), str(manifest_file))
    source = task_cfg["source"]
    if source == "hub":
        rows = dict(task.hub_rows)
        return TaskSizes(rows["train"], rows["dev"], rows["test"], f"{task.hub_id}@{task.hub_revision} (published)")
    if source == "tiny":
        from robustxlt.data.tiny import ROWS

        rows = {**ROWS, **{key.removeprefix("n_"): value for key, value in task_cfg.get("tiny", {}).items()}}
        return TaskSizes(rows["train"], rows["dev"], rows["test"], "the tiny source's settings")
    if source == "embedded":
        import inspect

        from robustxlt.data.embedded_benchmark import build_embedded_benchmark

        caps = {name: p.default for name, p in inspect.signature(build_embedded_benchmark).parameters.items()}
        caps.update(task_cfg.get("embedded", {}))
        return TaskSizes(caps["n_train"], caps["n_dev"], caps["n_test"], "the embedded benchmark's caps")
    from robustxlt.data.origins import local_dir

    directory = local_dir(source)
    tests = [_count_rows(path) for path in directory.glob("test-*.tsv")]
    return TaskSizes(
        _count_rows(directory / "train-en.tsv"), _count_rows(directory / "dev-en.tsv"), max(tests), str(directory)
    )


def tokens_per_pair(
    root: Path, task_name: str, model_name: str, max_length: int, sample: int = 2000
) -> tuple[float, str]:
    """Mean tokens of an English training pair (at most `max_length`) with the model's own tokenizer, measured on
    the first `sample` rows of the prepared data; `max_length` itself (an upper bound: every pair padded to it)
    before the data and model are prepared."""
    train_file = root / "resources" / "data" / task_name / "train-en.tsv"
    model_dir = root / "resources" / "models" / model_name
    if not (train_file.exists() and (model_dir / "tokenizer_config.json").exists()):
        return float(max_length), f"upper bound {max_length} (max_length; measured once data and model are prepared)"
    from transformers import AutoTokenizer

    from robustxlt.data.canonical import read_pairs

    pairs = read_pairs(train_file)[:sample]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoded = tokenizer(
        [p.sentence1 for p in pairs], [p.sentence2 for p in pairs], truncation="longest_first", max_length=max_length
    )
    mean = sum(map(len, encoded["input_ids"])) / len(pairs)
    return mean, f"{mean:.1f} measured on {len(pairs)} rows of {train_file}"
