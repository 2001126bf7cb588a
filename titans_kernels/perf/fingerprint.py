"""What a benchmark figure depends on besides the code: the device and the library versions."""
from __future__ import annotations

import importlib.metadata as md
import os
import platform
import re
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(pkg: str) -> str | None:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return None


def fingerprint() -> dict:
    """{"device", "torch", "triton", "tilelang"[, "isa", "cpus", "matmul"]}: device is the GPU name
    on a CUDA machine, else the CPU model. On CPU the model name alone does not tell machines
    apart (virtual machines often report just the vendor's family, over hosts with and without
    AVX-512), so "isa" is the widest vector instruction set torch's kernels use there
    (`torch.backends.cpu.get_cpu_capability()`) and "cpus" the logical CPU count; "matmul" names
    the engine of float32 products when it is not torch's default (`tk.cpu_engine`)."""
    import torch
    fp = {"device": f"cpu {cpu_model()}", "torch": _version("torch"), "triton": _version("triton"),
          "tilelang": _version("tilelang")}
    if torch.cuda.is_available():
        fp["device"] = torch.cuda.get_device_name()
    else:
        from ..backends.torch_backend.engine import cpu_engine
        fp["isa"] = torch.backends.cpu.get_cpu_capability().lower()
        fp["cpus"] = os.cpu_count()
        if cpu_engine() != "default":
            fp["matmul"] = cpu_engine()
    return fp


def results_file(stem: str, fp: dict) -> str:
    """The per-machine-kind name of a CPU speed results file: `<stem>-<isa>.json` (avx2, avx512,
    ...; `<stem>-gpu.json` on a CUDA machine, whose fingerprint names no ISA)."""
    return f"{stem}-{fp.get('isa') or 'gpu'}.json"


def slug(fp: dict) -> str:
    """File-name form of a fingerprint, e.g.
    cpu-amd-epyc-7b13_avx512_2cpu_torch-2.13.0_triton-3.7.1_matmul-onednn."""
    parts = [fp["device"]]
    if fp.get("isa"):
        parts.append(fp["isa"])
    if fp.get("cpus"):
        parts.append(f"{fp['cpus']}cpu")
    parts += [f"{k}-{fp[k]}" for k in ("torch", "triton", "matmul") if fp.get(k)]
    text = "_".join(re.sub(r"[^a-z0-9.]+", "-", p.lower()).strip("-") for p in parts)
    return text[:160]
