"""Triton backend: fused chunk-loop kernels generated from the IR."""
from __future__ import annotations

from ...errors import BackendError
from ..base import CompiledRule, register
from ..state import MemoryState
from .config import TritonConfig, check_shape


def triton_available() -> str | None:
    """None when usable, else the reason it is not."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return "triton is not installed (pip install 'titans-kernels[triton]')"
    return None


@register("triton")
class TritonRule(CompiledRule):
    """Same call contract as the torch backend. Inputs on a CUDA device, or CPU tensors when
    TRITON_INTERPRET=1 (Triton's interpreter, for testing without a GPU)."""

    backend = "triton"

    def __init__(self, ir, config: TritonConfig | None = None, checkpoint_group: int | None = None,
                 tuned_for: str | None = None, tuning_dir: str | None = None):
        """config: fixed launch config; else looked up per call in the tuning database for the
        local GPU (or for `tuned_for`, a catalogue name, e.g. when running the interpreter), then
        the shipped defaults, then the safe default. Never tunes during a call."""
        super().__init__(ir)
        reason = triton_available()
        if reason:
            raise BackendError(f"backend 'triton' unavailable: {reason}")
        self.config = config
        self.checkpoint_group = checkpoint_group
        self.tuned_for = tuned_for
        self.tuning_dir = tuning_dir
        self.last_config: TritonConfig | None = None
        self.last_config_source = ""

    def _run(self, q, k, v, theta, eta, alpha, state: MemoryState, chunk: int):
        from .function import TritonFunction
        from .launch import interpreting

        B, H, T, D = q.shape
        b = chunk
        check_shape(max(l.out_mult for l in self.ir.layers), D, b)
        if q.device.type != "cuda" and not interpreting():
            raise BackendError("backend 'triton' needs CUDA tensors (or TRITON_INTERPRET=1 to run "
                               "Triton's interpreter on CPU tensors)")
        L = self.ir.depth
        cfg, self.last_config_source = self._config_for(q, D, b)
        self.last_config = cfg
        anchor = state.anchor if self.ir.decay_to_init else None
        res = TritonFunction.apply(self.ir, cfg, b, self.checkpoint_group, anchor is not None, q, k, v, theta, eta,
                                   alpha, *state.tensors(), *(anchor or []))
        out, ends = res[0], list(res[1:])
        return out, MemoryState(ends[:L], ends[L:] if self.ir.gates.has_momentum else None, anchor)


    def _config_for(self, q, D: int, b: int) -> tuple[TritonConfig, str]:
        if self.config is not None:
            return self.config, "given"
        from .tuned import lookup
        return lookup(self.ir, q, D, b, self.tuned_for, self.tuning_dir)
