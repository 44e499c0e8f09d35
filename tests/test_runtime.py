"""Precision: bf16 only where the hardware computes it natively, detected from the CPU's flags."""

import pytest
import torch
from robustxlt.models.runtime import attention_implementation, autocast, cpu_has_native_bf16, resolve_precision

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
    with pytest.raises(ValueError, match="fp16"):
        resolve_precision("fp16", cpu)


def test_bf16_autocast_computes_in_bf16_and_fp32_does_not():
    layer = torch.nn.Linear(4, 4)
    with autocast(torch.device("cpu"), "bf16"):
        assert layer(torch.ones(2, 4)).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), "fp32"):
        assert layer(torch.ones(2, 4)).dtype == torch.float32
    assert layer.weight.dtype == torch.float32  # weights stay fp32
    assert attention_implementation(torch.device("cpu"), "bf16") == "eager"
    assert attention_implementation(torch.device("cpu"), "fp32") is None
