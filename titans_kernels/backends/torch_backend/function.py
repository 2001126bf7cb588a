"""The torch backend's autograd.Function: chunk loop forward, reverse walk backward.

Layout: (B, H, T, D) inputs become chunk-major (N, n, b, D) with n = B*H and N = ceil(T/b), so
each chunk is one contiguous block; the final chunk is zero-padded and its state is read at its
last real token, so padding never changes the result. The state of layer l travels as one tensor
[W_l | S_l] (see chunk.py). Chunks are split into groups of `group` (counted from the end, so the last group is full).
The forward keeps the chunk-start state of each group, and the intermediates of the last
group, which its backward needs first. The backward walks the groups in reverse: it re-runs a
group's chunks forward from its checkpoint (keeping their intermediates, skipping the read
output it does not need), then runs the chunk backward in reverse order.
Peak memory: N/group checkpoints + group chunks of intermediates, linear in T.
"""
from __future__ import annotations

import dataclasses
import math
import time
from functools import lru_cache

import torch
from torch import Tensor

from ..checkpoints import default_group, group_bounds  # noqa: F401 (torch_backend.function API)
from ...ir import MemoryIR
from . import chunk as chunk_ops
from .chunk import shrink_state  # noqa: F401 (torch_backend.function API)
from . import coeffs as coeff_ops
from . import compiled as steps
from .engine import matmul_engine


class Layout:
    """Chunking of one call. Token tensors stay (n, T, D) in their own dtype; `block` builds the
    chunk-major (chunks, n, b, D) compute-dtype operand of one checkpoint group at a time, so no
    full-length copy is ever made. Gates (small) are kept chunk-major: (N, n, b)."""

    def __init__(self, q: Tensor, k: Tensor, v: Tensor, theta: Tensor, eta: Tensor | None,
                 alpha: Tensor | None, chunk_size: int, cdt: torch.dtype):
        B, H, T, D = q.shape
        self.B, self.H, self.T, self.D, self.b, self.cdt = B, H, T, D, chunk_size, cdt
        self.N = math.ceil(T / chunk_size)
        self.pad = self.N * chunk_size - T
        self.n = B * H
        self.device = q.device
        self.q, self.k, self.v = (x.reshape(self.n, T, D) for x in (q, k, v))
        self.theta = self._chunk_g(theta, 0.0)
        self.eta = self._chunk_g(eta, 1.0) if eta is not None else None
        self.alpha = self._chunk_g(alpha, 0.0) if alpha is not None else None
        self.hist_k = self.hist_v = None   # Omega window: the tokens before this call (set_history)
        last = torch.full((self.N, 1), chunk_size - 1, dtype=torch.long, device=q.device)
        last[-1] = chunk_size - 1 - self.pad
        self.last = last.expand(self.N, self.n)

    def block(self, x: Tensor, lo: int, hi: int) -> Tensor:
        """Chunks [lo, hi) of an (n, T, D) tensor as (hi - lo, n, b, D), zero-padded, compute dtype."""
        t0, t1 = lo * self.b, min(hi * self.b, self.T)
        blk = x[:, t0:t1].to(self.cdt)
        short = (hi - lo) * self.b - (t1 - t0)
        if short:
            blk = torch.nn.functional.pad(blk, (0, 0, 0, short))
        return blk.reshape(self.n, hi - lo, self.b, self.D).transpose(0, 1).contiguous()

    def set_history(self, hist_k: Tensor, hist_v: Tensor) -> None:
        """The last window - 1 keys and values before this call, (B, H, window - 1, D)."""
        self.hist_k, self.hist_v = (h.reshape(self.n, h.shape[2], self.D).to(self.cdt) for h in (hist_k, hist_v))

    def block_ext(self, x: Tensor, hist: Tensor | None, lo: int, hi: int, extra: int) -> Tensor:
        """Chunks [lo, hi) of an (n, T, D) tensor, each with the `extra` tokens before it in front:
        (hi - lo, n, extra + b, D). Before the sequence: `hist` (n, extra, D), the tokens of the
        previous call, or zeros; past its end: zeros (Omega's window)."""
        t0, t1 = lo * self.b - extra, min(hi * self.b, self.T)
        front = max(0, -t0)
        blk = x[:, max(t0, 0):t1].to(self.cdt)
        if front and hist is not None:
            blk = torch.cat([hist[:, extra - front:], blk], 1)
            front = 0
        back = extra + (hi - lo) * self.b - front - blk.shape[1]
        blk = torch.nn.functional.pad(blk, (0, 0, front, back))
        return blk.unfold(1, self.b + extra, self.b).permute(1, 0, 3, 2).contiguous()

    def key_blocks(self, window: int, lo: int, hi: int) -> tuple[Tensor, Tensor]:
        """k and v of chunks [lo, hi) as `block` gives them, with an Omega window's previous
        window - 1 tokens in front of each chunk (`block_ext`)."""
        if window == 1:
            return self.block(self.k, lo, hi), self.block(self.v, lo, hi)
        return (self.block_ext(self.k, self.hist_k, lo, hi, window - 1),
                self.block_ext(self.v, self.hist_v, lo, hi, window - 1))

    def add_key_grads(self, window: int, i: int, dk: Tensor, dv: Tensor, d_hist: list[Tensor] | None,
                      dk_i: Tensor, dv_i: Tensor) -> None:
        """Add chunk i's key and value gradients (n, window - 1 + b, D) into the (n, N*b, D)
        buffers: its first window - 1 rows belong to earlier tokens, those before the call to
        d_hist (the carried history's gradients)."""
        extra = window - 1
        start, stop = i * self.b - extra, (i + 1) * self.b
        dk[:, max(start, 0):stop] += dk_i[:, max(-start, 0):]
        dv[:, max(start, 0):stop] += dv_i[:, max(-start, 0):]
        if start < 0 and d_hist is not None:
            d_hist[0][:, extra + start:] += dk_i[:, :-start]
            d_hist[1][:, extra + start:] += dv_i[:, :-start]

    def token_buffer(self) -> Tensor:
        """(n, N*b, D) compute-dtype buffer that chunk results are written into."""
        return torch.empty(self.n, self.N * self.b, self.D, dtype=self.cdt, device=self.device)

    def chunk_rows(self, i: int) -> slice:
        return slice(i * self.b, (i + 1) * self.b)

    def _chunk_g(self, g: Tensor, fill: float) -> Tensor:
        g = g.reshape(self.n, self.T).to(self.cdt)
        if self.pad:
            g = torch.nn.functional.pad(g, (0, self.pad), value=fill)
        return g.view(self.n, self.N, self.b).transpose(0, 1).contiguous()

    def gates(self, lo: int, hi: int):
        cut = lambda g: g[lo:hi] if g is not None else None  # noqa: E731
        return self.theta[lo:hi], cut(self.eta), cut(self.alpha), self.last[lo:hi]

    def tokens_out(self, buf: Tensor, dtype: torch.dtype) -> Tensor:
        """(n, N*b, D) buffer -> (B, H, T, D) in `dtype` (a view when nothing needs cutting)."""
        return buf[:, : self.T].reshape(self.B, self.H, self.T, self.D).to(dtype)

    def gates_out(self, g: Tensor, dtype: torch.dtype) -> Tensor:
        """(N, n, b) -> (B, H, T) in `dtype`."""
        g = g.transpose(0, 1).reshape(self.n, self.N * self.b)[:, : self.T]
        return g.reshape(self.B, self.H, self.T).to(dtype)


def pack_state(ir: MemoryIR, weights: list[Tensor], momentum: list[Tensor] | None, n: int,
               cdt: torch.dtype) -> list[Tensor]:
    """Per layer the packed state of chunk.py ([W | S] or [W ; S]), (n, ., .) in `cdt`."""
    flat = lambda t: t.reshape(n, *t.shape[2:]).to(cdt)  # noqa: E731
    if not ir.gates.has_momentum:
        return [flat(w).clone() for w in weights]
    return [torch.cat([flat(w), flat(s)], -1 if chunk_ops.input_side(i, o) else -2)
            for w, s, (o, i) in zip(weights, momentum, ir.layer_shapes(weights[0].shape[-1]))]


def unpack_state(ir: MemoryIR, WS: list[Tensor], B: int, H: int, D: int):
    """Inverse of pack_state: (weights, momentum or None), each (B, H, out, in)."""
    shapes = ir.layer_shapes(D)
    weights = [chunk_ops.w_part(ws, i, o).reshape(B, H, o, i) for ws, (o, i) in zip(WS, shapes)]
    if not ir.gates.has_momentum:
        return weights, None
    return weights, [chunk_ops.s_part(ws, i, o).reshape(B, H, o, i) for ws, (o, i) in zip(WS, shapes)]


def shrink_backward(ir: MemoryIR, dWS: list[Tensor], post: list[Tensor], D: int) -> list[Tensor]:
    """Backward of `shrink_state`, from its output `post`: W's gradient kept where post's W is
    non-zero (the threshold's derivative), the momentum's passed through."""
    out = []
    for d, p, (o, i) in zip(dWS, post, ir.layer_shapes(D)):
        d = d.clone()
        chunk_ops.w_part(d, i, o).mul_(chunk_ops.w_part(p, i, o) != 0)
        out.append(d)
    return out


def chunk_tokens(lay: "Layout", i: int) -> int:
    """Real tokens of chunk i (the last one may be short)."""
    return int(lay.last[i][0]) + 1


FORWARD_ONLY_GROUP = 64  # chunks whose coefficients are built in one batch when no backward follows
KEEP_ALL_BUDGET_MB = 512  # keep every chunk's intermediates (no re-run in the backward) up to this size


@lru_cache(maxsize=64)
def saved_bytes_per_row(ir: MemoryIR, chunk_size: int, D: int, has_anchor: bool, cdt: torch.dtype) -> int:
    """Bytes one chunk keeps for its backward (start state plus intermediates) per (batch, head)
    row, measured on one dummy chunk."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 1, chunk_size, D, generator=g, dtype=cdt) for _ in range(3))
    gate = torch.full((1, 1, chunk_size), 0.5, dtype=cdt)
    lay = Layout(q, k, v, gate, gate if ir.gates.has_momentum else None,
                 gate if ir.gates.has_decay else None, chunk_size, cdt)
    shapes = ir.layer_shapes(D)
    weights = [torch.randn(1, 1, o, i, generator=g, dtype=cdt) for o, i in shapes]
    momentum = [torch.zeros_like(w) for w in weights] if ir.gates.has_momentum else None
    WS = pack_state(ir, weights, momentum, 1, cdt)
    anchor = [w.reshape(1, *w.shape[2:]) for w in weights] if has_anchor else None
    _, co, _, qb, kb, vb, prep = _group_operands(ir, lay, 0, 1)
    _, _, saved = chunk_ops.forward(ir, WS, kb[0], vb[0], qb[0], co.at(0), prep.at(0), save=True,
                                    anchor=anchor)
    tensors = list(WS)
    for value in vars(saved).values():
        tensors += [t for t in (value if isinstance(value, list) else [value]) if isinstance(t, Tensor)]
    return sum(t.untyped_storage().nbytes() for t in {t.untyped_storage().data_ptr(): t for t in tensors}.values())


def choose_group(ir: MemoryIR, lay: "Layout", has_anchor: bool, budget_mb: float = KEEP_ALL_BUDGET_MB) -> int:
    """Chunks per checkpoint group for a call that needs gradients: one group (every chunk's
    intermediates kept, nothing re-run in the backward) while that fits in `budget_mb`, else
    ~sqrt(N) groups (re-run one group at a time: memory ~ sqrt(N) chunks)."""
    keep_all = saved_bytes_per_row(ir, lay.b, lay.D, has_anchor, lay.cdt) * lay.n * lay.N
    return lay.N if keep_all <= budget_mb * 2**20 else default_group(lay.N)


def omega_band(ir: MemoryIR, lay: Layout, lo: int, hi: int) -> Tensor:
    """The Omega window as a band, (hi - lo, 1, b, c - 1 + b) for c = ir.window: row s (the
    chunk's token s) is 1 at the key columns s..s+c-1, the tokens s-c+1..s of its window, whose
    first c - 1 columns are the previous chunk's last tokens; 0 for columns before the sequence
    (unless the call carries the previous call's tokens)."""
    b, extra = lay.b, ir.window - 1
    rows = torch.arange(b, device=lay.device).unsqueeze(-1)
    cols = torch.arange(b + extra, device=lay.device)
    band = ((cols >= rows) & (cols <= rows + extra)).to(lay.cdt)
    starts = torch.arange(lo, hi, device=lay.device).unsqueeze(-1) * b - extra
    inside = (starts + cols >= (0 if lay.hist_k is None else -extra)).to(lay.cdt)   # (hi - lo, b + extra)
    return (band * inside[:, None, :]).unsqueeze(1)


def omega_coeffs(co: coeff_ops.Coeffs, band: Tensor, last: Tensor) -> coeff_ops.Coeffs:
    """The chunk coefficients over the window's key tokens: step s applies the sum of its window's
    gradients, so C' = C band, c' = C'[last] and w' = band^T w (the read coefficients a, m and the
    chunk-end scalars are unchanged)."""
    C = co.C @ band
    w = (co.w.unsqueeze(-2) @ band).squeeze(-2) if co.w is not None else None
    return dataclasses.replace(co, C=C, c=coeff_ops._row(C, last), w=w)


def omega_coeff_grads(cg: chunk_ops.CoeffGrads, band: Tensor) -> chunk_ops.CoeffGrads:
    """Backward of `omega_coeffs` for one chunk: dC = dC' band^T, dw = dw' band^T."""
    bt = band.transpose(-1, -2)
    dw = (cg.dw.unsqueeze(-2) @ bt).squeeze(-2) if cg.dw is not None else None
    return dataclasses.replace(cg, dC=cg.dC @ bt, dw=dw)


def _group_operands(ir: MemoryIR, lay: Layout, lo: int, hi: int):
    """Coefficients, chunk-major q/k/v blocks and layer-1 operands of chunks [lo, hi). Returns
    (co, co_keys, band, q, k, v, prep): with an Omega window k and v carry each chunk's previous
    window - 1 tokens in front, co_keys the coefficients over those key tokens and band the window
    (None without one, when co_keys is co)."""
    co = coeff_ops.compute(*lay.gates(lo, hi))
    q = lay.block(lay.q, lo, hi)
    k, v = lay.key_blocks(ir.window, lo, hi)
    if ir.window == 1:
        return co, co, None, q, k, v, chunk_ops.prepare_layer1(ir, q, k, co)
    band = omega_band(ir, lay, lo, hi)
    co_keys = omega_coeffs(co, band, lay.last[lo:hi])
    return co, co_keys, band, q, k, v, chunk_ops.prepare_layer1(ir, q, k, co_keys)


def run_forward(ir: MemoryIR, lay: Layout, WS: list[Tensor], group: int, for_backward: bool,
                anchor: list[Tensor] | None = None):
    """Forward over all chunks. Returns (out (n, N*b, D), WS_end, checkpoints, last-group saves).

    checkpoints[g] is the packed state at the start of group g; with for_backward, the last
    group's per-chunk (state, coefficients, intermediates) are kept too.
    """
    out = lay.token_buffer()
    checkpoints, tail = [], None
    bounds = group_bounds(lay.N, group)
    use = steps.decide(ir, lay.n, lay.b, lay.D, lay.device, lay.cdt, infer=not for_backward)
    start = time.perf_counter()
    for g_idx, (lo, hi) in enumerate(bounds):
        checkpoints.append(WS)
        keep = for_backward and g_idx == len(bounds) - 1
        co, co_keys, band, q, k, v, prep = _group_operands(ir, lay, lo, hi)
        if not keep:
            tokens = tuple(chunk_tokens(lay, i) for i in range(lo, hi)) if ir.shrink else None
            outs, WS = steps.forward_run(use, ir, WS, k, v, q, co_keys, prep, anchor=anchor, tokens=tokens)
            for j, o in enumerate(outs):
                out[:, lay.chunk_rows(lo + j)] = o
            continue
        saves = []
        for j, c_j in enumerate(co_keys.chunks()):
            o, WS_next, saved = steps.forward(use, ir, WS, k[j], v[j], q[j], c_j, prep.at(j), save=True,
                                                  anchor=anchor)
            out[:, lay.chunk_rows(lo + j)] = o
            saves.append((WS, c_j, saved))
            WS = shrink_state(ir, WS_next, lay.D, chunk_tokens(lay, lo + j)) if ir.shrink else WS_next
        tail = (co, saves, band)
    if not use:
        steps.spent(ir, lay.n, lay.b, lay.D, time.perf_counter() - start, infer=not for_backward)
    return out, WS, checkpoints, tail


def run_backward(ir: MemoryIR, lay: Layout, checkpoints, tail, group: int, d_out: Tensor,
                 dWS: list[Tensor], anchor: list[Tensor] | None = None, final: list[Tensor] | None = None):
    """Reverse walk. d_out: (n, T, D). Returns dq, dk, dv (n, N*b, D), dtheta, deta, dalpha
    (N, n, b), the gradient of the initial packed state, the anchor gradient summed over
    chunks (None without anchor) and those of the Omega window's carried keys and values (None
    without). final: the packed end state (needed with update.shrink)."""
    if ir.shrink and final is None:
        raise ValueError("run_backward: a rule with update.shrink needs the final packed state")
    dA_total = [torch.zeros_like(a) for a in anchor] if anchor is not None else None
    dq, dk, dv = (lay.token_buffer() for _ in range(3))
    extra = ir.window - 1
    if extra:   # a chunk's key gradients reach back into the previous chunk's rows: accumulate
        dk.zero_()
        dv.zero_()
    d_hist = [torch.zeros_like(lay.hist_k), torch.zeros_like(lay.hist_v)] if lay.hist_k is not None else None
    dtheta = torch.empty_like(lay.theta)
    deta = torch.empty_like(lay.eta) if lay.eta is not None else None
    dalpha = torch.empty_like(lay.alpha) if lay.alpha is not None else None
    bounds = group_bounds(lay.N, group)
    use = steps.decide(ir, lay.n, lay.b, lay.D, lay.device, lay.cdt)
    start = time.perf_counter()
    post = final
    for g_idx in range(len(bounds) - 1, -1, -1):
        lo, hi = bounds[g_idx]
        gates = lay.gates(lo, hi)
        if g_idx == len(bounds) - 1 and tail is not None:
            co, per_chunk, band = tail[0], list(tail[1]), tail[2]  # a copy: backward may run twice (retain_graph)
        else:
            WS = checkpoints[g_idx]
            co, co_keys, band, q, k, v, prep = _group_operands(ir, lay, lo, hi)
            per_chunk = []
            for j, c_j in enumerate(co_keys.chunks()):
                _, WS_next, saved = steps.forward(use, ir, WS, k[j], v[j], q[j], c_j, prep.at(j),
                                                  save=True, need_out=False, anchor=anchor)
                per_chunk.append((WS, c_j, saved))
                WS = shrink_state(ir, WS_next, lay.D, chunk_tokens(lay, lo + j)) if ir.shrink else WS_next
        d_blk = lay.block(d_out, lo, hi)
        grads = []
        for j in range(hi - lo - 1, -1, -1):
            WS, c_j, saved = per_chunk[j]
            per_chunk[j] = None
            rows = lay.chunk_rows(lo + j)
            if ir.shrink:   # post: this chunk's end state, after the threshold
                dWS = shrink_backward(ir, dWS, post, lay.D)
                post = WS
            dWS, dk_j, dv_j, dq[:, rows], cg, dA = steps.backward(
                use, ir, WS, c_j, saved, lay.last[lo + j], d_blk[j], dWS, anchor)
            if extra:
                lay.add_key_grads(ir.window, lo + j, dk, dv, d_hist, dk_j, dv_j)
                cg = omega_coeff_grads(cg, band[j])
            else:
                dk[:, rows], dv[:, rows] = dk_j, dv_j
            grads.append(cg)
            if dA is not None:
                for total, part in zip(dA_total, dA):
                    total += part
        grads.reverse()
        stacked = {f: (torch.stack([getattr(c, f) for c in grads]) if getattr(grads[0], f) is not None else None)
                   for f in ("dC", "da", "dm", "dw", "dp_e")}
        g_theta, g_eta, g_alpha = coeff_ops.backward(*gates, co, stacked["dC"], stacked["da"], stacked["dm"],
                                               stacked["dw"], stacked["dp_e"])
        dtheta[lo:hi] = g_theta
        if deta is not None:
            deta[lo:hi] = g_eta
        if dalpha is not None:
            dalpha[lo:hi] = g_alpha
    if not use:
        steps.spent(ir, lay.n, lay.b, lay.D, time.perf_counter() - start)
    return dq, dk, dv, dtheta, deta, dalpha, dWS, dA_total, d_hist


def split_state(ir: MemoryIR, lay: Layout, has_anchor: bool, state) -> tuple[list, list | None, list | None]:
    """The autograd.Functions' trailing inputs, *W0, *S0[, *anchor][, *history]: returns (weights,
    momentum or None, anchor flattened to (n, out, in) in the compute dtype, or None), and hands
    an Omega window's history to `lay`."""
    L = ir.depth
    n_mom = L if ir.gates.has_momentum else 0
    n_anchor = L if has_anchor else 0
    anchor = ([a.reshape(lay.n, *a.shape[2:]).to(lay.cdt) for a in state[L + n_mom:L + n_mom + n_anchor]]
              if has_anchor else None)
    if len(state) > L + n_mom + n_anchor:   # the Omega window's keys and values of the previous call
        lay.set_history(*state[L + n_mom + n_anchor:])
    return list(state[:L]), list(state[L:L + n_mom]) or None, anchor


class DualFormFunction(torch.autograd.Function):
    """out, *W_end, *S_end = f(q, k, v, theta, eta, alpha, *W0, *S0[, *anchor]) with a hand-derived
    backward. With an anchor (decay_to: init) the chunks carry U = W - anchor."""

    @staticmethod
    def forward(ctx, ir: MemoryIR, chunk_size: int, group: int | None, has_anchor: bool, q, k, v, theta, eta, alpha,
                *state):
        cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
        lay = Layout(q, k, v, theta, eta, alpha, chunk_size, cdt)
        weights, momentum, anchor = split_state(ir, lay, has_anchor, state)
        if anchor is not None:
            weights = [w - a.view_as(w) for w, a in zip(weights, anchor)]
        WS = pack_state(ir, weights, momentum, lay.n, cdt)
        group = group or choose_group(ir, lay, has_anchor)
        needs_grad = any(ctx.needs_input_grad)
        if not needs_grad:
            group = min(lay.N, FORWARD_ONLY_GROUP)
        with matmul_engine(lay.device):
            out, WS_end, ckpts, tail = run_forward(ir, lay, WS, group, for_backward=needs_grad, anchor=anchor)
        ctx.ir, ctx.group, ctx.lay, ctx.ckpts, ctx.tail, ctx.anchor = ir, group, lay, ckpts, tail, anchor
        ctx.final = WS_end if ir.shrink else None
        ctx.in_dtypes = [x.dtype if isinstance(x, Tensor) else None for x in (q, k, v, theta, eta, alpha)]
        ctx.state_dtypes = [s.dtype for s in state]
        w_end, m_end = unpack_state(ir, WS_end, lay.B, lay.H, lay.D)
        if anchor is not None:
            w_end = [w + a.view_as(w) for w, a in zip(w_end, anchor)]
        return (lay.tokens_out(out, q.dtype), *w_end, *(m_end or []))

    @staticmethod
    def backward(ctx, d_out, *d_state):
        grads, state_grads = backward_from_checkpoints(ctx.ir, ctx.lay, ctx.ckpts, ctx.tail, ctx.group,
                                                       d_out, d_state, ctx.in_dtypes, ctx.state_dtypes,
                                                       ctx.anchor, ctx.final)
        return (None, None, None, None, *grads, *state_grads)


def backward_from_checkpoints(ir: MemoryIR, lay: Layout, checkpoints: list[list[Tensor]], tail, group: int,
                              d_out: Tensor | None, d_state, in_dtypes, state_dtypes,
                              anchor: list[Tensor] | None = None, final: list[Tensor] | None = None):
    """Gradients of (q, k, v, theta, eta, alpha) and of the initial state (weights, momentum, and
    the anchor when given) from group-start checkpoints (packed states). Shared by every backend
    whose forward writes such checkpoints. d_state holds the gradients of the final weights and
    momentum. With an Omega window's carried tokens (Layout.set_history) their gradients follow
    the anchor's."""
    L = ir.depth
    if d_out is None:
        d_out = torch.zeros(lay.B, lay.H, lay.T, lay.D, device=lay.device)
    shapes = ir.layer_shapes(lay.D)
    filled = [d if d is not None else torch.zeros(lay.B, lay.H, *shapes[i % L], dtype=lay.cdt,
                                                  device=lay.device)
              for i, d in enumerate(d_state)]
    dWS = pack_state(ir, filled[:L], filled[L:] or None, lay.n, lay.cdt)
    with matmul_engine(lay.device):
        dq, dk, dv, dtheta, deta, dalpha, dWS0, dA, d_hist = run_backward(
            ir, lay, checkpoints, tail, group, d_out.reshape(lay.n, lay.T, lay.D), dWS, anchor, final)
    dt = in_dtypes
    grads = [lay.tokens_out(dq, dt[0]), lay.tokens_out(dk, dt[1]), lay.tokens_out(dv, dt[2]),
             lay.gates_out(dtheta, dt[3]),
             lay.gates_out(deta, dt[4]) if deta is not None else None,
             lay.gates_out(dalpha, dt[5]) if dalpha is not None else None]
    d_w, d_s = unpack_state(ir, dWS0, lay.B, lay.H, lay.D)
    state_grads = d_w + (d_s or [])
    if anchor is not None:  # U0 = W0 - anchor and W_end = U_end + anchor
        for l, (o, i) in enumerate(shapes):
            state_grads.append(dA[l].view(lay.B, lay.H, o, i) - d_w[l] + filled[l].to(lay.cdt))
    if d_hist is not None:   # the Omega window's keys and values of the previous call
        state_grads += [d.view(lay.B, lay.H, *d.shape[1:]) for d in d_hist]
    return grads, [g.to(t) for g, t in zip(state_grads, state_dtypes)]
