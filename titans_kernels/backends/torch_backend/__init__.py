"""Torch backend: the chunk-parallel dual form as batched matrix products."""
from __future__ import annotations

from ..base import CompiledRule, register
from ..state import MemoryState
from . import compiled
from .function import DualFormFunction


@register("torch")
class TorchRule(CompiledRule):
    """Dual form over (batch*heads) with a hand-derived backward (DualFormFunction).

    `backward="autograd"` differentiates through the forward with autograd instead (slower,
    memory grows with T; kept for gradient checks). `last_step` says whether the last call's
    chunk steps ran compiled or eager (compiled.py, `TITANS_TORCH_COMPILE`).
    """

    backend = "torch"

    def __init__(self, ir, backward: str = "manual", checkpoint_group: int | None = None):
        super().__init__(ir)
        if backward not in ("manual", "autograd"):
            raise ValueError(f"backward={backward!r}: expected 'manual' or 'autograd'")
        self.backward_mode = backward
        self.checkpoint_group = checkpoint_group
        self.last_step: str | None = None

    def _run(self, q, k, v, theta, eta, alpha, state: MemoryState, chunk_size: int):
        b = min(chunk_size, q.shape[2])
        if self.ir.muon:   # per-chunk Muon updates (muon.py)
            from . import muon
            if self.backward_mode == "autograd":
                return muon.forward_autograd(self.ir, q, k, v, theta, eta, alpha, state, b)
            self.last_step = "eager"
            return self._apply(muon.MuonFunction, (self.ir, b, None), q, k, v, theta, eta, alpha, state)
        if self.backward_mode == "autograd":
            from .autograd_path import forward_autograd
            return forward_autograd(self.ir, q, k, v, theta, eta, alpha, state, b)
        result = self._apply(DualFormFunction, (self.ir, b, self.checkpoint_group), q, k, v, theta, eta, alpha, state)
        self.last_step = compiled.last_path()
        return result
