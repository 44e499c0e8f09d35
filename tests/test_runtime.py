"""Device and precision: bf16 only where the hardware computes it natively (a CPU's flags, a card's compute
capability), and a job given a GPU never runs on the CPU silently."""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from robustxlt.models.runtime import (
    DeviceError,
    attention_implementation,
    autocast,
    cpu_has_native_bf16,
    cpu_name,
    device_description,
    gradient_scaler,
    resolve_precision,
    seed_everything,
    select_device,
)

AMX = "processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile\n"
AVX512_BF16 = "flags\t\t: fpu avx512f avx512_bf16\n"
PLAIN = "flags\t\t: fpu sse avx2 avx512f avx512bw\n"


def test_native_bf16_is_detected_from_cpu_flags_not_guessed():
    assert cpu_has_native_bf16(AMX) and cpu_has_native_bf16(AVX512_BF16)
    assert not cpu_has_native_bf16(PLAIN)  # AVX-512 alone emulates bf16: slower than fp32
    assert not cpu_has_native_bf16("")


def test_auto_precision_follows_the_hardware(monkeypatch):
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    monkeypatch.setattr("robustxlt.models.runtime.cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr("robustxlt.models.runtime.cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", cpu) == "fp32"
    with pytest.raises(ValueError, match="'fp8' is not one of auto, fp32, bf16, fp16"):
        resolve_precision("fp8", cpu)


def test_bf16_autocast_computes_in_bf16_and_fp32_does_not():
    layer = torch.nn.Linear(4, 4)
    with autocast(torch.device("cpu"), "bf16"):
        assert layer(torch.ones(2, 4)).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), "fp32"):
        assert layer(torch.ones(2, 4)).dtype == torch.float32
    assert layer.weight.dtype == torch.float32  # weights stay fp32
    assert attention_implementation(torch.device("cpu"), "bf16") == "eager"
    assert attention_implementation(torch.device("cpu"), "fp32") is None


# The GPU path with torch.cuda mocked: this machine has no GPU, the cluster's nodes do.
A100 = SimpleNamespace(name="NVIDIA A100-SXM4-80GB", total_memory=80 * 2**30, capability=(8, 0))
V100 = SimpleNamespace(name="Tesla V100-SXM2-32GB", total_memory=32 * 2**30, capability=(7, 0))
T4 = SimpleNamespace(name="Tesla T4", total_memory=16 * 2**30, capability=(7, 5))


def mock_cuda(monkeypatch, card=None) -> None:
    """torch.cuda as a node with `card` (None: CUDA unusable) would answer it."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: card is not None)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # also true where bf16 is emulated
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: card.capability)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: card)


def test_a_job_given_a_gpu_without_usable_cuda_stops_in_one_line(monkeypatch):
    mock_cuda(monkeypatch, None)
    for environ in ({"SLURM_JOB_GPUS": "0"}, {"CUDA_VISIBLE_DEVICES": "1"}, {"ROBUSTXLT_DEVICE": "cuda"}):
        with pytest.raises(DeviceError) as error:
            select_device(environ)
        message = str(error.value)
        assert "\n" not in message and "set ROBUSTXLT_DEVICE=cpu" in message, message
        assert ("CPU-only build" in message) == (torch.version.cuda is None), message
    with pytest.raises(DeviceError, match="this job was given a GPU \\(SLURM_JOB_GPUS=0\\)"):
        select_device({"SLURM_JOB_GPUS": "0"})
    with pytest.raises(DeviceError, match="'gpu' is not one of auto, cuda, cpu"):
        select_device({"ROBUSTXLT_DEVICE": "gpu"})


def test_the_cpu_is_chosen_only_where_no_gpu_was_given_or_on_purpose(monkeypatch):
    mock_cuda(monkeypatch, None)
    for environ in ({}, {"CUDA_VISIBLE_DEVICES": ""}, {"CUDA_VISIBLE_DEVICES": "-1"}, {"ROBUSTXLT_DEVICE": "auto"}):
        assert select_device(environ) == torch.device("cpu")
    assert select_device({"SLURM_JOB_GPUS": "0", "ROBUSTXLT_DEVICE": "cpu"}) == torch.device("cpu")
    mock_cuda(monkeypatch, A100)
    assert select_device({}) == torch.device("cuda") and select_device({"SLURM_JOB_GPUS": "3"}).type == "cuda"
    assert select_device({"ROBUSTXLT_DEVICE": "cpu"}) == torch.device("cpu")


@pytest.mark.parametrize(
    ("card", "expected"), [(A100, "bf16"), (V100, "fp32"), (T4, "fp32")], ids=["A100", "V100", "T4"]
)
def test_auto_precision_on_a_card_is_bf16_only_where_it_computes_bf16_natively(monkeypatch, card, expected):
    """V100 and T4 emulate bf16 (torch.cuda.is_bf16_supported() says yes): slower than fp32 there."""
    mock_cuda(monkeypatch, card)
    cuda = torch.device("cuda")
    assert resolve_precision("auto", cuda) == expected
    assert resolve_precision("fp32", cuda) == "fp32" and resolve_precision("bf16", cuda) == "bf16"
    # fp16 is chosen, never automatic: with a loss scale in training, none in fp32 and bf16.
    assert resolve_precision("fp16", cuda) == "fp16"
    assert gradient_scaler(torch.device("cpu"), "fp16") is not None
    assert gradient_scaler(torch.device("cpu"), "bf16") is None and gradient_scaler(torch.device("cpu"), "fp32") is None


def test_the_log_names_the_card_its_memory_and_the_software(monkeypatch):
    mock_cuda(monkeypatch, A100)
    described = device_description(torch.device("cuda"), "bf16")
    assert described["name"] == "NVIDIA A100-SXM4-80GB" and described["memory_gb"] == 80.0
    assert described["capability"] == "8.0" and described["precision"] == "bf16" and described["tf32"] is False
    assert described["torch"] == torch.__version__ and described["cuda"] == torch.version.cuda
    cpu = device_description(torch.device("cpu"), "fp32")
    assert cpu["device"] == "cpu" and cpu["native_bf16"] == cpu_has_native_bf16() and "tf32" not in cpu
    assert cpu_name("model name\t: AMD EPYC 7B13\nflags\t: fpu\n") == "AMD EPYC 7B13" and cpu_name("") == ""


def test_seeding_makes_cublas_deterministic(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    seed_everything(1)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


@pytest.mark.parametrize(
    ("card_gb", "model", "expected"),
    [(80, "xlm-roberta-large", (32, 1)), (40, "xlm-roberta-large", (32, 1)), (12, "xlm-roberta-large", (4, 8)),
     (16, "bert-base-multilingual-cased", (32, 1)), (4, "bert-base-multilingual-cased", (8, 4))],
)  # fmt: skip
def test_the_micro_batch_grows_to_what_the_card_holds_and_the_effective_batch_stays(card_gb, model, expected):
    """The paper preset's XTREME micro-batches (2 × 16 for XLM-R large, 8 × 4 for mBERT) on cards of several sizes:
    never below the configured micro-batch, always 32 pairs per optimizer step."""
    from robustxlt.models.shape import model_shape
    from robustxlt.training.micro_batch import fitted_micro_batch
    from robustxlt.training.settings import TrainingSettings

    configured = (2, 16) if model == "xlm-roberta-large" else (8, 4)
    settings = TrainingSettings(batch_size=configured[0], gradient_accumulation=configured[1], max_length=128)
    fitted = fitted_micro_batch(settings, model_shape(f"hub:org/{model}", Path("not-prepared")), card_gb)
    assert (fitted.batch_size, fitted.gradient_accumulation) == expected
