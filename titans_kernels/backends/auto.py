"""backend="auto": on CUDA inputs the generated kernels cover, the GPU backend (triton or
tilelang) that measured faster for this GPU and shape in the tuning database (triton unless both
were measured); the torch backend otherwise."""
from __future__ import annotations

from ..errors import InputError
from .base import CompiledRule, register
from .state import MemoryState
from .torch_backend import TorchRule


@register("auto")
class AutoRule(CompiledRule):
    """Dispatches each call by the inputs' device and shape; `last_backend` says which ran."""

    backend = "auto"

    def __init__(self, ir):
        super().__init__(ir)
        self.torch_rule = TorchRule(ir)
        self._triton = None
        self._tilelang = None
        self.last_backend: str | None = None
        self.last_reason = ""

    def _triton_rule(self):
        if self._triton is None:
            from .launch_config import gpu_problem
            from .triton_backend import TritonRule, triton_available
            usable = triton_available() is None and gpu_problem(self.ir) is None
            self._triton = TritonRule(self.ir) if usable else False
        return self._triton or None

    def _tilelang_rule(self):
        if self._tilelang is None:
            from .launch_config import gpu_problem
            from .tilelang_backend import TileLangRule, tilelang_available
            usable = tilelang_available() is None and gpu_problem(self.ir) is None
            self._tilelang = TileLangRule(self.ir) if usable else False
        return self._tilelang or None

    def _run(self, q, k, v, theta, eta, alpha, state: MemoryState, chunk_size: int):
        if q.device.type == "cuda" and self._triton_rule() is not None:
            from .launch_config import check_shape
            from ..tuning.lookup import faster_gpu_backend
            try:
                check_shape(max(l.out_mult for l in self.ir.layers), q.shape[-1], chunk_size)
            except InputError:
                pass
            else:
                name, self.last_reason = faster_gpu_backend(self.ir, q, q.shape[-1], chunk_size)
                rule = self._tilelang_rule() if name == "tilelang" else None
                self.last_backend = "tilelang" if rule is not None else "triton"
                rule = rule or self._triton_rule()
                return rule._run(q, k, v, theta, eta, alpha, state, chunk_size)
        self.last_backend = "torch"
        return self.torch_rule._run(q, k, v, theta, eta, alpha, state, chunk_size)
