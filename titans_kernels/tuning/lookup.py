"""Run-time choice of the launch config: tuning database record for this GPU and shape bucket,
else the shipped default, else the safe default. Lookup only; nothing is tuned here."""
from __future__ import annotations

from functools import lru_cache

from ..backends.launch_config import TritonConfig, default_config
from .db import TuningDB, bucket
from .gpus import detect_local, get_gpu

_DTYPES = {"torch.float32": "float32", "torch.bfloat16": "bfloat16", "torch.float16": "float16"}


def device_arch(device) -> str | None:
    """'sm_90' for an NVIDIA GPU, 'gfx942' for an AMD one (ROCm torch), None off the GPU.

    CUDA builds of torch also fill `gcnArchName` (with the device name), so it is read only
    under ROCm."""
    import torch
    device = torch.device(device)
    if device.type != "cuda":
        return None
    props = torch.cuda.get_device_properties(device)
    if torch.version.hip:
        return props.gcnArchName.split(":")[0]
    return f"sm_{props.major}{props.minor}"


@lru_cache(maxsize=16)
def local_model(device) -> str | None:
    """The catalogue key of the GPU at `device` (e.g. "h200"), or None when it is not in the
    catalogue (its records are then found by architecture alone)."""
    import torch
    try:
        with torch.cuda.device(device):
            return detect_local().key
    except Exception:  # noqa: BLE001 - advisory: never breaks a call
        return None


def local_arch(q) -> str | None:
    """The architecture of the GPU holding tensor `q`, or None for a CPU tensor."""
    return device_arch(q.device)


def record(ir, q, D: int, chunk_size: int, backend: str, tuned_for: str | None = None, tuning_dir: str | None = None):
    """The tuning record of `backend` for this GPU (or `tuned_for`), dtype and shape, or None."""
    gpu = get_gpu(tuned_for) if tuned_for else None
    arch = gpu.arch if gpu else local_arch(q)
    if arch is None:
        return None
    model = gpu.key if gpu else local_model(q.device)
    return TuningDB(tuning_dir).lookup(ir.spec_hash, backend, arch, _DTYPES.get(str(q.dtype), "float32"),
                                       bucket(D, chunk_size), gpu=model)


def lookup(ir, q, D: int, chunk_size: int, tuned_for: str | None, tuning_dir: str | None,
           backend: str = "triton", default: TritonConfig | None = None) -> tuple[TritonConfig, str]:
    """(config, where it came from)."""
    rec = record(ir, q, D, chunk_size, backend, tuned_for, tuning_dir)
    if rec is not None:
        fields = TritonConfig.__dataclass_fields__
        return TritonConfig(**{k: v for k, v in rec.config.items() if k in fields}), \
            f"{rec.tuner} record for {rec.gpu} ({rec.arch}, {rec.bucket}, {rec.dtype})"
    return default or default_config(ir), "default (no tuning record for this GPU and shape)"


def faster_gpu_backend(ir, q, D: int, chunk_size: int, tuning_dir: str | None = None,
                       tuned_for: str | None = None) -> tuple[str, str]:
    """("triton" | "tilelang", why): the backend whose measured record for this GPU, dtype and
    shape is faster; triton unless both backends were measured."""
    recs = {name: record(ir, q, D, chunk_size, name, tuned_for, tuning_dir) for name in ("triton", "tilelang")}
    timed = {name: r.time_s for name, r in recs.items()
             if r is not None and r.tuner == "measured" and r.time_s is not None}
    if len(timed) < 2:
        return "triton", "triton (no measured record of both GPU backends for this GPU and shape)"
    best = min(timed, key=timed.get)
    return best, f"{best} (measured {timed[best] * 1e3:.3f} ms vs {max(timed.values()) * 1e3:.3f} ms)"
