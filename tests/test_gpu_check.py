"""benchmarks/gpu_check.py, the first command on a GPU node: without CUDA it says so and exits 0; its measuring code
runs here on a CPU with tiny shapes, so that it works the day a GPU reaches it."""

import json

import torch
from conftest import load_benchmark


def test_without_cuda_it_says_so_in_one_line_and_exits_0(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert load_benchmark("gpu_check").main([]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("gpu_check: no usable CUDA")


def test_its_measurements_run_on_a_cpu_with_tiny_shapes(tmp_path):
    out = tmp_path / "check.json"
    assert (
        load_benchmark("gpu_check").main(["--device", "cpu", "--shapes", "tiny", "--skip-pipeline", "--out", str(out)])
        == 0
    )
    record = json.loads(out.read_text())
    assert record["device"]["device"] == "cpu"
    pgd = record["pgd3_xlmr_large"]
    assert (pgd["batch"], pgd["length"]) == (32, 128) and pgd["seconds"] > 0 and pgd["peak_memory_gb"] is None
    speed = record["mbert_throughput"]
    assert all(value > 0 for value in speed["train_pairs_per_second"].values())
    assert speed["eval_speedup"] > 0 and speed["train_speedup"] > 0


def test_the_paper_shapes_are_the_published_encoders():
    """XLM-R large: 24 layers of width 1024 (560M weights); mBERT: 12 of 768 over 119,547 word pieces."""
    module = load_benchmark("gpu_check")
    large = module.SHAPES["paper"]["xlm-roberta-large"]
    assert (large["num_hidden_layers"], large["hidden_size"], large["vocab_size"]) == (24, 1024, 250002)
    assert module.SHAPES["paper"]["bert-base-multilingual-cased"]["vocab_size"] == 119547
