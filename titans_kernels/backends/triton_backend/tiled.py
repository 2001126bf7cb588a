"""Register-tiled forward kernel for depth-2 memories (every shipped depth-2 spec).

The generic kernel (codegen.py) routes every product of the dual form through the program's
global scratch, one barrier-separated call per step. Here one program per (batch, head) row
keeps the chunk's token-side operands in registers: K, Q, V (BC x D), C * Q K^T (BC x BC), the
loss gradient G1 (BC x D) and the read accumulators. The state (W_l, S_l of both layers, float32)
is too large for one SM at expansion 4 (256 KB at D=64), so it streams through L2 in tiles of
HB hidden units: layer 0 rows [h, h+HB) and layer 1 columns [h, h+HB). Two passes per chunk:

  pass 1 (key path): Z0_h = K W0_h^T, X1_h = act(Z0_h), Z1 += X1_h W1_h^T; with the normalized
          step also the Gram matrix of W1 and the per-token curvature sums;
  then    G1 = loss'(Z1 - V) (times the step scale);
  pass 2: recompute Z0_h (cheaper than keeping BC x HID values), G0_h = (G1 W1_h) * act'(Z0_h),
          the read Zq0_h, Xq1_h = act(Zq0_h), accumulate Zq1 and Xq1 X1^T, then write the
          end-of-chunk tiles of W and S into the other half of a double-buffered state.

Every IR choice is a constexpr (activation, loss, residual, gates present, anchor, normalized
step, read mode), so one source serves every depth-2 spec and no spec text reaches it. The
state layout, checkpoints and final-state location are the generic kernel's, so the generic
backward kernel consumes this forward's checkpoints unchanged.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .device import LOG_FLOOR, act_d1, act_fn


@triton.jit
def _opnorm_sq_bound(G, SQUARINGS: tl.constexpr, PREC: tl.constexpr):
    """||W||_op^2 bound from the Gram matrix G (ir/ops.py op_norm_sq_bound)."""
    log_bound = 0.0
    for s in tl.static_range(SQUARINGS + 1):
        nrm = tl.maximum(tl.sqrt(tl.sum(tl.sum(G * G, 1), 0)), 1e-30)
        if s < SQUARINGS:
            G = G / nrm
            G = tl.dot(G, G, input_precision=PREC)
        log_bound += tl.log(nrm) / (2.0 ** s)
    return tl.exp(log_bound)


@triton.jit
def _tile0(base, h0, D: tl.constexpr, HB: tl.constexpr):
    """Pointers to rows [h0, h0+HB) of a layer-0 matrix (HID, D)."""
    return base + h0 * D + tl.arange(0, HB)[:, None] * D + tl.arange(0, D)[None, :]


@triton.jit
def _tile1(base, h0, HID: tl.constexpr, D: tl.constexpr, HB: tl.constexpr):
    """Pointers to columns [h0, h0+HB) of a layer-1 matrix (D, HID)."""
    return base + h0 + tl.arange(0, D)[:, None] * HID + tl.arange(0, HB)[None, :]


@triton.jit
def _tokens(base, t0, D: tl.constexpr, BC: tl.constexpr):
    """Pointers to tokens [t0, t0+BC) of a row's (T, D) matrix."""
    return base + t0 * D + tl.arange(0, BC)[:, None] * D + tl.arange(0, D)[None, :]


@triton.jit
def tiled_forward(q_ptr, k_ptr, v_ptr, th_ptr, et_ptr, al_ptr, out_ptr, st_ptr, anc_ptr, ckpt_ptr,
                  T, n_chunks, first_group, group, n_groups, delta,
                  D: tl.constexpr, HID: tl.constexpr, BC: tl.constexpr, HB: tl.constexpr,
                  ACT: tl.constexpr, LOSS: tl.constexpr, RESIDUAL: tl.constexpr,
                  HAS_M: tl.constexpr, HAS_D: tl.constexpr, ANCHOR: tl.constexpr,
                  NORMALIZED: tl.constexpr, AFTER: tl.constexpr, SQUARINGS: tl.constexpr,
                  SAVE_CKPT: tl.constexpr, PREC: tl.constexpr):
    """One program per row n. q/k/v/out: (n, T, D); gates (n, T); st: (n, 2, SN) double-buffered
    state [W0 (HID, D) | S0 | W1 (D, HID) | S1] (S absent without momentum), chunk i reads half
    i % 2; anc: (n, 2 * HID * D) [A0 | A1] (decay_to: init; the state then holds U = W - A);
    ckpt: (n, n_groups, SN), the state at each checkpoint-group start."""
    row = tl.program_id(0)
    NW: tl.constexpr = HID * D
    SN: tl.constexpr = (4 if HAS_M else 2) * NW
    O_S0: tl.constexpr = NW
    O_W1: tl.constexpr = (2 if HAS_M else 1) * NW
    O_S1: tl.constexpr = 3 * NW
    # addresses: scalar row bases and block pointers built at each use (no per-element address
    # tensors kept live across the loops)
    tok = tl.arange(0, BC)
    tri = tok[:, None] >= tok[None, :]
    io_row = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    st_row = st_ptr + row.to(tl.int64) * 2 * SN
    anc_row = anc_ptr + row.to(tl.int64) * 2 * NW
    A1_row = anc_row + NW

    for i in range(n_chunks):
        src = st_row + (i % 2) * SN
        dst = st_row + ((i + 1) % 2) * SN
        if SAVE_CKPT:
            is_start = (i == 0) | ((i >= first_group) & ((i - first_group) % group == 0))
            if is_start:
                g = tl.where(i < first_group, 0, 1 + (i - first_group) // group)
                ck = ckpt_ptr + (row.to(tl.int64) * n_groups + g) * SN
                for o0 in range(0, SN, HB * D):
                    flat = o0 + tl.arange(0, HB * D)
                    tl.store(ck + flat, tl.load(src + flat))
        t0 = i * BC
        rows = tl.minimum(T - t0, BC)
        valid = tok < rows
        e = rows - 1
        # K and Q stay in the input dtype (exact) and widen at each use: half the registers for bf16
        K = tl.load(_tokens(k_ptr + io_row, t0, D, BC), mask=valid[:, None], other=0.0).to(tl.float32)
        Q = tl.load(_tokens(q_ptr + io_row, t0, D, BC), mask=valid[:, None], other=0.0).to(tl.float32)

        # coefficients of the chunk (backends/torch_dual/coeffs.py), all in registers
        th = tl.load(th_ptr + g_base + t0 + tok, mask=valid, other=0.0).to(tl.float32)
        if HAS_D:
            al = tl.load(al_ptr + g_base + t0 + tok, mask=valid, other=0.0).to(tl.float32)
            acum = tl.cumsum(tl.maximum(tl.log(1.0 - al), LOG_FLOOR), 0)
            a = tl.exp(acum)
            a_e = tl.sum(tl.where(tok == e, a, 0.0), 0)
            LB = tl.where(tri, tl.exp(tl.minimum(acum[:, None] - acum[None, :], 0.0)), 0.0)
        else:
            a = tl.full((BC,), 1.0, tl.float32)
            a_e = 1.0
            LB = tl.where(tri, 1.0, 0.0)
        if HAS_M:
            et = tl.load(et_ptr + g_base + t0 + tok, mask=valid, other=1.0).to(tl.float32)
            ncum = tl.cumsum(tl.maximum(tl.log(et), LOG_FLOOR), 0)
            pv = tl.exp(ncum)
            n_e = tl.sum(tl.where(tok == e, ncum, 0.0), 0)
            w = th * tl.exp(tl.minimum(n_e - ncum, 0.0))
            LP = tl.where(tri, tl.exp(tl.minimum(ncum[:, None] - ncum[None, :], 0.0)), 0.0)
            m = tl.sum(LB * pv[None, :], 1)
            m_e = tl.sum(tl.where(tok == e, m, 0.0), 0)
            p_e = tl.sum(tl.where(tok == e, pv, 0.0), 0)
            F = tl.dot(LB, LP, input_precision=PREC)
        else:
            F = LB
        C = F * th[None, :]
        c = tl.sum(tl.where(tok[:, None] == e, C, 0.0), 0)
        if AFTER:
            CQK = C * tl.dot(Q, tl.trans(K), input_precision=PREC)

        # pass 1: key path
        Z1 = tl.zeros((BC, D), tl.float32)
        if NORMALIZED:
            gram = tl.zeros((D, D), tl.float32)
            frob = tl.zeros((BC,), tl.float32)
            mx = tl.zeros((BC,), tl.float32)
            xx1 = tl.zeros((BC,), tl.float32)
        for h0 in range(0, HID, HB):
            W0 = tl.load(_tile0(src, h0, D, HB))
            W1 = tl.load(_tile1(src + O_W1, h0, HID, D, HB))
            if ANCHOR:
                W0 += tl.load(_tile0(anc_row, h0, D, HB))
                W1 += tl.load(_tile1(A1_row, h0, HID, D, HB))
            Z0 = tl.dot(K, tl.trans(W0), input_precision=PREC)
            X1 = act_fn(Z0, ACT)
            Z1 += tl.dot(X1, tl.trans(W1), input_precision=PREC)
            if NORMALIZED:
                gram += tl.dot(W1, tl.trans(W1), input_precision=PREC)
                slope = act_d1(Z0, ACT)
                sl2 = slope * slope
                frob += tl.sum(sl2 * tl.sum(W1 * W1, 0)[None, :], 1)
                mx = tl.maximum(mx, tl.max(sl2, 1))
                xx1 += tl.sum(X1 * X1, 1)
        R = Z1 - tl.load(_tokens(v_ptr + io_row, t0, D, BC), mask=valid[:, None], other=0.0).to(tl.float32)
        if RESIDUAL:
            R += K
        if LOSS == 1:
            G1 = tl.minimum(tl.maximum(R, -delta), delta)
        else:
            G1 = R
        if NORMALIZED:
            lam = _opnorm_sq_bound(gram, SQUARINGS, PREC)
            kappa = tl.sum(K * K, 1) * tl.minimum(frob, lam * mx) + xx1
            G1 = G1 * (1.0 / tl.maximum(kappa, 1.0))[:, None]

        # pass 2: the read (after the update: the dual form), tile by tile
        ZQ1 = tl.zeros((BC, D), tl.float32)
        if AFTER:
            QX = tl.zeros((BC, BC), tl.float32)
        for h0 in range(0, HID, HB):
            U0 = tl.load(_tile0(src, h0, D, HB))
            U1 = tl.load(_tile1(src + O_W1, h0, HID, D, HB))
            if AFTER:
                W0 = U0
                W1 = U1
                if ANCHOR:
                    A0 = tl.load(_tile0(anc_row, h0, D, HB))
                    A1 = tl.load(_tile1(A1_row, h0, HID, D, HB))
                    W0 += A0
                    W1 += A1
                Z0 = tl.dot(K, tl.trans(W0), input_precision=PREC)
                X1 = act_fn(Z0, ACT)
                G0 = tl.dot(G1, W1, input_precision=PREC) * act_d1(Z0, ACT)
                Zq0 = a[:, None] * tl.dot(Q, tl.trans(U0), input_precision=PREC)
                if HAS_M:
                    S0 = tl.load(_tile0(src + O_S0, h0, D, HB))
                    Zq0 += m[:, None] * tl.dot(Q, tl.trans(S0), input_precision=PREC)
                if ANCHOR:
                    Zq0 += tl.dot(Q, tl.trans(A0), input_precision=PREC)
                Zq0 -= tl.dot(CQK, G0, input_precision=PREC)
                Xq1 = act_fn(Zq0, ACT)
                ZQ1 += a[:, None] * tl.dot(Xq1, tl.trans(U1), input_precision=PREC)
                if HAS_M:
                    S1 = tl.load(_tile1(src + O_S1, h0, HID, D, HB))
                    ZQ1 += m[:, None] * tl.dot(Xq1, tl.trans(S1), input_precision=PREC)
                if ANCHOR:
                    ZQ1 += tl.dot(Xq1, tl.trans(A1), input_precision=PREC)
                QX += tl.dot(Xq1, tl.trans(X1), input_precision=PREC)
            else:
                if ANCHOR:
                    U0 += tl.load(_tile0(anc_row, h0, D, HB))
                    U1 += tl.load(_tile1(A1_row, h0, HID, D, HB))
                Xq1 = act_fn(tl.dot(Q, tl.trans(U0), input_precision=PREC), ACT)
                ZQ1 += tl.dot(Xq1, tl.trans(U1), input_precision=PREC)
        if AFTER:
            ZQ1 -= tl.dot(C * QX, G1, input_precision=PREC)
        if RESIDUAL:
            ZQ1 += Q
        tl.store(_tokens(out_ptr + io_row, t0, D, BC), ZQ1.to(out_ptr.dtype.element_ty), mask=valid[:, None])

        # pass 3: the end-of-chunk state, W' = a_e U + m_e S - G^T (c X), S' = p_e S - G^T (w X),
        # written into the other half of the double buffer
        cK = c[:, None] * K
        cG1 = c[:, None] * G1
        if HAS_M:
            wK = w[:, None] * K
            wG1 = w[:, None] * G1
        for h0 in range(0, HID, HB):
            U0 = tl.load(_tile0(src, h0, D, HB))
            U1 = tl.load(_tile1(src + O_W1, h0, HID, D, HB))
            W0 = U0
            W1 = U1
            if ANCHOR:
                W0 += tl.load(_tile0(anc_row, h0, D, HB))
                W1 += tl.load(_tile1(A1_row, h0, HID, D, HB))
            Z0 = tl.dot(K, tl.trans(W0), input_precision=PREC)
            X1 = act_fn(Z0, ACT)
            G0t = tl.trans(tl.dot(G1, W1, input_precision=PREC) * act_d1(Z0, ACT))
            new0 = a_e * U0 - tl.dot(G0t, cK, input_precision=PREC)
            new1 = a_e * U1 - tl.dot(tl.trans(cG1), X1, input_precision=PREC)
            if HAS_M:
                S0 = tl.load(_tile0(src + O_S0, h0, D, HB))
                S1 = tl.load(_tile1(src + O_S1, h0, HID, D, HB))
                new0 += m_e * S0
                new1 += m_e * S1
                tl.store(_tile0(dst + O_S0, h0, D, HB), p_e * S0 - tl.dot(G0t, wK, input_precision=PREC))
                tl.store(_tile1(dst + O_S1, h0, HID, D, HB), p_e * S1 - tl.dot(tl.trans(wG1), X1, input_precision=PREC))
            tl.store(_tile0(dst, h0, D, HB), new0)
            tl.store(_tile1(dst + O_W1, h0, HID, D, HB), new1)
        tl.debug_barrier()   # this chunk's state stores feed the next chunk's loads
