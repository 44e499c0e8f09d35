"""Shared fixtures: a tiny BERT and a tiny, learnable sentence-pair task, both built offline in seconds; the smoke
preset's end-to-end run, made once per test run and read by every slow test that needs one.

The suite has two tiers: `pytest -m "not slow"` (units, bad input, properties, docs, dry runs: minutes) before
every commit, and `pytest` (the whole suite, README command 2). A slow test says why in its marker:
`@pytest.mark.slow("why, in one line")`; one without a reason is refused at collection. Both tiers run on two
pytest-xdist workers (pyproject.toml); `-n 0` runs in one process."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys

os.environ["HF_HUB_OFFLINE"] = "1"  # a failed hub call would otherwise hang for ~50 s
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import numpy as np
import pytest
from robustxlt.data.canonical import Pair, write_manifest, write_pairs

REPO = Path(__file__).resolve().parent.parent
TOPICS = {
    0: "apple pear plum grape lemon melon cherry peach mango lime".split(),
    1: "car bus train plane boat bike truck tram ship cart".split(),
    2: "red blue green black white pink brown grey gold cyan".split(),
}


def topic_pairs(n: int, rng: np.random.Generator) -> list[Pair]:
    """Label 1 when sentence 2 is about fruit: a tiny model learns it in a few dozen steps."""
    pairs = []
    for i in range(n):
        t1 = int(rng.integers(3))
        t2 = 0 if i % 2 else int(1 + rng.integers(2))
        s1 = " ".join(rng.choice(TOPICS[t1], size=int(rng.integers(2, 7))))
        s2 = " ".join(rng.choice(TOPICS[t2], size=int(rng.integers(2, 7))))
        pairs.append(Pair(s1, s2, int(t2 == 0)))
    return pairs


def build_tiny_model(directory: Path) -> Path:
    """A 2-layer, 32-wide BERT with a word-level tokenizer over the fixture vocabulary."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {token: i for i, token in enumerate(specials + sorted({w for ws in TOPICS.values() for w in ws}))}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    ).save_pretrained(directory)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(directory)
    (directory / "robustxlt_source.json").write_text('{"source": "local:tiny-bert", "revision": null}\n')
    return directory


def build_tiny_task(directory: Path) -> Path:
    """Canonical files of the topic task: English train/dev, test in two 'languages'."""
    rng = np.random.default_rng(0)
    write_pairs(directory / "train-en.tsv", topic_pairs(400, rng))
    write_pairs(directory / "dev-en.tsv", topic_pairs(60, rng))
    write_pairs(directory / "test-en.tsv", topic_pairs(60, rng))
    write_pairs(directory / "test-xx.tsv", topic_pairs(60, rng))
    write_manifest(
        directory / "manifest.json",
        {"source": "fixture", "labels": ["different", "same"], "description": "topic fixture"},
    )
    return directory


def assert_config_message(message: str, source: str) -> None:
    """The project's configuration error: one line naming the file, or, for several problems, a first line that
    counts them and one line per problem, each naming a key."""
    first, *problems = message.split("\n")
    assert first.startswith(source), message
    if problems:
        assert re.fullmatch(rf"{re.escape(source)}: {len(problems)} problems.*:", first), message
        assert all(problem.startswith("  ") and "key " in problem for problem in problems), message


def pytest_collection_modifyitems(config, items) -> None:
    """Every slow test says in its marker why it is slow, so that the fast tier's boundary stays readable."""
    unexplained = [
        item.nodeid
        for item in items
        for marker in item.iter_markers("slow")
        if not (marker.args and isinstance(marker.args[0], str) and marker.args[0].strip())
    ]
    if unexplained:
        raise pytest.UsageError(
            'slow tests without a reason; write @pytest.mark.slow("why, in one line"): ' + ", ".join(unexplained)
        )


SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args: str, workdir: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """The workflow in `workdir`, offline, its output captured."""
    return subprocess.run(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=timeout,
    )


SMOKE = REPO / "presets" / "smoke.yaml"


def load_benchmark(name: str):
    """A script of benchmarks/ as a module (they are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The working directory of `snakemake --cores 2 --configfile presets/smoke.yaml`, run once per test run however
    many xdist workers ask (the first makes it under a lock, the others wait and read it): the end-to-end test reads
    it, the SIGKILL tests take it as their uninterrupted run, the live Slurm test as its local run. Read-only for
    them: a test that changes files works on a copy."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # workers' base dirs share a parent
    workdir, finished = shared / "smoke-run", shared / "smoke-run.finished"
    with open(shared / "smoke-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not finished.exists():
            result = snakemake("--cores", "2", "--configfile", str(SMOKE), workdir=workdir, timeout=1800)
            assert result.returncode == 0, result.stderr[-5000:]
            finished.touch()
    return workdir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_task_dir(tmp_path_factory) -> Path:
    return build_tiny_task(tmp_path_factory.mktemp("tiny-task"))
