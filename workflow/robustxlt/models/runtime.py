"""Where and how a job computes: device, threads, precision, seeds."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import torch


class DeviceError(RuntimeError):
    """A job that must compute on a GPU finds none it can use; one line that says why and what to do."""


DEVICES = ("auto", "cuda", "cpu")
# Where a scheduler says which GPUs it gave a job (Slurm sets the first two with --gres/--gpus).
GPU_ASSIGNMENT = ("SLURM_STEP_GPUS", "SLURM_JOB_GPUS", "CUDA_VISIBLE_DEVICES")


def assigned_gpus(environ: Mapping[str, str] | None = None) -> str | None:
    """The GPUs a scheduler assigned to this job, as its variable names them (None: none assigned). An empty
    CUDA_VISIBLE_DEVICES, or -1, hides every GPU: none assigned."""
    environ = os.environ if environ is None else environ
    for name in GPU_ASSIGNMENT:
        value = environ.get(name, "").strip()
        if value and value not in {"-1", "NoDevFiles"}:
            return f"{name}={value}"
    return None


def select_device(environ: Mapping[str, str] | None = None) -> torch.device:
    """The first visible GPU (as the scheduler assigned it) when CUDA works, else the CPU, except that a job which
    was given a GPU and finds no usable CUDA stops (DeviceError) instead of running for days on the CPU while it
    holds the GPU. The variable ROBUSTXLT_DEVICE (auto, cuda, cpu; a profile or the user sets it) asks for one."""
    environ = os.environ if environ is None else environ
    wanted = environ.get("ROBUSTXLT_DEVICE", "auto").strip() or "auto"
    if wanted not in DEVICES:
        raise DeviceError(f"ROBUSTXLT_DEVICE={wanted!r} is not one of {', '.join(DEVICES)}")
    if wanted == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    given = assigned_gpus(environ)
    if wanted == "cuda" or given:
        asked = f"this job was given a GPU ({given})" if given else "ROBUSTXLT_DEVICE=cuda asks for a GPU"
        raise DeviceError(f"{asked}, but {_why_no_cuda()}; set ROBUSTXLT_DEVICE=cpu to run on the CPU on purpose")
    return torch.device("cpu")


def _why_no_cuda() -> str:
    if torch.version.cuda is None:
        return (
            f"torch {torch.__version__} is a CPU-only build: install the torch build for the node's CUDA driver "
            "(pip install torch==<version> --index-url https://download.pytorch.org/whl/cu<version>)"
        )
    return (
        f"torch {torch.__version__} (built for CUDA {torch.version.cuda}) finds no usable GPU: check nvidia-smi on "
        "the node and that its driver supports that CUDA version"
    )


def configure_threads(threads: int) -> None:
    """Use the cores the rule was given (never more than the machine has), so jobs do not oversubscribe it."""
    threads = max(1, min(int(threads), len(os.sched_getaffinity(0))))
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def seed_everything(seed: int) -> None:
    """Seed every generator a run draws from; CPU runs are then bitwise repeatable. On a GPU, cuBLAS is made
    deterministic too (its workspace setting, read when CUDA starts); kernels without a deterministic version warn,
    and GPU runs are repeatable on the same card and software, not bitwise across cards."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


# fp16: autocast with a dynamic loss scale (torch.amp.GradScaler) for cards with fp16 but no bf16 tensor cores
# (V100, T4), where auto resolves to fp32.
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bf16 matmuls in hardware (AMX-BF16 or AVX512-BF16), from /proc/cpuinfo's flags.

    Without those instructions bf16 is emulated and slower than fp32, so it must be detected, not assumed
    from the vendor or the AVX level.
    """
    cpuinfo = _cpuinfo() if cpuinfo is None else cpuinfo
    flags = {
        flag for line in cpuinfo.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split()
    }
    return bool(flags & {"amx_bf16", "avx512_bf16"})


def _cpuinfo() -> str:
    """/proc/cpuinfo, or '' where there is none (not Linux: no flags, no name, no claim of native bf16)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def resolve_precision(precision: str, device: torch.device) -> str:
    """The compute precision of a job: `auto` is bf16 autocast where the device computes bf16 natively
    (CUDA with bf16, CPUs with AMX or AVX512-BF16), else fp32; fp16 is taken only when asked for (with a loss
    scale in training). Weights and optimizer state stay fp32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if cuda_has_native_bf16(device) else "fp32"
    return "bf16" if device.type == "cpu" and cpu_has_native_bf16() else "fp32"


def cuda_has_native_bf16(device: torch.device) -> bool:
    """Whether the card computes bf16 in its tensor cores (compute capability 8.0 on: A100, H100, RTX 30xx and
    later). `torch.cuda.is_bf16_supported()` also counts cards that emulate it (V100, T4), slower than fp32."""
    return torch.cuda.get_device_capability(device) >= (8, 0)


def device_description(device: torch.device, precision: str) -> dict:
    """What a job ran on, for its log: the device's name (a card's memory and compute capability), torch's and
    CUDA's versions, the resolved precision, and whether fp32 matmuls may use TF32 (off: PyTorch's default)."""
    described = {"device": device.type, "precision": precision, "torch": torch.__version__, "cuda": torch.version.cuda}
    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        return described | {
            "name": properties.name,
            "memory_gb": round(properties.total_memory / 2**30, 1),
            "capability": "{}.{}".format(*torch.cuda.get_device_capability(device)),
            "tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        }
    return described | {"name": cpu_name(), "native_bf16": cpu_has_native_bf16()}


def cpu_name(cpuinfo: str | None = None) -> str:
    """The CPU's model name from /proc/cpuinfo ('' where there is none)."""
    cpuinfo = _cpuinfo() if cpuinfo is None else cpuinfo
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    return names[0] if names else ""


def peak_device_memory_mb(device: torch.device) -> float | None:
    """The most memory the job's tensors held on the GPU (None on a CPU: the job's peak RSS is measured instead)."""
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 or fp16 autocast for a resolved precision of `bf16` or `fp16`; plain fp32 otherwise."""
    if precision in AUTOCAST_DTYPES:
        return torch.autocast(device.type, dtype=AUTOCAST_DTYPES[precision])
    return contextlib.nullcontext()


def gradient_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler | None:
    """A dynamic loss scale for fp16 training (small fp16 gradients would round to zero without one); None
    otherwise. It starts at 2^16 and halves after every step whose gradients overflow (that step is skipped)."""
    return torch.amp.GradScaler(device.type) if precision == "fp16" else None


def attention_implementation(device: torch.device, precision: str) -> str | None:
    """`eager` attention for bf16 on a CPU: there PyTorch's fused SDPA backward runs ~10x slower in bf16 than in
    fp32 (measured: 20 ms against 1.9 ms a call), which cancels AMX's gain; elsewhere the model's default."""
    return "eager" if device.type == "cpu" and precision == "bf16" else None


@contextlib.contextmanager
def evaluation_mode(model: torch.nn.Module) -> Iterator[None]:
    """Switch to eval mode without gradients, and restore the previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)
