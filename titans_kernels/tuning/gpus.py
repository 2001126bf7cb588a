"""The GPU catalogue (gpus.yaml): each GPU's architecture (what a tuning record is keyed by, and
what `tuned_for="a100"` resolves to at run time) and what the predicted tuner knows about it."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import TitansError

CATALOGUE = Path(__file__).with_name("gpus.yaml")


class UnknownGPU(TitansError, ValueError):
    """A GPU name the catalogue does not hold."""


@dataclass(frozen=True)
class GPU:
    key: str
    name: str
    vendor: str
    arch: str
    compute_capability: tuple[int, int] | None
    sms: int
    smem_per_block_kib: int
    smem_per_sm_kib: int
    regs_per_sm: int
    max_threads_per_sm: int
    bandwidth_gbs: float
    tensor_tflops_bf16: float
    tensor_tflops_tf32: float
    fp32_tflops: float

    @property
    def aot_target(self) -> str:
        """Target name for ahead-of-time compilation (sm_89 compiles as sm_80 code)."""
        return {"sm_89": "sm_80"}.get(self.arch, self.arch)


@lru_cache(maxsize=1)
def gpus() -> dict[str, GPU]:
    data = yaml.safe_load(CATALOGUE.read_text())
    out = {}
    for key, row in data.items():
        cc = row.get("compute_capability")
        out[key] = GPU(key=key, **{**row, "compute_capability": tuple(cc) if cc else None})
    return out


def get_gpu(name: str) -> GPU:
    """A catalogue entry by key ("a100"), or "auto" for the local CUDA GPU."""
    if name == "auto":
        return detect_local()
    table = gpus()
    key = name.lower()
    if key not in table:
        close = difflib.get_close_matches(key, list(table), n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise UnknownGPU(f"unknown GPU '{name}': {hint}known: {', '.join(table)} (or 'auto' for the local GPU)")
    return table[key]


def detect_local() -> GPU:
    import torch
    if not torch.cuda.is_available():
        raise UnknownGPU("--gpu auto: no CUDA GPU on this machine; name one of " + ", ".join(gpus()))
    name = torch.cuda.get_device_name().lower()
    for key, gpu in gpus().items():
        if key in name.replace(" ", "") or gpu.name.lower() in name:
            return gpu
    raise UnknownGPU(f"local GPU '{name}' is not in the catalogue; name the closest of {', '.join(gpus())}")
