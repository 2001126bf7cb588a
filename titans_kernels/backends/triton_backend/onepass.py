"""One-pass forward for depth-2 memories: one sweep over the hidden tiles per chunk (depth 1:
onepass_linear.py, depth 3: onepass_deep.py, through the same launchers).

A prototype of the next kernel generation (docs/design.md, "One pass per chunk"), for depth-2
rules with the l2 or Huber loss, read after the update or at chunk start, with or without
residual or an anchor (decay_to: init), with the plain or the normalized step.
One program per (batch, head) row. The state [W0 (HID, D) | S0 | W1 (D, HID) | S1], float32,
is updated in place in global memory (L2), one tile of HB hidden units at a time.

Tokens are the row (M) side of every product: each product is (BC x 64) @ (64 x HB) or, for the
update, (HB x BC) @ (BC x D), so at BC = HB = D = 64 every product has 64 rows (a warpgroup
product on sm_90).

Chunk i needs its loss gradient G1 = loss'(f(K_i; W_s) - V_i) before its first tile, and G1
needs a full sweep over the tiles. The sweep of chunk i produces it for chunk i + 1 instead: once
tile h of the end-of-chunk state is computed (still in registers), Z1 += act(K_{i+1} W0_h'^T)
W1_h'^T. Only chunk 0 pays a separate key sweep. Per tile and chunk, 13 products of
(64 x 64 x 64) and 3 activations of (BC x HB):

    Z0 = K U0^T, X1 = act(Z0), G0 = (G1 U1) * act'(Z0)                    key path at W_s
    Zq0 = a (Q U0^T) + m (Q S0^T) - (C * Q K^T) G0,  Xq1 = act(Zq0)          read, layer 0
    ZQ1 += a (Xq1 U1^T) + m (Xq1 S1^T);  QX += Xq1 X1^T                      read, layer 1
    U0' = a_e U0 + m_e S0 - G0^T (c K),   S0' = p_e S0 - G0^T (w K)           update
    U1'^T = a_e U1^T + m_e S1^T - X1^T (c G1),  S1'^T = p_e S1^T - X1^T (w G1)
    Z1_next += act(K_{i+1} U0'^T) U1'^T                                      look-ahead

and, once per chunk, out = ZQ1 - (C * QX) G1 and G1_next = loss'(Z1_next - V_{i+1}).
Each state tile is loaded once and stored once per chunk (4 tiles with momentum).
"""
from __future__ import annotations

from dataclasses import replace

import torch
import triton
import triton.language as tl
from torch import Tensor
from triton.runtime.errors import OutOfResources

from ...errors import InputError
from ...ir import ReadMode
from ...ir.ops import GRAM_SQUARINGS
from ..checkpoints import group_layout
from ..launch_config import check_shape, onepass_problem
from ..state import MemoryState
from .device import act_d1, act_fn
from .launch import _output_like, check_known_fault, flatten_state, unflatten_state
from .tiled import INTERPRETING, _chunk_coeffs, _mm, _opnorm_sq_bound, _tile0, _tile1


@triton.jit
def _load0(st, desc0, h0, which, D: tl.constexpr, HID: tl.constexpr, HB: tl.constexpr, TMA: tl.constexpr):
    """Layer-0 tile (HB, D) of W0 (which=0) or S0 (which=1)."""
    if TMA:
        x = desc0.load([which * HID + h0, 0])
    else:
        x = tl.load(_tile0(st + which * HID * D, h0, D, HB))
    return x


@triton.jit
def _store0(st, desc0, h0, which, x, D: tl.constexpr, HID: tl.constexpr, HB: tl.constexpr, TMA: tl.constexpr):
    if TMA:
        desc0.store([which * HID + h0, 0], x)
    else:
        tl.store(_tile0(st + which * HID * D, h0, D, HB), x)


@triton.jit
def _load1(st1, desc1, h0, which, D: tl.constexpr, HID: tl.constexpr, HB: tl.constexpr, TMA: tl.constexpr):
    """Layer-1 tile (D, HB) of W1 (which=0) or S1 (which=1); st1 points at W1."""
    if TMA:
        x = desc1.load([which * D, h0])
    else:
        x = tl.load(_tile1(st1 + which * HID * D, h0, HID, D, HB))
    return x


@triton.jit
def _store1(st1, desc1, h0, which, x, D: tl.constexpr, HID: tl.constexpr, HB: tl.constexpr, TMA: tl.constexpr):
    if TMA:
        desc1.store([which * D, h0], x)
    else:
        tl.store(_tile1(st1 + which * HID * D, h0, HID, D, HB), x)


@triton.jit
def _load_anchor0(anc, h0, D: tl.constexpr, HB: tl.constexpr):
    """Tile (HB, D) of the layer-0 anchor A0 (HID, D)."""
    return tl.load(_tile0(anc, h0, D, HB))


@triton.jit
def _load_anchor1(anc, h0, D: tl.constexpr, HID: tl.constexpr, HB: tl.constexpr):
    """Tile (D, HB) of the layer-1 anchor A1 (D, HID), stored after A0."""
    return tl.load(_tile1(anc + HID * D, h0, HID, D, HB))


@triton.jit
def _tokens(base, t0, rows, D: tl.constexpr, BC: tl.constexpr):
    """Tokens [t0, t0 + BC) of a (T, D) matrix as float32 (BC, D); rows past `rows` read 0."""
    tok = tl.arange(0, BC)
    ptr = base + (t0 + tok)[:, None] * D + tl.arange(0, D)[None, :]
    return tl.load(ptr, mask=(tok < rows)[:, None], other=0.0).to(tl.float32)


@triton.jit
def _operand(x, PREC: tl.constexpr):
    """x as the operand type of PREC's products: a bfloat16 copy for "bf16" (outside the
    interpreter, whose bfloat16 products _mm emulates in float32), else x."""
    if PREC == "bf16" and not INTERPRETING:
        out = x.to(tl.bfloat16)
    else:
        out = x
    return out


@triton.jit
def _loss_grad(R, delta, LOSS: tl.constexpr):
    if LOSS == 1:
        return tl.minimum(tl.maximum(R, -delta), delta)
    return R


@triton.jit
def _curvature(W1, Z0, X1, gram, frob, mx, xx1, ACT: tl.constexpr, PREC: tl.constexpr):
    """The normalized step's sums over hidden tiles (ir/ops.py step_scale) with one more tile:
    W1 (D, HB) its layer-1 weights, Z0 and X1 = act(Z0) (BC, HB) its pre-activations and
    activations. Returns the Gram matrix W1 W1^T, the per-token sum of act'(Z0)^2 times W1's
    squared column norms, the per-token largest act'(Z0)^2 and sum of X1^2."""
    slope = act_d1(Z0, ACT)
    sl2 = slope * slope
    gram += _mmp(W1, tl.trans(W1), PREC)
    frob += tl.sum(sl2 * tl.sum(W1 * W1, 0)[None, :], 1)
    mx = tl.maximum(mx, tl.max(sl2, 1))
    xx1 += tl.sum(X1 * X1, 1)
    return gram, frob, mx, xx1


@triton.jit
def _step_scale(K, gram, frob, mx, xx1, SQUARINGS: tl.constexpr, PREC: tl.constexpr):
    """Per-token 1 / max(1, kappa), kappa = |k|^2 min(frob, lambda mx) + |x1|^2 with lambda the
    operator-norm bound of the Gram matrix (docs/design.md, "Normalized step")."""
    lam = _opnorm_sq_bound(gram, SQUARINGS, PREC)
    kappa = tl.sum(K * K, 1) * tl.minimum(frob, lam * mx) + xx1
    return 1.0 / tl.maximum(kappa, 1.0)


@triton.jit
def group_slot(j, first_group, group):
    """The checkpoint slot of the j-th chunk of a run if a checkpoint group starts there (slot 0 at
    j = 0, then every `group` chunks after the first group's `first_group`), else -1."""
    g = -1
    if j == 0:
        g = 0
    elif j >= first_group and (j - first_group) % group == 0:
        g = 1 + (j - first_group) // group
    return g


@triton.jit
def _round_tf32(x):
    """x rounded to tf32 (10 mantissa bits, to nearest): what a tf32 tensor-core product reads."""
    bits = x.to(tl.uint32, bitcast=True)
    return ((bits + 0x1000) & 0xFFFFE000).to(tl.float32, bitcast=True)


@triton.jit
def _mmp(a, b, PREC: tl.constexpr):
    """a @ b at product precision PREC, float32 accumulation: "ieee", "tf32", "bf16", or "bf16x3"
    (each operand split into bf16 hi + lo parts, a b ~ a_hi b_hi + a_hi b_lo + a_lo b_hi: three bf16 products
    for near-float32 accuracy). Under the interpreter the operands are rounded as the tensor
    cores would round them, so CPU runs show each precision's error."""
    if PREC == "bf16x3":
        a_hi = a.to(tl.bfloat16)
        b_hi = b.to(tl.bfloat16)
        a_lo = (a.to(tl.float32) - a_hi.to(tl.float32)).to(tl.bfloat16)
        b_lo = (b.to(tl.float32) - b_hi.to(tl.float32)).to(tl.bfloat16)
        if INTERPRETING:
            out = tl.dot(a_hi.to(tl.float32), b_hi.to(tl.float32)) + tl.dot(a_hi.to(tl.float32), b_lo.to(tl.float32)) \
                + tl.dot(a_lo.to(tl.float32), b_hi.to(tl.float32))
        else:
            out = tl.dot(a_hi, b_hi) + tl.dot(a_hi, b_lo) + tl.dot(a_lo, b_hi)
    elif PREC == "tf32" and INTERPRETING:
        out = tl.dot(_round_tf32(a.to(tl.float32)), _round_tf32(b.to(tl.float32)))
    else:
        out = _mm(a, b, PREC)
    return out


def stage_floats(chunk_size: int, D: int, hb: int) -> int:
    """Scratch floats per program with STAGE: 9 chunk-side (BC, D) slots, 3 tile-side (BC, HB)."""
    return 9 * chunk_size * D + 3 * chunk_size * hb


@triton.jit
def _staged(ptr, offs, x, STAGE: tl.constexpr):
    """x, or with STAGE its copy at ptr + offs (a plain float32 load, which the compiler places
    in shared memory as a product operand rather than holding it in registers)."""
    if STAGE:
        x = tl.load(ptr + offs)
    return x


@triton.jit
def _scaled(ptr, offs, X, v, TRANS: tl.constexpr, STAGE: tl.constexpr):
    """X * v[:, None] (transposed with TRANS): computed where a product reads it, or with STAGE
    loaded from its staged copy at ptr + offs."""
    if STAGE:
        out = tl.load(ptr + offs)
    else:
        out = X * v[:, None]
        if TRANS:
            out = tl.trans(out)
    return out


@triton.jit
def _stage(ptr, offs, x, STAGE: tl.constexpr):
    if STAGE:
        tl.store(ptr + offs, x)


@triton.jit
def onepass_forward(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, out_ptr, st_ptr, anc_ptr, scr_ptr, ckpt_ptr,
                    r_ptr, sc_ptr, T, c_lo, c_hi,
                    first_group, group, n_groups, delta,
                    D: tl.constexpr, HID: tl.constexpr, BC: tl.constexpr, HB: tl.constexpr,
                    SN: tl.constexpr, ACT: tl.constexpr, LOSS: tl.constexpr, HAS_M: tl.constexpr,
                    HAS_D: tl.constexpr, PREC: tl.constexpr, KPREC: tl.constexpr, UPREC: tl.constexpr,
                    TMA: tl.constexpr = False, STAGE: tl.constexpr = False, SAVE_CKPT: tl.constexpr = False,
                    RESIDUAL: tl.constexpr = False, ANCHOR: tl.constexpr = False, AFTER: tl.constexpr = True,
                    READ: tl.constexpr = True, SAVE_R: tl.constexpr = False, NORMALIZED: tl.constexpr = False,
                    SQUARINGS: tl.constexpr = 4):
    """q/k/v/out: (n, T, D); gates (n, T); st: (n, SN) state, updated in place. Product
    precision by group: PREC the read's, KPREC the key path's and look-ahead's (the loss gradient
    is a small difference of two larger terms), UPREC the state update's (its increments are
    small against the state they are added to); each "ieee", "tf32", "bf16" or "bf16x3" (_mmp).
    TMA: the state's tiles move through tensor descriptors (sm_90+) instead of per-element
    pointers. STAGE: the chunk's token-side product operands (Q, K, the next K, C * Q K^T, G1,
    K c, K w, (G1 c)^T, (G1 w)^T) and the tile's X_q1, G0^T and X_n1 pass through the program's
    scratch scr, (n, stage_floats(BC, D, HB)) float32, instead of living in registers across the tile
    loop: loaded where a product reads them, they are shared-memory operands (BC == D).
    Chunks [c_lo, c_hi) run, starting from st. SAVE_CKPT: the state at the start of each
    checkpoint group (chunks c_lo, c_lo + first_group, c_lo + first_group + group, ...) is written
    to ckpt (n, n_groups, SN), a flat copy before the sweep overwrites it (outside the
    hidden-tile loop, whose registers it leaves alone), for the backward kernels
    (launch.run_forward's layout). READ=False (the backward's re-run): no read and no out, only
    the state's chunk loop; SAVE_R: each chunk's loss residual R = f(K; W_s) - V, (BC, D), to
    r (n, n_groups, BC, D), chunk c_lo + j at slot j (j < n_groups), and with NORMALIZED its
    step scale to sc (n, n_groups, BC). NORMALIZED: the loss gradient's rows times the step
    scale 1 / max(1, kappa) at the chunk-start weights, kappa's sums over hidden tiles taken
    where Z1 is (in the look-ahead for the next chunk).
    ANCHOR (decay_to: init): st holds U = W - A and anc (n, 2 HID D) the anchor [A0 | A1]; the key
    path and the read use U + A, forgetting acts on U. AFTER: the read sees the chunk's update
    (the mixing terms); else it reads the chunk-start weights, Zq = Xq W^T per layer."""
    CK_BLOCK: tl.constexpr = HB * D   # divides SN
    row = tl.program_id(0)
    io = row.to(tl.int64) * T * D
    g_base = row.to(tl.int64) * T
    st = st_ptr + row.to(tl.int64) * SN
    anc = anc_ptr + row.to(tl.int64) * 2 * HID * D
    scr = scr_ptr + row.to(tl.int64) * (9 * BC * D + 3 * BC * HB)
    tok = tl.arange(0, BC)
    hid = tl.arange(0, HB)
    offs = tok[:, None] * D + tl.arange(0, D)[None, :]      # (BC, D) slots 0-8 (BC == D)
    offs_th = tok[:, None] * HB + hid[None, :]             # (BC, HB) slots 9 and 11
    offs_ht = hid[:, None] * BC + tok[None, :]             # (HB, BC) slot 10
    tile_scr = scr + 9 * BC * D
    NL: tl.constexpr = 2 if HAS_M else 1           # matrices per layer: W (and S)
    st1 = st + NL * HID * D                         # layer 1: W1 (D, HID) (then S1)
    desc0 = st                                      # (unused without TMA)
    desc1 = st
    if TMA:   # the state's two layers as 2-d views, HB hidden units per tile
        desc0 = tl.make_tensor_descriptor(st, shape=[NL * HID, D], strides=[D, 1], block_shape=[HB, D])
        desc1 = tl.make_tensor_descriptor(st1, shape=[NL * D, HID], strides=[HID, 1], block_shape=[D, HB])

    r_row = r_ptr + row.to(tl.int64) * n_groups * BC * D
    sc_row = sc_ptr + row.to(tl.int64) * n_groups * BC
    # the first chunk's key path: the only separate sweep
    rows = tl.minimum(T - c_lo * BC, BC)
    K = _tokens(k_ptr + io, c_lo * BC, rows, D, BC)
    Z1 = tl.zeros((BC, D), tl.float32)
    gram = tl.zeros((D, D), tl.float32)      # the normalized step's sums (unused without it)
    frob = tl.zeros((BC,), tl.float32)
    mx = tl.zeros((BC,), tl.float32)
    xx1 = tl.zeros((BC,), tl.float32)
    for h0 in range(0, HID, HB):
        U0 = _load0(st, desc0, h0, 0, D, HID, HB, TMA)
        U1 = _load1(st1, desc1, h0, 0, D, HID, HB, TMA)
        if ANCHOR:
            U0 += _load_anchor0(anc, h0, D, HB)
            U1 += _load_anchor1(anc, h0, D, HID, HB)
        Zk0 = _mmp(K, tl.trans(U0), KPREC)
        Xk1 = act_fn(Zk0, ACT)
        Z1 += _mmp(Xk1, tl.trans(U1), KPREC)
        if NORMALIZED:
            gram, frob, mx, xx1 = _curvature(U1, Zk0, Xk1, gram, frob, mx, xx1, ACT, KPREC)
    if RESIDUAL:   # the memory is k + MLP(k): its residual enters the loss and the read
        Z1 += K
    R = Z1 - _tokens(v_ptr + io, c_lo * BC, rows, D, BC)
    if SAVE_R:
        tl.store(r_row + offs, R)
    G1 = _loss_grad(R, delta, LOSS)
    if NORMALIZED:
        scale = _step_scale(K, gram, frob, mx, xx1, SQUARINGS, KPREC)
        G1 = G1 * scale[:, None]
        if SAVE_R:
            tl.store(sc_row + tok, scale)

    for i in range(c_lo, c_hi):
        t0 = i * BC
        rows = tl.minimum(T - t0, BC)
        theta, a, a_e, LBT, pv, Pe, w, LPT, m, m_e, p_e, FT, CT, c = _chunk_coeffs(
            theta_ptr, eta_ptr, alpha_ptr, g_base, t0, rows, BC, HAS_M, HAS_D, "ieee")
        Q = K   # (unused without the read)
        CQK = K   # (unused when the read is at chunk start)
        if READ:
            Q = _tokens(q_ptr + io, t0, rows, D, BC)
            if AFTER:
                C = tl.trans(CT)
                CQK = _operand(C * _mmp(Q, tl.trans(K), KPREC), PREC)
            Q = _operand(Q, PREC)
        # the next chunk's keys (zeros past the end: its look-ahead is then unused)
        t1 = t0 + BC
        rows1 = tl.maximum(tl.minimum(T - t1, BC), 0)
        K1 = _tokens(k_ptr + io, t1, rows1, D, BC)
        if STAGE:   # with the state update's token-side operands, scaled once per chunk
            if READ:
                _stage(scr + 0 * BC * D, offs, Q, STAGE)
            _stage(scr + 1 * BC * D, offs, K, STAGE)
            _stage(scr + 2 * BC * D, offs, K1, STAGE)
            if AFTER and READ:
                _stage(scr + 3 * BC * D, offs, CQK, STAGE)
            _stage(scr + 4 * BC * D, offs, G1, STAGE)
            _stage(scr + 5 * BC * D, offs, K * c[:, None], STAGE)
            _stage(scr + 6 * BC * D, offs, tl.trans(G1 * c[:, None]), STAGE)
            if HAS_M:
                _stage(scr + 7 * BC * D, offs, K * w[:, None], STAGE)
                _stage(scr + 8 * BC * D, offs, tl.trans(G1 * w[:, None]), STAGE)
            tl.debug_barrier()   # every thread's staging stores precede the tile loop's loads

        ZQ1 = tl.zeros((BC, D), tl.float32)
        QX = tl.zeros((BC, BC), tl.float32)
        Z1 = tl.zeros((BC, D), tl.float32)
        gram = tl.zeros((D, D), tl.float32)
        frob = tl.zeros((BC,), tl.float32)
        mx = tl.zeros((BC,), tl.float32)
        xx1 = tl.zeros((BC,), tl.float32)
        if SAVE_CKPT:   # the first chunk of a checkpoint group: its start state, copied before the sweep
            g = group_slot(i - c_lo, first_group, group)
            if g >= 0:
                ck = ckpt_ptr + (row.to(tl.int64) * n_groups + g) * SN
                for o in range(0, SN, CK_BLOCK):
                    tl.store(ck + o + tl.arange(0, CK_BLOCK), tl.load(st + o + tl.arange(0, CK_BLOCK)))
                tl.debug_barrier()   # every thread's copy precedes the sweep's stores
        for h0 in range(0, HID, HB):
            U0 = _load0(st, desc0, h0, 0, D, HID, HB, TMA)
            U1 = _load1(st1, desc1, h0, 0, D, HID, HB, TMA)
            W0 = U0   # the key path's (and the chunk-start read's) weights: U, or U + A
            W1 = U1
            if ANCHOR:
                A0 = _load_anchor0(anc, h0, D, HB)
                A1 = _load_anchor1(anc, h0, D, HID, HB)
                W0 = U0 + A0
                W1 = U1 + A1
            Z0 = _mmp(_staged(scr + 1 * BC * D, offs, K, STAGE), tl.trans(W0), KPREC)
            X1 = act_fn(Z0, ACT)
            G0 = _mmp(_staged(scr + 4 * BC * D, offs, G1, STAGE), W1, KPREC) * act_d1(Z0, ACT)
            if READ:
                if AFTER:
                    Zq0 = _mmp(_staged(scr + 0 * BC * D, offs, Q, STAGE), tl.trans(U0), PREC)
                    if HAS_D:
                        Zq0 = Zq0 * a[:, None]
                    if ANCHOR:
                        Zq0 += _mmp(_staged(scr + 0 * BC * D, offs, Q, STAGE), tl.trans(A0), PREC)
                else:
                    Zq0 = _mmp(_staged(scr + 0 * BC * D, offs, Q, STAGE), tl.trans(W0), PREC)
            if HAS_M:
                S0 = _load0(st, desc0, h0, 1, D, HID, HB, TMA)
            if READ:
                if AFTER:
                    if HAS_M:
                        Zq0 += _mmp(_staged(scr + 0 * BC * D, offs, Q, STAGE), tl.trans(S0), PREC) * m[:, None]
                    Zq0 -= _mmp(_staged(scr + 3 * BC * D, offs, CQK, STAGE), G0, PREC)
                Xq1 = act_fn(Zq0, ACT)
                if STAGE:
                    _stage(tile_scr, offs_th, Xq1, STAGE)
                    tl.debug_barrier()
                    Xq1 = _staged(tile_scr, offs_th, Xq1, STAGE)
                if AFTER:
                    Zr = _mmp(Xq1, tl.trans(U1), PREC)
                    if HAS_D:
                        Zr = Zr * a[:, None]
                    if ANCHOR:
                        Zr += _mmp(Xq1, tl.trans(A1), PREC)
                else:
                    Zr = _mmp(Xq1, tl.trans(W1), PREC)
                ZQ1 += Zr
            if HAS_M:
                S1 = _load1(st1, desc1, h0, 1, D, HID, HB, TMA)
                if READ and AFTER:
                    ZQ1 += _mmp(Xq1, tl.trans(S1), PREC) * m[:, None]
            if READ and AFTER:
                QX += _mmp(Xq1, tl.trans(X1), PREC)
            G0T = tl.trans(G0)
            _stage(tile_scr + BC * HB, offs_ht, G0T, STAGE)
            tl.debug_barrier()   # every thread's loads of this tile precede any store over it
            G0T = _staged(tile_scr + BC * HB, offs_ht, G0T, STAGE)
            # each new tile is stored as soon as it is computed, and the look-ahead consumes it,
            # so that few tiles are live at once (registers). Layer-1 updates are (D x BC) @ (BC x HB).
            nU0 = a_e * U0 - _mmp(G0T, _operand(_scaled(scr + 5 * BC * D, offs, K, c, False, STAGE), UPREC), UPREC)
            if HAS_M:
                nU0 += m_e * S0
                _store0(st, desc0, h0, 1,
                        p_e * S0 - _mmp(G0T, _operand(_scaled(scr + 7 * BC * D, offs, K, w, False, STAGE), UPREC), UPREC),
                        D, HID, HB, TMA)
            _store0(st, desc0, h0, 0, nU0, D, HID, HB, TMA)
            if ANCHOR:
                nU0 += A0
            Zn0 = _mmp(_staged(scr + 2 * BC * D, offs, K1, STAGE), tl.trans(nU0), KPREC)
            Xn1 = act_fn(Zn0, ACT)
            if STAGE:
                _stage(tile_scr + 2 * BC * HB, offs_th, Xn1, STAGE)
                tl.debug_barrier()
                Xn1 = _staged(tile_scr + 2 * BC * HB, offs_th, Xn1, STAGE)
            nU1 = a_e * U1 - _mmp(_operand(_scaled(scr + 6 * BC * D, offs, G1, c, True, STAGE), UPREC), X1, UPREC)
            if HAS_M:
                nU1 += m_e * S1
                _store1(st1, desc1, h0, 1,
                        p_e * S1 - _mmp(_operand(_scaled(scr + 8 * BC * D, offs, G1, w, True, STAGE), UPREC), X1, UPREC),
                        D, HID, HB, TMA)
            _store1(st1, desc1, h0, 0, nU1, D, HID, HB, TMA)
            if ANCHOR:
                nU1 += A1
            Z1 += _mmp(Xn1, tl.trans(nU1), KPREC)
            if NORMALIZED:
                gram, frob, mx, xx1 = _curvature(nU1, Zn0, Xn1, gram, frob, mx, xx1, ACT, KPREC)
        if READ:
            if AFTER:
                ZQ1 -= _mmp(tl.trans(CT) * QX, _staged(scr + 4 * BC * D, offs, G1, STAGE), PREC)
            if RESIDUAL:   # q again from L2 rather than held (in float32) across the tile loop
                ZQ1 += _tokens(q_ptr + io, t0, rows, D, BC)
            optr = out_ptr + io + (t0 + tok)[:, None] * D + tl.arange(0, D)[None, :]
            tl.store(optr, ZQ1.to(out_ptr.dtype.element_ty), mask=(tok < rows)[:, None])
        if RESIDUAL:
            Z1 += K1
        R = Z1 - _tokens(v_ptr + io, t1, rows1, D, BC)
        if SAVE_R:
            if i + 1 - c_lo < n_groups:
                tl.store(r_row + (i + 1 - c_lo) * BC * D + offs, R)
        G1 = _loss_grad(R, delta, LOSS)
        if NORMALIZED:
            scale = _step_scale(K1, gram, frob, mx, xx1, SQUARINGS, KPREC)
            G1 = G1 * scale[:, None]
            if SAVE_R:
                if i + 1 - c_lo < n_groups:
                    tl.store(sc_row + (i + 1 - c_lo) * BC + tok, scale)
        K = K1
        tl.debug_barrier()   # this chunk's stores (state, staged operands) precede the next chunk's loads



ACTIVATIONS = {"silu": 0, "gelu": 1, "relu": 2, "identity": 3}
PRODUCT_PRECISIONS = ("ieee", "tf32", "bf16", "bf16x3")
LOSSES = {"l2": 0, "huber": 1}


def onepass_supported(ir) -> str | None:
    """None if the one-pass forward covers `ir`, else the field it does not cover."""
    why = onepass_problem(ir)
    if why is None and (ir.loss not in LOSSES or ir.activation not in ACTIVATIONS):
        why = f"loss {ir.loss!r} / activation {ir.activation!r}"
    return why


def check_onepass(ir, D: int, chunk_size: int, hb: int, precision: str, key_precision: str | None,
                  update_precision: str | None, stage: bool) -> tuple[int, str, str]:
    """Every check of a one-pass launch that needs no GPU, one InputError line each; returns the
    hidden width and the key path's and update's precisions (None: as `precision`)."""
    HID = ir.layer_shapes(D)[0][0]
    why = onepass_supported(ir)
    if why:
        raise InputError(f"the one-pass forward does not cover spec '{ir.name}': {why}")
    if ir.depth > 1 and (HID % hb or hb < 16 or hb & (hb - 1)):   # depth 1 has no hidden tiles
        raise InputError(f"hidden tile {hb}: a power of two from 16 that divides the hidden width {HID}")
    check_shape(max(layer.out_mult for layer in ir.layers), D, chunk_size, backend="one-pass forward")
    key_precision = key_precision or precision
    update_precision = update_precision or precision
    for name, value in (("precision", precision), ("key_precision", key_precision),
                        ("update_precision", update_precision)):
        if value not in PRODUCT_PRECISIONS:
            raise InputError(f"{name}={value!r}: use one of {', '.join(PRODUCT_PRECISIONS)}")
    if stage and chunk_size != D:
        raise InputError(f"staged operands need chunk {chunk_size} equal to the head dim {D}; pass stage=False")
    return HID, key_precision, update_precision


def _launch(ir, rows: tuple[Tensor, Tensor, Tensor], gates: tuple, out: Tensor, st: Tensor, anchor: Tensor | None,
            ckpt: Tensor, r: Tensor, sc: Tensor, chunk_size: int, chunks: tuple[int, int], groups: tuple[int, int, int], hb: int,
            num_warps: int, precisions: tuple[str, str, str], stage: bool = False, tma: bool = False,
            save_ckpt: bool = False, read: bool = True, save_r: bool = False) -> None:
    """The launch of onepass_forward (of onepass_linear.linear_forward for depth 1) that both
    launchers make (chunks [c_lo, c_hi); groups: first group's length, group, slots of ckpt and
    r), with its out-of-resources line."""
    if ir.depth == 1:
        from .onepass_linear import linear_launch
        return linear_launch(ir, rows, gates, out, st, anchor, ckpt, r, sc, chunk_size, chunks, groups, num_warps,
                             precisions, save_ckpt=save_ckpt, read=read, save_r=save_r)
    if ir.depth == 3:   # no residuals saved: the depth-3 backward recomputes each chunk from its start state
        from .onepass_deep import deep_launch
        return deep_launch(ir, rows, gates, out, st, ckpt, chunk_size, chunks, groups, hb, num_warps, precisions,
                           save_ckpt=save_ckpt, read=read)
    q, k, v = rows
    n, T, D = q.shape
    lr, momentum, decay = gates
    scr = torch.empty(n, stage_floats(chunk_size, D, hb) if stage else 1, device=q.device)
    if tma and q.is_cuda:   # device-side descriptors need a global scratch allocator
        triton.set_allocator(lambda size, align, stream: torch.empty(size, dtype=torch.int8, device=q.device))
    precision, key_precision, update_precision = precisions
    try:
        onepass_forward[(n,)](
            q, k, v, lr, momentum if momentum is not None else lr, decay if decay is not None else lr,
            out, st, anchor if anchor is not None else st, scr, ckpt, r, sc, T, *chunks, *groups, float(ir.huber_delta),
            D=D, HID=ir.layer_shapes(D)[0][0], BC=chunk_size, HB=hb, SN=st.shape[1], ACT=ACTIVATIONS[ir.activation],
            LOSS=LOSSES[ir.loss], HAS_M=momentum is not None, HAS_D=decay is not None, PREC=precision,
            KPREC=key_precision, UPREC=update_precision, TMA=tma, STAGE=stage, SAVE_CKPT=save_ckpt,
            RESIDUAL=ir.residual, ANCHOR=anchor is not None, AFTER=ir.read is ReadMode.AFTER_UPDATE,
            READ=read, SAVE_R=save_r, NORMALIZED=ir.normalized_step, SQUARINGS=GRAM_SQUARINGS,
            num_warps=num_warps, num_stages=1)
    except OutOfResources as exc:
        raise InputError(f"one-pass forward at D={D}, chunk {chunk_size}, hidden tile {hb}: {exc.name} "
                         f"{exc.required} exceeds this GPU's {exc.limit}; use a smaller hidden tile or chunk") from None


def onepass_launch(ir, q: Tensor, k: Tensor, v: Tensor, lr: Tensor, momentum: Tensor | None, decay: Tensor | None,
                   st: Tensor, chunk_size: int, hb: int, num_warps: int, precision: str, key_precision: str | None,
                   update_precision: str | None, stage: bool = False, tma: bool = False,
                   group: int | None = None, anchor: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Launch the one-pass forward on flat rows: q, k, v (n, T, D); gates (n, T) (an absent one
    None); st (n, SN) float32 [W0 | S0 | W1 | S1] (depth 1: [W0 | S0]), updated in place to the
    end state; with an anchor (decay_to: init; (n, sum of the layers' sizes) float32 [A0 | A1])
    st holds U = W - A. Returns out
    (n, T, D) and, with `group`, the group-start checkpoints (n, n_groups, SN). Every check that
    can be made before the launch is one InputError line."""
    n, T, D = q.shape
    precisions = check_onepass(ir, D, chunk_size, hb, precision, key_precision, update_precision, stage)[1:]
    if ir.depth == 2:
        check_known_fault("one-pass forward", hb, num_warps, precision, D, chunk_size, q)
    if ir.decay_to_init and anchor is None:
        raise InputError(f"spec '{ir.name}' forgets towards its initial weights: pass the anchor")
    out = _output_like(q)
    n_chunks = triton.cdiv(T, chunk_size)
    save = group is not None
    first, n_groups = group_layout(n_chunks, group) if save else (n_chunks, 1)
    ckpt = torch.empty(n, n_groups if save else 1, st.shape[1], dtype=torch.float32, device=q.device)
    _launch(ir, (q, k, v), (lr, momentum, decay), out, st, anchor, ckpt, ckpt, ckpt, chunk_size, (0, n_chunks),
            (first, group or 1, n_groups), hb, num_warps, (precision, *precisions), stage=stage, tma=tma,
            save_ckpt=save)
    return out, (ckpt if save else None)


def onepass_rerun(ir, q: Tensor, k: Tensor, v: Tensor, lr: Tensor, momentum: Tensor | None, decay: Tensor | None,
                  start: Tensor, anchor: Tensor | None, chunk_size: int, lo: int, hi: int, hb: int, num_warps: int,
                  key_precision: str, update_precision: str) -> tuple[Tensor, Tensor, Tensor]:
    """The backward's re-run of chunks [lo, hi) from their group's start state `start` (n, SN),
    no read: returns each chunk's start state (n, hi - lo, SN), loss residual R = f(K; W_s) - V
    (n, hi - lo, chunk, D) and step scale (n, hi - lo, chunk; written with a normalized step),
    all float32. At depth 2 the last chunk's update is not run (its residual comes from the
    previous chunk's look-ahead, its start state is the run's end state); at depth 1
    (onepass_linear.py) each chunk makes its own residual, so every chunk of the group runs; at
    depth 3 (onepass_deep.py) the backward recomputes each chunk from its start state, so the
    residuals and scales are not written and the last chunk's update is not run either."""
    n, T, D = q.shape
    opts = dict(dtype=torch.float32, device=q.device)
    states = torch.empty(n, hi - lo, start.shape[1], **opts)
    saved = 0 if ir.depth == 3 else hi - lo   # depth 3 writes neither (empty tensors returned)
    r = torch.empty(n, saved, chunk_size, D, **opts)
    sc = torch.empty(n, saved, chunk_size, **opts)
    st = start.clone()
    end = hi if ir.depth == 1 else hi - 1
    _launch(ir, (q, k, v), (lr, momentum, decay), q, st, anchor, states, r, sc, chunk_size, (lo, end),
            (1, 1, hi - lo), hb, num_warps, (key_precision, key_precision, update_precision), save_ckpt=True,
            read=False, save_r=True)
    if ir.depth > 1:
        states[:, -1] = st
    return states, r, sc


def onepass_call(ir, q: Tensor, k: Tensor, v: Tensor, lr: Tensor, momentum: Tensor | None,
                 decay: Tensor | None, state: MemoryState, chunk_size: int = 64, hb: int = 64,
                 num_warps: int = 8, precision: str = "tf32", key_precision: str = "tf32",
                 update_precision: str | None = None,
                 delta: float | None = None, tma: bool = False, stage: bool = False) -> tuple[Tensor, MemoryState]:
    """Forward of a depth-1, 2 or 3 rule: (out (B, H, T, D), end state). Gates (B, H, T) per token or
    (B, H, ceil(T / chunk_size)) per chunk. Product precisions default to tf32 in every group:
    the error bound a bf16 key path or state update breaks at long sequences
    (benchmarks/precision_study.py, docs/design.md). `delta` replaces the spec's Huber delta."""
    B, H, T, D = q.shape
    if onepass_supported(ir):
        raise InputError(f"the one-pass forward does not cover spec '{ir.name}': {onepass_supported(ir)}")
    if delta is not None:
        ir = replace(ir, huber_delta=delta)
    n = B * H
    weights = list(state.weights)
    anchor = None
    if ir.decay_to_init:   # the kernel carries U = W - A and reads the anchor A
        if not state.anchor:
            raise InputError(f"spec '{ir.name}' forgets towards its initial weights: pass a state with an anchor")
        weights = [w.float() - a.float() for w, a in zip(weights, state.anchor)]
        anchor = torch.cat([a.reshape(n, -1).float() for a in state.anchor], 1).contiguous()
    st = flatten_state(ir, weights, state.momentum, n).contiguous()

    def gate(g: Tensor | None) -> Tensor | None:   # (n, T) per token
        if g is not None and g.shape[-1] != T:      # per chunk: each value repeated over its chunk's tokens
            g = g.repeat_interleave(chunk_size, -1)[..., :T]
        return g.reshape(n, T).contiguous() if g is not None else None
    rows = [x.reshape(n, T, D).contiguous() for x in (q, k, v)]
    out, _ = onepass_launch(ir, *rows, gate(lr), gate(momentum), gate(decay), st, chunk_size, hb, num_warps,
                            precision, key_precision, update_precision, stage=stage, tma=tma, anchor=anchor)
    weights, mom = unflatten_state(ir, st, B, H, D)
    if anchor is not None:
        weights = [u + a for u, a in zip(weights, state.anchor)]
    return out.view(B, H, T, D), MemoryState(weights, mom, list(state.anchor) if anchor is not None else None)


def onepass_cost(ir, D: int, chunk_size: int, hb: int = 64, precision: str = "tf32", key_precision: str = "tf32",
                 update_precision: str | None = None, in_bytes: int = 2) -> dict:
    """What one program does per chunk in the one-pass forward (the prologue's key sweep left
    out): multiply-adds by product group and precision, products, activations evaluated, and
    bytes it reads and writes through L2 (the state in place; with an anchor, the anchor read
    once; q, k, the next chunk's k, v, the gates and out at `in_bytes` per element).
    `recomputed_macs` are the key path's products done twice (Z0 again at the next chunk, rather
    than kept for all hidden tiles); `l2_checkpoint_bytes` the state copied once per checkpoint
    group when training. Depth 3: onepass_deep.deep_cost."""
    if ir.depth == 3:
        from .onepass_deep import deep_cost
        return deep_cost(ir, D, chunk_size, hb, precision, key_precision, update_precision, in_bytes)
    hid = ir.layers[0].out_mult * D
    tiles = hid // hb
    mom, bc = ir.gates.has_momentum, chunk_size
    after, anchor = ir.read is ReadMode.AFTER_UPDATE, ir.decay_to_init
    tile = bc * hb * D                                   # one (BC x HB x D) product
    if after:   # Q U0^T (+ Q S0^T, Q A0^T), (C * Q K^T) G0, Xq1 U1^T (+ Xq1 S1^T, Xq1 A1^T), Xq1 X1^T; (C * QX) G1
        read_products = 2 + (2 if mom else 0) + (2 if anchor else 0)
        read = tiles * (read_products * tile + 2 * bc * bc * hb) + bc * bc * D
        products = tiles * (read_products + 2) + 1
    else:       # Q W0^T, Xq1 W1^T at the chunk-start weights
        read_products = 2
        read = tiles * 2 * tile
        products = tiles * 2
    # the normalized step: a Gram product W1 W1^T per tile, four D x D squarings per chunk
    step = (tiles * D * hb * D + GRAM_SQUARINGS * D ** 3) if ir.normalized_step else 0
    groups = {
        "key": tiles * 4 * tile + (bc * D * bc if after else 0) + step,   # Z0, G0, look-ahead Zn0 and Z1; Q K^T
        "read": read,
        "update": tiles * (4 if mom else 2) * tile,
    }
    prec = {"key": key_precision, "read": precision, "update": update_precision or precision}
    by_precision: dict[str, int] = {}
    for g, macs in groups.items():
        by_precision[prec[g]] = by_precision.get(prec[g], 0) + macs
    products += tiles * (4 + (4 if mom else 2)) + (1 if after else 0)
    products += (tiles + GRAM_SQUARINGS) if ir.normalized_step else 0
    state_bytes = ir.state_numel(D) * 4
    io_bytes = (4 * bc * D) * in_bytes + 3 * bc * 4          # q, k, next k, v; gates as float32
    return {"macs": sum(groups.values()), "macs_by_group": groups, "macs_by_precision": by_precision,
            "recomputed_macs": tiles * tile, "products": products,
            "activations": tiles * 3 * bc * hb,               # act(Z0), act(Zq0), act(Zn0)
            "state_bytes": state_bytes, "l2_state_read_bytes": state_bytes, "l2_state_write_bytes": state_bytes,
            "l2_anchor_read_bytes": 2 * hid * D * 4 if anchor else 0,
            "l2_token_read_bytes": io_bytes, "l2_token_write_bytes": bc * D * in_bytes,
            "l2_checkpoint_bytes": state_bytes}
