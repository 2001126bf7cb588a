"""The torch backend's autograd.Function: chunk loop forward, reverse walk backward.

Layout: (B, H, T, D) inputs become (n, N, b, D) with n = B*H, N = ceil(T/b) chunks; the final
chunk is zero-padded and its state is read at its last real token, so padding never changes
the result. The forward keeps the chunk-start state of every `group`-th chunk as a checkpoint.
The backward walks the groups in reverse: it re-runs a group's chunks forward from its
checkpoint (keeping their intermediates), then runs the chunk backward in reverse order.
Peak memory: N/group checkpoints + group chunks of intermediates, linear in T.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ...ir import MemoryIR
from . import chunk as chunk_ops
from . import coeffs as coeff_ops


class Layout:
    """Chunked views of one call's inputs. Gates are None when the IR has no such term."""

    def __init__(self, q: Tensor, k: Tensor, v: Tensor, theta: Tensor, eta: Tensor | None,
                 alpha: Tensor | None, b: int, cdt: torch.dtype):
        B, H, T, D = q.shape
        self.B, self.H, self.T, self.D, self.b = B, H, T, D, b
        self.N = math.ceil(T / b)
        self.pad = self.N * b - T
        self.n = B * H
        self.q, self.k, self.v = (self._chunk_x(x, cdt) for x in (q, k, v))
        self.theta = self._chunk_g(theta, cdt, 0.0)
        self.eta = self._chunk_g(eta, cdt, 1.0) if eta is not None else None
        self.alpha = self._chunk_g(alpha, cdt, 0.0) if alpha is not None else None
        last = torch.full((self.N,), b - 1, dtype=torch.long, device=q.device)
        last[-1] = b - 1 - self.pad
        self.last = last.expand(self.n, self.N)

    def _chunk_x(self, x: Tensor, cdt: torch.dtype) -> Tensor:
        x = x.reshape(self.n, self.T, self.D).to(cdt)
        if self.pad:
            x = torch.nn.functional.pad(x, (0, 0, 0, self.pad))
        return x.view(self.n, self.N, self.b, self.D)

    def _chunk_g(self, g: Tensor, cdt: torch.dtype, fill: float) -> Tensor:
        g = g.reshape(self.n, self.T).to(cdt)
        if self.pad:
            g = torch.nn.functional.pad(g, (0, self.pad), value=fill)
        return g.view(self.n, self.N, self.b)

    def gates(self, lo: int, hi: int):
        cut = lambda g: g[:, lo:hi] if g is not None else None  # noqa: E731
        return self.theta[:, lo:hi], cut(self.eta), cut(self.alpha), self.last[:, lo:hi]

    def unchunk(self, x: Tensor, dtype: torch.dtype) -> Tensor:
        """(n, N, b, D) or (n, N, b) -> (B, H, T[, D]) in `dtype`."""
        tail = x.shape[3:]
        x = x.reshape(self.n, self.N * self.b, *tail)[:, : self.T]
        return x.reshape(self.B, self.H, self.T, *tail).to(dtype)


def _coeff_at(co: coeff_ops.Coeffs, i: int) -> coeff_ops.Coeffs:
    """Coefficients of chunk i out of a (n, N', ...) batch."""
    return coeff_ops.Coeffs(**{f: (getattr(co, f)[:, i] if getattr(co, f) is not None else None)
                               for f in co.__dataclass_fields__})


def default_group(num_chunks: int) -> int:
    """Chunks per checkpoint: ~sqrt(N) balances checkpoints against re-run intermediates."""
    return 1 if num_chunks <= 8 else max(1, round(math.sqrt(num_chunks)))


def run_forward(ir: MemoryIR, lay: Layout, W: list[Tensor], S: list[Tensor] | None,
                group: int, keep_checkpoints: bool):
    """Forward over all chunks. Returns (out (n, N, b, D), W_end, S_end, checkpoints)."""
    out = torch.empty(lay.n, lay.N, lay.b, lay.D, dtype=lay.q.dtype, device=lay.q.device)
    checkpoints = []
    for lo in range(0, lay.N, group):
        hi = min(lay.N, lo + group)
        if keep_checkpoints:
            checkpoints.append(([w.clone() for w in W], [s.clone() for s in S] if S is not None else None))
        co = coeff_ops.compute(*lay.gates(lo, hi))
        for i in range(lo, hi):
            out[:, i], W, S, _ = chunk_ops.forward(ir, W, S, lay.k[:, i], lay.v[:, i], lay.q[:, i],
                                                   _coeff_at(co, i - lo))
    return out, W, S, checkpoints


def run_backward(ir: MemoryIR, lay: Layout, checkpoints, group: int, d_out: Tensor,
                 dW: list[Tensor], dS: list[Tensor] | None):
    """Reverse walk. d_out: (n, N, b, D). Returns dq, dk, dv (n, N, b, D), dtheta, deta, dalpha
    (n, N, b), and the gradients of the initial state."""
    dq, dk, dv = (torch.empty_like(lay.q) for _ in range(3))
    dth = torch.empty_like(lay.theta)
    deta = torch.empty_like(lay.eta) if lay.eta is not None else None
    dal = torch.empty_like(lay.alpha) if lay.alpha is not None else None
    for g_idx in range(len(checkpoints) - 1, -1, -1):
        lo = g_idx * group
        hi = min(lay.N, lo + group)
        W, S = checkpoints[g_idx]
        gates = lay.gates(lo, hi)
        co = coeff_ops.compute(*gates)
        per_chunk = []
        for i in range(lo, hi):
            c_i = _coeff_at(co, i - lo)
            _, W_next, S_next, saved = chunk_ops.forward(ir, W, S, lay.k[:, i], lay.v[:, i], lay.q[:, i],
                                                         c_i, save=True)
            per_chunk.append((W, S, c_i, saved))
            W, S = W_next, S_next
        cg_list = []
        for i in range(hi - 1, lo - 1, -1):
            W, S, c_i, saved = per_chunk[i - lo]
            dW, dS, dk[:, i], dv[:, i], dq[:, i], cg = chunk_ops.backward(
                ir, W, S, c_i, saved, lay.last[:, i], d_out[:, i], dW, dS)
            cg_list.append(cg)
            per_chunk[i - lo] = None
        cg_list.reverse()
        stack = lambda f: (torch.stack([getattr(c, f) for c in cg_list], 1)  # noqa: E731
                           if getattr(cg_list[0], f) is not None else None)
        g_th, g_eta, g_al = coeff_ops.backward(*gates, co, stack("dC"), stack("da"), stack("dm"),
                                               stack("dw"), stack("dp_e"))
        dth[:, lo:hi] = g_th
        if deta is not None:
            deta[:, lo:hi] = g_eta
        if dal is not None:
            dal[:, lo:hi] = g_al
    return dq, dk, dv, dth, deta, dal, dW, dS


class DualFormFunction(torch.autograd.Function):
    """out, *W_end, *S_end = f(q, k, v, theta, eta, alpha, *W0, *S0) with a hand-derived backward."""

    @staticmethod
    def forward(ctx, ir: MemoryIR, b: int, group: int | None, q, k, v, theta, eta, alpha, *state):
        L = ir.depth
        cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
        lay = Layout(q, k, v, theta, eta, alpha, b, cdt)
        W = [w.reshape(lay.n, *w.shape[2:]).to(cdt) for w in state[:L]]
        S = [s.reshape(lay.n, *s.shape[2:]).to(cdt) for s in state[L:]] if ir.gates.has_momentum else None
        group = group or default_group(lay.N)
        out, W_end, S_end, ckpts = run_forward(ir, lay, W, S, group, keep_checkpoints=True)
        ctx.ir, ctx.b, ctx.group, ctx.lay, ctx.ckpts = ir, b, group, lay, ckpts
        ctx.in_dtypes = [x.dtype if isinstance(x, Tensor) else None for x in (q, k, v, theta, eta, alpha)]
        ctx.state_meta = [(s.shape, s.dtype) for s in state]
        ends = [w.view(lay.B, lay.H, *w.shape[1:]) for w in W_end]
        if S_end is not None:
            ends += [s.view(lay.B, lay.H, *s.shape[1:]) for s in S_end]
        return (lay.unchunk(out, q.dtype), *ends)

    @staticmethod
    def backward(ctx, d_out, *d_state):
        ir, lay = ctx.ir, ctx.lay
        L = ir.depth
        cdt = lay.q.dtype
        d_out = d_out if d_out is not None else torch.zeros(lay.B, lay.H, lay.T, lay.D, device=lay.q.device)
        d_out = lay._chunk_x(d_out, cdt)
        zeros_like_meta = lambda i: torch.zeros(lay.n, *ctx.state_meta[i][0][2:], dtype=cdt,  # noqa: E731
                                                device=lay.q.device)
        dW = [(d.reshape(lay.n, *d.shape[2:]).to(cdt) if d is not None else zeros_like_meta(i))
              for i, d in enumerate(d_state[:L])]
        dS = None
        if ir.gates.has_momentum:
            dS = [(d.reshape(lay.n, *d.shape[2:]).to(cdt) if d is not None else zeros_like_meta(L + i))
                  for i, d in enumerate(d_state[L:])]
        dq, dk, dv, dth, deta, dal, dW0, dS0 = run_backward(ir, lay, ctx.ckpts, ctx.group, d_out, dW, dS)
        dt = ctx.in_dtypes
        grads = [lay.unchunk(dq, dt[0]), lay.unchunk(dk, dt[1]), lay.unchunk(dv, dt[2]),
                 lay.unchunk(dth, dt[3]),
                 lay.unchunk(deta, dt[4]) if deta is not None else None,
                 lay.unchunk(dal, dt[5]) if dal is not None else None]
        state_grads = [g.view(*ctx.state_meta[i][0]).to(ctx.state_meta[i][1]) for i, g in enumerate(dW0)]
        if dS0 is not None:
            state_grads += [g.view(*ctx.state_meta[L + i][0]).to(ctx.state_meta[L + i][1])
                            for i, g in enumerate(dS0)]
        return (None, None, None, *grads, *state_grads)
