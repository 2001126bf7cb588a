"""Tiled backward kernel for depth-2 memories: the gradient of tiled.tiled_forward (and of the
generic forward: both compute the same function and share the checkpoint layout).

The launcher (launch.run_backward_tiled) walks the checkpoint groups in reverse. For each group it
re-runs the chunk-start states with the tiled forward (read=False) into a (n, group, SN) buffer,
then launches this kernel over the group's chunks, last chunk first. One program per (batch,
head) row; per chunk, with the state streamed in tiles of HB hidden units as in the forward:

  pass A (key path): Z1, G1 = loss'(Z1 - V) (times the normalized step's scale), as the forward;
          G1, R, C * (Q K^T) and dM1 = -C * (dO G1^T) go to per-row scratch;
  pass B1 (per tile h): recompute Z0_h, X1_h, G0_h, the read's Zq0_h and Xq1_h; the read's
          backward, layer 1 then layer 0: the tile's read gradients of U, S (into the start-state
          gradient) and of the anchor, per-token da and dm, dQ, the mixing sums Xq1 X1^T and
          G0^T dZq0, and the read's parts of dX1_h and dG0_h (to scratch);
  the mixing terms C * (Q K^T) and C * (Xq1 X1^T): dC, dG1, dK, and dQ (complete: stored);
  pass B2 (per tile h): the state update's backward (da_e, dm_e, dp_e, dc, dw; dG0_h, dX1_h,
          dG1, dK) and the recursion G0 = (G1 W1) * act'(Z0) backward (dG1, dW1_h, the act''
          part of dZ0_h), added into the start-state gradient tiles (the other half of a double
          buffer); the partial dX1_h and dZ0_h (HID x BC per row, the only values not cheap to
          recompute) to scratch;
  then dR = dG1 (times the scale; Huber's mask), dV = -dR, dZ1 = dR;
  pass C (per tile h): dW1_h += dZ1^T X1_h, dX1_h += dZ1 W1_h, dZ0_h += act'(Z0_h) dX1_h,
          dW0_h += dZ0_h^T K, dK += dZ0_h W0_h, added into the start-state gradient tiles;
  the coefficient backward (backends/torch_backend/coeffs.py `backward`) on BC-vectors and BC x BC
  matrices in registers, then d theta, d eta, d alpha.

Token-side matrices are held transposed (features x tokens) as in the forward. The math is that
of backends/torch_backend/chunk.py `backward`, specialised to depth 2 and written per hidden tile
(where the torch code packs W and S to scale one side of each product, the per-token factors are
applied here to whichever operand is narrower within the tile).
"""
from __future__ import annotations

import triton
import triton.language as tl

from .device import LOG_FLOOR, act_d1, act_d2, act_fn
from .tiled import _chunk_coeffs, _key_pass, _key_weights, _mm, _tile0, _tile1t, _tokens_t


@triton.jit
def _hid_tok(base, h0, BC: tl.constexpr, HB: tl.constexpr):
    """Pointers to rows [h0, h0+HB) of a row's (HID, BC) scratch matrix."""
    return base + (h0 + tl.arange(0, HB))[:, None] * BC + tl.arange(0, BC)[None, :]


@triton.jit
def _tok(base, R: tl.constexpr, BC: tl.constexpr):
    """Pointers to a row's contiguous (R, BC) scratch matrix."""
    return base + tl.arange(0, R)[:, None] * BC + tl.arange(0, BC)[None, :]


@triton.jit
def _coeff_backward(dCT, da, dm, dcv, dw, da_e, dm_e, dp_e, theta_ptr, eta_ptr, alpha_ptr, dtheta_ptr, deta_ptr,
                    dalpha_ptr, g_base, t0, rows, BC: tl.constexpr, HAS_M: tl.constexpr, HAS_D: tl.constexpr,
                    PREC: tl.constexpr):
    """The chunk coefficients' backward (backends/torch_backend/coeffs.py `backward`) from the
    gradients of C^T (dCT, [key j, query t]), of the read's per-token a and m (da, dm), of the
    update's c (row `last` of C) and w (dcv, dw) and of the scalars a_e, m_e, p_e: stores
    d theta, d eta, d alpha for the chunk's tokens [t0, t0 + rows)."""
    theta, a, a_e1, LBT, pv, Pe, w, LPT, m1, m_e1, p_e, FT, C1, c1 = _chunk_coeffs(
        theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, PREC)
    tok = tl.arange(0, BC)
    valid = tok < rows
    at_last = tok == rows - 1
    triT = tok[:, None] <= tok[None, :]
    dCT = tl.where(triT, dCT + tl.where(at_last[None, :], dcv[:, None], 0.0), 0.0)
    dtheta = tl.sum(dCT * FT, 1)
    dFT = dCT * theta[:, None]
    if HAS_D:
        da += tl.where(at_last, da_e, 0.0)
        if HAS_M:
            dm += tl.where(at_last, dm_e, 0.0)
            dLBT = _mm(tl.trans(LPT), dFT, PREC) + pv[:, None] * dm[None, :]
        else:
            dLBT = dFT
        gBT = dLBT * LBT
        dA = tl.sum(gBT, 0) - tl.sum(gBT, 1) + da * a
        alpha = tl.load(alpha_ptr + g_base + t0 + tok, mask=valid, other=0.0).to(tl.float32)
        dla = tl.cumsum(dA, 0, reverse=True)
        live = tl.log(1.0 - alpha) > LOG_FLOOR
        tl.store(dalpha_ptr + g_base + t0 + tok, tl.where(live, -dla / (1.0 - alpha), 0.0), mask=valid)
    elif HAS_M:
        dm += tl.where(at_last, dm_e, 0.0)
    if HAS_M:
        gPT = _mm(dFT, tl.trans(LBT), PREC) * LPT
        dN = tl.sum(gPT, 0) - tl.sum(gPT, 1) + tl.sum(LBT * dm[None, :], 1) * pv
        dtheta += dw * Pe
        gw = dw * w
        dN += tl.where(at_last, tl.sum(gw, 0) + dp_e * p_e, 0.0) - gw
        eta = tl.load(eta_ptr + g_base + t0 + tok, mask=valid, other=1.0).to(tl.float32)
        dln = tl.cumsum(dN, 0, reverse=True)
        live = tl.log(eta) > LOG_FLOOR
        tl.store(deta_ptr + g_base + t0 + tok, tl.where(live, dln / eta, 0.0), mask=valid)
    tl.store(dtheta_ptr + g_base + t0 + tok, dtheta, mask=valid)


@triton.jit
def tiled_backward(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, do_ptr, dq_ptr, dk_ptr, dv_ptr,
                   dtheta_ptr, deta_ptr, dalpha_ptr, st_ptr, anc_ptr, dst_ptr, dan_ptr, part_ptr,
                   T, c_lo, c_hi, n_chunks, delta,
                   D: tl.constexpr, HID: tl.constexpr, BC: tl.constexpr, HB: tl.constexpr,
                   NW: tl.constexpr, SN: tl.constexpr, O_S0: tl.constexpr, O_W1: tl.constexpr,
                   O_S1: tl.constexpr, ACT: tl.constexpr, LOSS: tl.constexpr, RESIDUAL: tl.constexpr,
                   HAS_M: tl.constexpr, HAS_D: tl.constexpr, ANCHOR: tl.constexpr,
                   NORMALIZED: tl.constexpr, AFTER: tl.constexpr, SQUARINGS: tl.constexpr,
                   PREC: tl.constexpr):
    """One program per row n, chunks [c_lo, c_hi) in reverse. q/k/v/do/dq/dk/dv: (n, T, D);
    gates and their gradients: (n, T); st: (n, c_hi - c_lo, SN) chunk-start states [W0 (HID, D) |
    S0 | W1 (D, HID) | S1] (U = W - A with an anchor); anc / dan: (n, 2 * HID * D) the anchor
    [A0 | A1] and its gradient (accumulated); dst: (n, 2, SN) state gradients, chunk c reads half
    (n_chunks - 1 - c) % 2 (the gradient of its end state) and writes the other; part: (n,
    scratch_floats(D, HID, BC)) float32 scratch.

    Registers: each pass holds at most three (D or BC) x BC accumulators; the token-side operands
    of its products (K, Q, dO from the inputs; G1, R, C * Q K^T, dM1, dR from scratch) are loaded
    inside the tile loops, so that none stays live across them."""
    row = tl.program_id(0)
    tok = tl.arange(0, BC)
    io_row = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    st_row = st_ptr + row.to(tl.int64) * (c_hi - c_lo) * SN
    ds_row = dst_ptr + row.to(tl.int64) * 2 * SN
    anc_row = anc_ptr + row.to(tl.int64) * 2 * NW
    A1_row = anc_row + NW
    dan_row = dan_ptr + row.to(tl.int64) * 2 * NW
    # per-row scratch, (HID, BC) each: pass B1's parts of dX1 and dG0, pass B2's dX1 and dZ0
    # partials (separate buffers: a tile read and written in one iteration may be held by other
    # threads); then (D, BC) G1, R, dR, (BC, BC) C * Q K^T, dM1, dC^T and the coefficient
    # gradient vectors (stored where each is complete, so that none stays live to the end)
    dX1r_row = part_ptr + row.to(tl.int64) * (4 * HID + 3 * D + 3 * BC + 4) * BC
    dG0r_row = dX1r_row + HID * BC
    dX1_row = dG0r_row + HID * BC
    dZ0_row = dX1_row + HID * BC
    G1_row = dZ0_row + HID * BC
    R_row = G1_row + D * BC
    dR_row = R_row + D * BC
    CQK_row = dR_row + D * BC
    dM1_row = CQK_row + BC * BC
    dC_row = dM1_row + BC * BC       # (BC, BC) dC^T, then the (4, BC) da, dm, dc, dw
    vec_row = dC_row + BC * BC

    for jj in range(0, c_hi - c_lo):
        c = c_hi - 1 - jj
        src = st_row + (c - c_lo) * SN
        p = n_chunks - 1 - c
        dn = ds_row + (p % 2) * SN          # gradient of the chunk's end state (read)
        dc = ds_row + ((p + 1) % 2) * SN    # gradient of its start state (written)
        t0 = c * BC
        rows = tl.minimum(T - t0, BC)
        valid = tok < rows
        vmask = valid[None, :]
        # (D, BC) pointer tensors are rebuilt at each load from these scalar bases: kept live
        # across the passes, three 64-bit tensors would hold about 100 registers per thread
        k_row = k_ptr + io_row
        q_row = q_ptr + io_row
        do_row = do_ptr + io_row
        th0, a, a_e, LB0, pv0, Pe0, w, LP0, m, m_e, p_e, F0, CT, cv = _chunk_coeffs(
            theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, PREC)

        # pass A: the key path again; G1 and R go to scratch
        KT = tl.load(_tokens_t(k_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
        G1T, RT, scale = _key_pass(src, anc_row, KT, v_ptr + io_row, t0, vmask, delta, O_W1, D, HID, BC, HB,
                                   ACT, LOSS, RESIDUAL, ANCHOR, NORMALIZED, SQUARINGS, PREC)
        tl.store(_tok(G1_row, D, BC), G1T)
        if LOSS == 1:
            tl.store(_tok(R_row, D, BC), RT)
        if AFTER:
            QT = tl.load(_tokens_t(q_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            tl.store(_tok(CQK_row, BC, BC), CT * _mm(tl.trans(KT), QT, PREC))      # [j, t] = C[t, j] k_j.q_t
            dOT = tl.load(_tokens_t(do_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            tl.store(_tok(dM1_row, BC, BC), -CT * _mm(tl.trans(G1T), dOT, PREC))   # -C[t, j] g1_j.dz_t
        tl.debug_barrier()   # scratch written above is read in other layouts below

        da = tl.zeros((BC,), tl.float32)
        dm = tl.zeros((BC,), tl.float32)
        dcv = tl.zeros((BC,), tl.float32)
        dw = tl.zeros((BC,), tl.float32)
        da_e = 0.0
        dm_e = 0.0
        dp_e = 0.0
        dQT = tl.zeros((D, BC), tl.float32)
        if AFTER:
            M1T = tl.zeros((BC, BC), tl.float32)      # [j, t] = x1_j . xq1_t
            dMix0T = tl.zeros((BC, BC), tl.float32)   # [j, t] = g0_j . dzq0_t

        # pass B1: the read's backward, tile by tile
        for h0 in range(0, HID, HB):
            U0 = tl.load(_tile0(src, h0, D, HB))
            U1T = tl.load(_tile1t(src + O_W1, h0, HID, D, HB))
            W0 = U0
            W1T = U1T
            if ANCHOR:
                A0 = tl.load(_tile0(anc_row, h0, D, HB))
                A1T = tl.load(_tile1t(A1_row, h0, HID, D, HB))
                W0 += A0
                W1T += A1T
            Qh = tl.load(_tokens_t(q_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            dOh = tl.load(_tokens_t(do_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            if AFTER:
                Z0T = _mm(W0, tl.load(_tokens_t(k_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32), PREC)
                X1T = act_fn(Z0T, ACT)
                G0T = _mm(W1T, tl.load(_tok(G1_row, D, BC)), PREC) * act_d1(Z0T, ACT)
                PU0 = _mm(U0, Qh, PREC)
                Zq0T = PU0 * a[None, :]
                if HAS_M:
                    S0 = tl.load(_tile0(src + O_S0, h0, D, HB))
                    S1T = tl.load(_tile1t(src + O_S1, h0, HID, D, HB))
                    PS0 = _mm(S0, Qh, PREC)
                    Zq0T += PS0 * m[None, :]
                if ANCHOR:
                    Zq0T += _mm(A0, Qh, PREC)
                Zq0T -= _mm(G0T, tl.load(_tok(CQK_row, BC, BC)), PREC)
                Xq1T = act_fn(Zq0T, ACT)
                # layer 1: Zq1 = a (Xq1 U1^T) + m (Xq1 S1^T) + Xq1 A1^T - (C * Xq1 X1^T) G1
                dM1T = tl.load(_tok(dM1_row, BC, BC))
                ET = _mm(U1T, dOh, PREC)
                da += tl.sum(ET * Xq1T, 0)
                dXq1T = ET * a[None, :] + _mm(X1T, dM1T, PREC)
                if HAS_M:
                    FT1 = _mm(S1T, dOh, PREC)
                    dm += tl.sum(FT1 * Xq1T, 0)
                    dXq1T += FT1 * m[None, :]
                if ANCHOR:
                    dXq1T += _mm(A1T, dOh, PREC)
                tl.store(_hid_tok(dX1r_row, h0, BC, HB), _mm(Xq1T, tl.trans(dM1T), PREC))
                M1T += _mm(tl.trans(X1T), Xq1T, PREC)
                tl.store(_tile1t(dc + O_W1, h0, HID, D, HB), _mm(Xq1T * a[None, :], tl.trans(dOh), PREC))
                if HAS_M:
                    tl.store(_tile1t(dc + O_S1, h0, HID, D, HB), _mm(Xq1T * m[None, :], tl.trans(dOh), PREC))
                # layer 0: Zq0 = a (Q U0^T) + m (Q S0^T) + Q A0^T - (C * Q K^T) G0
                dZq0T = act_d1(Zq0T, ACT) * dXq1T
                dZa = dZq0T * a[None, :]
                tl.store(_tile0(dc, h0, D, HB), _mm(dZa, tl.trans(Qh), PREC))
                da += tl.sum(PU0 * dZq0T, 0)
                dQT += _mm(tl.trans(U0), dZa, PREC)
                if HAS_M:
                    dZm = dZq0T * m[None, :]
                    tl.store(_tile0(dc + O_S0, h0, D, HB), _mm(dZm, tl.trans(Qh), PREC))
                    dm += tl.sum(PS0 * dZq0T, 0)
                    dQT += _mm(tl.trans(S0), dZm, PREC)
                if ANCHOR:   # the read's anchor term reaches only the anchor
                    p0 = _tile0(dan_row, h0, D, HB)
                    tl.store(p0, tl.load(p0) + _mm(dZq0T, tl.trans(Qh), PREC))
                    p1 = _tile1t(dan_row + NW, h0, HID, D, HB)
                    tl.store(p1, tl.load(p1) + _mm(Xq1T, tl.trans(dOh), PREC))
                    dQT += _mm(tl.trans(A0), dZq0T, PREC)
                dMix0T += _mm(tl.trans(G0T), dZq0T, PREC)
                tl.store(_hid_tok(dG0r_row, h0, BC, HB),
                         -_mm(dZq0T, tl.trans(tl.load(_tok(CQK_row, BC, BC))), PREC))
            else:
                # read at the chunk-start weights (U + A): Zq0 = Q W0^T, Zq1 = act(Zq0) W1^T
                Zq0T = _mm(W0, Qh, PREC)
                key1T = _mm(act_fn(Zq0T, ACT), tl.trans(dOh), PREC)
                dZq0T = act_d1(Zq0T, ACT) * _mm(W1T, dOh, PREC)
                key0 = _mm(dZq0T, tl.trans(Qh), PREC)
                dQT += _mm(tl.trans(W0), dZq0T, PREC)
                tl.store(_tile0(dc, h0, D, HB), key0)
                tl.store(_tile1t(dc + O_W1, h0, HID, D, HB), key1T)
                if HAS_M:
                    tl.store(_tile0(dc + O_S0, h0, D, HB), tl.zeros((HB, D), tl.float32))
                    tl.store(_tile1t(dc + O_S1, h0, HID, D, HB), tl.zeros((HB, D), tl.float32))
                if ANCHOR:
                    p0 = _tile0(dan_row, h0, D, HB)
                    tl.store(p0, tl.load(p0) + key0)
                    p1 = _tile1t(dan_row + NW, h0, HID, D, HB)
                    tl.store(p1, tl.load(p1) + key1T)

        # the read's mixing terms C * (Q K^T) (layer 0) and C * (Xq1 X1^T) (layer 1), operands loaded
        # where used; dQ is then complete
        tl.store(vec_row + tok, da)
        tl.store(vec_row + BC + tok, dm)
        dKT = tl.zeros((D, BC), tl.float32)
        if AFTER:
            dOT = tl.load(_tokens_t(do_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            dCT = -_mm(tl.trans(tl.load(_tok(G1_row, D, BC))), dOT, PREC) * M1T
            dG1T = -_mm(dOT, tl.trans(CT * M1T), PREC)
            KT = tl.load(_tokens_t(k_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            QT = tl.load(_tokens_t(q_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            dCT -= dMix0T * _mm(tl.trans(KT), QT, PREC)
            dM0T = -dMix0T * CT
            dQT += _mm(KT, dM0T, PREC)
            dKT += _mm(QT, tl.trans(dM0T), PREC)
        else:
            dCT = tl.zeros((BC, BC), tl.float32)
            dG1T = tl.zeros((D, BC), tl.float32)
        if RESIDUAL:
            dQT += tl.load(_tokens_t(do_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
        tl.store(_tokens_t(dq_ptr + io_row, t0, D, BC), dQT.to(dq_ptr.dtype.element_ty), mask=vmask)
        tl.store(_tok(dC_row, BC, BC), dCT)
        tl.debug_barrier()   # pass B1's stores feed pass B2's loads

        # pass B2: the state update's backward, U' = a_e U + m_e S - G^T (c X), S' = p_e S - G^T (w X),
        # and the recursion G0 = (G1 W1) * act'(Z0)
        for h0 in range(0, HID, HB):
            Kh = tl.load(_tokens_t(k_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            G1h = tl.load(_tok(G1_row, D, BC))
            U0, U1T, W0, W1T = _key_weights(src, anc_row, h0, O_W1, HID, D, HB, ANCHOR)
            Z0T = _mm(W0, Kh, PREC)
            X1T = act_fn(Z0T, ACT)
            d1 = act_d1(Z0T, ACT)
            GW1T = _mm(W1T, G1h, PREC)
            G0T = GW1T * d1
            gU0 = tl.load(_tile0(dn, h0, D, HB))
            gU1T = tl.load(_tile1t(dn + O_W1, h0, HID, D, HB))
            if HAS_D:
                da_e += tl.sum(tl.sum(gU0 * U0, 1), 0) + tl.sum(tl.sum(gU1T * U1T, 1), 0)
            # the update's K side: P0 = dU0' K^T per token gives dG0 and dc; dK takes dU0'^T (c G0)
            P0 = _mm(gU0, Kh, PREC)
            dG0T = -P0 * cv[None, :]
            dcv -= tl.sum(G0T * P0, 0)
            dKT -= _mm(tl.trans(gU0), G0T * cv[None, :], PREC)
            if AFTER:
                dG0T += tl.load(_hid_tok(dG0r_row, h0, BC, HB))
                dX1T = tl.load(_hid_tok(dX1r_row, h0, BC, HB))
            else:
                dX1T = tl.zeros((HB, BC), tl.float32)
            T1 = _mm(gU1T, G1h, PREC)
            dcv -= tl.sum(X1T * T1, 0)
            dX1T -= T1 * cv[None, :]
            dG1T -= _mm(tl.trans(gU1T), X1T * cv[None, :], PREC)
            if HAS_M:
                S0 = tl.load(_tile0(src + O_S0, h0, D, HB))
                S1T = tl.load(_tile1t(src + O_S1, h0, HID, D, HB))
                gS0 = tl.load(_tile0(dn + O_S0, h0, D, HB))
                gS1T = tl.load(_tile1t(dn + O_S1, h0, HID, D, HB))
                dm_e += tl.sum(tl.sum(gU0 * S0, 1), 0) + tl.sum(tl.sum(gU1T * S1T, 1), 0)
                dp_e += tl.sum(tl.sum(gS0 * S0, 1), 0) + tl.sum(tl.sum(gS1T * S1T, 1), 0)
                PS0 = _mm(gS0, Kh, PREC)
                dG0T -= PS0 * w[None, :]
                dw -= tl.sum(G0T * PS0, 0)
                dKT -= _mm(tl.trans(gS0), G0T * w[None, :], PREC)
                T2 = _mm(gS1T, G1h, PREC)
                dw -= tl.sum(X1T * T2, 0)
                dX1T -= T2 * w[None, :]
                dG1T -= _mm(tl.trans(gS1T), X1T * w[None, :], PREC)
                pS0 = _tile0(dc + O_S0, h0, D, HB)
                tl.store(pS0, tl.load(pS0) + m_e * gU0 + p_e * gS0)
                pS1 = _tile1t(dc + O_S1, h0, HID, D, HB)
                tl.store(pS1, tl.load(pS1) + m_e * gU1T + p_e * gS1T)
            # the recursion; key-path weight gradients reach U and the anchor
            dGW1T = dG0T * d1
            tl.store(_hid_tok(dZ0_row, h0, BC, HB), dG0T * GW1T * act_d2(Z0T, ACT))
            tl.store(_hid_tok(dX1_row, h0, BC, HB), dX1T)
            dG1T += _mm(tl.trans(W1T), dGW1T, PREC)
            key1T = _mm(dGW1T, tl.trans(G1h), PREC)
            p0 = _tile0(dc, h0, D, HB)
            tl.store(p0, tl.load(p0) + a_e * gU0)
            p1 = _tile1t(dc + O_W1, h0, HID, D, HB)
            tl.store(p1, tl.load(p1) + a_e * gU1T + key1T)
            if ANCHOR:
                p1 = _tile1t(dan_row + NW, h0, HID, D, HB)
                tl.store(p1, tl.load(p1) + key1T)

        tl.store(vec_row + 2 * BC + tok, dcv)
        tl.store(vec_row + 3 * BC + tok, dw)
        # dR = dG1 (times the step scale; Huber passes it where |R| <= delta), dV = -dR, dZ1 = dR
        dRT = dG1T * scale[None, :]
        if LOSS == 1:
            dRT = tl.where(tl.abs(tl.load(_tok(R_row, D, BC))) <= delta, dRT, 0.0)
        if RESIDUAL:
            dKT += dRT
        tl.store(_tokens_t(dv_ptr + io_row, t0, D, BC), (-dRT).to(dv_ptr.dtype.element_ty), mask=vmask)
        tl.store(_tok(dR_row, D, BC), dRT)
        tl.debug_barrier()   # pass B2's stores feed pass C's loads

        # pass C: the key path's own backward, Z1 = X1 W1^T, X1 = act(K W0^T)
        for h0 in range(0, HID, HB):
            Kc = tl.load(_tokens_t(k_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            dRc = tl.load(_tok(dR_row, D, BC))
            U0, U1T, W0, W1T = _key_weights(src, anc_row, h0, O_W1, HID, D, HB, ANCHOR)
            Z0T = _mm(W0, Kc, PREC)
            key1T = _mm(act_fn(Z0T, ACT), tl.trans(dRc), PREC)
            dX1T = tl.load(_hid_tok(dX1_row, h0, BC, HB)) + _mm(W1T, dRc, PREC)
            dZ0T = tl.load(_hid_tok(dZ0_row, h0, BC, HB)) + act_d1(Z0T, ACT) * dX1T
            key0 = _mm(dZ0T, tl.trans(Kc), PREC)
            dKT += _mm(tl.trans(W0), dZ0T, PREC)
            p0 = _tile0(dc, h0, D, HB)
            tl.store(p0, tl.load(p0) + key0)
            p1 = _tile1t(dc + O_W1, h0, HID, D, HB)
            tl.store(p1, tl.load(p1) + key1T)
            if ANCHOR:
                p0 = _tile0(dan_row, h0, D, HB)
                tl.store(p0, tl.load(p0) + key0)
                p1 = _tile1t(dan_row + NW, h0, HID, D, HB)
                tl.store(p1, tl.load(p1) + key1T)
        tl.store(_tokens_t(dk_ptr + io_row, t0, D, BC), dKT.to(dk_ptr.dtype.element_ty), mask=vmask)

        tl.debug_barrier()   # the vectors stored above are read in other layouts
        _coeff_backward(tl.load(_tok(dC_row, BC, BC)), tl.load(vec_row + tok), tl.load(vec_row + BC + tok),
                        tl.load(vec_row + 2 * BC + tok), tl.load(vec_row + 3 * BC + tok), da_e, dm_e, dp_e,
                        theta_ptr, eta_ptr, alpha_ptr, dtheta_ptr, deta_ptr, dalpha_ptr, g_base, t0, rows,
                        BC, HAS_M, HAS_D, PREC)
        tl.debug_barrier()   # this chunk's start-state gradient is the next one's end-state gradient


def scratch_floats(D: int, hidden: int, chunk_size: int) -> int:
    """Floats of per-row scratch the backward needs: four (hidden, b), three (D, b), three (b, b)
    and four (b,)."""
    return (4 * hidden + 3 * D + 3 * chunk_size + 4) * chunk_size
