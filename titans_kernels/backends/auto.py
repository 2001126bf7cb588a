"""backend="auto": the Triton kernels for CUDA inputs they cover, the torch backend otherwise."""
from __future__ import annotations

from ..errors import InputError
from .base import CompiledRule, register
from .state import MemoryState
from .torch_dual import TorchRule


@register("auto")
class AutoRule(CompiledRule):
    """Dispatches each call by the inputs' device and shape; `last_backend` says which ran."""

    backend = "auto"

    def __init__(self, ir):
        super().__init__(ir)
        self.torch_rule = TorchRule(ir)
        self._triton = None
        self.last_backend: str | None = None

    def _triton_rule(self):
        if self._triton is None:
            from .triton_backend import TritonRule, triton_available
            usable = triton_available() is None
            self._triton = TritonRule(self.ir) if usable else False
        return self._triton or None

    def _run(self, q, k, v, theta, eta, alpha, state: MemoryState, chunk: int):
        if q.device.type == "cuda" and self._triton_rule() is not None:
            from .triton_backend.config import check_shape
            try:
                check_shape(max(l.out_mult for l in self.ir.layers), q.shape[-1], chunk)
            except InputError:
                pass
            else:
                self.last_backend = "triton"
                return self._triton_rule()._run(q, k, v, theta, eta, alpha, state, chunk)
        self.last_backend = "torch"
        return self.torch_rule._run(q, k, v, theta, eta, alpha, state, chunk)
