"""One-pass forward and backward for depth-1 (matrix) memories: the state on chip for the whole
sequence.

A depth-1 memory M(k) = W k (+ k with a residual) has a (D, D) state, 16 KB per matrix at
D = 64: one program per (batch, head) row holds W (and S, and the anchor) in registers from the
first chunk to the last, so the state never goes through L2 inside the chunk loop; the depth-2
kernels' hidden-tile sweeps have no counterpart. Per chunk, tokens the row side of every product:

    R = K W^T (+ K) - V,  G = loss'(R) (times 1 / max(1, |k|^2) with the normalized step)
    out = a (Q U^T) + m (Q S^T) + Q A^T - (C * Q K^T) G (+ Q)       read after the update
        = Q W^T (+ Q)                                                 or at the chunk start
    U' = a_e U + m_e S - (c G)^T K,   S' = p_e S - (w G)^T K

with W = U + A (decay_to: init: U is what forgetting scales, A the anchor) or W = U. The
backward re-runs a checkpoint group with this forward (no read; each chunk's start state, R and
step scale saved) and walks the group's chunks in reverse with the state gradient in registers:
the update's backward, the read's, then the key path's (backends/torch_backend/chunk.py
`backward`, for one layer).
"""
from __future__ import annotations

import triton
import triton.language as tl
from torch import Tensor
from triton.runtime.errors import OutOfResources

from ...errors import InputError
from ...ir import ReadMode
from .onepass import LOSSES, _loss_grad, _mmp, _operand, _tokens, group_slot
from .tiled import _chunk_coeffs
from .onepass_bwd import backward_args
from .tiled_bwd import _coeff_backward


@triton.jit
def _key_residual(K, W, v_row, t0, rows, valid, delta, D: tl.constexpr, BC: tl.constexpr, LOSS: tl.constexpr,
                  RESIDUAL: tl.constexpr, NORMALIZED: tl.constexpr, PREC: tl.constexpr):
    """R = K W^T (+ K) - V, G = loss'(R) (zero past the last token; times the step scale), and the
    per-token step scale 1 / max(1, |k|^2) (ones without the normalized step)."""
    R = _mmp(K, tl.trans(W), PREC) - _tokens(v_row, t0, rows, D, BC)
    if RESIDUAL:
        R += K
    G = tl.where(valid, _loss_grad(R, delta, LOSS), 0.0)
    scale = tl.full((BC,), 1.0, tl.float32)
    if NORMALIZED:
        scale = 1.0 / tl.maximum(tl.sum(K * K, 1), 1.0)
        G = G * scale[:, None]
    return R, G, scale


@triton.jit
def _row_matrices(st, anc, offs_dd, D: tl.constexpr, HAS_M: tl.constexpr, ANCHOR: tl.constexpr):
    """A row's (D, D) matrices: W (or U) and S from st = [W | S], the anchor from anc; an absent
    one is W again (unused)."""
    W = tl.load(st + offs_dd)
    S = W
    if HAS_M:
        S = tl.load(st + D * D + offs_dd)
    A = W
    if ANCHOR:
        A = tl.load(anc + offs_dd)
    return W, S, A


@triton.jit
def linear_forward(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, out_ptr, st_ptr, anc_ptr, ckpt_ptr, r_ptr,
                   sc_ptr, T, c_lo, c_hi, first_group, group, n_groups, delta,
                   D: tl.constexpr, BC: tl.constexpr, SN: tl.constexpr, LOSS: tl.constexpr, HAS_M: tl.constexpr,
                   HAS_D: tl.constexpr, PREC: tl.constexpr, KPREC: tl.constexpr, UPREC: tl.constexpr,
                   SAVE_CKPT: tl.constexpr, RESIDUAL: tl.constexpr, ANCHOR: tl.constexpr, AFTER: tl.constexpr,
                   READ: tl.constexpr, SAVE_R: tl.constexpr, NORMALIZED: tl.constexpr):
    """onepass.onepass_forward's contract for depth 1: q/k/v/out (n, T, D), gates (n, T), st
    (n, SN) = [U (D, D) | S (D, D)], read at the start and written back at the end; chunks
    [c_lo, c_hi); SAVE_CKPT: the state at each checkpoint group's start to ckpt (n, n_groups,
    SN); READ=False: no read, no out; SAVE_R: each chunk's R and step scale to r (n, n_groups,
    BC, D) and sc (n, n_groups, BC), chunk c_lo + j at slot j. Precisions: PREC the read's,
    KPREC the key path's, UPREC the update's."""
    row = tl.program_id(0)
    io = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    tok = tl.arange(0, BC)
    dim = tl.arange(0, D)
    offs = tok[:, None] * D + dim[None, :]
    offs_dd = dim[:, None] * D + dim[None, :]
    st = st_ptr + row.to(tl.int64) * SN
    U, S, A = _row_matrices(st, anc_ptr + row.to(tl.int64) * D * D, offs_dd, D, HAS_M, ANCHOR)
    r_row = r_ptr + row.to(tl.int64) * n_groups * BC * D
    sc_row = sc_ptr + row.to(tl.int64) * n_groups * BC
    for i in range(c_lo, c_hi):
        t0 = i * BC
        rows = tl.minimum(T - t0, BC)
        valid = (tok < rows)[:, None]
        j = i - c_lo
        if SAVE_CKPT:   # the start of a checkpoint group: its state
            g = group_slot(j, first_group, group)
            if g >= 0:
                ck = ckpt_ptr + (row.to(tl.int64) * n_groups + g) * SN
                tl.store(ck + offs_dd, U)
                if HAS_M:
                    tl.store(ck + D * D + offs_dd, S)
        theta, a, a_e, LBT, pv, Pe, w, LPT, m, m_e, p_e, FT, CT, c = _chunk_coeffs(
            theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        K = _tokens(k_ptr + io, t0, rows, D, BC)
        W = U
        if ANCHOR:
            W = U + A
        R, G, scale = _key_residual(K, W, v_ptr + io, t0, rows, valid, delta, D, BC, LOSS, RESIDUAL, NORMALIZED,
                                    KPREC)
        if SAVE_R:
            if j < n_groups:
                tl.store(r_row + j * BC * D + offs, R)
                tl.store(sc_row + j * BC + tok, scale)
        if READ:
            Q = _tokens(q_ptr + io, t0, rows, D, BC)
            Qp = _operand(Q, PREC)
            if AFTER:
                out = _mmp(Qp, tl.trans(U), PREC) * a[:, None]
                if HAS_M:
                    out += _mmp(Qp, tl.trans(S), PREC) * m[:, None]
                if ANCHOR:
                    out += _mmp(Qp, tl.trans(A), PREC)
                CQK = tl.trans(CT) * _mmp(Q, tl.trans(K), KPREC)
                out -= _mmp(_operand(CQK, PREC), G, PREC)
            else:
                out = _mmp(Qp, tl.trans(W), PREC)
            if RESIDUAL:
                out += Q
            tl.store(out_ptr + io + t0 * D + offs, out.to(out_ptr.dtype.element_ty), mask=valid)
        Kp = _operand(K, UPREC)
        nU = a_e * U - _mmp(_operand(tl.trans(G * c[:, None]), UPREC), Kp, UPREC)
        if HAS_M:
            nU += m_e * S
            S = p_e * S - _mmp(_operand(tl.trans(G * w[:, None]), UPREC), Kp, UPREC)
        U = nU
    tl.store(st + offs_dd, U)
    if HAS_M:
        tl.store(st + D * D + offs_dd, S)


@triton.jit
def linear_backward(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, do_ptr, dq_ptr, dk_ptr, dv_ptr,
                    dtheta_ptr, deta_ptr, dalpha_ptr, st_ptr, r_ptr, sc_ptr, anc_ptr, dst_ptr, dan_ptr,
                    T, c_lo, c_hi, delta,
                    D: tl.constexpr, BC: tl.constexpr, SN: tl.constexpr, LOSS: tl.constexpr,
                    RESIDUAL: tl.constexpr, HAS_M: tl.constexpr, HAS_D: tl.constexpr, ANCHOR: tl.constexpr,
                    AFTER: tl.constexpr, NORMALIZED: tl.constexpr, PREC: tl.constexpr):
    """One program per row, chunks [c_lo, c_hi) in reverse: st (n, c_hi - c_lo, SN) the chunks'
    start states, r / sc their residuals and step scales (linear_forward's re-run); dst (n, SN)
    the state gradient, read at the start (the end state's) and written at the end (the start
    state's), in registers in between; dan (n, D D) the anchor's gradient, added to."""
    row = tl.program_id(0)
    io = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    tok = tl.arange(0, BC)
    dim = tl.arange(0, D)
    offs = tok[:, None] * D + dim[None, :]
    offs_dd = dim[:, None] * D + dim[None, :]
    ds = dst_ptr + row.to(tl.int64) * SN
    gU, gS, A = _row_matrices(ds, anc_ptr + row.to(tl.int64) * D * D, offs_dd, D, HAS_M, ANCHOR)
    dA = tl.zeros((D, D), tl.float32)
    st_row = st_ptr + row.to(tl.int64) * (c_hi - c_lo) * SN
    r_row = r_ptr + row.to(tl.int64) * (c_hi - c_lo) * BC * D
    sc_row = sc_ptr + row.to(tl.int64) * (c_hi - c_lo) * BC
    for jj in range(0, c_hi - c_lo):
        c = c_hi - 1 - jj
        src = st_row + (c - c_lo) * SN
        t0 = c * BC
        rows = tl.minimum(T - t0, BC)
        valid = (tok < rows)[:, None]
        theta, a, a_e, LBT, pv, Pe, w, LPT, m, m_e, p_e, FT, CT, cv = _chunk_coeffs(
            theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        C = tl.trans(CT)
        U = tl.load(src + offs_dd)
        W = U
        if ANCHOR:
            W = U + A
        K = _tokens(k_ptr + io, t0, rows, D, BC)
        Q = _tokens(q_ptr + io, t0, rows, D, BC)
        dO = _tokens(do_ptr + io, t0, rows, D, BC)
        R = tl.load(r_row + (c - c_lo) * BC * D + offs)
        scale = tl.load(sc_row + (c - c_lo) * BC + tok)
        G = tl.where(valid, _loss_grad(R, delta, LOSS), 0.0)
        if NORMALIZED:
            G = G * scale[:, None]
        # the update: U' = a_e U + m_e S - (c G)^T K, S' = p_e S - (w G)^T K
        nU = a_e * gU
        da_e = tl.sum(tl.sum(gU * U, 1), 0)
        P = _mmp(K, tl.trans(gU), PREC)                       # [t, o] = k_t . gU[o, :]
        dG = -P * cv[:, None]
        dcv = -tl.sum(G * P, 1)
        dK = -_mmp(G * cv[:, None], gU, PREC)
        dm_e = 0.0
        dp_e = 0.0
        dw = tl.zeros((BC,), tl.float32)
        if HAS_M:
            S = tl.load(src + D * D + offs_dd)
            nS = m_e * gU + p_e * gS
            dm_e = tl.sum(tl.sum(gU * S, 1), 0)
            dp_e = tl.sum(tl.sum(gS * S, 1), 0)
            Ps = _mmp(K, tl.trans(gS), PREC)
            dG -= Ps * w[:, None]
            dw = -tl.sum(G * Ps, 1)
            dK -= _mmp(G * w[:, None], gS, PREC)
        # the read
        da = tl.zeros((BC,), tl.float32)
        dm = tl.zeros((BC,), tl.float32)
        dC = tl.zeros((BC, BC), tl.float32)
        if AFTER:
            da = tl.sum(dO * _mmp(Q, tl.trans(U), PREC), 1)
            nU += _mmp(tl.trans(dO * a[:, None]), Q, PREC)
            dQ = _mmp(dO * a[:, None], U, PREC)
            if HAS_M:
                dm = tl.sum(dO * _mmp(Q, tl.trans(S), PREC), 1)
                nS += _mmp(tl.trans(dO * m[:, None]), Q, PREC)
                dQ += _mmp(dO * m[:, None], S, PREC)
            if ANCHOR:
                dA += _mmp(tl.trans(dO), Q, PREC)
                dQ += _mmp(dO, A, PREC)
            # the mixing term -(C * Q K^T) G
            QK = _mmp(Q, tl.trans(K), PREC)
            GdO = _mmp(dO, tl.trans(G), PREC)                  # [t, j] = do_t . g_j
            dC = -GdO * QK
            dG -= _mmp(tl.trans(C * QK), dO, PREC)
            dQK = -GdO * C
            dQ += _mmp(dQK, K, PREC)
            dK += _mmp(tl.trans(dQK), Q, PREC)
        else:
            readW = _mmp(tl.trans(dO), Q, PREC)
            nU += readW
            if ANCHOR:
                dA += readW
            dQ = _mmp(dO, W, PREC)
        if RESIDUAL:
            dQ += dO
        tl.store(dq_ptr + io + t0 * D + offs, dQ.to(dq_ptr.dtype.element_ty), mask=valid)
        # the key path: R = K W^T (+ K) - V
        dR = tl.where(valid, dG, 0.0)
        if NORMALIZED:
            dR = dR * scale[:, None]
        if LOSS == 1:
            dR = tl.where(tl.abs(R) <= delta, dR, 0.0)
        tl.store(dv_ptr + io + t0 * D + offs, (-dR).to(dv_ptr.dtype.element_ty), mask=valid)
        dK += _mmp(dR, W, PREC)
        if RESIDUAL:
            dK += dR
        tl.store(dk_ptr + io + t0 * D + offs, dK.to(dk_ptr.dtype.element_ty), mask=valid)
        key = _mmp(tl.trans(dR), K, PREC)
        nU += key
        if ANCHOR:
            dA += key
        _coeff_backward(tl.trans(dC), da, dm, dcv, dw, da_e, dm_e, dp_e, theta_ptr, eta_ptr, alpha_ptr,
                        dtheta_ptr, deta_ptr, dalpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        gU = nU
        if HAS_M:
            gS = nS
    tl.store(ds + offs_dd, gU)
    if HAS_M:
        tl.store(ds + D * D + offs_dd, gS)
    if ANCHOR:
        pa = dan_ptr + row.to(tl.int64) * D * D + offs_dd
        tl.store(pa, tl.load(pa) + dA)


def _constants(ir, D: int, chunk_size: int, SN: int, anchored: bool, momentum: bool, decay: bool) -> dict:
    return dict(D=D, BC=chunk_size, SN=SN, LOSS=LOSSES[ir.loss], HAS_M=momentum, HAS_D=decay,
                RESIDUAL=ir.residual, ANCHOR=anchored, AFTER=ir.read is ReadMode.AFTER_UPDATE,
                NORMALIZED=ir.normalized_step)


def _resources(kernel: str, D: int, chunk_size: int, exc: OutOfResources) -> InputError:
    return InputError(f"{kernel} at D={D}, chunk {chunk_size}: {exc.name} {exc.required} exceeds this GPU's "
                      f"{exc.limit}; use a smaller chunk or head dim, or kernel='generic'")


def linear_launch(ir, rows: tuple, gates: tuple, out: Tensor, st: Tensor, anchor: Tensor | None, ckpt: Tensor,
                  r: Tensor, sc: Tensor, chunk_size: int, chunks: tuple[int, int], groups: tuple[int, int, int],
                  num_warps: int, precisions: tuple[str, str, str], save_ckpt: bool = False, read: bool = True,
                  save_r: bool = False) -> None:
    """The one launch of linear_forward (onepass._launch's arguments, no hidden tile)."""
    q, k, v = rows
    n, T, D = q.shape
    lr, momentum, decay = gates
    precision, key_precision, update_precision = precisions
    try:
        linear_forward[(n,)](
            q, k, v, lr, momentum if momentum is not None else lr, decay if decay is not None else lr, out, st,
            anchor if anchor is not None else st, ckpt, r, sc, T, *chunks, *groups, float(ir.huber_delta),
            PREC=precision, KPREC=key_precision, UPREC=update_precision, SAVE_CKPT=save_ckpt, READ=read,
            SAVE_R=save_r, num_warps=num_warps, num_stages=1,
            **_constants(ir, D, chunk_size, st.shape[1], anchor is not None, momentum is not None, decay is not None))
    except OutOfResources as exc:
        raise _resources("one-pass forward (depth 1)", D, chunk_size, exc) from None


def linear_backward_launch(ir, q: Tensor, k: Tensor, v: Tensor, gates: tuple, d_out: Tensor, grads: tuple,
                           states: Tensor, r: Tensor, sc: Tensor, anchor: Tensor | None, d_state: Tensor,
                           d_anchor: Tensor | None, chunk_size: int, lo: int, hi: int, num_warps: int,
                           precision: str) -> None:
    """Launch linear_backward over chunks [lo, hi) from onepass.onepass_rerun's states, residuals
    and scales; d_state (n, SN) and d_anchor updated in place."""
    n, T, D = q.shape
    SN = d_state.shape[1]
    lr, momentum, decay = gates
    try:
        linear_backward[(n,)](
            *backward_args((q, k, v), gates, d_out, grads, (states, r, sc), anchor, d_state, d_anchor),
            T, lo, hi, float(ir.huber_delta), PREC=precision,
            num_warps=num_warps, num_stages=1,
            **_constants(ir, D, chunk_size, SN, anchor is not None, momentum is not None, decay is not None))
    except OutOfResources as exc:
        raise _resources("one-pass backward (depth 1)", D, chunk_size, exc) from None


def linear_cost(ir, D: int, chunk_size: int, precision: str = "tf32", key_precision: str = "tf32",
                update_precision: str | None = None, in_bytes: int = 2) -> dict:
    """onepass.onepass_cost's figures for the depth-1 forward: no state traffic inside the chunk
    loop (the state stays in registers), products of (BC x D x D) or (BC x BC x D)."""
    mom, bc = ir.gates.has_momentum, chunk_size
    after, anchor = ir.read is ReadMode.AFTER_UPDATE, ir.decay_to_init
    p = bc * D * D
    read_products = (1 + (1 if mom else 0) + (1 if anchor else 0) + 1) if after else 1
    groups = {"key": p + (p if after else 0), "read": read_products * p, "update": (2 if mom else 1) * p}
    prec = {"key": key_precision, "read": precision, "update": update_precision or precision}
    by_precision: dict[str, int] = {}
    for g, macs in groups.items():
        by_precision[prec[g]] = by_precision.get(prec[g], 0) + macs
    state_bytes = ir.state_numel(D) * 4
    return {"macs": sum(groups.values()), "macs_by_group": groups, "macs_by_precision": by_precision,
            "recomputed_macs": 0, "products": 1 + (1 if after else 0) + read_products + (2 if mom else 1),
            "activations": 0, "state_bytes": state_bytes, "l2_state_read_bytes": 0, "l2_state_write_bytes": 0,
            "l2_anchor_read_bytes": 0, "l2_token_read_bytes": 3 * bc * D * in_bytes + 3 * bc * 4,
            "l2_token_write_bytes": bc * D * in_bytes, "l2_checkpoint_bytes": state_bytes}
