"""TileLang backend: the forward chunk loop generated from the same IR as the Triton kernels.

CUDA tensors run the kernel lowered for the local GPU; CPU tensors run the same program
through TileLang's C target (float32), which is how it is checked without a GPU.
"""
from __future__ import annotations

from ...errors import BackendError
from ..base import CompiledRule, register
from ..state import MemoryState
from ..triton_backend.config import TritonConfig, check_shape
from .codegen import TileConfig


def tilelang_available() -> str | None:
    """None when usable, else the reason it is not."""
    try:
        import tilelang  # noqa: F401
    except ImportError:
        return "tilelang is not installed (pip install 'titans-kernels[tilelang]')"
    except Exception as exc:  # a broken native install: say so in one line
        return f"tilelang failed to import ({type(exc).__name__}: {exc})"
    return None


DEFAULT_CONFIG = TritonConfig(tile=32, num_warps=4, num_stages=2)


def default_config(ir) -> TritonConfig:
    """Safe defaults per IR until tuned: no forward kernel spills at D=64, chunk 64 on sm_80 or
    sm_90a (nvcc -Xptxas -v). Residual rules (an extra operand in two epilogues) spill 16-72
    bytes with 4 warps and none with 8."""
    return TritonConfig(tile=32, num_warps=8, num_stages=2) if ir.residual else DEFAULT_CONFIG


def backward_config(ir) -> TritonConfig:
    """Launch parameters of the backward kernel (chosen apart from the forward's): 4 warps. On
    sm_90a at D=64 the residual rules' backward spills 16-24 bytes with 4 warps but over 200 with
    8, and titans_mlp3's spills 120 bytes (none with one pipeline stage)."""
    return DEFAULT_CONFIG


def tile_config(cfg: TritonConfig, D: int, b: int, on_gpu: bool) -> TileConfig:
    """The shared launch config as the TileLang generator's parameters."""
    return TileConfig(D=D, b=b, tile=cfg.tile_for(D, b), threads=32 * cfg.num_warps, stages=cfg.num_stages,
                      flavour="gpu" if on_gpu else "cpu")


@register("tilelang")
class TileLangRule(CompiledRule):
    """Same call contract as the torch backend; forward and backward are generated TileLang
    kernels (the backward walks the checkpoints the forward writes)."""

    backend = "tilelang"

    def __init__(self, ir, config: TritonConfig | None = None, checkpoint_group: int | None = None,
                 tuned_for: str | None = None, tuning_dir: str | None = None, backward: str = "kernel"):
        """config: fixed launch config; else the tuning database's tilelang record for the local
        GPU (or `tuned_for`), else default_config(ir). backward: "kernel" (the generated TileLang
        backward) or "torch" (the torch backend's hand-derived walk from the same checkpoints)."""
        if backward not in ("kernel", "torch"):
            raise BackendError(f"backward='{backward}' unknown; use 'kernel' or 'torch'")
        self.backward = backward
        super().__init__(ir)
        reason = tilelang_available()
        if reason:
            raise BackendError(f"backend 'tilelang' unavailable: {reason}")
        self.config = config
        self.checkpoint_group = checkpoint_group
        self.tuned_for, self.tuning_dir = tuned_for, tuning_dir
        self.last_config_source = ""

    def _run(self, q, k, v, theta, eta, alpha, state: MemoryState, chunk: int):
        from .function import TileLangFunction

        B, H, T, D = q.shape
        check_shape(max(l.out_mult for l in self.ir.layers), D, chunk, backend="tilelang")
        on_gpu = q.device.type == "cuda"
        cfg = tile_config(self._config_for(q, D, chunk), D, chunk, on_gpu)
        cfg_bwd = tile_config(backward_config(self.ir), D, chunk, on_gpu)
        anchor = state.anchor if self.ir.decay_to_init else None
        L = self.ir.depth
        res = TileLangFunction.apply(self.ir, (cfg, cfg_bwd), chunk, self.checkpoint_group, anchor is not None, self.backward, q, k, v,
                                     theta, eta, alpha, *state.tensors(), *(anchor or []))
        out, ends = res[0], list(res[1:])
        return out, MemoryState(ends[:L], ends[L:] if self.ir.gates.has_momentum else None, anchor)

    def _config_for(self, q, D: int, b: int) -> TritonConfig:
        if self.config is not None:
            self.last_config_source = "given"
            return self.config
        from ..triton_backend.tuned import lookup
        cfg, self.last_config_source = lookup(self.ir, q, D, b, self.tuned_for, self.tuning_dir,
                                              backend="tilelang", default=default_config(self.ir))
        return cfg
