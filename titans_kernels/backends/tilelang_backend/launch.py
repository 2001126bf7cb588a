"""Generate, cache, compile and launch the TileLang forward kernel of a MemoryIR.

Coefficients (C, a, m, c, w and the chunk-end scalars) come from the shared torch code
(torch_backend/coeffs.py, batched over all chunks: O(T * chunk) per head); the kernel consumes
them. The launcher pads the sequence to whole chunks (the last chunk's coefficients are read at
its last real token, so padding never changes the result) and runs every operand in float32.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import torch
from torch import Tensor

from ...ir import MemoryIR
from ..generated import import_source
from ..torch_backend import coeffs as coeff_ops
from ..checkpoints import group_bounds
from ..torch_backend.function import Layout
from .codegen import Emitter, TileConfig, forward_emitter, forward_name, generate_forward

_COMPILED: dict[tuple, object] = {}
# Every GEMM step has its own shared tiles; lifetime-based merging lets the steps share one
# region (a fraction of the sum; docs/design.md).
PASS_CONFIGS = {"tl.enable_aggressive_shared_memory_merge": True}
OUTPUT_FILL: float | None = None  # tests set NaN to prove the kernel writes every output element


def load_source(ir: MemoryIR, cfg: TileConfig, kind: str = "fwd"):
    """(module path, prim_func, digest) of the generated forward ("fwd") or backward ("bwd")
    source; the file is written once per source text and imported from the cache folder (TileLang
    parses a prim_func from its source file)."""
    from .codegen_bwd import generate_backward, kernel_name_bwd
    if kind == "fwd":
        source, name = generate_forward(ir, cfg), forward_name(ir, cfg)
    else:
        source, name = generate_backward(ir, cfg), kernel_name_bwd(ir)
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    module = import_source(source, "tilelang_src", f"{name}_{digest}", f"titans_generated_tl.{name}_{digest}")
    return module.__file__, getattr(module, name), digest


def emitter(ir: MemoryIR, cfg: TileConfig, kind: str = "fwd") -> Emitter:
    """The forward ("fwd") or backward ("bwd") emitter of `ir` after writing its program."""
    from .codegen_bwd import BackwardEmitter
    em = forward_emitter(ir, cfg) if kind == "fwd" else BackwardEmitter(ir, cfg)
    em.module()
    return em


@functools.lru_cache(maxsize=256)
def onchip_plan(ir: MemoryIR, cfg: TileConfig, kind: str = "fwd") -> tuple[tuple[str, ...], int]:
    """(buffers held in shared memory, their bytes) of a kernel, once per (IR, config, kind); raises
    InputError, in one line, when a resident kernel's weights do not fit (before anything is compiled)."""
    em = emitter(ir, cfg, kind)
    return tuple(em.placed), em.onchip_bytes()


def compiled_kernel(ir: MemoryIR, cfg: TileConfig, target: str, kind: str = "fwd"):
    """The compiled kernel for `target` ("c" on CPU, "cuda" on a GPU), cached per process: the
    source is generated and compiled on the first call for (IR, config, kind, target) only."""
    key = (ir, cfg, kind, target)
    if key not in _COMPILED:
        import tilelang
        _, func, _ = load_source(ir, cfg, kind)
        _COMPILED[key] = tilelang.compile(func, target=target, verbose=False,
                                          pass_configs=PASS_CONFIGS if target == "cuda" else None)
    return _COMPILED[key]


def _output(*shape: int, dtype, device) -> Tensor:
    if OUTPUT_FILL is None:
        return torch.empty(*shape, dtype=dtype, device=device)
    return torch.full(shape, OUTPUT_FILL, dtype=dtype, device=device)


@dataclass
class ForwardResult:
    out: Tensor                     # (n, T, D) float32
    weights: list[Tensor]           # per layer (n, out, in): W_end (U_end when anchored)
    momentum: list[Tensor] | None
    checkpoints: list[list[Tensor]] | None   # per group, per layer (W, S) start states
    raw_checkpoints: list[Tensor] | None = None  # the CKW0, CKS0, CKW1, ... buffers (n, groups, out, in)


def _kernel_coeffs(lay: Layout, co=None) -> dict[str, Tensor]:
    """Coefficient arrays in the kernel's (n, N, ...) layout."""
    co = co if co is not None else coeff_ops.compute(lay.theta, lay.eta, lay.alpha, lay.last)
    kl = lambda t: t.transpose(0, 1).contiguous().float()  # (N, n, ...) -> (n, N, ...)  # noqa: E731
    out = {"CM": kl(co.C), "CC": kl(co.c)}
    if co.a is not None:
        out["CA"] = kl(co.a)
    if co.m is not None:
        out["CMO"], out["CW"] = kl(co.m), kl(co.w)
    ones = torch.ones_like(co.c[..., 0])
    scal = [co.a_e if co.a_e is not None else ones, co.m_e if co.m_e is not None else ones,
            co.p_e if co.p_e is not None else ones]
    out["SC"] = kl(torch.stack(scal, -1))
    return out


def run_forward(ir: MemoryIR, lay: Layout, weights: list[Tensor], momentum: list[Tensor] | None,
                anchor: list[Tensor] | None, cfg: TileConfig, group: int | None) -> ForwardResult:
    """weights / momentum / anchor: per layer (n, out, in) float32 (weights = U when anchored).
    group: chunks per checkpoint when a backward follows, else None."""
    n, N, b, D = lay.n, lay.N, lay.b, lay.D
    dev = lay.device
    target = "cuda" if dev.type == "cuda" else "c"
    kernel = compiled_kernel(ir, cfg, target)
    f32 = dict(dtype=torch.float32, device=dev)
    pad = lambda x: torch.nn.functional.pad(x.float(), (0, 0, 0, lay.pad)).contiguous()  # noqa: E731
    args: dict[str, Tensor] = {"Q": pad(lay.q), "K": pad(lay.k), "V": pad(lay.v),
                               "O": _output(n, N * b, D, **f32)}
    args.update(_kernel_coeffs(lay))
    slot = torch.full((N,), -1, dtype=torch.int32, device=dev)
    starts = [lo for lo, _ in group_bounds(N, group)] if group else []
    for g, lo in enumerate(starts):
        slot[lo] = g
    args["SLOT"] = slot
    NG = max(1, len(starts))
    shapes = ir.layer_shapes(D)
    state_w = [w.float().contiguous().clone() for w in weights]
    state_s = [s.float().contiguous().clone() for s in momentum] if momentum is not None else None
    ck_w = [_output(n, NG, o, i, **f32) for o, i in shapes]
    ck_s = [_output(n, NG, o, i, **f32) for o, i in shapes] if state_s is not None else None
    for l, (o, i) in enumerate(shapes):
        args[f"W{l}"], args[f"CKW{l}"] = state_w[l], ck_w[l]
        if state_s is not None:
            args[f"S{l}"], args[f"CKS{l}"] = state_s[l], ck_s[l]
        if anchor is not None:
            args[f"A{l}"] = anchor[l].float().contiguous()
    params = forward_emitter(ir, cfg).params()
    sizes = {"BH": n, "NB": n * cfg.cluster}
    for name, dims in params:
        if name not in args:  # per-program (per-block) scratch: (BH or NB, ...) with constant trailing sizes
            args[name] = torch.empty(*[sizes.get(d, d) for d in dims], **f32)
    kernel(*[args[name] for name, _ in params])
    checkpoints = None
    if starts:
        checkpoints = [[ck_w[l][:, g] for l in range(len(shapes))] + ([ck_s[l][:, g] for l in range(len(shapes))]
                                                                      if ck_s is not None else [])
                       for g in range(len(starts))]
    raw = None
    if starts:
        raw = [t for l in range(len(shapes)) for t in ([ck_w[l]] + ([ck_s[l]] if ck_s is not None else []))]
    return ForwardResult(args["O"][:, : lay.T], state_w, state_s, checkpoints, raw)


@dataclass
class BackwardResult:
    dq: Tensor                      # (n, T, D) float32
    dk: Tensor
    dv: Tensor
    dtheta: Tensor                  # (N, n, b) chunk-major, as torch_backend.Layout keeps gates
    deta: Tensor | None
    dalpha: Tensor | None
    dweights: list[Tensor]          # gradient of the initial state (U0 when anchored), per layer
    dmomentum: list[Tensor] | None
    danchor: list[Tensor] | None    # summed over chunks (before the U = W - anchor bookkeeping)


def run_backward(ir: MemoryIR, lay: Layout, d_out: Tensor, d_weights: list[Tensor],
                 d_momentum: list[Tensor] | None, anchor: list[Tensor] | None, checkpoints: list[Tensor],
                 cfg: TileConfig, group: int) -> BackwardResult:
    """The TileLang reverse walk. d_out: (n, T, D); d_weights / d_momentum: gradients of the final
    state, per layer (n, out, in); checkpoints: the forward's raw CKW/CKS buffers, in
    codegen_bwd's parameter order (CKW0, CKS0, CKW1, ...)."""
    from .codegen_bwd import BackwardEmitter
    n, N, b, D = lay.n, lay.N, lay.b, lay.D
    dev = lay.device
    kernel = compiled_kernel(ir, cfg, "cuda" if dev.type == "cuda" else "c", kind="bwd")
    f32 = dict(dtype=torch.float32, device=dev)
    pad = lambda x: torch.nn.functional.pad(x.float(), (0, 0, 0, lay.pad)).contiguous()  # noqa: E731
    args: dict[str, Tensor] = {"Q": pad(lay.q), "K": pad(lay.k), "V": pad(lay.v), "DO": pad(d_out)}
    for name in ("DQ", "DK", "DV"):
        args[name] = _output(n, N * b, D, **f32)
    co = coeff_ops.compute(lay.theta, lay.eta, lay.alpha, lay.last)
    args.update(_kernel_coeffs(lay, co))
    bounds = group_bounds(N, group)
    args["GLO"] = torch.tensor([lo for lo, _ in bounds], dtype=torch.int32, device=dev)
    args["GHI"] = torch.tensor([hi for _, hi in bounds], dtype=torch.int32, device=dev)
    GM = max(hi - lo for lo, hi in bounds)
    shapes = ir.layer_shapes(D)
    ck = iter(checkpoints)
    for l, (o, i) in enumerate(shapes):
        args[f"CKW{l}"] = next(ck)
        if ir.gates.has_momentum:
            args[f"CKS{l}"] = next(ck)
        args[f"DW{l}"] = d_weights[l].float().contiguous().clone()
        args[f"GSTW{l}"] = torch.empty(n, GM, o, i, **f32)
        if d_momentum is not None:
            args[f"DS{l}"] = d_momentum[l].float().contiguous().clone()
            args[f"GSTS{l}"] = torch.empty(n, GM, o, i, **f32)
        if anchor is not None:
            args[f"A{l}"] = anchor[l].float().contiguous()
            args[f"DA{l}"] = torch.zeros(n, o, i, **f32)
    params = BackwardEmitter(ir, cfg).params()
    sizes = {"BH": n, "NC": N, "TP": N * b, "NG": len(bounds), "GM": GM}
    for name, dims in params:  # coefficient gradients and scratch, with their parameter shapes
        if name not in args:
            args[name] = _output(*[sizes.get(d, d) for d in dims], **f32)
    kernel(*[args[name] for name, _ in params])
    # fold the chunk-end quantities into C, a, m at each chunk's last row, then the gate gradients
    cm = lambda t: t.transpose(0, 1)  # noqa: E731  (n, N, ...) -> (N, n, ...)
    at_last = torch.zeros(N, n, b, **f32).scatter_(-1, lay.last.unsqueeze(-1), 1.0)
    dsc = cm(args["DSC"])
    dC = cm(args["DCM"]) + at_last.unsqueeze(-1) * cm(args["DCC"]).unsqueeze(-2)
    da = cm(args["DCA"]) + at_last * dsc[..., 0:1] if co.a is not None else None
    dm = cm(args["DCMO"]) + at_last * dsc[..., 1:2] if co.m is not None else None
    dw = cm(args["DCW"]) if co.w is not None else None
    dp_e = dsc[..., 2] if co.p_e is not None else None
    dtheta, deta, dalpha = coeff_ops.backward(lay.theta, lay.eta, lay.alpha, lay.last, co, dC, da, dm, dw, dp_e)
    L = len(shapes)
    return BackwardResult(args["DQ"][:, : lay.T], args["DK"][:, : lay.T], args["DV"][:, : lay.T], dtheta, deta, dalpha,
                          [args[f"DW{l}"] for l in range(L)],
                          [args[f"DS{l}"] for l in range(L)] if d_momentum is not None else None,
                          [args[f"DA{l}"] for l in range(L)] if anchor is not None else None)
