"""Tiled forward kernel for depth-2 memories (every shipped depth-2 spec).

The generic kernel (codegen.py) routes every product of the dual form through the program's
global scratch, one barrier-separated call per step. Here one program per (batch, head) row
keeps the chunk's token-side operands on chip: K, Q, V, the loss gradient G1 and C * Q K^T,
plus the read accumulators. The state (W_l, S_l of both layers, float32) is too large for one SM
at expansion 4 (256 KB at D=64), so it streams through L2 in tiles of HB hidden units: layer-0
rows [h, h+HB) and layer-1 columns [h, h+HB). Three passes per chunk (two when fused, below):

  pass 1 (key path): Z0_h = K W0_h^T, X1_h = act(Z0_h), Z1 += X1_h W1_h^T; with the normalized
          step also the Gram matrix of W1 and the per-token curvature sums; then
          G1 = loss'(Z1 - V) (times the step scale);
  pass 2 (read): recompute Z0_h (cheaper than keeping BC x HID values), G0_h = (G1 W1_h) *
          act'(Z0_h), the read Zq0_h, Xq1_h = act(Zq0_h), accumulate Zq1 and Xq1 X1^T; write out;
  pass 3 (state): recompute Z0_h, G0_h and write the end-of-chunk tiles of W and S into the
          other half of a double-buffered state.

With FUSE (config `fuse`, the default; read after the update), pass 2 also does pass 3's work on
the tiles it has loaded, from its own Z0_h and G0_h: two passes per chunk instead of three. For
titans_mlp2 that saves 2 of the 16 (HB x D x BC) products per tile and 3 of its 11 state-tile
loads, for a few more live values (spill tables: docs/design.md). Which is faster is for a GPU
to say (benchmarks/gpu/sweep_configs.py times both).

With IN_PLACE (config `in_place`, off by default) the state is one copy instead of a double
buffer: each tile's end-of-chunk values are stored over its start values, behind a barrier that
follows the tile's last load (every earlier tile's loads, and the key path's, precede it too, and
no later pass reads the tile). That halves the state's footprint in L2, which at B x H = 128
programs is 64 MB double-buffered against an H100's 50 MB. The interpreter runs one thread, so
only a GPU (tests/test_gpu.py) can check the ordering.

Token-side matrices are held transposed (features x tokens) so that each product takes a state
tile as its first operand and the token-side matrix as its second, which tensor-core products
read from shared memory rather than from (per-warpgroup replicated) registers: far fewer spills
than token-major operands (docs/design.md).

Every IR choice is a constexpr (activation, loss, residual, gates present, anchor, normalized
step, read mode), so one source serves every depth-2 spec and no spec text reaches it. The
state layout, checkpoints and final-state location are the generic kernel's, so the generic
backward kernel consumes this forward's checkpoints unchanged.
"""
from __future__ import annotations

import triton
import triton.language as tl

from ... import settings
from .device import LOG_FLOOR, act_d1, act_fn

INTERPRETING = tl.constexpr(settings.triton_interpret())


@triton.jit
def _mm(a, b, PREC: tl.constexpr):
    """a @ b with float32 accumulation: "ieee" / "tf32" products of float32 operands, or "bf16"
    (operands rounded to bfloat16, twice the tensor-core rate of tf32 on sm_80+). Under the
    interpreter, whose bfloat16 dot is unreliable, the rounded operands are multiplied in fp32."""
    if PREC == "bf16":
        if INTERPRETING:
            out = tl.dot(a.to(tl.bfloat16).to(tl.float32), b.to(tl.bfloat16).to(tl.float32))
        else:
            out = tl.dot(a.to(tl.bfloat16), b.to(tl.bfloat16))
    else:
        out = tl.dot(a, b, input_precision=PREC)
    return out


@triton.jit
def _opnorm_sq_bound(G, SQUARINGS: tl.constexpr, PREC: tl.constexpr):
    """||W||_op^2 bound from the Gram matrix G (ir/ops.py op_norm_sq_bound)."""
    log_bound = 0.0
    for s in tl.static_range(SQUARINGS + 1):
        nrm = tl.maximum(tl.sqrt(tl.sum(tl.sum(G * G, 1), 0)), 1e-30)
        if s < SQUARINGS:
            G = G / nrm
            G = _mm(G, G, PREC)
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
def _tile1t(base, h0, HID: tl.constexpr, D: tl.constexpr, HB: tl.constexpr):
    """Pointers to the transpose (HB, D) of columns [h0, h0+HB) of a layer-1 matrix (D, HID)."""
    return base + h0 + tl.arange(0, HB)[:, None] + tl.arange(0, D)[None, :] * HID


@triton.jit
def _tokens_t(base, t0, D: tl.constexpr, BC: tl.constexpr):
    """Pointers to the transpose (D, BC) of tokens [t0, t0+BC) of a row's (T, D) matrix."""
    return base + t0 * D + tl.arange(0, BC)[None, :] * D + tl.arange(0, D)[:, None]


@triton.jit
def _key_weights(src, anc_row, h0, O_W1: tl.constexpr, HID: tl.constexpr, D: tl.constexpr, HB: tl.constexpr,
                 ANCHOR: tl.constexpr):
    """Hidden tile h0 of the state (U0 rows, U1^T) and of the weights the key path uses (U + A)."""
    U0 = tl.load(_tile0(src, h0, D, HB))
    U1T = tl.load(_tile1t(src + O_W1, h0, HID, D, HB))
    if ANCHOR:
        return U0, U1T, U0 + tl.load(_tile0(anc_row, h0, D, HB)), U1T + tl.load(_tile1t(anc_row + HID * D, h0, HID, D, HB))
    return U0, U1T, U0, U1T


@triton.jit
def _chunk_coeffs(theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC: tl.constexpr, HAS_M: tl.constexpr,
                  HAS_D: tl.constexpr, PREC: tl.constexpr):
    """The chunk's coefficients (backends/torch_backend/coeffs.py) in registers; BC x BC matrices are
    held as [key j, query t]. Returns theta, a, a_e, LBT (L_B^T), pv, Pe, w, LPT (L_P^T), m, m_e, p_e,
    FT (F^T), CT (C^T), c (row `last` of C); absent gates give ones / zeros / identities."""
    tok = tl.arange(0, BC)
    valid = tok < rows
    e = rows - 1
    theta = tl.load(theta_ptr + g_base + t0 + tok, mask=valid, other=0.0).to(tl.float32)
    triT = tok[:, None] <= tok[None, :]                    # j <= t
    if HAS_D:
        alpha = tl.load(alpha_ptr + g_base + t0 + tok, mask=valid, other=0.0).to(tl.float32)
        acum = tl.cumsum(tl.maximum(tl.log(1.0 - alpha), LOG_FLOOR), 0)
        a = tl.exp(acum)
        a_e = tl.sum(tl.where(tok == e, a, 0.0), 0)
        LBT = tl.where(triT, tl.exp(tl.minimum(acum[None, :] - acum[:, None], 0.0)), 0.0)
    else:
        a = tl.full((BC,), 1.0, tl.float32)
        a_e = 1.0
        LBT = tl.where(triT, 1.0, 0.0)
    if HAS_M:
        eta = tl.load(eta_ptr + g_base + t0 + tok, mask=valid, other=1.0).to(tl.float32)
        ncum = tl.cumsum(tl.maximum(tl.log(eta), LOG_FLOOR), 0)
        pv = tl.exp(ncum)
        n_e = tl.sum(tl.where(tok == e, ncum, 0.0), 0)
        Pe = tl.exp(tl.minimum(n_e - ncum, 0.0))
        w = theta * Pe
        LPT = tl.where(triT, tl.exp(tl.minimum(ncum[None, :] - ncum[:, None], 0.0)), 0.0)
        m = tl.sum(LBT * pv[:, None], 0)
        m_e = tl.sum(tl.where(tok == e, m, 0.0), 0)
        p_e = tl.sum(tl.where(tok == e, pv, 0.0), 0)
        FT = _mm(LPT, LBT, PREC)        # (L_B L_P)^T
    else:
        pv = tl.zeros((BC,), tl.float32)
        Pe = tl.zeros((BC,), tl.float32)
        w = tl.zeros((BC,), tl.float32)
        LPT = tl.where(triT, 1.0, 0.0)
        m = tl.zeros((BC,), tl.float32)
        m_e = 0.0
        p_e = 0.0
        FT = LBT
    CT = FT * theta[:, None]                                   # C^T [j, t] = C[t, j]
    c = tl.sum(tl.where(tok[None, :] == e, CT, 0.0), 1)    # row `last` of C
    return theta, a, a_e, LBT, pv, Pe, w, LPT, m, m_e, p_e, FT, CT, c


@triton.jit
def _key_pass(src, anc_row, KT, v_row, t0, vmask, delta, O_W1: tl.constexpr, D: tl.constexpr, HID: tl.constexpr,
              BC: tl.constexpr, HB: tl.constexpr, ACT: tl.constexpr, LOSS: tl.constexpr,
              RESIDUAL: tl.constexpr, ANCHOR: tl.constexpr, NORMALIZED: tl.constexpr,
              SQUARINGS: tl.constexpr, PREC: tl.constexpr):
    """Key path over the hidden tiles: Z1^T = sum_h W1_h act(W0_h K^T), with the normalized step's
    Gram matrix and curvature sums. Returns G1^T (D, BC) (times the step scale), R^T = Z1^T (+ K^T)
    - V^T (V's tokens [t0, t0 + BC) of row v_row), and the per-token step scale (ones without the normalized step)."""
    Z1T = tl.zeros((D, BC), tl.float32)
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
            W1 += tl.load(_tile1(anc_row + HID * D, h0, HID, D, HB))
        Z0T = _mm(W0, KT, PREC)
        X1T = act_fn(Z0T, ACT)
        Z1T += _mm(W1, X1T, PREC)
        if NORMALIZED:
            gram += _mm(W1, tl.trans(W1), PREC)
            slope = act_d1(Z0T, ACT)
            sl2 = slope * slope
            frob += tl.sum(sl2 * tl.sum(W1 * W1, 0)[:, None], 0)
            mx = tl.maximum(mx, tl.max(sl2, 0))
            xx1 += tl.sum(X1T * X1T, 0)
    RT = Z1T - tl.load(_tokens_t(v_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
    if RESIDUAL:
        RT += KT
    if LOSS == 1:
        G1T = tl.minimum(tl.maximum(RT, -delta), delta)
    else:
        G1T = RT
    if NORMALIZED:
        lam = _opnorm_sq_bound(gram, SQUARINGS, PREC)
        kappa = tl.sum(KT * KT, 0) * tl.minimum(frob, lam * mx) + xx1
        scale = 1.0 / tl.maximum(kappa, 1.0)
        G1T = G1T * scale[None, :]
    else:
        scale = tl.full((BC,), 1.0, tl.float32)
    return G1T, RT, scale


@triton.jit
def _update_operands(KT, G1T, c, w, HAS_M: tl.constexpr):
    """Token-side operands of the state update, (BC, D) each: (K * c), (G1 * c) and, with momentum,
    (K * w), (G1 * w) (else the first two again)."""
    cK = tl.trans(KT * c[None, :])
    cG1 = tl.trans(G1T * c[None, :])
    if HAS_M:
        return cK, cG1, tl.trans(KT * w[None, :]), tl.trans(G1T * w[None, :])
    return cK, cG1, cK, cG1


@triton.jit
def _update_tile(src, dst, h0, U0, U1T, S0, X1T, G0T, cK, cG1, wK, wG1, a_e, m_e, p_e, O_S0: tl.constexpr,
                 O_W1: tl.constexpr, O_S1: tl.constexpr, HID: tl.constexpr, D: tl.constexpr, HB: tl.constexpr,
                 HAS_M: tl.constexpr, PREC: tl.constexpr, IN_PLACE: tl.constexpr):
    """Hidden tile h0 of the end-of-chunk state into dst: W' = a_e U + m_e S - G^T (c X),
    S' = p_e S - G^T (w X); layer-1 tiles are computed transposed (HB, D). U0, U1T, S0 (the
    caller's load; unused without momentum): (HB, D); X1T and G0T (HB, BC). IN_PLACE (dst is
    src): a barrier between the tile's last load and its stores, so that no thread overwrites a
    value another thread has still to read (earlier tiles' loads are all before it too)."""
    new0 = a_e * U0 - _mm(G0T, cK, PREC)
    new1T = a_e * U1T - _mm(X1T, cG1, PREC)
    if HAS_M:
        S1T = tl.load(_tile1t(src + O_S1, h0, HID, D, HB))
        new0 += m_e * S0
        new1T += m_e * S1T
        newS0 = p_e * S0 - _mm(G0T, wK, PREC)
        newS1T = p_e * S1T - _mm(X1T, wG1, PREC)
        if not IN_PLACE:
            tl.store(_tile0(dst + O_S0, h0, D, HB), newS0)
            tl.store(_tile1t(dst + O_S1, h0, HID, D, HB), newS1T)
    if IN_PLACE:
        tl.debug_barrier()
        if HAS_M:
            tl.store(_tile0(dst + O_S0, h0, D, HB), newS0)
            tl.store(_tile1t(dst + O_S1, h0, HID, D, HB), newS1T)
    tl.store(_tile0(dst, h0, D, HB), new0)
    tl.store(_tile1t(dst + O_W1, h0, HID, D, HB), new1T)


@triton.jit
def tiled_forward(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, out_ptr, st_ptr, anc_ptr, ckpt_ptr,
                  T, c_lo, n_chunks, first_group, group, n_groups, delta,
                  D: tl.constexpr, HID: tl.constexpr, BC: tl.constexpr, HB: tl.constexpr,
                  NW: tl.constexpr, SN: tl.constexpr, O_S0: tl.constexpr, O_W1: tl.constexpr,
                  O_S1: tl.constexpr, ACT: tl.constexpr, LOSS: tl.constexpr, RESIDUAL: tl.constexpr,
                  HAS_M: tl.constexpr, HAS_D: tl.constexpr, ANCHOR: tl.constexpr,
                  NORMALIZED: tl.constexpr, AFTER: tl.constexpr, SQUARINGS: tl.constexpr,
                  SAVE_CKPT: tl.constexpr, PREC: tl.constexpr, FUSE: tl.constexpr, IN_PLACE: tl.constexpr,
                  READ: tl.constexpr = True):
    """One program per row n. q/k/v/out: (n, T, D); gates (n, T); st: (n, 2, SN) double-buffered
    state [W0 (HID, D) | S0 | W1 (D, HID) | S1] (S absent without momentum), chunk i reads half
    i % 2 (with IN_PLACE: st is (n, SN), updated in place tile by tile behind a barrier);
    anc: (n, 2 * HID * D) [A0 | A1] (decay_to: init; the state then holds U = W - A);
    ckpt: (n, n_groups, SN), the state at each checkpoint-group start. Walks chunks c_lo to
    c_lo + n_chunks - 1; READ=False skips the read and the output (the tiled backward re-runs a
    group's chunk-start states this way, one checkpoint per chunk). NW, SN and the O_* offsets
    describe the state layout (launch.tiled_constants)."""
    row = tl.program_id(0)
    # addresses: scalar row bases here; per-element pointer tensors are built at each use
    # (_tile0, _tile1, _tokens_t), so none stays live across the loops
    tok = tl.arange(0, BC)
    io_row = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    if IN_PLACE:
        st_row = st_ptr + row.to(tl.int64) * SN
    else:
        st_row = st_ptr + row.to(tl.int64) * 2 * SN
    anc_row = anc_ptr + row.to(tl.int64) * 2 * NW
    A1_row = anc_row + NW

    for i in range(n_chunks):
        if IN_PLACE:
            src = st_row
            dst = st_row
        else:
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
        t0 = (c_lo + i) * BC
        rows = tl.minimum(T - t0, BC)
        valid = tok < rows
        # Token-side matrices are kept transposed (features x tokens), so that every product
        # with a state tile takes the state tile as its first operand and the token-side matrix
        # as its second, which tensor-core products read from shared memory: the chunk's
        # K, Q, G1 and C * Q K^T then live in shared memory across the tile loops, not in
        # (per-warpgroup replicated) registers.
        vmask = valid[None, :]
        KT = tl.load(_tokens_t(k_ptr + io_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)

        theta, a, a_e, LBT, pv, Pe, w, LPT, m, m_e, p_e, FT, CT, c = _chunk_coeffs(
            theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, PREC)
        if READ:
            QT = tl.load(_tokens_t(q_ptr + io_row, t0, D, BC), mask=vmask, other=0.0).to(tl.float32)
            if AFTER:
                CQKT = CT * _mm(tl.trans(KT), QT, PREC)

        # pass 1: key path, Z1^T = sum_h W1_h act(W0_h K^T)
        G1T, RT, scale = _key_pass(src, anc_row, KT, v_ptr + io_row, t0, vmask, delta, O_W1, D, HID, BC, HB, ACT, LOSS, RESIDUAL,
                                   ANCHOR, NORMALIZED, SQUARINGS, PREC)

        if FUSE and READ and AFTER:   # the state update's token-side operands, used in pass 2
            cK, cG1, wK, wG1 = _update_operands(KT, G1T, c, w, HAS_M)
        if READ:   # (False: re-running chunk states for the backward)
            # pass 2: the read (after the update: the dual form), tile by tile; fused, also the
            # state update of pass 3 from the same tiles, Z0_h and G0_h
            ZQ1T = tl.zeros((D, BC), tl.float32)
            if AFTER:
                QXT = tl.zeros((BC, BC), tl.float32)
            for h0 in range(0, HID, HB):
                U0 = tl.load(_tile0(src, h0, D, HB))
                U1 = tl.load(_tile1(src + O_W1, h0, HID, D, HB))
                if AFTER:
                    W0 = U0
                    U1T = tl.load(_tile1t(src + O_W1, h0, HID, D, HB))
                    W1T = U1T
                    if ANCHOR:
                        A0 = tl.load(_tile0(anc_row, h0, D, HB))
                        A1 = tl.load(_tile1(A1_row, h0, HID, D, HB))
                        W0 += A0
                        W1T += tl.load(_tile1t(A1_row, h0, HID, D, HB))
                    Z0T = _mm(W0, KT, PREC)
                    X1T = act_fn(Z0T, ACT)
                    G0T = _mm(W1T, G1T, PREC) * act_d1(Z0T, ACT)
                    Zq0T = _mm(U0, QT, PREC) * a[None, :]
                    S0 = U0   # (no momentum: a placeholder)
                    if HAS_M:
                        S0 = tl.load(_tile0(src + O_S0, h0, D, HB))
                        Zq0T += _mm(S0, QT, PREC) * m[None, :]
                    if ANCHOR:
                        Zq0T += _mm(A0, QT, PREC)
                    Zq0T -= _mm(G0T, CQKT, PREC)
                    Xq1T = act_fn(Zq0T, ACT)
                    ZQ1T += _mm(U1, Xq1T, PREC) * a[None, :]
                    if HAS_M:
                        S1 = tl.load(_tile1(src + O_S1, h0, HID, D, HB))
                        ZQ1T += _mm(S1, Xq1T, PREC) * m[None, :]
                    if ANCHOR:
                        ZQ1T += _mm(A1, Xq1T, PREC)
                    QXT += _mm(tl.trans(X1T), Xq1T, PREC)
                    if FUSE:
                        _update_tile(src, dst, h0, U0, U1T, S0, X1T, G0T, cK, cG1, wK, wG1, a_e, m_e, p_e, O_S0,
                                     O_W1, O_S1, HID, D, HB, HAS_M, PREC, IN_PLACE)
                else:
                    W0 = U0
                    W1 = U1
                    if ANCHOR:
                        W0 += tl.load(_tile0(anc_row, h0, D, HB))
                        W1 += tl.load(_tile1(A1_row, h0, HID, D, HB))
                    Xq1T = act_fn(_mm(W0, QT, PREC), ACT)
                    ZQ1T += _mm(W1, Xq1T, PREC)
            if AFTER:
                ZQ1T -= _mm(G1T, CT * QXT, PREC)
            if RESIDUAL:
                ZQ1T += QT
            tl.store(_tokens_t(out_ptr + io_row, t0, D, BC), ZQ1T.to(out_ptr.dtype.element_ty), mask=vmask)

        # pass 3: the end-of-chunk state into the other half of the double buffer (unless fused)
        if not (FUSE and READ and AFTER):
            cK, cG1, wK, wG1 = _update_operands(KT, G1T, c, w, HAS_M)
            for h0 in range(0, HID, HB):
                U0, U1T, W0, W1T = _key_weights(src, anc_row, h0, O_W1, HID, D, HB, ANCHOR)
                Z0T = _mm(W0, KT, PREC)
                X1T = act_fn(Z0T, ACT)
                G0T = _mm(W1T, G1T, PREC) * act_d1(Z0T, ACT)
                S0 = U0   # (no momentum: a placeholder)
                if HAS_M:
                    S0 = tl.load(_tile0(src + O_S0, h0, D, HB))
                _update_tile(src, dst, h0, U0, U1T, S0, X1T, G0T, cK, cG1, wK, wG1, a_e, m_e, p_e, O_S0, O_W1,
                             O_S1, HID, D, HB, HAS_M, PREC, IN_PLACE)
        tl.debug_barrier()   # this chunk's state stores feed the next chunk's loads
