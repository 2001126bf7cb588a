"""Triton device functions that generated chunk kernels are assembled from.

One program owns one (batch, head) row and walks its chunks in order. Every product of the dual
form is a call of `mm`: a tiled GEMM over operands in global memory (inputs, the program's
state, or its scratch region, which stays L2-resident), with the epilogues the dual form needs
(row scaling, an elementwise mask multiply, scaled extra terms, accumulate or subtract).
Elementwise steps (activation, loss gradient) are separate calls. Generated kernels place a
barrier between calls, since one call's stores feed the next call's loads.

Activation codes: 0 silu, 1 gelu (erf), 2 relu, 3 identity. Loss codes: 0 l2, 1 huber.
"""
from __future__ import annotations

import triton
import triton.language as tl

LOG_FLOOR = tl.constexpr(-30.0)


@triton.jit
def act_fn(x, ACT: tl.constexpr):
    if ACT == 0:
        return x * tl.sigmoid(x)
    elif ACT == 1:
        return 0.5 * x * (1.0 + tl.math.erf(x * 0.7071067811865476))
    elif ACT == 2:
        return tl.maximum(x, 0.0)
    else:
        return x


@triton.jit
def act_d1(x, ACT: tl.constexpr):
    if ACT == 0:
        s = tl.sigmoid(x)
        return s * (1.0 + x * (1.0 - s))
    elif ACT == 1:
        cdf = 0.5 * (1.0 + tl.math.erf(x * 0.7071067811865476))
        return cdf + x * tl.exp(-0.5 * x * x) * 0.3989422804014327
    elif ACT == 2:
        return tl.where(x > 0, 1.0, 0.0)
    else:
        return tl.full(x.shape, 1.0, tl.float32)


@triton.jit
def mm(a_ptr, s_am, s_ak, b_ptr, s_bk, s_bn, c_ptr, s_cm, s_cn,
       ms_ptr, ks_ptr, ns_ptr, mul_ptr, s_mulm, s_muln,
       e0_ptr, s_e0m, s_e0n, e0_scale, e1_ptr, s_e1m, s_e1n, e1_scale, rows,
       M: tl.constexpr, N: tl.constexpr, K: tl.constexpr,
       MODE: tl.constexpr, HAS_MS: tl.constexpr, HAS_KS: tl.constexpr, HAS_NS: tl.constexpr,
       HAS_MUL: tl.constexpr,
       HAS_E0: tl.constexpr, HAS_E1: tl.constexpr, MASK_A: tl.constexpr, MASK_C: tl.constexpr,
       BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr):
    """C (M x N) <- epilogue(A @ B) with A (M x K), B (K x N) given by pointers and strides.

    acc = A @ B, A's columns scaled by ks (HAS_KS); then acc *= ms[row] (HAS_MS), acc *= ns[col]
    (HAS_NS), acc *= MUL
    (HAS_MUL); then acc = sign*acc + e0_scale*E0 + e1_scale*E1; MODE 0 stores, 1 adds to C,
    2 subtracts from C (sign -1 with MODE 2 and 3; MODE 3 stores -acc + extras).
    MASK_A zeroes A rows >= rows (ragged input chunk); MASK_C skips C rows >= rows.
    """
    for m0 in range(0, M, BM):
        rm = m0 + tl.arange(0, BM)
        for n0 in range(0, N, BN):
            rn = n0 + tl.arange(0, BN)
            acc = tl.zeros((BM, BN), dtype=tl.float32)
            for k0 in range(0, K, BK):
                rk = k0 + tl.arange(0, BK)
                a_ptrs = a_ptr + rm[:, None] * s_am + rk[None, :] * s_ak
                if MASK_A:
                    a = tl.load(a_ptrs, mask=rm[:, None] < rows, other=0.0).to(tl.float32)
                else:
                    a = tl.load(a_ptrs).to(tl.float32)
                if HAS_KS:
                    a = a * tl.load(ks_ptr + rk)[None, :]
                b = tl.load(b_ptr + rk[:, None] * s_bk + rn[None, :] * s_bn).to(tl.float32)
                acc += tl.dot(a, b, input_precision=PREC)
            if HAS_MS:
                acc = acc * tl.load(ms_ptr + rm)[:, None]
            if HAS_NS:
                acc = acc * tl.load(ns_ptr + rn)[None, :]
            if HAS_MUL:
                acc = acc * tl.load(mul_ptr + rm[:, None] * s_mulm + rn[None, :] * s_muln)
            if MODE >= 2:
                acc = -acc
            if HAS_E0:
                acc += e0_scale * tl.load(e0_ptr + rm[:, None] * s_e0m + rn[None, :] * s_e0n).to(tl.float32)
            if HAS_E1:
                acc += e1_scale * tl.load(e1_ptr + rm[:, None] * s_e1m + rn[None, :] * s_e1n).to(tl.float32)
            c_ptrs = c_ptr + rm[:, None] * s_cm + rn[None, :] * s_cn
            if MODE == 1 or MODE == 2:
                acc += tl.load(c_ptrs)
            if MASK_C:
                tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=rm[:, None] < rows)
            else:
                tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty))


@triton.jit
def ew_act(z_ptr, x_ptr, M: tl.constexpr, N: tl.constexpr, ACT: tl.constexpr,
           BM: tl.constexpr, BN: tl.constexpr):
    """X = act(Z) over a contiguous (M, N) block."""
    for m0 in range(0, M, BM):
        rm = m0 + tl.arange(0, BM)
        for n0 in range(0, N, BN):
            rn = n0 + tl.arange(0, BN)
            off = rm[:, None] * N + rn[None, :]
            tl.store(x_ptr + off, act_fn(tl.load(z_ptr + off), ACT))


@triton.jit
def ew_grad_act(g_ptr, z_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, ACT: tl.constexpr,
                BM: tl.constexpr, BN: tl.constexpr):
    """OUT = G * act'(Z) over contiguous (M, N) blocks (OUT may alias G)."""
    for m0 in range(0, M, BM):
        rm = m0 + tl.arange(0, BM)
        for n0 in range(0, N, BN):
            rn = n0 + tl.arange(0, BN)
            off = rm[:, None] * N + rn[None, :]
            tl.store(out_ptr + off, tl.load(g_ptr + off) * act_d1(tl.load(z_ptr + off), ACT))


@triton.jit
def ew_loss_grad(y_ptr, k_ptr, v_ptr, s_row, g_ptr, sc_ptr, rows, delta,
                 M: tl.constexpr, N: tl.constexpr, RESIDUAL: tl.constexpr, LOSS: tl.constexpr,
                 HAS_SC: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr):
    """G = dloss/dY for R = Y (+ K) - V, rows scaled by sc (normalized step); rows >= `rows`
    (padding) read k = v = 0."""
    for m0 in range(0, M, BM):
        rm = m0 + tl.arange(0, BM)
        for n0 in range(0, N, BN):
            rn = n0 + tl.arange(0, BN)
            off = rm[:, None] * N + rn[None, :]
            mask = rm[:, None] < rows
            io = rm[:, None] * s_row + rn[None, :]
            r = tl.load(y_ptr + off) - tl.load(v_ptr + io, mask=mask, other=0.0).to(tl.float32)
            if RESIDUAL:
                r += tl.load(k_ptr + io, mask=mask, other=0.0).to(tl.float32)
            if LOSS == 1:
                r = tl.minimum(tl.maximum(r, -delta), delta)
            if HAS_SC:
                r = r * tl.load(sc_ptr + rm)[:, None]
            tl.store(g_ptr + off, r)


@triton.jit
def kappa_rows(kap_ptr, x_ptr, z_ptr, w_ptr, lam, M: tl.constexpr, K: tl.constexpr, O: tl.constexpr,
               FIRST: tl.constexpr, FINAL: tl.constexpr, ACT: tl.constexpr, BT: tl.constexpr):
    """One Horner step of the curvature bound (ir/ops.py step_scale), per row of a chunk:
    kap = kap * min(sum_j act'(Z[:, j])^2 ||W[:, j]||^2, lam * max_j act'(Z[:, j])^2) + ||X||^2,
    with X (M, K) the layer input, Z (M, K) the previous pre-activation, W (O, K), lam the
    operator-norm bound of W. FIRST: kap = ||X||^2 (Z, W, lam unused). FINAL: store
    1 / max(1, kap) instead."""
    for m0 in range(0, M, BT):
        rm = m0 + tl.arange(0, BT)
        r = tl.zeros((BT,), tl.float32)
        mx = tl.zeros((BT,), tl.float32)
        xx = tl.zeros((BT,), tl.float32)
        for j0 in range(0, K, BT):
            rj = j0 + tl.arange(0, BT)
            x = tl.load(x_ptr + rm[:, None] * K + rj[None, :])
            xx += tl.sum(x * x, 1)
            if not FIRST:
                col = tl.zeros((BT,), tl.float32)
                for o0 in range(0, O, BT):
                    ro = o0 + tl.arange(0, BT)
                    wt = tl.load(w_ptr + ro[:, None] * K + rj[None, :])
                    col += tl.sum(wt * wt, 0)
                d = act_d1(tl.load(z_ptr + rm[:, None] * K + rj[None, :]), ACT)
                r += tl.sum(d * d * col[None, :], 1)
                mx = tl.maximum(mx, tl.max(d * d, 1))
        kap = xx
        if not FIRST:
            kap = tl.load(kap_ptr + rm) * tl.minimum(r, lam * mx) + xx
        if FINAL:
            kap = 1.0 / tl.maximum(kap, 1.0)
        tl.store(kap_ptr + rm, kap)


@triton.jit
def frob_norm(x_ptr, NUMEL: tl.constexpr, BLOCK: tl.constexpr):
    """max(||x||_F, 1e-30) over NUMEL contiguous floats."""
    return tl.maximum(tl.sqrt(dot_sum(x_ptr, x_ptr, NUMEL, BLOCK)), 1e-30)


@triton.jit
def copy_block(src_ptr, dst_ptr, NUMEL: tl.constexpr, BLOCK: tl.constexpr):
    for i0 in range(0, NUMEL, BLOCK):
        idx = i0 + tl.arange(0, BLOCK)
        tl.store(dst_ptr + idx, tl.load(src_ptr + idx))


@triton.jit
def coeff_vectors(theta_ptr, eta_ptr, alpha_ptr, rows, theta_s, acum_s, ncum_s, a_s, pv_s, pe_s, w_s,
                  BC: tl.constexpr, HAS_M: tl.constexpr, HAS_D: tl.constexpr):
    """Per-token vectors of one chunk (gate pointers at its first token) into scratch:
    theta, cumsum log(1-alpha), cumsum log(eta), a = B_{s->t}, pv = P_{s->t}, pe = P_{t->e},
    w = theta P_{t->e}.
    Padded tokens (>= rows) get theta = 0, eta = 1, alpha = 0."""
    i = tl.arange(0, BC)
    valid = i < rows
    e = rows - 1
    theta = tl.load(theta_ptr + i, mask=valid, other=0.0).to(tl.float32)
    tl.store(theta_s + i, theta)
    if HAS_D:
        alpha = tl.load(alpha_ptr + i, mask=valid, other=0.0).to(tl.float32)
        A = tl.cumsum(tl.maximum(tl.log(1.0 - alpha), LOG_FLOOR), 0)
        tl.store(acum_s + i, A)
        tl.store(a_s + i, tl.exp(A))
    if HAS_M:
        eta = tl.load(eta_ptr + i, mask=valid, other=1.0).to(tl.float32)
        Ncum = tl.cumsum(tl.maximum(tl.log(eta), LOG_FLOOR), 0)
        N_e = tl.sum(tl.where(i == e, Ncum, 0.0), 0)
        tl.store(ncum_s + i, Ncum)
        tl.store(pv_s + i, tl.exp(Ncum))
        pe = tl.exp(tl.minimum(N_e - Ncum, 0.0))
        tl.store(pe_s + i, pe)
        tl.store(w_s + i, theta * pe)


@triton.jit
def segment_exp(cum_s, out_ptr, BC: tl.constexpr, BT: tl.constexpr, IS_ONES: tl.constexpr):
    """out[t, j] = exp(cum_t - cum_j) for j <= t, else 0 (IS_ONES: the 0/1 lower triangle)."""
    for t0 in range(0, BC, BT):
        rt = t0 + tl.arange(0, BT)
        for j0 in range(0, BC, BT):
            rj = j0 + tl.arange(0, BT)
            tri = rt[:, None] >= rj[None, :]
            if IS_ONES:
                val = tl.where(tri, 1.0, 0.0)
            else:
                d = tl.load(cum_s + rt)[:, None] - tl.load(cum_s + rj)[None, :]
                val = tl.where(tri, tl.exp(tl.minimum(d, 0.0)), 0.0)
            tl.store(out_ptr + rt[:, None] * BC + rj[None, :], val)


@triton.jit
def scale_cols(x_ptr, s_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, BT: tl.constexpr,
               TRIL: tl.constexpr = False):
    """out = x * s[None, :] for contiguous (M, N) blocks (TRIL: zero above the diagonal)."""
    for m0 in range(0, M, BT):
        rm = m0 + tl.arange(0, BT)
        for n0 in range(0, N, BT):
            rn = n0 + tl.arange(0, BT)
            off = rm[:, None] * N + rn[None, :]
            val = tl.load(x_ptr + off) * tl.load(s_ptr + rn)[None, :]
            if TRIL:
                val = tl.where(rm[:, None] >= rn[None, :], val, 0.0)
            tl.store(out_ptr + off, val)


@triton.jit
def colsum_prod(x_ptr, y_ptr, out_ptr, BC: tl.constexpr, BT: tl.constexpr):
    """out[j] = sum_t x[t, j] y[t, j] for (BC, BC) blocks."""
    for j0 in range(0, BC, BT):
        rj = j0 + tl.arange(0, BT)
        acc = tl.zeros((BT,), dtype=tl.float32)
        for t0 in range(0, BC, BT):
            rt = t0 + tl.arange(0, BT)
            off = rt[:, None] * BC + rj[None, :]
            acc += tl.sum(tl.load(x_ptr + off) * tl.load(y_ptr + off), 0)
        tl.store(out_ptr + rj, acc)


@triton.jit
def row_dot(x_ptr, v_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr, BT: tl.constexpr):
    """out[m] = sum_n x[m, n] v[n] for a contiguous (M, N) block."""
    for m0 in range(0, M, BT):
        rm = m0 + tl.arange(0, BT)
        acc = tl.zeros((BT,), dtype=tl.float32)
        for n0 in range(0, N, BT):
            rn = n0 + tl.arange(0, BT)
            acc += tl.sum(tl.load(x_ptr + rm[:, None] * N + rn[None, :]) * tl.load(v_ptr + rn)[None, :], 1)
        tl.store(out_ptr + rm, acc)


@triton.jit
def copy_row(src_ptr, row, dst_ptr, N: tl.constexpr, BT: tl.constexpr):
    """dst[:] = src[row, :] of a contiguous (., N) block."""
    for n0 in range(0, N, BT):
        rn = n0 + tl.arange(0, BT)
        tl.store(dst_ptr + rn, tl.load(src_ptr + row * N + rn))


@triton.jit
def ew_load(src_ptr, dst_ptr, rows, M: tl.constexpr, N: tl.constexpr, BM: tl.constexpr):
    """Copy rows [0, rows) of a (., N) row-major input into a zero-padded float32 (M, N) block."""
    for m0 in range(0, M, BM):
        rm = m0 + tl.arange(0, BM)
        rn = tl.arange(0, N)
        x = tl.load(src_ptr + rm[:, None] * N + rn[None, :], mask=rm[:, None] < rows, other=0.0)
        tl.store(dst_ptr + rm[:, None] * N + rn[None, :], x.to(tl.float32))


@triton.jit
def ew_store_out(z_ptr, q_ptr, out_ptr, rows, M: tl.constexpr, N: tl.constexpr,
                 RESIDUAL: tl.constexpr, BM: tl.constexpr):
    """out[rows] = Z (+ Q) in the output's dtype."""
    for m0 in range(0, M, BM):
        rm = m0 + tl.arange(0, BM)
        rn = tl.arange(0, N)
        off = rm[:, None] * N + rn[None, :]
        z = tl.load(z_ptr + off)
        if RESIDUAL:
            z += tl.load(q_ptr + off)
        tl.store(out_ptr + off, z.to(out_ptr.dtype.element_ty), mask=rm[:, None] < rows)


# ---------------------------------------------------------------------------------------------
# backward building blocks


@triton.jit
def act_d2(x, ACT: tl.constexpr):
    if ACT == 0:
        s = tl.sigmoid(x)
        return s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s))
    elif ACT == 1:
        return tl.exp(-0.5 * x * x) * 0.3989422804014327 * (2.0 - x * x)
    else:
        return tl.zeros(x.shape, tl.float32)


@triton.jit
def dot_sum(x_ptr, y_ptr, NUMEL: tl.constexpr, BLOCK: tl.constexpr):
    """sum(x * y) over NUMEL contiguous floats."""
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for i0 in range(0, NUMEL, BLOCK):
        idx = i0 + tl.arange(0, BLOCK)
        acc += tl.load(x_ptr + idx) * tl.load(y_ptr + idx)
    return tl.sum(acc, 0)


@triton.jit
def lin2(dst_ptr, x_ptr, sx, y_ptr, sy, NUMEL: tl.constexpr, HAS_Y: tl.constexpr, BLOCK: tl.constexpr):
    """dst = sx * x (+ sy * y) over NUMEL contiguous floats (dst may alias x or y)."""
    for i0 in range(0, NUMEL, BLOCK):
        idx = i0 + tl.arange(0, BLOCK)
        val = sx * tl.load(x_ptr + idx)
        if HAS_Y:
            val += sy * tl.load(y_ptr + idx)
        tl.store(dst_ptr + idx, val)


@triton.jit
def fill(dst_ptr, value, NUMEL: tl.constexpr, BLOCK: tl.constexpr):
    for i0 in range(0, NUMEL, BLOCK):
        idx = i0 + tl.arange(0, BLOCK)
        tl.store(dst_ptr + idx, tl.full((BLOCK,), value, tl.float32))


@triton.jit
def rowdot_acc(x_ptr, y_ptr, out_ptr, sign, M: tl.constexpr, N: tl.constexpr, BT: tl.constexpr):
    """out[m] += sign * sum_n x[m, n] y[m, n] for contiguous (M, N) blocks."""
    for m0 in range(0, M, BT):
        rm = m0 + tl.arange(0, BT)
        acc = tl.zeros((BT,), dtype=tl.float32)
        for n0 in range(0, N, BT):
            rn = n0 + tl.arange(0, BT)
            off = rm[:, None] * N + rn[None, :]
            acc += tl.sum(tl.load(x_ptr + off) * tl.load(y_ptr + off), 1)
        tl.store(out_ptr + rm, tl.load(out_ptr + rm) + sign * acc)


@triton.jit
def rowscale(x_ptr, s_ptr, dst_ptr, M: tl.constexpr, N: tl.constexpr, ADD: tl.constexpr, BT: tl.constexpr):
    """dst (+)= s[:, None] * x for contiguous (M, N) blocks."""
    for m0 in range(0, M, BT):
        rm = m0 + tl.arange(0, BT)
        for n0 in range(0, N, BT):
            rn = n0 + tl.arange(0, BT)
            off = rm[:, None] * N + rn[None, :]
            val = tl.load(s_ptr + rm)[:, None] * tl.load(x_ptr + off)
            if ADD:
                val += tl.load(dst_ptr + off)
            tl.store(dst_ptr + off, val)


@triton.jit
def mul_acc(dst_ptr, x_ptr, y_ptr, sign, M: tl.constexpr, N: tl.constexpr, ADD: tl.constexpr,
            TRIL: tl.constexpr, BT: tl.constexpr):
    """dst = (dst +) sign * x * y for contiguous (M, N) blocks; TRIL zeroes above the diagonal."""
    for m0 in range(0, M, BT):
        rm = m0 + tl.arange(0, BT)
        for n0 in range(0, N, BT):
            rn = n0 + tl.arange(0, BT)
            off = rm[:, None] * N + rn[None, :]
            val = sign * tl.load(x_ptr + off) * tl.load(y_ptr + off)
            if ADD:
                val += tl.load(dst_ptr + off)
            if TRIL:
                val = tl.where(rm[:, None] >= rn[None, :], val, 0.0)
            tl.store(dst_ptr + off, val)


@triton.jit
def grad2_acc(dst_ptr, dg_ptr, gw_ptr, z_ptr, dx_ptr, M: tl.constexpr, N: tl.constexpr,
              ACT: tl.constexpr, BT: tl.constexpr):
    """dst = dG * GW * act''(Z) + dX * act'(Z): gradient w.r.t. Z of a hidden layer."""
    for m0 in range(0, M, BT):
        rm = m0 + tl.arange(0, BT)
        for n0 in range(0, N, BT):
            rn = n0 + tl.arange(0, BT)
            off = rm[:, None] * N + rn[None, :]
            z = tl.load(z_ptr + off)
            val = tl.load(dg_ptr + off) * tl.load(gw_ptr + off) * act_d2(z, ACT)
            val += tl.load(dx_ptr + off) * act_d1(z, ACT)
            tl.store(dst_ptr + off, val)


@triton.jit
def loss_back(dg_ptr, z_ptr, k_ptr, v_ptr, dst_ptr, sc_ptr, delta, M: tl.constexpr, N: tl.constexpr,
              RESIDUAL: tl.constexpr, LOSS: tl.constexpr, HAS_SC: tl.constexpr, BT: tl.constexpr):
    """dR = dG * sc * loss'(R) with R = Z (+ K) - V recomputed (K, V: (M, N) float32 scratch)."""
    for m0 in range(0, M, BT):
        rm = m0 + tl.arange(0, BT)
        for n0 in range(0, N, BT):
            rn = n0 + tl.arange(0, BT)
            off = rm[:, None] * N + rn[None, :]
            dg = tl.load(dg_ptr + off)
            if HAS_SC:
                dg = dg * tl.load(sc_ptr + rm)[:, None]
            if LOSS == 1:
                r = tl.load(z_ptr + off) - tl.load(v_ptr + off)
                if RESIDUAL:
                    r += tl.load(k_ptr + off)
                dg = tl.where(tl.abs(r) <= delta, dg, 0.0)
            tl.store(dst_ptr + off, dg)


@triton.jit
def store_rows(x_ptr, sx, y_ptr, sy, out_ptr, rows, M: tl.constexpr, N: tl.constexpr,
               HAS_Y: tl.constexpr, BM: tl.constexpr):
    """out[:rows] = sx * x (+ sy * y), x, y contiguous (M, N) float32; out in its own dtype."""
    for m0 in range(0, M, BM):
        rm = m0 + tl.arange(0, BM)
        rn = tl.arange(0, N)
        off = rm[:, None] * N + rn[None, :]
        val = sx * tl.load(x_ptr + off)
        if HAS_Y:
            val += sy * tl.load(y_ptr + off)
        tl.store(out_ptr + off, val.to(out_ptr.dtype.element_ty), mask=rm[:, None] < rows)


@triton.jit
def vec_axpy(dst_ptr, x_ptr, sx, y_ptr, BC: tl.constexpr, HAS_Y: tl.constexpr, ADD: tl.constexpr):
    """dst = (dst +) sx * x (* y) over BC floats."""
    i = tl.arange(0, BC)
    val = sx * tl.load(x_ptr + i)
    if HAS_Y:
        val = val * tl.load(y_ptr + i)
    if ADD:
        val += tl.load(dst_ptr + i)
    tl.store(dst_ptr + i, val)


@triton.jit
def vec_add_at(dst_ptr, idx, value, BC: tl.constexpr):
    """dst[idx] += value."""
    i = tl.arange(0, BC)
    tl.store(dst_ptr + i, tl.load(dst_ptr + i) + tl.where(i == idx, value, 0.0))


@triton.jit
def row_add_at(mat_ptr, row, v_ptr, BC: tl.constexpr):
    """mat[row, :] += v for a (BC, BC) block."""
    i = tl.arange(0, BC)
    tl.store(mat_ptr + row * BC + i, tl.load(mat_ptr + row * BC + i) + tl.load(v_ptr + i))


@triton.jit
def tri_rowcol(x_ptr, y_ptr, out_ptr, BC: tl.constexpr, ADD: tl.constexpr, BT: tl.constexpr):
    """out[t] (+)= sum_j P[t, j] - sum_i P[i, t] with P = x * y ((BC, BC) blocks)."""
    for t0 in range(0, BC, BT):
        rt = t0 + tl.arange(0, BT)
        acc = tl.zeros((BT,), dtype=tl.float32)
        for j0 in range(0, BC, BT):
            rj = j0 + tl.arange(0, BT)
            row = rt[:, None] * BC + rj[None, :]
            col = rj[:, None] * BC + rt[None, :]
            acc += tl.sum(tl.load(x_ptr + row) * tl.load(y_ptr + row), 1)
            acc -= tl.sum(tl.load(x_ptr + col) * tl.load(y_ptr + col), 0)
        if ADD:
            acc += tl.load(out_ptr + rt)
        tl.store(out_ptr + rt, acc)


@triton.jit
def col_dot(x_ptr, v_ptr, out_ptr, BC: tl.constexpr, BT: tl.constexpr):
    """out[j] = sum_t x[t, j] v[t] for a (BC, BC) block."""
    for j0 in range(0, BC, BT):
        rj = j0 + tl.arange(0, BT)
        acc = tl.zeros((BT,), dtype=tl.float32)
        for t0 in range(0, BC, BT):
            rt = t0 + tl.arange(0, BT)
            acc += tl.sum(tl.load(x_ptr + rt[:, None] * BC + rj[None, :]) * tl.load(v_ptr + rt)[:, None], 0)
        tl.store(out_ptr + rj, acc)


@triton.jit
def outer_acc(dst_ptr, u_ptr, v_ptr, BC: tl.constexpr, BT: tl.constexpr):
    """dst += u v^T for a (BC, BC) block."""
    for t0 in range(0, BC, BT):
        rt = t0 + tl.arange(0, BT)
        for j0 in range(0, BC, BT):
            rj = j0 + tl.arange(0, BT)
            off = rt[:, None] * BC + rj[None, :]
            tl.store(dst_ptr + off, tl.load(dst_ptr + off) + tl.load(u_ptr + rt)[:, None] * tl.load(v_ptr + rj)[None, :])


@triton.jit
def gate_grads(dtheta_s, da_s, dn_s, theta_ptr, eta_ptr, alpha_ptr, dtheta_ptr, deta_ptr, dalpha_ptr, rows,
               BC: tl.constexpr, HAS_M: tl.constexpr, HAS_D: tl.constexpr):
    """Gate gradients of one chunk from d theta and the gradients w.r.t. the cumulative log sums
    (reverse cumsum, then through log(eta) and log(1 - alpha), both clamped at LOG_FLOOR)."""
    i = tl.arange(0, BC)
    valid = i < rows
    tl.store(dtheta_ptr + i, tl.load(dtheta_s + i), mask=valid)
    if HAS_D:
        alpha = tl.load(alpha_ptr + i, mask=valid, other=0.0).to(tl.float32)
        dla = tl.cumsum(tl.load(da_s + i), 0, reverse=True)
        live = tl.log(1.0 - alpha) > LOG_FLOOR
        tl.store(dalpha_ptr + i, tl.where(live, -dla / (1.0 - alpha), 0.0), mask=valid)
    if HAS_M:
        eta = tl.load(eta_ptr + i, mask=valid, other=1.0).to(tl.float32)
        dln = tl.cumsum(tl.load(dn_s + i), 0, reverse=True)
        live = tl.log(eta) > LOG_FLOOR
        tl.store(deta_ptr + i, tl.where(live, dln / eta, 0.0), mask=valid)
