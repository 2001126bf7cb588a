"""Triton backend: fused chunk-loop kernels generated from the IR."""
from __future__ import annotations

from ...errors import BackendError, InputError
from ..base import register
from ..kernel_rule import KernelRule
from ..launch_config import (  # noqa: F401
    TritonConfig,
    check_kernel,
    check_shape,
    default_config,
    gpu_problem,
    tiled_config,
)
from ..state import MemoryState


def triton_available() -> str | None:
    """None when usable, else the reason it is not."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return "triton is not installed (pip install 'titans-kernels[triton]')"
    return None


@register("triton")
class TritonRule(KernelRule):
    """Same call contract as the torch backend. Inputs on a CUDA device, or CPU tensors when
    TRITON_INTERPRET=1 (Triton's interpreter, for testing without a GPU).

    config: fixed launch config; else looked up per call in the tuning database for the local GPU
    (or for `tuned_for`, a catalogue name, e.g. when running the interpreter), then the shipped
    defaults, then the safe default."""

    backend = "triton"

    def __init__(self, ir, config: TritonConfig | None = None, checkpoint_group: int | None = None,
                 tuned_for: str | None = None, tuning_dir: str | None = None):
        reason = triton_available()
        if reason:
            raise BackendError(f"backend 'triton' unavailable: {reason}")
        if gpu_problem(ir):
            raise InputError(f"backend 'triton' does not cover spec '{ir.name}': {gpu_problem(ir)}")
        super().__init__(ir, config, checkpoint_group, tuned_for, tuning_dir)

    def default_config(self) -> TritonConfig:
        return default_config(self.ir)

    def _run(self, q, k, v, theta, eta, alpha, state: MemoryState, chunk_size: int):
        from .function import TritonFunction
        from .launch import interpreting

        D = q.shape[-1]
        check_shape(max(l.out_mult for l in self.ir.layers), D, chunk_size)
        if q.device.type != "cuda" and not interpreting():
            raise BackendError("backend 'triton' needs CUDA tensors (or TRITON_INTERPRET=1 to run "
                               "Triton's interpreter on CPU tensors)")
        cfg = self._config_for(q, D, chunk_size)
        check_kernel(self.ir, cfg)
        return self._apply(TritonFunction, (self.ir, cfg, chunk_size, self.checkpoint_group), q, k, v, theta, eta,
                           alpha, state)
