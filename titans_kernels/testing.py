"""Random, well-conditioned inputs for a compiled rule (tests, CLI `run`, benchmarks).

q and k are l2-normalised per token, as the models feed them; gates are drawn in ranges where
the memory neither diverges nor forgets everything: lr in [0.005, 0.05], momentum in [0.5, 0.9],
decay in [0.0001, 0.005].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .ir import GateMode, MemoryIR

GATE_RANGES = {"lr": (0.005, 0.05), "momentum": (0.5, 0.9), "decay": (0.0001, 0.005)}


@dataclass
class RuleInputs:
    q: Tensor
    k: Tensor
    v: Tensor
    lr: Tensor | None
    momentum: Tensor | None
    decay: Tensor | None

    def args(self) -> tuple:
        return self.q, self.k, self.v, self.lr, self.momentum, self.decay

    def tensors(self) -> list[Tensor]:
        return [t for t in self.args() if t is not None]


def random_inputs(ir: MemoryIR, B: int, H: int, T: int, D: int, chunk_size: int,
                  dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu",
                  generator: torch.Generator | None = None) -> RuleInputs:
    """Fresh random inputs of the shapes `ir` expects (per-chunk gates: ceil(T/chunk) values)."""
    def normal(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    q = torch.nn.functional.normalize(normal(B, H, T, D), dim=-1)
    k = torch.nn.functional.normalize(normal(B, H, T, D), dim=-1)
    v = normal(B, H, T, D)
    gates = {}
    for name, mode in ir.gates.items():
        if mode is GateMode.NONE:
            gates[name] = None
            continue
        n = T if mode is GateMode.PER_TOKEN else math.ceil(T / chunk_size)
        lo, hi = GATE_RANGES[name]
        u = torch.rand(B, H, n, generator=generator, dtype=torch.float64)
        gates[name] = (lo + (hi - lo) * u).to(dtype=dtype, device=device)
    q, k, v = (x.to(dtype=dtype, device=device) for x in (q, k, v))
    return RuleInputs(q, k, v, gates["lr"], gates["momentum"], gates["decay"])


def rel_error(out: Tensor, ref: Tensor) -> float:
    """||out - ref|| / ||ref|| computed in float64."""
    out, ref = out.detach().double(), ref.detach().double()
    return float((out - ref).norm() / ref.norm().clamp_min(1e-300))
