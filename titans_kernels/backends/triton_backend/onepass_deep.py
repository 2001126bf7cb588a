"""One-pass forward and backward for depth-3 memories: per chunk, the key path down and back,
then the read and the update layer by layer, the state in hidden tiles.

A depth-3 memory f(k) = W2 act(W1 act(W0 k)) (+ k) at D = 64 and expansion 2 has layers of
(128, 64), (128, 128) and (64, 128): 32K floats, 128 KB in float32 (twice that with momentum).
One program per (batch, head) row; the state [W0 | S0 | W1 | S1 | W2 | S2], float32, is updated in
place in global memory (L2). Per chunk, tokens the row side of every product:

    Z0 = K W0^T, X1 = act(Z0), Z1 = X1 W1^T, X2 = act(Z1), F = X2 W2^T (+ K)    key path at W_s
    G2 = loss'(F - V), G1 = (G2 W2) * act'(Z1), G0 = (G1 W1) * act'(Z0)
    Zq_l = a (Xq_l W_l^T) + m (Xq_l S_l^T) - (C * Xq_l X_l^T) G_l,  Xq_{l+1} = act(Zq_l)
           (read after the update; at the chunk start Zq_l = Xq_l W_l^T), out = Zq_2 (+ Q)
    W_l' = a_e W_l + m_e S_l - G_l^T (c X_l),  S_l' = p_e S_l - G_l^T (w X_l)

The hidden units come in tiles of HB: W0 in (HB, D) row tiles, W1 in (HB, HB) tiles, W2 in
(D, HB) column tiles, so every product is (BC x 64) @ (64 x HB) or its update transpose, as in the
depth-2 kernel. The (BC, HID) activations Z0, X1, Z1, X2, G1, G0, Xq1 and Xq2 pass through the
program's scratch (L2), one tile at a time. The loss gradient G2 needs the key path through all
three layers and G1, G0 the way back down before any layer's read or update, and no look-ahead
folds the next chunk's key path into this chunk's update (as the depth-2 sweep does), so each
weight tile is read twice per chunk (key path; read and update) and written once, its momentum
tile read and written once. The backward (deep_backward) recomputes each chunk from its start
state and walks it back with the state gradient in place. Not covered (refused in one line):
the anchor and the normalized step.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor
from triton.runtime.errors import OutOfResources

from ...errors import InputError
from ...ir import ReadMode
from .device import act_d1, act_d2, act_fn
from .onepass import ACTIVATIONS, LOSSES, _loss_grad, _mmp, _operand, _tokens, group_slot
from .tiled import _chunk_coeffs
from .tiled_bwd import _coeff_backward

SLOTS = tl.constexpr(8)   # scratch activations per program, (BC, HID) each: Z0, X1, Z1, X2, G1, G0, Xq1, Xq2


def deep_scratch_floats(chunk_size: int, hidden: int) -> int:
    return SLOTS.value * chunk_size * hidden


@triton.jit
def _tile(ptr, r0, c0, ld, R: tl.constexpr, C: tl.constexpr):
    """Pointers of the (R, C) tile at rows r0.., columns c0.. of a row-major matrix with row length ld."""
    return ptr + (r0 + tl.arange(0, R))[:, None] * ld + c0 + tl.arange(0, C)[None, :]


@triton.jit
def _load_state(ptr):
    """A tile of the state (every state access goes through _load_state and _store_state)."""
    return tl.load(ptr)


@triton.jit
def _store_state(ptr, x):
    tl.store(ptr, x)


@triton.jit
def _layers(base, D: tl.constexpr, HID: tl.constexpr, HAS_M: tl.constexpr):
    """Where each layer starts in a row of the state (or its gradient) laid out as
    [W0 (HID, D) | S0 | W1 (HID, HID) | S1 | W2 (D, HID) | S2] (no S without momentum)."""
    NL: tl.constexpr = 2 if HAS_M else 1
    p1 = base + NL * HID * D
    return base, p1, p1 + NL * HID * HID


@triton.jit
def _act_slot(scr, slot, h0, BC: tl.constexpr, HID: tl.constexpr, HB: tl.constexpr):
    """Pointers of columns h0.. (HB of them) of scratch slot `slot`, a (BC, HID) matrix."""
    return _tile(scr + slot * BC * HID, 0, h0, HID, BC, HB)


@triton.jit
def _write_tile(ptr, x, S_ptr, s, a_e, m_e, p_e, lhs_c, lhs_w, rhs, UPREC: tl.constexpr, HAS_M: tl.constexpr):
    """Store the updated tile x' = a_e x + m_e s - lhs_c rhs at ptr and, with momentum,
    s' = p_e s - lhs_w rhs at S_ptr (lhs_c = (c G)^T, lhs_w = (w G)^T, rhs the layer's input X:
    G^T (c X) = (c G)^T X)."""
    rhs = _operand(rhs, UPREC)
    nx = a_e * x - _mmp(_operand(lhs_c, UPREC), rhs, UPREC)
    if HAS_M:
        nx += m_e * s
        _store_state(S_ptr, p_e * s - _mmp(_operand(lhs_w, UPREC), rhs, UPREC))
    _store_state(ptr, nx)


@triton.jit
def _key_path(K, V, valid, st, p1, p2, scr, delta, D: tl.constexpr, HID: tl.constexpr, BC: tl.constexpr,
              HB: tl.constexpr, ACT: tl.constexpr, LOSS: tl.constexpr, RESIDUAL: tl.constexpr, PREC: tl.constexpr,
              SAVE_GW: tl.constexpr):
    """The key path at the weights st (W0), p1 (W1), p2 (W2) and the loss gradient back down:
    Z0, X1, Z1, X2, G1, G0 to scratch slots 0-5 (with SAVE_GW, G2 W2 and G1 W1 to slots 10, 11:
    the backward's act'' terms); returns R = F - V and G2 = loss'(R) (zero past the last token)."""
    # layer 0 by tiles of its outputs, layer 1 by tiles of its outputs over tiles of its inputs
    for h0 in range(0, HID, HB):
        Z0 = _mmp(K, tl.trans(_load_state(_tile(st, h0, 0, D, HB, D))), PREC)
        tl.store(_act_slot(scr, 0, h0, BC, HID, HB), Z0)
        tl.store(_act_slot(scr, 1, h0, BC, HID, HB), act_fn(Z0, ACT))
    tl.debug_barrier()
    F = tl.zeros((BC, D), tl.float32)
    for j0 in range(0, HID, HB):
        Z1 = tl.zeros((BC, HB), tl.float32)
        for h0 in range(0, HID, HB):
            Z1 += _mmp(tl.load(_act_slot(scr, 1, h0, BC, HID, HB)),
                       tl.trans(_load_state(_tile(p1, j0, h0, HID, HB, HB))), PREC)
        X2 = act_fn(Z1, ACT)
        tl.store(_act_slot(scr, 2, j0, BC, HID, HB), Z1)
        tl.store(_act_slot(scr, 3, j0, BC, HID, HB), X2)
        F += _mmp(X2, tl.trans(_load_state(_tile(p2, 0, j0, HID, D, HB))), PREC)
    if RESIDUAL:
        F += K
    R = F - V
    G2 = tl.where(valid, _loss_grad(R, delta, LOSS), 0.0)
    # the loss gradient back down: G1 by tiles, then G0 = (G1 W1) * act'(Z0) over them
    for j0 in range(0, HID, HB):
        GW = _mmp(G2, _load_state(_tile(p2, 0, j0, HID, D, HB)), PREC)
        if SAVE_GW:
            tl.store(_act_slot(scr, 10, j0, BC, HID, HB), GW)
        tl.store(_act_slot(scr, 4, j0, BC, HID, HB), GW * act_d1(tl.load(_act_slot(scr, 2, j0, BC, HID, HB)), ACT))
    tl.debug_barrier()
    for h0 in range(0, HID, HB):
        GW = tl.zeros((BC, HB), tl.float32)
        for j0 in range(0, HID, HB):
            GW += _mmp(tl.load(_act_slot(scr, 4, j0, BC, HID, HB)), _load_state(_tile(p1, j0, h0, HID, HB, HB)), PREC)
        if SAVE_GW:
            tl.store(_act_slot(scr, 11, h0, BC, HID, HB), GW)
        tl.store(_act_slot(scr, 5, h0, BC, HID, HB), GW * act_d1(tl.load(_act_slot(scr, 0, h0, BC, HID, HB)), ACT))
    return R, G2


@triton.jit
def deep_forward(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, out_ptr, st_ptr, scr_ptr, ckpt_ptr, T, c_lo,
                 c_hi, first_group, group, n_groups, delta,
                 D: tl.constexpr, HID: tl.constexpr, BC: tl.constexpr, HB: tl.constexpr, SN: tl.constexpr,
                 ACT: tl.constexpr, LOSS: tl.constexpr, HAS_M: tl.constexpr, HAS_D: tl.constexpr,
                 PREC: tl.constexpr, KPREC: tl.constexpr, UPREC: tl.constexpr, SAVE_CKPT: tl.constexpr,
                 RESIDUAL: tl.constexpr, AFTER: tl.constexpr, READ: tl.constexpr = True):
    """onepass.onepass_forward's contract for depth 3: q/k/v/out (n, T, D), gates (n, T), st
    (n, SN) = [W0 (HID, D) | S0 | W1 (HID, HID) | S1 | W2 (D, HID) | S2] updated in place; scr
    (n, deep_scratch_floats(BC, HID)) float32; chunks [c_lo, c_hi); SAVE_CKPT: the state at each
    checkpoint group's start to ckpt (n, n_groups, SN); READ=False (the backward's re-run): no
    read and no out, only the state's chunk loop. Precisions: PREC the read's, KPREC the key
    path's, UPREC the update's."""
    CK_BLOCK: tl.constexpr = HB * D   # divides SN
    row = tl.program_id(0)
    io = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    tok = tl.arange(0, BC)
    offs = tok[:, None] * D + tl.arange(0, D)[None, :]
    st, p1, p2 = _layers(st_ptr + row.to(tl.int64) * SN, D, HID, HAS_M)
    scr = scr_ptr + row.to(tl.int64) * SLOTS * BC * HID
    for i in range(c_lo, c_hi):
        t0 = i * BC
        rows = tl.minimum(T - t0, BC)
        valid = (tok < rows)[:, None]
        if SAVE_CKPT:   # the first chunk of a checkpoint group: its start state
            g = group_slot(i - c_lo, first_group, group)
            if g >= 0:
                ck = ckpt_ptr + (row.to(tl.int64) * n_groups + g) * SN
                for o in range(0, SN, CK_BLOCK):
                    tl.store(ck + o + tl.arange(0, CK_BLOCK), tl.load(st + o + tl.arange(0, CK_BLOCK)))
        theta, a, a_e, LBT, pv, Pe, w, LPT, m, m_e, p_e, FT, CT, c = _chunk_coeffs(
            theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        K = _tokens(k_ptr + io, t0, rows, D, BC)
        R, G2 = _key_path(K, _tokens(v_ptr + io, t0, rows, D, BC), valid, st, p1, p2, scr, delta, D, HID, BC, HB,
                          ACT, LOSS, RESIDUAL, KPREC, False)
        tl.debug_barrier()   # every key-path load of the state precedes the updates below
        # layer 0: read and update, one row tile at a time
        C = tl.trans(CT)
        Q = K   # (unused without the read)
        CQK = CT
        if READ:
            Q = _tokens(q_ptr + io, t0, rows, D, BC)
            if AFTER:
                CQK = _operand(C * _mmp(Q, tl.trans(K), KPREC), PREC)
        Qp = _operand(Q, PREC)
        for h0 in range(0, HID, HB):
            W0 = _load_state(_tile(st, h0, 0, D, HB, D))
            S0 = W0
            if HAS_M:
                S0 = _load_state(_tile(st + HID * D, h0, 0, D, HB, D))
            G0 = tl.load(_act_slot(scr, 5, h0, BC, HID, HB))
            if READ:
                Zq = _mmp(Qp, tl.trans(W0), PREC)
                if AFTER:
                    Zq = Zq * a[:, None]
                    if HAS_M:
                        Zq += _mmp(Qp, tl.trans(S0), PREC) * m[:, None]
                    Zq -= _mmp(CQK, _operand(G0, PREC), PREC)
                tl.store(_act_slot(scr, 6, h0, BC, HID, HB), act_fn(Zq, ACT))
            tl.debug_barrier()   # every thread's loads of this tile precede any store over it
            _write_tile(_tile(st, h0, 0, D, HB, D), W0, _tile(st + HID * D, h0, 0, D, HB, D), S0, a_e, m_e, p_e,
                        tl.trans(G0 * c[:, None]), tl.trans(G0 * w[:, None]), K, UPREC, HAS_M)
        tl.debug_barrier()
        # layer 1: C * (Xq1 X1^T) over the input tiles, then read and update by output tiles
        QX = tl.zeros((BC, BC), tl.float32)
        if AFTER and READ:
            for h0 in range(0, HID, HB):
                QX += _mmp(tl.load(_act_slot(scr, 6, h0, BC, HID, HB)),
                           tl.trans(tl.load(_act_slot(scr, 1, h0, BC, HID, HB))), KPREC)
        CQX = _operand(C * QX, PREC)
        for j0 in range(0, HID, HB):
            G1 = tl.load(_act_slot(scr, 4, j0, BC, HID, HB))
            G1c = tl.trans(G1 * c[:, None])
            G1w = tl.trans(G1 * w[:, None])
            Zq = tl.zeros((BC, HB), tl.float32)
            Zs = tl.zeros((BC, HB), tl.float32)
            for h0 in range(0, HID, HB):
                W1 = _load_state(_tile(p1, j0, h0, HID, HB, HB))
                S1 = W1
                if HAS_M:
                    S1 = _load_state(_tile(p1 + HID * HID, j0, h0, HID, HB, HB))
                if READ:
                    Xq = _operand(tl.load(_act_slot(scr, 6, h0, BC, HID, HB)), PREC)
                    Zq += _mmp(Xq, tl.trans(W1), PREC)
                    if HAS_M and AFTER:
                        Zs += _mmp(Xq, tl.trans(S1), PREC)
                X1 = tl.load(_act_slot(scr, 1, h0, BC, HID, HB))
                tl.debug_barrier()   # every thread's loads of this tile precede any store over it
                _write_tile(_tile(p1, j0, h0, HID, HB, HB), W1, _tile(p1 + HID * HID, j0, h0, HID, HB, HB), S1,
                            a_e, m_e, p_e, G1c, G1w, X1, UPREC, HAS_M)
            if READ:
                if AFTER:
                    Zq = Zq * a[:, None]
                    if HAS_M:
                        Zq += Zs * m[:, None]
                    Zq -= _mmp(CQX, _operand(G1, PREC), PREC)
                tl.store(_act_slot(scr, 7, j0, BC, HID, HB), act_fn(Zq, ACT))
        tl.debug_barrier()
        # layer 2: the read's output over the input tiles, and the update by column tiles
        out = tl.zeros((BC, D), tl.float32)
        outs = tl.zeros((BC, D), tl.float32)
        QX = tl.zeros((BC, BC), tl.float32)
        Gc = tl.trans(G2 * c[:, None])
        Gw = tl.trans(G2 * w[:, None])
        for j0 in range(0, HID, HB):
            X2 = tl.load(_act_slot(scr, 3, j0, BC, HID, HB))
            W2 = _load_state(_tile(p2, 0, j0, HID, D, HB))
            S2 = W2
            if HAS_M:
                S2 = _load_state(_tile(p2 + D * HID, 0, j0, HID, D, HB))
            if READ:
                Xq = tl.load(_act_slot(scr, 7, j0, BC, HID, HB))
                out += _mmp(_operand(Xq, PREC), tl.trans(W2), PREC)
                if HAS_M and AFTER:
                    outs += _mmp(_operand(Xq, PREC), tl.trans(S2), PREC)
                if AFTER:
                    QX += _mmp(Xq, tl.trans(X2), KPREC)
            tl.debug_barrier()   # every thread's loads of this tile precede any store over it
            _write_tile(_tile(p2, 0, j0, HID, D, HB), W2, _tile(p2 + D * HID, 0, j0, HID, D, HB), S2, a_e, m_e, p_e,
                        Gc, Gw, X2, UPREC, HAS_M)
        if READ:
            if AFTER:
                out = out * a[:, None]
                if HAS_M:
                    out += outs * m[:, None]
                out -= _mmp(_operand(C * QX, PREC), _operand(G2, PREC), PREC)
            if RESIDUAL:
                out += Q
            tl.store(out_ptr + io + t0 * D + offs, out.to(out_ptr.dtype.element_ty), mask=valid)
        tl.debug_barrier()   # this chunk's stores (state, scratch) precede the next chunk's loads


def deep_launch(ir, rows: tuple[Tensor, Tensor, Tensor], gates: tuple, out: Tensor, st: Tensor, ckpt: Tensor,
                chunk_size: int, chunks: tuple[int, int], groups: tuple[int, int, int], hb: int, num_warps: int,
                precisions: tuple[str, str, str], save_ckpt: bool = False, read: bool = True) -> None:
    """The launch of deep_forward (onepass._launch's contract at depth 3), with its
    out-of-resources line."""
    q, k, v = rows
    n, T, D = q.shape
    lr, momentum, decay = gates
    precision, key_precision, update_precision = precisions
    scr = torch.empty(n, deep_scratch_floats(chunk_size, ir.layer_shapes(D)[0][0]), device=q.device)
    try:
        deep_forward[(n,)](
            q, k, v, lr, momentum if momentum is not None else lr, decay if decay is not None else lr,
            out, st, scr, ckpt, T, *chunks, *groups, float(ir.huber_delta),
            **deep_constants(ir, D, chunk_size, hb, st.shape[1], momentum is not None, decay is not None),
            PREC=precision, KPREC=key_precision, UPREC=update_precision, SAVE_CKPT=save_ckpt, READ=read,
            num_warps=num_warps, num_stages=1)
    except OutOfResources as exc:
        raise InputError(f"one-pass forward (depth 3) at D={D}, chunk {chunk_size}, hidden tile {hb}: {exc.name} "
                         f"{exc.required} exceeds this GPU's {exc.limit}; use a smaller hidden tile or chunk") from None


def deep_constants(ir, D: int, chunk_size: int, hb: int, SN: int, has_m: bool, has_d: bool) -> dict:
    """deep_forward's constexprs that follow from the rule, the shape and the hidden tile."""
    return dict(D=D, HID=ir.layer_shapes(D)[0][0], BC=chunk_size, HB=hb, SN=SN, ACT=ACTIVATIONS[ir.activation],
                LOSS=LOSSES[ir.loss], HAS_M=has_m, HAS_D=has_d, RESIDUAL=ir.residual,
                AFTER=ir.read is ReadMode.AFTER_UPDATE)


def deep_cost(ir, D: int, chunk_size: int, hb: int = 64, precision: str = "tf32", key_precision: str = "tf32",
              update_precision: str | None = None, in_bytes: int = 2) -> dict:
    """onepass.onepass_cost's figures for the depth-3 forward: per chunk and program, the key
    path (three layers forward, two back; after the update each layer's Xq X^T, Q K^T for layer
    0, which the kernel takes at the key path's precision), the read (per layer Xq W^T, with
    momentum Xq S^T, after the update (C * Xq X^T) G), the update (G^T X per matrix); the weights
    read twice (key path; read and update), the momentum once, both written once; the scratch
    activations written once each and read where the kernel loads them (X1, G1 and Xq1 once per
    tile of the other layer-1 side)."""
    bc, mom = chunk_size, ir.gates.has_momentum
    after = ir.read is ReadMode.AFTER_UPDATE
    shapes = ir.layer_shapes(D)                                   # (out, in) per layer
    sizes = [o * i for o, i in shapes]
    key = sum(bc * s for s in sizes) + sum(bc * s for s in sizes[1:])
    read = sum(bc * s * (2 if (mom and after) else 1) for s in sizes)
    if after:   # Xq X^T per layer (Q K^T for layer 0) at the key path's precision, (C * .) G at the read's
        key += sum(bc * bc * i for o, i in shapes)
        read += sum(bc * bc * o for o, i in shapes)
    update = sum(bc * s * (2 if mom else 1) for s in sizes)
    groups = {"key": key, "read": read, "update": update}
    prec = {"key": key_precision, "read": precision, "update": update_precision or precision}
    by_precision: dict[str, int] = {}
    for g, macs in groups.items():
        by_precision[prec[g]] = by_precision.get(prec[g], 0) + macs
    t = shapes[0][0] // hb                                          # hidden tiles
    ms, mix, upd = (1 if (mom and after) else 0), (1 if after else 0), (2 if mom else 1)
    products = (2 * t * t + 3 * t + mix                               # key path: Z0, Z1, F, G1, G1 W1; Q K^T
                + t * (1 + ms + mix + upd)                            # layer 0: read, mixing term, update
                + t * mix + t * t * (1 + ms + upd) + t * mix          # layer 1: Xq1 X1^T, read, update, mixing
                + t * (1 + ms + mix + upd) + mix)                     # layer 2
    act_bytes = bc * shapes[0][0] * 4                             # one (BC, HID) scratch slot
    state_bytes = ir.state_numel(D) * 4
    weights_bytes = sum(sizes) * 4
    io_bytes = 3 * bc * D * in_bytes + 3 * bc * 4                    # q, k, v; gates as float32
    return {"macs": sum(groups.values()), "macs_by_group": groups, "macs_by_precision": by_precision,
            "recomputed_macs": 0, "products": products,
            "activations": 3 * bc * (shapes[0][0] + shapes[1][0]),   # act and act' of Z0, Z1; act of Zq0, Zq1
            "state_bytes": state_bytes, "l2_state_read_bytes": state_bytes + weights_bytes,
            "l2_state_write_bytes": state_bytes, "l2_anchor_read_bytes": 0,
            "l2_token_read_bytes": io_bytes, "l2_token_write_bytes": bc * D * in_bytes,
            "l2_scratch_read_bytes": (4 * t + 7) * act_bytes, "l2_scratch_write_bytes": SLOTS.value * act_bytes,
            "l2_checkpoint_bytes": state_bytes}


# ---- backward ----------------------------------------------------------------------------------

BWD_SLOTS = tl.constexpr(20)   # (BC, HID) scratch per program: the chunk's recomputed activations and gradients
# 0 Z0, 1 X1, 2 Z1, 3 X2, 4 G1, 5 G0, 6 Xq1, 7 Xq2, 8 Zq0, 9 Zq1, 10 G2 W2, 11 G1 W1 (the recomputed forward);
# 12 dX1, 13 dX2, 14 dG0, 15 dG1, 16 the read's dZq (layer 1, then layer 0), 17 dXq1, then d(G1 W1), 18 dZ0, 19 dZ1


def deep_backward_scratch_floats(chunk_size: int, hidden: int) -> int:
    return BWD_SLOTS.value * chunk_size * hidden


@triton.jit
def _rmw(ptr, x):
    """*ptr += x (a scratch tile)."""
    tl.store(ptr, tl.load(ptr) + x)


@triton.jit
def _rmw_state(ptr, x):
    """The state gradient's tile at ptr, plus x."""
    _store_state(ptr, _load_state(ptr) + x)


@triton.jit
def _update_backward(gw_ptr, gs_ptr, w_ptr, s_ptr, X, G, cv, w, a_e, m_e, p_e, da_e, dm_e, dp_e, dcv, dw,
                     PREC: tl.constexpr, HAS_M: tl.constexpr):
    """One state tile's part of the update's backward (W' = a_e W + m_e S - G^T (c X),
    S' = p_e S - G^T (w X)), X the layer input's and G the loss gradient's matching tiles: returns
    the tile's terms of dG and dX and the sums d a_e, d m_e, d p_e, dc, dw with its contributions
    added, and turns the state gradient's tiles at gw_ptr, gs_ptr from the end state's into the
    start state's (a_e dW', m_e dW' + p_e dS')."""
    gW = _load_state(gw_ptr)
    P = _mmp(X, tl.trans(gW), PREC)                  # [t, o] = x_t . dW'[o, :]
    dG = -P * cv[:, None]
    dcv -= tl.sum(G * P, 1)
    dX = -_mmp(G * cv[:, None], gW, PREC)
    da_e += tl.sum(tl.sum(gW * tl.load(w_ptr), 1), 0)
    nS = gW
    if HAS_M:
        gS = _load_state(gs_ptr)
        S = tl.load(s_ptr)
        dm_e += tl.sum(tl.sum(gW * S, 1), 0)
        dp_e += tl.sum(tl.sum(gS * S, 1), 0)
        Ps = _mmp(X, tl.trans(gS), PREC)
        dG -= Ps * w[:, None]
        dw -= tl.sum(G * Ps, 1)
        dX -= _mmp(G * w[:, None], gS, PREC)
        nS = m_e * gW + p_e * gS
    tl.debug_barrier()   # every thread's loads of these tiles precede any store over them
    _store_state(gw_ptr, a_e * gW)
    if HAS_M:
        _store_state(gs_ptr, nS)
    return dG, dX, da_e, dm_e, dp_e, dcv, dw


@triton.jit
def deep_backward(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, do_ptr, dq_ptr, dk_ptr, dv_ptr,
                  dtheta_ptr, deta_ptr, dalpha_ptr, st_ptr, dst_ptr, scr_ptr, T, c_lo, c_hi, delta,
                  D: tl.constexpr, HID: tl.constexpr, BC: tl.constexpr, HB: tl.constexpr, SN: tl.constexpr,
                  ACT: tl.constexpr, LOSS: tl.constexpr, HAS_M: tl.constexpr, HAS_D: tl.constexpr,
                  RESIDUAL: tl.constexpr, AFTER: tl.constexpr, PREC: tl.constexpr):
    """One program per row, chunks [c_lo, c_hi) in reverse: st (n, c_hi - c_lo, SN) the chunks'
    start states (deep_forward's re-run), dst (n, SN) the state gradient, the end state's on entry
    and the start state's on exit, updated in place tile by tile; scr (n,
    deep_backward_scratch_floats(BC, HID)). Per chunk the forward is recomputed from its start
    state (key path, loss gradient chain, read), then walked back (backends/torch_backend/chunk.py
    `backward`, three layers): the update's backward, the read's top layer down, the loss
    gradient chain (G0 to G1 to G2), the key path's."""
    row = tl.program_id(0)
    io = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    tok = tl.arange(0, BC)
    offs = tok[:, None] * D + tl.arange(0, D)[None, :]
    ds, d1, d2 = _layers(dst_ptr + row.to(tl.int64) * SN, D, HID, HAS_M)
    scr = scr_ptr + row.to(tl.int64) * BWD_SLOTS * BC * HID
    for jj in range(0, c_hi - c_lo):
        ci = c_hi - 1 - jj
        st, p1, p2 = _layers(st_ptr + (row.to(tl.int64) * (c_hi - c_lo) + (ci - c_lo)) * SN, D, HID, HAS_M)
        t0 = ci * BC
        rows = tl.minimum(T - t0, BC)
        valid = (tok < rows)[:, None]
        theta, a, a_e, LBT, pv, Pe, w, LPT, m, m_e, p_e, FT, CT, cv = _chunk_coeffs(
            theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        C = tl.trans(CT)
        K = _tokens(k_ptr + io, t0, rows, D, BC)
        Q = _tokens(q_ptr + io, t0, rows, D, BC)
        dO = _tokens(do_ptr + io, t0, rows, D, BC)
        # -- the chunk's forward again, from its start state: key path, loss gradient chain, read
        R, G2 = _key_path(K, _tokens(v_ptr + io, t0, rows, D, BC), valid, st, p1, p2, scr, delta, D, HID, BC, HB,
                          ACT, LOSS, RESIDUAL, PREC, True)
        tl.debug_barrier()
        QK0 = _mmp(Q, tl.trans(K), PREC)
        M0 = C * QK0
        for h0 in range(0, HID, HB):
            W0 = tl.load(_tile(st, h0, 0, D, HB, D))
            Zq = _mmp(Q, tl.trans(W0), PREC)
            if AFTER:
                Zq = Zq * a[:, None]
                if HAS_M:
                    Zq += _mmp(Q, tl.trans(tl.load(_tile(st + HID * D, h0, 0, D, HB, D))), PREC) * m[:, None]
                Zq -= _mmp(M0, tl.load(_act_slot(scr, 5, h0, BC, HID, HB)), PREC)
            tl.store(_act_slot(scr, 8, h0, BC, HID, HB), Zq)
            tl.store(_act_slot(scr, 6, h0, BC, HID, HB), act_fn(Zq, ACT))
        tl.debug_barrier()
        QX1 = tl.zeros((BC, BC), tl.float32)
        for h0 in range(0, HID, HB):
            QX1 += _mmp(tl.load(_act_slot(scr, 6, h0, BC, HID, HB)), tl.trans(tl.load(_act_slot(scr, 1, h0, BC, HID, HB))),
                        PREC)
        M1 = C * QX1
        for j0 in range(0, HID, HB):
            Zq = tl.zeros((BC, HB), tl.float32)
            Zs = tl.zeros((BC, HB), tl.float32)
            for h0 in range(0, HID, HB):
                Xq = tl.load(_act_slot(scr, 6, h0, BC, HID, HB))
                Zq += _mmp(Xq, tl.trans(tl.load(_tile(p1, j0, h0, HID, HB, HB))), PREC)
                if HAS_M and AFTER:
                    Zs += _mmp(Xq, tl.trans(tl.load(_tile(p1 + HID * HID, j0, h0, HID, HB, HB))), PREC)
            if AFTER:
                Zq = Zq * a[:, None] + Zs * m[:, None] - _mmp(M1, tl.load(_act_slot(scr, 4, j0, BC, HID, HB)), PREC)
            tl.store(_act_slot(scr, 9, j0, BC, HID, HB), Zq)
            tl.store(_act_slot(scr, 7, j0, BC, HID, HB), act_fn(Zq, ACT))
        tl.debug_barrier()
        # -- the update's backward: W' = a_e W + m_e S - G^T (c X), S' = p_e S - G^T (w X), per layer
        da_e = 0.0
        dm_e = 0.0
        dp_e = 0.0
        dcv = tl.zeros((BC,), tl.float32)
        dw = tl.zeros((BC,), tl.float32)
        dK = tl.zeros((BC, D), tl.float32)
        dG2 = tl.zeros((BC, D), tl.float32)
        for h0 in range(0, HID, HB):   # layer 0: X = K, row tiles
            dG, dX, da_e, dm_e, dp_e, dcv, dw = _update_backward(
                _tile(ds, h0, 0, D, HB, D), _tile(ds + HID * D, h0, 0, D, HB, D), _tile(st, h0, 0, D, HB, D),
                _tile(st + HID * D, h0, 0, D, HB, D), K, tl.load(_act_slot(scr, 5, h0, BC, HID, HB)), cv, w,
                a_e, m_e, p_e, da_e, dm_e, dp_e, dcv, dw, PREC, HAS_M)
            dK += dX
            tl.store(_act_slot(scr, 14, h0, BC, HID, HB), dG)
        for h0 in range(0, HID, HB):
            tl.store(_act_slot(scr, 12, h0, BC, HID, HB), tl.zeros((BC, HB), tl.float32))
        tl.debug_barrier()
        for j0 in range(0, HID, HB):   # layer 1: X = X1, (HB, HB) tiles
            G = tl.load(_act_slot(scr, 4, j0, BC, HID, HB))
            dG1 = tl.zeros((BC, HB), tl.float32)
            for h0 in range(0, HID, HB):
                dG, dX, da_e, dm_e, dp_e, dcv, dw = _update_backward(
                    _tile(d1, j0, h0, HID, HB, HB), _tile(d1 + HID * HID, j0, h0, HID, HB, HB),
                    _tile(p1, j0, h0, HID, HB, HB), _tile(p1 + HID * HID, j0, h0, HID, HB, HB),
                    tl.load(_act_slot(scr, 1, h0, BC, HID, HB)), G, cv, w, a_e, m_e, p_e, da_e, dm_e, dp_e, dcv, dw,
                    PREC, HAS_M)
                dG1 += dG
                _rmw(_act_slot(scr, 12, h0, BC, HID, HB), dX)
            tl.store(_act_slot(scr, 15, j0, BC, HID, HB), dG1)
        for j0 in range(0, HID, HB):   # layer 2: X = X2, column tiles (D, HB)
            dG, dX, da_e, dm_e, dp_e, dcv, dw = _update_backward(
                _tile(d2, 0, j0, HID, D, HB), _tile(d2 + D * HID, 0, j0, HID, D, HB), _tile(p2, 0, j0, HID, D, HB),
                _tile(p2 + D * HID, 0, j0, HID, D, HB), tl.load(_act_slot(scr, 3, j0, BC, HID, HB)), G2, cv, w,
                a_e, m_e, p_e, da_e, dm_e, dp_e, dcv, dw, PREC, HAS_M)
            dG2 += dG
            tl.store(_act_slot(scr, 13, j0, BC, HID, HB), dX)
        tl.debug_barrier()
        # -- the read's backward, top layer down (dz: the gradient of the layer's Zq)
        da = tl.zeros((BC,), tl.float32)
        dm = tl.zeros((BC,), tl.float32)
        dC = tl.zeros((BC, BC), tl.float32)
        dQ = tl.zeros((BC, D), tl.float32)
        ga = dO
        gm = dO
        if AFTER:
            ga = dO * a[:, None]
            gm = dO * m[:, None]
            QX2 = tl.zeros((BC, BC), tl.float32)
            for j0 in range(0, HID, HB):
                QX2 += _mmp(tl.load(_act_slot(scr, 7, j0, BC, HID, HB)), tl.trans(tl.load(_act_slot(scr, 3, j0, BC, HID, HB))),
                            PREC)
            GdO = _mmp(dO, tl.trans(G2), PREC)
            dC -= GdO * QX2
            dQK = -GdO * C
            dG2 -= _mmp(tl.trans(C * QX2), dO, PREC)
        for j0 in range(0, HID, HB):   # layer 2
            Xq = tl.load(_act_slot(scr, 7, j0, BC, HID, HB))
            W = tl.load(_tile(p2, 0, j0, HID, D, HB))
            dXq = _mmp(ga, W, PREC)
            if AFTER:
                da += tl.sum(dO * _mmp(Xq, tl.trans(W), PREC), 1)
                if HAS_M:
                    S = tl.load(_tile(p2 + D * HID, 0, j0, HID, D, HB))
                    dm += tl.sum(dO * _mmp(Xq, tl.trans(S), PREC), 1)
                    dXq += _mmp(gm, S, PREC)
                    _rmw_state(_tile(d2 + D * HID, 0, j0, HID, D, HB), _mmp(tl.trans(gm), Xq, PREC))
                dXq += _mmp(dQK, tl.load(_act_slot(scr, 3, j0, BC, HID, HB)), PREC)
                _rmw(_act_slot(scr, 13, j0, BC, HID, HB), _mmp(tl.trans(dQK), Xq, PREC))
            _rmw_state(_tile(d2, 0, j0, HID, D, HB), _mmp(tl.trans(ga), Xq, PREC))
            tl.store(_act_slot(scr, 16, j0, BC, HID, HB), dXq * act_d1(tl.load(_act_slot(scr, 9, j0, BC, HID, HB)), ACT))
        for h0 in range(0, HID, HB):
            tl.store(_act_slot(scr, 17, h0, BC, HID, HB), tl.zeros((BC, HB), tl.float32))
        tl.debug_barrier()
        if AFTER:   # layer 1's mixing term
            GdO = tl.zeros((BC, BC), tl.float32)
            for j0 in range(0, HID, HB):
                dz = tl.load(_act_slot(scr, 16, j0, BC, HID, HB))
                GdO += _mmp(dz, tl.trans(tl.load(_act_slot(scr, 4, j0, BC, HID, HB))), PREC)
                _rmw(_act_slot(scr, 15, j0, BC, HID, HB), -_mmp(tl.trans(M1), dz, PREC))
            dC -= GdO * QX1
            dQK = -GdO * C
        for j0 in range(0, HID, HB):   # layer 1
            dz = tl.load(_act_slot(scr, 16, j0, BC, HID, HB))
            dza = dz
            dzm = dz
            if AFTER:
                dza = dz * a[:, None]
                dzm = dz * m[:, None]
            for h0 in range(0, HID, HB):
                Xq = tl.load(_act_slot(scr, 6, h0, BC, HID, HB))
                W = tl.load(_tile(p1, j0, h0, HID, HB, HB))
                dXq = _mmp(dza, W, PREC)
                if AFTER:
                    da += tl.sum(dz * _mmp(Xq, tl.trans(W), PREC), 1)
                    if HAS_M:
                        S = tl.load(_tile(p1 + HID * HID, j0, h0, HID, HB, HB))
                        dm += tl.sum(dz * _mmp(Xq, tl.trans(S), PREC), 1)
                        dXq += _mmp(dzm, S, PREC)
                        _rmw_state(_tile(d1 + HID * HID, j0, h0, HID, HB, HB), _mmp(tl.trans(dzm), Xq, PREC))
                _rmw_state(_tile(d1, j0, h0, HID, HB, HB), _mmp(tl.trans(dza), Xq, PREC))
                _rmw(_act_slot(scr, 17, h0, BC, HID, HB), dXq)
        tl.debug_barrier()
        for h0 in range(0, HID, HB):
            dXq = tl.load(_act_slot(scr, 17, h0, BC, HID, HB))
            if AFTER:
                Xq = tl.load(_act_slot(scr, 6, h0, BC, HID, HB))
                dXq += _mmp(dQK, tl.load(_act_slot(scr, 1, h0, BC, HID, HB)), PREC)
                _rmw(_act_slot(scr, 12, h0, BC, HID, HB), _mmp(tl.trans(dQK), Xq, PREC))
            tl.store(_act_slot(scr, 16, h0, BC, HID, HB), dXq * act_d1(tl.load(_act_slot(scr, 8, h0, BC, HID, HB)), ACT))
        tl.debug_barrier()
        GdO = tl.zeros((BC, BC), tl.float32)
        for h0 in range(0, HID, HB):   # layer 0
            dz = tl.load(_act_slot(scr, 16, h0, BC, HID, HB))
            W = tl.load(_tile(st, h0, 0, D, HB, D))
            dza = dz
            if AFTER:
                dza = dz * a[:, None]
                da += tl.sum(dz * _mmp(Q, tl.trans(W), PREC), 1)
                if HAS_M:
                    S = tl.load(_tile(st + HID * D, h0, 0, D, HB, D))
                    dzm = dz * m[:, None]
                    dm += tl.sum(dz * _mmp(Q, tl.trans(S), PREC), 1)
                    dQ += _mmp(dzm, S, PREC)
                    _rmw_state(_tile(ds + HID * D, h0, 0, D, HB, D), _mmp(tl.trans(dzm), Q, PREC))
                GdO += _mmp(dz, tl.trans(tl.load(_act_slot(scr, 5, h0, BC, HID, HB))), PREC)
                _rmw(_act_slot(scr, 14, h0, BC, HID, HB), -_mmp(tl.trans(M0), dz, PREC))
            dQ += _mmp(dza, W, PREC)
            _rmw_state(_tile(ds, h0, 0, D, HB, D), _mmp(tl.trans(dza), Q, PREC))
        if AFTER:
            dC -= GdO * QK0
            dQK = -GdO * C
            dQ += _mmp(dQK, K, PREC)
            dK += _mmp(tl.trans(dQK), Q, PREC)
        if RESIDUAL:
            dQ += dO
        tl.store(dq_ptr + io + t0 * D + offs, dQ.to(dq_ptr.dtype.element_ty), mask=valid)
        tl.debug_barrier()
        # -- the loss gradient chain: G0 = (G1 W1) * act'(Z0), G1 = (G2 W2) * act'(Z1)
        for h0 in range(0, HID, HB):
            dG = tl.load(_act_slot(scr, 14, h0, BC, HID, HB))
            Z = tl.load(_act_slot(scr, 0, h0, BC, HID, HB))
            tl.store(_act_slot(scr, 17, h0, BC, HID, HB), dG * act_d1(Z, ACT))
            tl.store(_act_slot(scr, 18, h0, BC, HID, HB),
                     dG * tl.load(_act_slot(scr, 11, h0, BC, HID, HB)) * act_d2(Z, ACT))
        tl.debug_barrier()
        for j0 in range(0, HID, HB):
            G = tl.load(_act_slot(scr, 4, j0, BC, HID, HB))
            dG = tl.load(_act_slot(scr, 15, j0, BC, HID, HB))
            for h0 in range(0, HID, HB):
                dp = tl.load(_act_slot(scr, 17, h0, BC, HID, HB))
                dG += _mmp(dp, tl.trans(tl.load(_tile(p1, j0, h0, HID, HB, HB))), PREC)
                _rmw_state(_tile(d1, j0, h0, HID, HB, HB), _mmp(tl.trans(G), dp, PREC))
            Z = tl.load(_act_slot(scr, 2, j0, BC, HID, HB))
            dp = dG * act_d1(Z, ACT)
            tl.store(_act_slot(scr, 19, j0, BC, HID, HB),
                     dG * tl.load(_act_slot(scr, 10, j0, BC, HID, HB)) * act_d2(Z, ACT))
            dG2 += _mmp(dp, tl.trans(tl.load(_tile(p2, 0, j0, HID, D, HB))), PREC)
            _rmw_state(_tile(d2, 0, j0, HID, D, HB), _mmp(tl.trans(G2), dp, PREC))
        dR = tl.where(valid, dG2, 0.0)
        if LOSS == 1:
            dR = tl.where(tl.abs(R) <= delta, dR, 0.0)
        tl.store(dv_ptr + io + t0 * D + offs, (-dR).to(dv_ptr.dtype.element_ty), mask=valid)
        if RESIDUAL:
            dK += dR
        tl.debug_barrier()
        # -- the key path's backward: F = X2 W2^T, Z1 = X1 W1^T, Z0 = K W0^T
        for j0 in range(0, HID, HB):
            X = tl.load(_act_slot(scr, 3, j0, BC, HID, HB))
            _rmw_state(_tile(d2, 0, j0, HID, D, HB), _mmp(tl.trans(dR), X, PREC))
            dX = tl.load(_act_slot(scr, 13, j0, BC, HID, HB)) + _mmp(dR, tl.load(_tile(p2, 0, j0, HID, D, HB)), PREC)
            _rmw(_act_slot(scr, 19, j0, BC, HID, HB), dX * act_d1(tl.load(_act_slot(scr, 2, j0, BC, HID, HB)), ACT))
        tl.debug_barrier()
        for h0 in range(0, HID, HB):
            X = tl.load(_act_slot(scr, 1, h0, BC, HID, HB))
            dX = tl.load(_act_slot(scr, 12, h0, BC, HID, HB))
            for j0 in range(0, HID, HB):
                dZ = tl.load(_act_slot(scr, 19, j0, BC, HID, HB))
                dX += _mmp(dZ, tl.load(_tile(p1, j0, h0, HID, HB, HB)), PREC)
                _rmw_state(_tile(d1, j0, h0, HID, HB, HB), _mmp(tl.trans(dZ), X, PREC))
            _rmw(_act_slot(scr, 18, h0, BC, HID, HB), dX * act_d1(tl.load(_act_slot(scr, 0, h0, BC, HID, HB)), ACT))
        tl.debug_barrier()
        for h0 in range(0, HID, HB):
            dZ = tl.load(_act_slot(scr, 18, h0, BC, HID, HB))
            _rmw_state(_tile(ds, h0, 0, D, HB, D), _mmp(tl.trans(dZ), K, PREC))
            dK += _mmp(dZ, tl.load(_tile(st, h0, 0, D, HB, D)), PREC)
        tl.store(dk_ptr + io + t0 * D + offs, dK.to(dk_ptr.dtype.element_ty), mask=valid)
        _coeff_backward(tl.trans(dC), da, dm, dcv, dw, da_e, dm_e, dp_e, theta_ptr, eta_ptr, alpha_ptr,
                        dtheta_ptr, deta_ptr, dalpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        tl.debug_barrier()   # this chunk's stores precede the previous chunk's loads


def deep_backward_launch(ir, q: Tensor, k: Tensor, v: Tensor, gates: tuple, d_out: Tensor, grads: tuple,
                         states: Tensor, d_state: Tensor, chunk_size: int, lo: int, hi: int, hb: int,
                         num_warps: int, precision: str) -> None:
    """Launch deep_backward over chunks [lo, hi) from onepass.onepass_rerun's start states;
    d_state (n, SN) updated in place, the gradients `grads` (dq, dk, dv, d theta, d eta,
    d alpha) written for those chunks' tokens."""
    from .onepass_bwd import backward_args

    n, T, D = q.shape
    lr, momentum, decay = gates
    scr = torch.empty(n, deep_backward_scratch_floats(chunk_size, ir.layer_shapes(D)[0][0]), device=q.device)
    args = [*backward_args((q, k, v), gates, d_out, grads, (), None, d_state, None)[:13], states, d_state]
    try:
        deep_backward[(n,)](
            *args, scr, T, lo, hi, float(ir.huber_delta), PREC=precision, num_warps=num_warps, num_stages=1,
            **deep_constants(ir, D, chunk_size, hb, d_state.shape[1], momentum is not None, decay is not None))
    except OutOfResources as exc:
        raise InputError(f"one-pass backward (depth 3) at D={D}, chunk {chunk_size}, hidden tile {hb}: {exc.name} "
                         f"{exc.required} exceeds this GPU's {exc.limit}; use a smaller hidden tile or chunk, or "
                         f"backward='generic'") from None


def deep_backward_cost(ir, D: int, chunk_size: int, hb: int = 64, precision: str = "tf32", in_bytes: int = 2) -> dict:
    """What one program of deep_backward does per chunk (the re-run, a forward without the read,
    left out): multiply-adds by group (the chunk's forward recomputed from its start state; the
    update's backward; the read's backward; the loss-gradient chain and the key path's backward,
    "key"), products, and bytes through L2: the start state's tiles where each phase reads them,
    the state gradient's (read and written in the update's backward, then added to by the read's,
    the chain's and the key path's), the program's scratch (BWD_SLOTS slots of (BC, HID), each
    written at least once per chunk) and the tokens. Keys as onepass.onepass_cost's, plus
    l2_grad_read_bytes, l2_grad_write_bytes and l2_scratch_bytes."""
    b, mom = chunk_size, ir.gates.has_momentum
    ms = 1 if (mom and ir.read is ReadMode.AFTER_UPDATE) else 0      # the read's momentum terms
    mix = 1 if ir.read is ReadMode.AFTER_UPDATE else 0                # the read's mixing terms
    shapes = ir.layer_shapes(D)
    s0, s1, s2 = (o * i for o, i in shapes)
    hid, t = shapes[0][0], shapes[0][0] // hb
    bbh, bbd = b * b * hid, b * b * D
    groups = {   # forward again: key path and chain, Q K^T, layers 0 and 1 of the read, Xq1 X1^T
        "recompute": b * (s0 + 2 * s1 + 2 * s2) + bbd + b * (s0 + s1) * (1 + ms) + bbh + 2 * mix * bbh,
        "update": 2 * (1 + mom) * b * (s0 + s1 + s2),
        "read": b * (s0 + s1 + s2) * (2 + mix + 3 * ms) + mix * (9 * bbh + 4 * bbd),
        "key": 2 * b * s0 + 4 * b * (s1 + s2),
    }
    products = (2 * t * t + 3 * t + 1 + t * (1 + ms + mix) + t + t * t * (1 + ms) + t * mix
                + 2 * (1 + mom) * (2 * t + t * t)
                + mix * (t + 2) + 2 * t * (2 + 3 * mix + 3 * ms) + 4 * t * mix + t * t * (2 + mix + 3 * ms) + 2 * mix
                + 2 * t * t + 2 * t + 2 * t * t + 4 * t)
    macs = sum(groups.values())
    w0, w1, w2 = s0 * 4, s1 * 4, s2 * 4
    state_read = 5 * w0 + 7 * w1 + 6 * w2 + (w0 + w1) * (2 * ms + mom) + w2 * (mom + ms)
    grad = 3 * w0 + 4 * (w1 + w2) + (w0 + w1 + w2) * (mom + ms)
    return {"macs": macs, "macs_by_group": groups, "macs_by_precision": {precision: macs},
            "recomputed_macs": groups["recompute"], "products": products,
            "activations": 4 * b * hid,   # act' of Z0, Z1, Zq0, Zq1 (act and act'' besides)
            "state_bytes": ir.state_numel(D) * 4, "l2_state_read_bytes": state_read, "l2_state_write_bytes": 0,
            "l2_grad_read_bytes": grad, "l2_grad_write_bytes": grad, "l2_anchor_read_bytes": 0,
            "l2_scratch_bytes": BWD_SLOTS.value * b * hid * 4,
            "l2_token_read_bytes": 4 * b * D * in_bytes + 3 * b * 4, "l2_token_write_bytes": 3 * b * D * in_bytes + 3 * b * 4,
            "l2_checkpoint_bytes": ir.state_numel(D) * 4}
