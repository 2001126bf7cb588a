"""Generate, cache, load and launch the Triton kernels of a MemoryIR."""
from __future__ import annotations

import hashlib

import torch
from torch import Tensor
from triton.runtime.errors import OutOfResources

from ... import settings
from ...errors import InputError
from ...ir import MemoryIR
from ..checkpoints import group_layout
from ..generated import import_source
from ..launch_config import TritonConfig, known_fault, triton_release
from .codegen import generate_backward, generate_forward, kernel_name, offset_names
from .plan import ScratchPlan, plan_scratch

_LOADED: dict[tuple, object] = {}
OUTPUT_FILL: float | None = None  # tests set NaN to prove the kernel writes every output element


def interpreting() -> bool:
    return settings.triton_interpret()


def load_kernel(ir: MemoryIR, kind: str = "fwd"):
    """The @triton.jit kernel of `ir` ("fwd" or "bwd"), generated and imported on the first call
    for (IR, kind, interpreter on/off) only."""
    memo = (ir, kind, interpreting())
    if memo in _LOADED:
        return _LOADED[memo]
    source = generate_forward(ir) if kind == "fwd" else generate_backward(ir)
    name = kernel_name(ir, kind)
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    key = f"{name}_{digest}{'_interp' if interpreting() else ''}"
    module = import_source(source, "triton_src", f"{name}_{digest}", f"titans_generated.{key}")
    _LOADED[memo] = getattr(module, name)
    return _LOADED[memo]


def kernel_args(ir: MemoryIR, plan: ScratchPlan, D: int, chunk_size: int, cfg: TritonConfig,
                backward: bool = False) -> dict:
    names = offset_names(ir, backward)
    values = list(plan.offsets.values()) + list(plan.state_offsets.values())
    args = dict(zip(names, values))
    args.update(D=D, BC=chunk_size, SN=plan.state_numel, SCR=plan.total, TILE=cfg.tile_for(D, chunk_size),
                PREC=cfg.precision)
    return args


def _put_anchor(plan: ScratchPlan, scratch: Tensor, anchor_flat: Tensor | None) -> None:
    if anchor_flat is not None:
        lo = plan.offsets["ANC"]
        scratch[:, lo: lo + anchor_flat.shape[1]] = anchor_flat


def _output_like(x: Tensor) -> Tensor:
    """An output buffer shaped like x that a kernel writes in full (NaN-filled when tests ask)."""
    return torch.empty_like(x) if OUTPUT_FILL is None else torch.full_like(x, OUTPUT_FILL)


def _forward_outputs(q: Tensor, num_chunks: int, group: int | None, state_numel: int):
    """What either forward kernel writes: out (like q), whether checkpoints are saved, the group
    layout (first group's length, number of groups) and the checkpoint buffer (n, groups, SN)."""
    out = _output_like(q)
    save = group is not None
    first, n_groups = group_layout(num_chunks, group) if save else (num_chunks, 1)
    ckpt = torch.empty(q.shape[0], n_groups if save else 1, state_numel, dtype=torch.float32, device=q.device)
    return out, save, first, n_groups, ckpt


def run_forward(ir: MemoryIR, q: Tensor, k: Tensor, v: Tensor, theta: Tensor, eta: Tensor | None,
                alpha: Tensor | None, state_flat: Tensor, chunk_size: int, cfg: TritonConfig, group: int | None,
                anchor_flat: Tensor | None = None):
    """Launch the forward. q, k, v: (n, T, D); gates: (n, T); state_flat: (n, SN) float32.

    Returns out (n, T, D) in q's dtype, the final state (n, SN), and the group-start state
    checkpoints (n, n_groups, SN) when `group` is given (else None).
    """
    n, T, D = q.shape
    plan = plan_scratch(ir, D, chunk_size)
    num_chunks = -(-T // chunk_size)
    scratch = torch.empty(n, plan.total, dtype=torch.float32, device=q.device)
    scratch[:, plan.offsets["ST"]: plan.offsets["ST"] + plan.state_numel] = state_flat
    _put_anchor(plan, scratch, anchor_flat)
    out, save, first, n_groups, ckpt = _forward_outputs(q, num_chunks, group, plan.state_numel)
    kernel = load_kernel(ir, "fwd")
    dummy = theta
    kernel[(n,)](q, k, v, theta, eta if eta is not None else dummy, alpha if alpha is not None else dummy,
                 out, scratch, ckpt, T, num_chunks, first, group or 1, n_groups, float(ir.huber_delta),
                 SAVE_CKPT=save, num_warps=cfg.num_warps, num_stages=cfg.num_stages,
                 **kernel_args(ir, plan, D, chunk_size, cfg))
    start = plan.offsets["ST"] + (num_chunks % 2) * plan.state_numel
    final = scratch[:, start: start + plan.state_numel].clone()
    return out, final, (ckpt if save else None)


def flatten_state(ir: MemoryIR, weights: list[Tensor], momentum: list[Tensor] | None, n: int) -> Tensor:
    """(n, SN) float32 in the kernel's order: W0, S0, W1, S1, ..."""
    parts = []
    for l, w in enumerate(weights):
        parts.append(w.reshape(n, -1).float())
        if ir.gates.has_momentum:
            parts.append(momentum[l].reshape(n, -1).float())
    return torch.cat(parts, dim=1)


def unflatten_state(ir: MemoryIR, flat: Tensor, B: int, H: int, D: int):
    """Inverse of flatten_state: (weights, momentum or None), each (B, H, out, in)."""
    weights, momentum, pos = [], [], 0
    for o, i in ir.layer_shapes(D):
        weights.append(flat[:, pos: pos + o * i].reshape(B, H, o, i))
        pos += o * i
        if ir.gates.has_momentum:
            momentum.append(flat[:, pos: pos + o * i].reshape(B, H, o, i))
            pos += o * i
    return weights, (momentum if ir.gates.has_momentum else None)


def run_backward(ir: MemoryIR, q: Tensor, k: Tensor, v: Tensor, theta: Tensor, eta: Tensor | None,
                 alpha: Tensor | None, d_out: Tensor, d_state: Tensor, ckpt: Tensor, chunk_size: int,
                 cfg: TritonConfig, group: int, anchor_flat: Tensor | None = None):
    """Launch the backward. q, k, v, d_out: (n, T, D); gates (n, T); d_state: (n, SN) gradient of
    the final state; ckpt: the forward's group-start states. Returns dq, dk, dv (n, T, D) in q's
    dtype, dtheta, deta, dalpha (n, T) float32 (None for absent gates), d_state0 (n, SN), and the
    anchor gradient accumulated over chunks (n, sum out*in) or None."""
    n, T, D = q.shape
    plan = plan_scratch(ir, D, chunk_size, backward=True)
    num_chunks = -(-T // chunk_size)
    first, n_groups = group_layout(num_chunks, group)
    scratch = torch.zeros(n, plan.total, dtype=torch.float32, device=q.device)
    dst = plan.offsets["DST"]
    scratch[:, dst: dst + plan.state_numel] = d_state
    _put_anchor(plan, scratch, anchor_flat)
    group_states = torch.empty(n, group, plan.state_numel, dtype=torch.float32, device=q.device)
    dq, dk, dv = (torch.empty_like(q) for _ in range(3))
    dtheta = torch.zeros(n, T, dtype=torch.float32, device=q.device)
    deta = torch.zeros_like(dtheta) if eta is not None else dtheta
    dalpha = torch.zeros_like(dtheta) if alpha is not None else dtheta
    kernel = load_kernel(ir, "bwd")
    kernel[(n,)](q, k, v, theta, eta if eta is not None else theta, alpha if alpha is not None else theta,
                 d_out, dq, dk, dv, dtheta, deta, dalpha, ckpt, group_states, scratch,
                 T, num_chunks, first, group, n_groups, float(ir.huber_delta), SAVE_CKPT=False,
                 num_warps=cfg.num_warps, num_stages=cfg.num_stages,
                 **kernel_args(ir, plan, D, chunk_size, cfg, backward=True))
    start = dst + (num_chunks % 2) * plan.state_numel
    d_state0 = scratch[:, start: start + plan.state_numel].clone()
    d_anchor = None
    if anchor_flat is not None:
        lo = plan.offsets["DANC"]
        d_anchor = scratch[:, lo: lo + anchor_flat.shape[1]].clone()
    return (dq, dk, dv, dtheta, (deta if eta is not None else None), (dalpha if alpha is not None else None), d_state0,
            d_anchor)


def tiled_hidden(ir: MemoryIR, D: int) -> int:
    """Hidden width of a depth-2 memory (rows of W0)."""
    return ir.layer_shapes(D)[0][0]


def tiled_constants(ir: MemoryIR, D: int, chunk_size: int, cfg: TritonConfig, anchored: bool) -> dict:
    """Constexpr arguments shared by the tiled forward and backward for `ir` (every one derived
    from the IR); the forward also takes SAVE_CKPT, FUSE, IN_PLACE and READ (False: re-run chunk states
    only)."""
    from ...ir import ReadMode
    from ...ir.ops import GRAM_SQUARINGS
    from .codegen import ACT_CODES, LOSS_CODES

    hidden = tiled_hidden(ir, D)
    # state layout [W0 (HID, D) | S0 | W1 (D, HID) | S1] (no S without momentum): sizes and offsets
    nw = hidden * D
    mom = ir.gates.has_momentum
    return dict(D=D, HID=hidden, BC=chunk_size, HB=cfg.hidden_tile(hidden, D), NW=nw, SN=(4 if mom else 2) * nw, O_S0=nw,
                O_W1=(2 if mom else 1) * nw, O_S1=3 * nw, ACT=ACT_CODES[ir.activation],
                LOSS=LOSS_CODES[ir.loss], RESIDUAL=ir.residual, HAS_M=ir.gates.has_momentum,
                HAS_D=ir.gates.has_decay, ANCHOR=anchored, NORMALIZED=ir.normalized_step,
                AFTER=ir.read is ReadMode.AFTER_UPDATE, SQUARINGS=GRAM_SQUARINGS, PREC=cfg.precision)


def _out_of_resources(kernel: str, ir: MemoryIR, D: int, chunk_size: int, cfg: TritonConfig, exc: OutOfResources,
                      fallback: str) -> InputError:
    """One line for a tiled kernel's launch that asks for more than the GPU has, naming the fixes."""
    return InputError(f"{kernel} at D={D}, chunk {chunk_size}, tile {cfg.hidden_tile(tiled_hidden(ir, D), D)}: "
                      f"{exc.name} {exc.required} exceeds this GPU's {exc.limit}; use a smaller tile or chunk, "
                      f"or {fallback}")


def check_known_fault(kernel: str, tile: int, num_warps: int, precision: str, D: int, chunk_size: int,
                      like: Tensor) -> None:
    """One InputError line, before the launch, for a config the installed Triton is known to
    miscompile (config.known_fault); only on a GPU (the interpreter runs every config)."""
    if like.is_cuda and not interpreting():
        why = known_fault(kernel, tile, num_warps, precision, D, chunk_size, triton_release())
        if why:
            raise InputError(why)


def _state_buffer(start: Tensor, cfg: TritonConfig) -> Tensor:
    """The tiled forward's state buffer, (n, 2, SN) double-buffered or (n, 1, SN) in place, holding
    `start` (n, SN) in its first half."""
    state = torch.empty(start.shape[0], 1 if cfg.in_place else 2, start.shape[1], dtype=torch.float32,
                        device=start.device)
    state[:, 0] = start
    return state


def _state_half(chunks_done: int, cfg: TritonConfig) -> int:
    """Which half of _state_buffer holds the state after `chunks_done` chunks."""
    return 0 if cfg.in_place else chunks_done % 2


def run_forward_tiled(ir: MemoryIR, q: Tensor, k: Tensor, v: Tensor, theta: Tensor, eta: Tensor | None,
                      alpha: Tensor | None, state_flat: Tensor, chunk_size: int, cfg: TritonConfig, group: int | None,
                      anchor_flat: Tensor | None = None):
    """run_forward's contract (same arguments, outputs and checkpoint layout) on the tiled kernel."""
    from .tiled import tiled_forward

    n, T, D = q.shape
    SN = state_flat.shape[1]
    num_chunks = -(-T // chunk_size)
    state = _state_buffer(state_flat, cfg)
    out, save, first, n_groups, ckpt = _forward_outputs(q, num_chunks, group, SN)
    anc = anchor_flat if anchor_flat is not None else state_flat
    try:
        tiled_forward[(n,)](
            q, k, v, theta, eta if eta is not None else theta, alpha if alpha is not None else theta,
            out, state, anc, ckpt, T, 0, num_chunks, first, group or 1, n_groups, float(ir.huber_delta),
            num_warps=cfg.num_warps, num_stages=cfg.num_stages,
            SAVE_CKPT=save, FUSE=cfg.fuse, IN_PLACE=cfg.in_place, READ=True,
            **tiled_constants(ir, D, chunk_size, cfg, anchor_flat is not None))
    except OutOfResources as exc:
        raise _out_of_resources("tiled forward", ir, D, chunk_size, cfg, exc, "kernel='generic'") from None
    final = state[:, _state_half(num_chunks, cfg)].clone()
    return out, final, (ckpt if save else None)


def run_forward_onepass(ir: MemoryIR, q: Tensor, k: Tensor, v: Tensor, theta: Tensor, eta: Tensor | None,
                        alpha: Tensor | None, state_flat: Tensor, chunk_size: int, cfg: TritonConfig, group: int | None,
                        anchor_flat: Tensor | None = None):
    """run_forward's contract (same arguments, outputs and checkpoint layout) on the one-pass
    kernel (onepass.py)."""
    from .onepass import onepass_launch

    st = state_flat.clone()
    out, ckpt = onepass_launch(ir, q, k, v, theta, eta, alpha, st, chunk_size, cfg.tile, cfg.num_warps,
                               cfg.precision, cfg.key_precision, cfg.update_precision, stage=cfg.stage, group=group,
                               anchor=anchor_flat)
    return out, st, ckpt


def run_backward_tiled(ir: MemoryIR, q: Tensor, k: Tensor, v: Tensor, theta: Tensor, eta: Tensor | None,
                       alpha: Tensor | None, d_out: Tensor, d_state: Tensor, ckpt: Tensor, chunk_size: int,
                       cfg: TritonConfig, group: int, anchor_flat: Tensor | None = None):
    """run_backward's contract on the tiled kernels (depth 2): per checkpoint group, last group
    first, the tiled forward re-runs the group's chunk-start states (read=False, one checkpoint per
    chunk), then tiled_bwd.tiled_backward walks the group's chunks in reverse."""
    from .tiled import tiled_forward
    from .tiled_bwd import scratch_floats, tiled_backward

    n, T, D = q.shape
    SN = d_state.shape[1]
    hidden = tiled_hidden(ir, D)
    num_chunks = -(-T // chunk_size)
    first, n_groups = group_layout(num_chunks, group)
    opts = dict(dtype=torch.float32, device=q.device)
    gates = [g if g is not None else theta for g in (eta, alpha)]
    anc = anchor_flat if anchor_flat is not None else d_state
    d_anchor = torch.zeros_like(anchor_flat) if anchor_flat is not None else d_state
    d_states = torch.empty(n, 2, SN, **opts)
    d_states[:, 0] = d_state
    part = torch.empty(n, scratch_floats(D, hidden, chunk_size), **opts)
    dq, dk, dv = (_output_like(q) for _ in range(3))
    dtheta = _output_like(torch.empty(n, T, **opts))
    deta = _output_like(dtheta) if eta is not None else dtheta
    dalpha = _output_like(dtheta) if alpha is not None else dtheta
    consts = tiled_constants(ir, D, chunk_size, cfg, anchored=anchor_flat is not None)
    launch = dict(num_warps=cfg.num_warps, num_stages=cfg.num_stages)
    check_known_fault("tiled backward", cfg.hidden_tile(hidden, D), cfg.num_warps, cfg.precision, D, chunk_size, q)
    try:
        for g in range(n_groups - 1, -1, -1):
            lo = 0 if g == 0 else first + (g - 1) * group
            hi = first if g == 0 else lo + group
            # chunk-start states of chunks lo .. hi-1: the re-run saves each chunk's start and stops
            # before the last chunk's update, whose result (the state at hi) is not needed
            run = _state_buffer(ckpt[:, g], cfg)
            chunk_states = torch.empty(n, hi - lo, SN, **opts)
            tiled_forward[(n,)](q, k, v, theta, *gates, q, run, anc, chunk_states, T, lo, hi - lo - 1, 1, 1,
                                hi - lo, float(ir.huber_delta), SAVE_CKPT=True, FUSE=False, IN_PLACE=cfg.in_place,
                                READ=False, **consts, **launch)
            chunk_states[:, -1] = run[:, _state_half(hi - lo - 1, cfg)]
            tiled_backward[(n,)](q, k, v, theta, *gates, d_out, dq, dk, dv, dtheta, deta, dalpha, chunk_states, anc,
                                 d_states, d_anchor, part, T, lo, hi, num_chunks, float(ir.huber_delta),
                                 **consts, **launch)
    except OutOfResources as exc:
        raise _out_of_resources("tiled backward", ir, D, chunk_size, cfg, exc, "backward='generic'") from None
    d_state0 = d_states[:, num_chunks % 2].clone()
    return (dq, dk, dv, dtheta, (deta if eta is not None else None), (dalpha if alpha is not None else None), d_state0,
            d_anchor if anchor_flat is not None else None)


def run_backward_onepass(ir: MemoryIR, q: Tensor, k: Tensor, v: Tensor, theta: Tensor, eta: Tensor | None,
                         alpha: Tensor | None, d_out: Tensor, d_state: Tensor, ckpt: Tensor, chunk_size: int,
                         cfg: TritonConfig, group: int, anchor_flat: Tensor | None = None):
    """run_backward's contract on the one-pass kernels (onepass_bwd.py): per checkpoint group,
    last group first, the one-pass forward re-runs the group's chunk-start states and loss
    residuals (no read), then onepass_backward walks the group's chunks in reverse with the state
    gradient in place. `cfg` is backward_config's: the re-run takes its key and update
    precisions (the forward's), the backward kernel its `precision`."""
    from .onepass import check_onepass, onepass_rerun
    from .onepass_bwd import backward_scratch_floats, empty_grads, onepass_backward_launch

    n, T, D = q.shape
    hb = cfg.tile
    hidden, kprec, uprec = check_onepass(ir, D, chunk_size, hb, cfg.precision, cfg.key_precision,
                                         cfg.update_precision, False)
    if ir.depth == 2:
        check_known_fault("one-pass forward", hb, cfg.num_warps, cfg.precision, D, chunk_size, q)
    num_chunks = -(-T // chunk_size)
    first, n_groups = group_layout(num_chunks, group)
    d_st = d_state.clone()
    d_anchor = torch.zeros_like(anchor_flat) if anchor_flat is not None else None
    scratch = torch.empty(n, backward_scratch_floats(D, hidden, chunk_size), dtype=torch.float32, device=q.device)
    grads = empty_grads(q, eta is not None, alpha is not None, _output_like)
    gates = (theta, eta, alpha)
    for g in range(n_groups - 1, -1, -1):
        lo = 0 if g == 0 else first + (g - 1) * group
        hi = first if g == 0 else lo + group
        states, r, sc = onepass_rerun(ir, q, k, v, *gates, ckpt[:, g], anchor_flat, chunk_size, lo, hi, hb,
                                      cfg.num_warps, kprec, uprec)
        if ir.depth == 1:   # the state on chip (onepass_linear.py)
            from .onepass_linear import linear_backward_launch
            linear_backward_launch(ir, q, k, v, gates, d_out, grads, states, r, sc, anchor_flat, d_st, d_anchor,
                                   chunk_size, lo, hi, cfg.num_warps, cfg.precision)
        elif ir.depth == 3:   # the chunk recomputed from its start state (onepass_deep.py)
            from .onepass_deep import deep_backward_launch
            deep_backward_launch(ir, q, k, v, gates, d_out, grads, states, d_st, chunk_size, lo, hi, hb,
                                 cfg.num_warps, cfg.precision)
        else:
            onepass_backward_launch(ir, q, k, v, gates, d_out, grads, states, r, sc, anchor_flat, d_st, d_anchor,
                                    scratch, chunk_size, lo, hi, hb, cfg.num_warps, cfg.precision)
    return (*grads, d_st, d_anchor)
