"""Run-time choice of the launch config: tuning database record for this GPU and shape bucket,
else the shipped default, else the safe default. Lookup only; nothing is tuned here."""
from __future__ import annotations

from .config import TritonConfig, default_config

_DTYPES = {"torch.float32": "float32", "torch.bfloat16": "bfloat16", "torch.float16": "float16"}


def local_arch(q) -> str | None:
    import torch
    if q.device.type != "cuda":
        return None
    props = torch.cuda.get_device_properties(q.device)
    gcn = getattr(props, "gcnArchName", "")
    if gcn:
        return gcn.split(":")[0]
    return f"sm_{props.major}{props.minor}"


def lookup(ir, q, D: int, b: int, tuned_for: str | None, tuning_dir: str | None) -> tuple[TritonConfig, str]:
    """(config, where it came from)."""
    try:
        from autotune import TuningDB, bucket, get_gpu
    except ImportError:
        return default_config(ir), "default (autotune package not installed)"
    arch = get_gpu(tuned_for).arch if tuned_for else local_arch(q)
    if arch is not None:
        rec = TuningDB(tuning_dir).lookup(ir.spec_hash, "triton", arch, _DTYPES.get(str(q.dtype), "float32"),
                                          bucket(D, b))
        if rec is not None:
            fields = TritonConfig.__dataclass_fields__
            return TritonConfig(**{k: v for k, v in rec.config.items() if k in fields}), \
                f"{rec.tuner} record for {rec.gpu} ({rec.arch}, {rec.bucket}, {rec.dtype})"
    return default_config(ir), "default (no tuning record for this GPU and shape)"
