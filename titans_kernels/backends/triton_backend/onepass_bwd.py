"""One-pass backward for depth-2 memories: two sweeps over the hidden tiles per chunk, the state
gradient in place.

The gradient of onepass.onepass_forward (and of every other forward: they share the checkpoint
layout), for the rules the one-pass forward covers. The launcher (launch.run_backward_onepass)
walks the checkpoint groups in reverse; for each group the one-pass forward re-runs the group's
chunks without the read (onepass.onepass_rerun), saving each chunk's start state and its loss
residual R = f(K; W_s) - V, so that the key path's full sweep is not repeated here. Then this
kernel walks the group's chunks, last first, one program per (batch, head) row, with the
gradient of the state dW (n, SN) updated in place: on entry to a chunk it holds the gradient of
the chunk's end state, on exit that of its start state.

Tokens are the row side of every product, as in the forward. Per chunk, with G1 = loss'(R),
C * Q K^T and dM1 = -C * (dO G1^T) formed once:

  sweep B (per tile h): recompute Z0 = K W0^T, X1, G0 = (G1 W1) * act'(Z0); the read again
          (Zq0, Xq1) and its backward: the tile's read gradients of U, S and the anchor, da, dm,
          dQ, the mixing sums Xq1 X1^T and dZq0 G0^T, the read's parts of dX1 and dG0; the
          update's backward from the tile of dW (da_e, dm_e, dp_e, dc, dw, dK, dG1, and more of
          dX1, dG0); the recursion G0 = (G1 W1) * act'(Z0) (dG1, the key path's dW1, the act''
          part of dZ0). dW's tile is loaded once and stored once; the only value carried to
          sweep C is E = dZ0 + act'(Z0) * dX1 so far, (BC, HB) per tile in scratch;
  the mixing terms' backward: dC, dG1, dQ (complete: stored), dK; dR = dG1 (Huber's mask),
          dV = -dR;
  sweep C (per tile h): Z0 again; dW1 += dR^T X1, dZ0 = E + act'(Z0) * (dR W1), dW0 += dZ0^T K,
          dK += dZ0 W0, added into dW's tile;
  the coefficients' backward (tiled_bwd._coeff_backward): d theta, d eta, d alpha.

Per tile and chunk, sweep B runs 28 products of (64 x 64 x 64) with momentum and an
after-update read (the read's 16, the update's 8, the recursion's 2, Z0 and G1 W1), sweep C 5
(onepass_backward_cost counts them).
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
from .onepass import _loss_grad, _mmp, _tokens
from .tiled import _chunk_coeffs, _tile0, _tile1
from .tiled_bwd import _coeff_backward


@triton.jit
def _add(ptr, x):
    tl.store(ptr, tl.load(ptr) + x)


@triton.jit
def _g1(r_slot, sc_slot, offs, valid, delta, LOSS: tl.constexpr, NORMALIZED: tl.constexpr, BC: tl.constexpr):
    """The chunk's loss gradient G1 = loss'(R) (times the step scale) from its saved residual,
    zero past the last token."""
    g = tl.where(valid, _loss_grad(tl.load(r_slot + offs), delta, LOSS), 0.0)
    if NORMALIZED:
        g = g * tl.load(sc_slot + tl.arange(0, BC))[:, None]
    return g


@triton.jit
def _tile0t(base, h0, D: tl.constexpr, HB: tl.constexpr):
    """Pointers to the transpose (D, HB) of rows [h0, h0+HB) of a layer-0 matrix (HID, D): the
    layer-0 tiles are handled transposed, so that products that make them have D (not the
    hidden tile) as their row side."""
    return base + (h0 + tl.arange(0, HB))[None, :] * D + tl.arange(0, D)[:, None]


@triton.jit
def _w0(src, anc, h0, D: tl.constexpr, HB: tl.constexpr, ANCHOR: tl.constexpr, TRANS: tl.constexpr = True):
    """Tile of the layer-0 weights the key path uses, U0 or U0 + A0: (D, HB) with TRANS, else (HB, D)."""
    if TRANS:
        p = _tile0t(src, h0, D, HB)
        pa = _tile0t(anc, h0, D, HB)
    else:
        p = _tile0(src, h0, D, HB)
        pa = _tile0(anc, h0, D, HB)
    x = tl.load(p)
    if ANCHOR:
        x += tl.load(pa)
    return x


@triton.jit
def _w1(src1, anc, h0, D: tl.constexpr, HID: tl.constexpr, HB: tl.constexpr, ANCHOR: tl.constexpr):
    """Tile (D, HB) of the layer-1 weights the key path uses: U1, or U1 + A1."""
    x = tl.load(_tile1(src1, h0, HID, D, HB))
    if ANCHOR:
        x += tl.load(_tile1(anc + HID * D, h0, HID, D, HB))
    return x


@triton.jit
def _increment_bwd(K, G1, G0, X1, dW, h0, WHICH: tl.constexpr, coef, dG0, dX1, dcoef, dK, dG1, D: tl.constexpr,
                   HID: tl.constexpr, HB: tl.constexpr, NL: tl.constexpr, PREC: tl.constexpr):
    """Backward of the update's increments -G0^T (coef K) (layer 0) and -(coef G1)^T X1 (layer 1)
    into U (WHICH=0, coef = c) or S (WHICH=1, coef = w): loads their gradient's tiles g0, g1
    (D, HB) from dW, each just before its products; adds into dG0, dX1 (BC, HB), dcoef (BC,), dK,
    dG1 (BC, D); returns g0, g1 and those."""
    g0 = _dw_load(dW, h0, 0, WHICH, D, HID, HB, NL)
    P = _mmp(K, g0, PREC)                        # [t, h] = k_t . g0[:, h]
    dG0 -= P * coef[:, None]
    dK -= _mmp(G0 * coef[:, None], tl.trans(g0), PREC)
    g1 = _dw_load(dW, h0, 1, WHICH, D, HID, HB, NL)
    T = _mmp(G1, g1, PREC)
    dX1 -= T * coef[:, None]
    dG1 -= _mmp(X1 * coef[:, None], tl.trans(g1), PREC)
    dcoef -= tl.sum(G0 * P, 1) + tl.sum(X1 * T, 1)
    return g0, g1, dG0, dX1, dcoef, dK, dG1


@triton.jit
def _dw_ptrs(dW, h0, LAYER: tl.constexpr, WHICH: tl.constexpr, D: tl.constexpr, HID: tl.constexpr,
             HB: tl.constexpr, NL: tl.constexpr):
    """Pointers to tile h0 of the state gradient's W (WHICH=0) or S (1) of layer LAYER, (D, HB):
    rows of layer 0 transposed, columns of layer 1."""
    if LAYER == 0:
        p = _tile0t(dW + WHICH * HID * D, h0, D, HB)
    else:
        p = _tile1(dW + (NL + WHICH) * HID * D, h0, HID, D, HB)
    return p


@triton.jit
def _dw_load(dW, h0, LAYER: tl.constexpr, WHICH: tl.constexpr, D: tl.constexpr, HID: tl.constexpr,
             HB: tl.constexpr, NL: tl.constexpr):
    return tl.load(_dw_ptrs(dW, h0, LAYER, WHICH, D, HID, HB, NL))


@triton.jit
def _dw_store(dW, h0, LAYER: tl.constexpr, WHICH: tl.constexpr, x, D: tl.constexpr, HID: tl.constexpr,
              HB: tl.constexpr, NL: tl.constexpr):
    tl.store(_dw_ptrs(dW, h0, LAYER, WHICH, D, HID, HB, NL), x)


@triton.jit
def _dw_add(dW, h0, LAYER: tl.constexpr, WHICH: tl.constexpr, x, D: tl.constexpr, HID: tl.constexpr,
            HB: tl.constexpr, NL: tl.constexpr):
    _add(_dw_ptrs(dW, h0, LAYER, WHICH, D, HID, HB, NL), x)


@triton.jit
def onepass_backward(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, do_ptr, dq_ptr, dk_ptr, dv_ptr,
                     dtheta_ptr, deta_ptr, dalpha_ptr, st_ptr, r_ptr, sc_ptr, anc_ptr, dst_ptr, dan_ptr, e_ptr,
                     T, c_lo, c_hi, delta,
                     D: tl.constexpr, HID: tl.constexpr, BC: tl.constexpr, HB: tl.constexpr, SN: tl.constexpr,
                     ACT: tl.constexpr, LOSS: tl.constexpr, RESIDUAL: tl.constexpr, HAS_M: tl.constexpr,
                     HAS_D: tl.constexpr, ANCHOR: tl.constexpr, AFTER: tl.constexpr, NORMALIZED: tl.constexpr,
                     PREC: tl.constexpr):
    """One program per row n, chunks [c_lo, c_hi) in reverse. q/k/v/do/dq/dk/dv: (n, T, D);
    gates and their gradients: (n, T); st: (n, c_hi - c_lo, SN) chunk-start states [W0 (HID, D) |
    S0 | W1 (D, HID) | S1] (U = W - A with an anchor); r: (n, c_hi - c_lo, BC, D) the chunks'
    loss residuals, sc: (n, c_hi - c_lo, BC) their step scales (NORMALIZED; held constant here,
    as in the torch backend); anc / dan: (n, 2 HID D) the anchor [A0 | A1] and its gradient (accumulated);
    dst: (n, SN) the state gradient, in place; e: (n, BC, HID) float32 scratch. PREC: every
    product's precision (onepass._mmp)."""
    row = tl.program_id(0)
    tok = tl.arange(0, BC)
    hid = tl.arange(0, HB)
    offs = tok[:, None] * D + tl.arange(0, D)[None, :]
    io = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    NL: tl.constexpr = 2 if HAS_M else 1
    O_W1: tl.constexpr = NL * HID * D
    st_row = st_ptr + row.to(tl.int64) * (c_hi - c_lo) * SN
    r_row = r_ptr + row.to(tl.int64) * (c_hi - c_lo) * BC * D
    sc_row = sc_ptr + row.to(tl.int64) * (c_hi - c_lo) * BC
    dW = dst_ptr + row.to(tl.int64) * SN
    anc = anc_ptr + row.to(tl.int64) * 2 * HID * D
    dan = dan_ptr + row.to(tl.int64) * 2 * HID * D
    # per-row scratch: E (BC, HID), then C * Q K^T and dM1 (BC, BC), then dR (BC, D)
    e_row = e_ptr + row.to(tl.int64) * (BC * HID + 2 * BC * BC + BC * D)
    cqk_row = e_row + BC * HID
    dm1_row = cqk_row + BC * BC
    dr_row = dm1_row + BC * BC
    offs_cc = tok[:, None] * BC + tok[None, :]

    for jj in range(0, c_hi - c_lo):
        c = c_hi - 1 - jj
        src = st_row + (c - c_lo) * SN
        src1 = src + O_W1
        t0 = c * BC
        rows = tl.minimum(T - t0, BC)
        valid = (tok < rows)[:, None]
        theta, a, a_e, LBT, pv, Pe, w, LPT, m, m_e, p_e, FT, CT, cv = _chunk_coeffs(
            theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        C = tl.trans(CT)
        r_slot = r_row + (c - c_lo) * BC * D
        sc_slot = sc_row + (c - c_lo) * BC
        # token-side operands are loaded where a product reads them (from the inputs, R and the
        # scratch, all in L2), so that none stays live, in registers or shared memory, across a sweep
        # (names apart from the sweeps' own, which would otherwise be carried through their loops)
        if AFTER:
            Qc = _tokens(q_ptr + io, t0, rows, D, BC)
            Kc = _tokens(k_ptr + io, t0, rows, D, BC)
            tl.store(cqk_row + offs_cc, C * _mmp(Qc, tl.trans(Kc), PREC))      # [t, j] = C[t, j] q_t . k_j
            dOc = _tokens(do_ptr + io, t0, rows, D, BC)
            G1c = _g1(r_slot, sc_slot, offs, valid, delta, LOSS, NORMALIZED, BC)
            tl.store(dm1_row + offs_cc, -C * _mmp(dOc, tl.trans(G1c), PREC))  # [t, j] = -C[t, j] do_t . g1_j
            tl.debug_barrier()
            M1 = tl.zeros((BC, BC), tl.float32)                  # sum over tiles of Xq1 X1^T
            dMix0 = tl.zeros((BC, BC), tl.float32)               # and of dZq0 G0^T
        da = tl.zeros((BC,), tl.float32)
        dm = tl.zeros((BC,), tl.float32)
        dcv = tl.zeros((BC,), tl.float32)
        dw = tl.zeros((BC,), tl.float32)
        da_e = 0.0
        dm_e = 0.0
        dp_e = 0.0
        dQ = tl.zeros((BC, D), tl.float32)
        dK = tl.zeros((BC, D), tl.float32)
        dG1 = tl.zeros((BC, D), tl.float32)

        # sweep B: the read's, the update's and the recursion's backward, tile by tile
        for h0 in range(0, HID, HB):
            # Each state tile and token-side operand is loaded next to the products that read it,
            # and again for a later product rather than held: a tile in a float32 product's
            # operand layout occupies shared memory until its last product.
            K = _tokens(k_ptr + io, t0, rows, D, BC)
            Z0 = _mmp(K, _w0(src, anc, h0, D, HB, ANCHOR), PREC)     # (BC, HB)
            X1 = act_fn(Z0, ACT)
            d1 = act_d1(Z0, ACT)
            G1 = _g1(r_slot, sc_slot, offs, valid, delta, LOSS, NORMALIZED, BC)
            GW1 = _mmp(G1, _w1(src1, anc, h0, D, HID, HB, ANCHOR), PREC)
            G0 = GW1 * d1
            # the read again, then its backward: this tile's gradients of U, S (nU*, nS*) and of
            # the anchor (nA*)
            Q = _tokens(q_ptr + io, t0, rows, D, BC)
            if AFTER:
                PU0 = _mmp(Q, tl.load(_tile0t(src, h0, D, HB)), PREC)
                Zq0 = PU0 * a[:, None] - _mmp(tl.load(cqk_row + offs_cc), G0, PREC)
                if HAS_M:
                    PS0 = _mmp(Q, tl.load(_tile0t(src + HID * D, h0, D, HB)), PREC)
                    Zq0 += PS0 * m[:, None]
                if ANCHOR:
                    Zq0 += _mmp(Q, tl.load(_tile0t(anc, h0, D, HB)), PREC)
                Xq1 = act_fn(Zq0, ACT)
                # layer 1: out = a (Xq1 U1^T) + m (Xq1 S1^T) + Xq1 A1^T - (C * Xq1 X1^T) G1
                dO = _tokens(do_ptr + io, t0, rows, D, BC)
                E1 = _mmp(dO, tl.load(_tile1(src1, h0, HID, D, HB)), PREC)
                da += tl.sum(E1 * Xq1, 1)
                dXq1 = E1 * a[:, None]
                nU1 = _mmp(tl.trans(dO), Xq1 * a[:, None], PREC)
                if HAS_M:
                    F1 = _mmp(dO, tl.load(_tile1(src1 + HID * D, h0, HID, D, HB)), PREC)
                    dm += tl.sum(F1 * Xq1, 1)
                    dXq1 += F1 * m[:, None]
                    nS1 = _mmp(tl.trans(dO), Xq1 * m[:, None], PREC)
                if ANCHOR:
                    dXq1 += _mmp(dO, tl.load(_tile1(anc + HID * D, h0, HID, D, HB)), PREC)
                    nA1 = _mmp(tl.trans(dO), Xq1, PREC)
                dM1 = tl.load(dm1_row + offs_cc)
                dXq1 += _mmp(dM1, X1, PREC)
                dX1 = _mmp(tl.trans(dM1), Xq1, PREC)
                M1 += _mmp(Xq1, tl.trans(X1), PREC)
                # layer 0: Zq0 = a (Q U0^T) + m (Q S0^T) + Q A0^T - (C * Q K^T) G0
                dZq0 = act_d1(Zq0, ACT) * dXq1
                dZa = dZq0 * a[:, None]
                nU0 = _mmp(tl.trans(Q), dZa, PREC)      # (D, HB), as every layer-0 tile here
                da += tl.sum(PU0 * dZq0, 1)
                dQ += _mmp(dZa, tl.load(_tile0(src, h0, D, HB)), PREC)
                if HAS_M:
                    dZm = dZq0 * m[:, None]
                    nS0 = _mmp(tl.trans(Q), dZm, PREC)
                    dm += tl.sum(PS0 * dZq0, 1)
                    dQ += _mmp(dZm, tl.load(_tile0(src + HID * D, h0, D, HB)), PREC)
                if ANCHOR:
                    nA0 = _mmp(tl.trans(Q), dZq0, PREC)
                    dQ += _mmp(dZq0, tl.load(_tile0(anc, h0, D, HB)), PREC)
                dMix0 += _mmp(dZq0, tl.trans(G0), PREC)
                dG0 = -_mmp(tl.trans(tl.load(cqk_row + offs_cc)), dZq0, PREC)
            else:
                # read at the chunk-start weights: Zq0 = Q W0^T, out = act(Zq0) W1^T
                Zq0 = _mmp(Q, _w0(src, anc, h0, D, HB, ANCHOR), PREC)
                dO = _tokens(do_ptr + io, t0, rows, D, BC)
                nU1 = _mmp(tl.trans(dO), act_fn(Zq0, ACT), PREC)
                dZq0 = act_d1(Zq0, ACT) * _mmp(dO, _w1(src1, anc, h0, D, HID, HB, ANCHOR), PREC)
                nU0 = _mmp(tl.trans(Q), dZq0, PREC)
                dQ += _mmp(dZq0, _w0(src, anc, h0, D, HB, ANCHOR, False), PREC)
                nA0 = nU0
                nA1 = nU1
                if HAS_M:
                    nS0 = tl.zeros((D, HB), tl.float32)
                    nS1 = tl.zeros((D, HB), tl.float32)
                dX1 = tl.zeros((BC, HB), tl.float32)
                dG0 = tl.zeros((BC, HB), tl.float32)
            # the update: U0' = a_e U0 + m_e S0 - G0^T (c K), S0' = p_e S0 - G0^T (w K),
            # U1' = a_e U1 + m_e S1 - (c G1)^T X1, S1' = p_e S1 - (w G1)^T X1; the tile of dW
            # holds the end state's gradient
            gU0, gU1, dG0, dX1, dcv, dK, dG1 = _increment_bwd(K, G1, G0, X1, dW, h0, 0, cv, dG0, dX1, dcv, dK, dG1,
                                                              D, HID, HB, NL, PREC)
            nU0 += a_e * gU0
            nU1 += a_e * gU1
            if HAS_D:
                da_e += tl.sum(tl.sum(gU0 * tl.load(_tile0t(src, h0, D, HB)), 1), 0) \
                    + tl.sum(tl.sum(gU1 * tl.load(_tile1(src1, h0, HID, D, HB)), 1), 0)
            if HAS_M:
                S0 = tl.load(_tile0t(src + HID * D, h0, D, HB))
                S1 = tl.load(_tile1(src1 + HID * D, h0, HID, D, HB))
                dm_e += tl.sum(tl.sum(gU0 * S0, 1), 0) + tl.sum(tl.sum(gU1 * S1, 1), 0)
                gS0, gS1, dG0, dX1, dw, dK, dG1 = _increment_bwd(K, G1, G0, X1, dW, h0, 1, w, dG0, dX1, dw, dK, dG1,
                                                                  D, HID, HB, NL, PREC)
                dp_e += tl.sum(tl.sum(gS0 * S0, 1), 0) + tl.sum(tl.sum(gS1 * S1, 1), 0)
                nS0 += m_e * gU0 + p_e * gS0
                nS1 += m_e * gU1 + p_e * gS1
            # the recursion G0 = (G1 W1) * act'(Z0): its W1 gradient reaches U1 and the anchor
            dGW1 = dG0 * d1
            dG1 += _mmp(dGW1, tl.trans(_w1(src1, anc, h0, D, HID, HB, ANCHOR)), PREC)
            key1 = _mmp(tl.trans(G1), dGW1, PREC)
            nU1 += key1
            tl.store(e_row + tok[:, None] * HID + (h0 + hid)[None, :], dG0 * GW1 * act_d2(Z0, ACT) + d1 * dX1)
            tl.debug_barrier()   # every thread's loads of dW's tile precede the stores over it
            _dw_store(dW, h0, 0, 0, nU0, D, HID, HB, NL)
            _dw_store(dW, h0, 1, 0, nU1, D, HID, HB, NL)
            if HAS_M:
                _dw_store(dW, h0, 0, 1, nS0, D, HID, HB, NL)
                _dw_store(dW, h0, 1, 1, nS1, D, HID, HB, NL)
            if ANCHOR:
                _add(_tile0t(dan, h0, D, HB), nA0)
                _add(_tile1(dan + HID * D, h0, HID, D, HB), nA1 + key1)

        # the mixing terms C * (Q K^T) (layer 0) and C * (Xq1 X1^T) (layer 1); dQ is then complete
        dC = tl.zeros((BC, BC), tl.float32)
        if AFTER:
            Qm = _tokens(q_ptr + io, t0, rows, D, BC)
            Km = _tokens(k_ptr + io, t0, rows, D, BC)
            dOm = _tokens(do_ptr + io, t0, rows, D, BC)
            dC = -_mmp(dOm, tl.trans(_g1(r_slot, sc_slot, offs, valid, delta, LOSS, NORMALIZED, BC)), PREC) * M1 \
                - dMix0 * _mmp(Qm, tl.trans(Km), PREC)
            dG1 -= _mmp(tl.trans(C * M1), dOm, PREC)
            dM0 = -dMix0 * C
            dQ += _mmp(dM0, Km, PREC)
            dK += _mmp(tl.trans(dM0), Qm, PREC)
        if RESIDUAL:
            dQ += _tokens(do_ptr + io, t0, rows, D, BC)
        tok_ptr = tok[:, None] * D + tl.arange(0, D)[None, :] + io + t0 * D
        tl.store(dq_ptr + tok_ptr, dQ.to(dq_ptr.dtype.element_ty), mask=valid)
        # dR = dG1 (times the step scale; Huber passes it where |R| <= delta), dV = -dR, dZ1 = dR
        dRc = tl.where(valid, dG1, 0.0)
        if NORMALIZED:
            dRc = dRc * tl.load(sc_slot + tok)[:, None]
        if LOSS == 1:
            dRc = tl.where(tl.abs(tl.load(r_slot + offs)) <= delta, dRc, 0.0)
        if RESIDUAL:
            dK += dRc
        tl.store(dv_ptr + tok_ptr, (-dRc).to(dv_ptr.dtype.element_ty), mask=valid)
        tl.store(dr_row + offs, dRc)
        tl.debug_barrier()   # sweep B's scratch and dW stores precede sweep C's loads

        # sweep C: the key path's own backward, Z1 = X1 W1^T, X1 = act(K W0^T)
        for h0 in range(0, HID, HB):
            K = _tokens(k_ptr + io, t0, rows, D, BC)
            dR = tl.load(dr_row + offs)
            Z0 = _mmp(K, _w0(src, anc, h0, D, HB, ANCHOR), PREC)
            key1 = _mmp(tl.trans(dR), act_fn(Z0, ACT), PREC)
            dZ0 = tl.load(e_row + tok[:, None] * HID + (h0 + hid)[None, :]) \
                + act_d1(Z0, ACT) * _mmp(dR, _w1(src1, anc, h0, D, HID, HB, ANCHOR), PREC)
            key0 = _mmp(tl.trans(K), dZ0, PREC)     # (D, HB)
            dK += _mmp(dZ0, _w0(src, anc, h0, D, HB, ANCHOR, False), PREC)
            _dw_add(dW, h0, 0, 0, key0, D, HID, HB, NL)
            _dw_add(dW, h0, 1, 0, key1, D, HID, HB, NL)
            if ANCHOR:
                _add(_tile0t(dan, h0, D, HB), key0)
                _add(_tile1(dan + HID * D, h0, HID, D, HB), key1)
        tl.store(dk_ptr + tok_ptr, dK.to(dk_ptr.dtype.element_ty), mask=valid)
        _coeff_backward(tl.trans(dC), da, dm, dcv, dw, da_e, dm_e, dp_e, theta_ptr, eta_ptr, alpha_ptr,
                        dtheta_ptr, deta_ptr, dalpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        tl.debug_barrier()   # this chunk's start-state gradient is the next one's end-state gradient


def onepass_backward_cost(ir, D: int, chunk_size: int, hb: int = 64, precision: str = "tf32",
                          in_bytes: int = 2) -> dict:
    """What one program of onepass_backward does per chunk (the re-run, a one-pass forward without
    the read, left out): multiply-adds by group (the read's backward, the update's, the key path's
    with the recursion, the per-chunk mixing and coefficient products), products, sigmoid
    arguments, and bytes through L2: the chunk-start state (all of it in sweep B, W again in
    sweep C), the state gradient in place (the same, with the anchor's gradient), the anchor, the
    scratch E (written and read), and the tokens (q, k, dO at `in_bytes`, R and the gates float32;
    dq, dk, dv written, and the gates' gradients). `recomputed_macs` are the forward's products done
    again (Z0 in both sweeps, G1 W1, the read's Zq0). Keys as onepass.onepass_cost's, plus
    l2_grad_read_bytes, l2_grad_write_bytes and l2_scratch_bytes; l2_checkpoint_bytes is the
    group-start state the re-run reads, once per checkpoint group."""
    hid = ir.layers[0].out_mult * D
    tiles = hid // hb
    mom, decay = ir.gates.has_momentum, ir.gates.has_decay
    after, anchor = ir.read is ReadMode.AFTER_UPDATE, ir.decay_to_init
    bc = chunk_size
    tile = bc * hb * D
    if after:
        read = 11 + (5 if mom else 0) + (5 if anchor else 0)
        read_recomputed = 2 + (1 if mom else 0) + (1 if anchor else 0)     # PU0, CQK G0, PS0, Q A0^T
    else:
        read, read_recomputed = 5, 1                                          # Zq0
    update = 8 if mom else 4
    key = 2 + 2 + 5                      # Z0, G1 W1; the recursion's 2; sweep C's 5
    mixing = 7 if after else 0           # Q K^T, dO G1^T (twice each), (C * M1)^T dO, dM0 K, dM0^T Q
    coeffs = (2 if mom else 0) + (1 if mom and decay else 0)   # F = L_B L_P, and its two backward products
    groups = {"read": tiles * read * tile, "update": tiles * update * tile, "key": tiles * key * tile,
              "mixing": mixing * bc * bc * D, "coefficients": coeffs * bc ** 3}
    macs = sum(groups.values())
    nw = hid * D * 4                     # bytes of one (HID, D) matrix
    state_bytes = ir.state_numel(D) * 4
    grad_bytes = state_bytes + 2 * nw + (4 * nw if anchor else 0)   # all in sweep B, W0, W1 (and dA) in C
    return {"macs": macs, "macs_by_group": groups, "macs_by_precision": {precision: macs},
            "recomputed_macs": tiles * (3 + read_recomputed) * tile,
            "products": tiles * (2 + read + update + 2 + 5) + mixing + coeffs,
            "activations": tiles * 3 * bc * hb,                 # sigmoid of Z0 (twice) and of Zq0
            "state_bytes": state_bytes, "l2_state_read_bytes": state_bytes + 2 * nw, "l2_state_write_bytes": 0,
            "l2_grad_read_bytes": grad_bytes, "l2_grad_write_bytes": grad_bytes,
            "l2_anchor_read_bytes": 4 * nw if anchor else 0,   # in both sweeps
            "l2_scratch_bytes": 2 * bc * hid * 4,
            "l2_token_read_bytes": 3 * bc * D * in_bytes + bc * D * 4 + 3 * bc * 4,
            "l2_token_write_bytes": 3 * bc * D * in_bytes + 3 * bc * 4,
            "l2_checkpoint_bytes": state_bytes}


def backward_scratch_floats(D: int, hidden: int, chunk_size: int) -> int:
    """Scratch floats per row: E (chunk, hidden), C * Q K^T and dM1 (chunk, chunk), dR (chunk, D)."""
    return chunk_size * (hidden + 2 * chunk_size + D)


def backward_args(rows: tuple, gates: tuple, d_out: Tensor, grads: tuple, rerun: tuple, anchor: Tensor | None,
                  d_state: Tensor, d_anchor: Tensor | None) -> list:
    """The one-pass backward kernels' leading pointer arguments, in order: q, k, v, the gates,
    dO, the gradients (dq, dk, dv, d theta, d eta, d alpha), the re-run's states, residuals and
    scales, the anchor, the state gradient and the anchor's; an absent tensor is replaced by one
    of the same role that the kernel then does not read."""
    lr, momentum, decay = gates
    dq, dk, dv, dtheta, deta, dalpha = grads
    return [*rows, lr, momentum if momentum is not None else lr, decay if decay is not None else lr, d_out,
            dq, dk, dv, dtheta, deta if deta is not None else dtheta, dalpha if dalpha is not None else dtheta,
            *rerun, anchor if anchor is not None else d_state, d_state, d_anchor if d_anchor is not None else d_state]


def onepass_backward_launch(ir, q: Tensor, k: Tensor, v: Tensor, gates: tuple, d_out: Tensor, grads: tuple,
                            states: Tensor, r: Tensor, sc: Tensor, anchor: Tensor | None, d_state: Tensor,
                            d_anchor: Tensor | None, scratch: Tensor, chunk_size: int, lo: int, hi: int, hb: int,
                            num_warps: int, precision: str) -> None:
    """Launch onepass_backward over chunks [lo, hi) of flat rows (launch.run_backward_onepass)."""
    from .onepass import ACTIVATIONS, LOSSES

    n, T, D = q.shape
    lr, momentum, decay = gates
    try:
        onepass_backward[(n,)](
            *backward_args((q, k, v), gates, d_out, grads, (states, r, sc), anchor, d_state, d_anchor),
            scratch, T, lo, hi, float(ir.huber_delta),
            D=D, HID=ir.layer_shapes(D)[0][0], BC=chunk_size, HB=hb, SN=d_state.shape[1],
            ACT=ACTIVATIONS[ir.activation], LOSS=LOSSES[ir.loss], RESIDUAL=ir.residual,
            HAS_M=momentum is not None, HAS_D=decay is not None, ANCHOR=anchor is not None,
            AFTER=ir.read is ReadMode.AFTER_UPDATE, NORMALIZED=ir.normalized_step, PREC=precision,
            num_warps=num_warps, num_stages=1)
    except OutOfResources as exc:
        raise InputError(f"one-pass backward at D={D}, chunk {chunk_size}, hidden tile {hb}: {exc.name} "
                         f"{exc.required} exceeds this GPU's {exc.limit}; use a smaller hidden tile or chunk, "
                         f"or backward='tiled'") from None


def empty_grads(q: Tensor, has_eta: bool, has_alpha: bool, like) -> tuple:
    """dq, dk, dv like q; dtheta (and deta, dalpha where the gate exists) (n, T) float32."""
    dq, dk, dv = (like(q) for _ in range(3))
    dtheta = like(torch.empty(q.shape[0], q.shape[1], dtype=torch.float32, device=q.device))
    return dq, dk, dv, dtheta, (like(dtheta) if has_eta else None), (like(dtheta) if has_alpha else None)
