"""The Muon step (update.step: muon) in the torch backend: per-chunk updates.

Each chunk c reads its start weights (read: chunk_start) and then updates once, with gates
constant over the chunk (lr theta, momentum eta, decay alpha):

    U_c = sum_t u_t                      the chunk's per-token gradients, all at W_{c-1}
    M_c = eta M_{c-1} + U_c              momentum of the gradients (M_c = U_c without it)
    W_c = (1 - alpha) W_{c-1} - theta NS(M_c)

NS is `ops.newton_schulz`. u_t is the dual form's per-token gradient (with an Omega window, its
window's sum), so a chunk runs `chunk.forward` with coefficient c = 1 on every real token and no momentum or decay: its end
state is W - U_c, and its read at chunk start is the output. The hand-derived backward runs
`chunk.backward` with dW_end = -dU, after the step's own backward (NewtonSchulz's vjp, the gates'
inner products). Under decay_to: init the chunks carry W - anchor, as in function.py. The
momentum slot of the state holds M (the gradient momentum, not the step).

Every chunk's intermediates are kept for the backward (no checkpoint groups): memory grows with
the sequence, like the autograd path.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from ...ir import GateMode, GatesIR, MemoryIR
from ...ir.ops import newton_schulz, newton_schulz_vjp
from . import chunk as chunk_ops
from . import coeffs as coeff_ops
from .engine import matmul_engine
from .function import (Layout, chunk_tokens, omega_band, omega_coeffs, shrink_backward, shrink_state,
                       split_state)


def chunk_ir(ir: MemoryIR) -> MemoryIR:
    """The IR `chunk.forward` runs for a Muon chunk: the gradient sum only, no momentum or decay."""
    return dataclasses.replace(ir, gates=GatesIR(GateMode.PER_CHUNK, GateMode.NONE, GateMode.NONE), muon=False)


def _operands(ir: MemoryIR, ir0: MemoryIR, lay: Layout, i: int):
    """q, k, v blocks, the sum coefficients (c = 1 on the chunk's real tokens) and layer-1 prep
    of chunk i, each without its leading chunk axis."""
    b = lay.b
    q = lay.block(lay.q, i, i + 1)
    last = lay.last[i:i + 1]
    C = torch.ones(b, b, dtype=lay.cdt, device=lay.device).tril().expand(1, lay.n, b, b)
    co = coeff_ops.Coeffs(C=C, c=coeff_ops._row(C, last), a=None, m=None, a_e=None, m_e=None, p_e=None, w=None,
                          Pe=None, ap_e=None, F=C, L_B=None, L_P=None, pv=None)
    k, v = lay.key_blocks(ir.window, i, i + 1)
    if ir.window > 1:
        co = omega_coeffs(co, omega_band(ir, lay, i, i + 1), last)
    prep = chunk_ops.prepare_layer1(ir0, q, k, co)
    return q[0], k[0], v[0], co.at(0), prep.at(0)


def _gate(g: Tensor | None, i: int) -> Tensor | None:
    """Chunk i's gate, (n, 1, 1): its first token's (the gates are per chunk)."""
    return g[i, :, 0, None, None] if g is not None else None


def forward_loop(ir: MemoryIR, lay: Layout, W: list[Tensor], M: list[Tensor] | None,
                 anchor: list[Tensor] | None, save: bool):
    """All chunks in order. W, M: per layer (n, out, in). Returns (out (n, N*b, D), W_end, M_end,
    per-chunk records for `backward_loop` (empty unless save)). Differentiable by autograd when
    save is False."""
    ir0 = chunk_ir(ir)
    out = lay.token_buffer() if save else None
    outs, records = [], []
    for i in range(lay.N):
        q, k, v, co, prep = _operands(ir, ir0, lay, i)
        o, W_minus_U, saved = chunk_ops.forward(ir0, W, k, v, q, co, prep, save=save, anchor=anchor)
        if save:
            out[:, lay.chunk_rows(i)] = o
        else:
            outs.append(o)
        U = [w - e for w, e in zip(W, W_minus_U)]
        eta, alpha, theta = _gate(lay.eta, i), _gate(lay.alpha, i), _gate(lay.theta, i)
        M_new = [eta * m + u for m, u in zip(M, U)] if M is not None else U
        steps = [newton_schulz(m, keep=save) for m in M_new]
        O = [s[0] for s in steps] if save else steps
        W_new = [(1 - alpha) * w - theta * o if alpha is not None else w - theta * o for w, o in zip(W, O)]
        if ir.shrink:
            W_new = shrink_state(ir0, W_new, lay.D, chunk_tokens(lay, i))
        if save:
            records.append((W, M, M_new, [s[1] for s in steps], O, co, saved, W_new))
        W, M = W_new, (M_new if M is not None else None)
    if not save:
        out = torch.cat(outs, dim=1)
    return out, W, M, records


def _dot(x: Tensor, y: Tensor) -> Tensor:
    return (x * y).flatten(1).sum(-1)


def backward_loop(ir: MemoryIR, lay: Layout, records, d_out: Tensor, dW: list[Tensor], dM: list[Tensor] | None,
                  anchor: list[Tensor] | None):
    """Reverse walk of `forward_loop`'s records. d_out (n, T, D); dW, dM: gradients of the end
    state. Returns dq, dk, dv (n, N*b, D), dtheta, deta, dalpha (N, n, b; each chunk's gate
    gradient on its first token), dW0, dM0, the anchor's gradient (summed over chunks) and those
    of the Omega window's carried keys and values."""
    ir0 = chunk_ir(ir)
    dq, dk, dv = (lay.token_buffer().zero_() for _ in range(3))
    dtheta = torch.zeros_like(lay.theta)
    deta = torch.zeros_like(lay.eta) if lay.eta is not None else None
    dalpha = torch.zeros_like(lay.alpha) if lay.alpha is not None else None
    dA_total = [torch.zeros_like(a) for a in anchor] if anchor is not None else None
    d_hist = [torch.zeros_like(lay.hist_k), torch.zeros_like(lay.hist_v)] if lay.hist_k is not None else None
    d_blk = lay.block(d_out, 0, lay.N)
    for i in range(lay.N - 1, -1, -1):
        W, M, M_new, ns, O, co, saved, W_new = records[i]
        if ir.shrink:
            dW = shrink_backward(ir0, dW, W_new, lay.D)
        eta, alpha, theta = _gate(lay.eta, i), _gate(lay.alpha, i), _gate(lay.theta, i)
        dtheta[i, :, 0] = -sum(_dot(d, o) for d, o in zip(dW, O))
        if alpha is not None:
            dalpha[i, :, 0] = -sum(_dot(d, w) for d, w in zip(dW, W))
        keep = (1 - alpha) if alpha is not None else 1.0
        dMn = [newton_schulz_vjp(m, s, -theta * d) for m, s, d in zip(M_new, ns, dW)]
        if dM is not None:
            dMn = [a + b for a, b in zip(dMn, dM)]
            deta[i, :, 0] = sum(_dot(d, m) for d, m in zip(dMn, M))
            dM = [eta * d for d in dMn]
        # U = W - W_end(chunk): W_end's gradient is -dU, and W gets +dU directly
        dWS, dk_i, dv_i, dq[:, lay.chunk_rows(i)], _, dA = chunk_ops.backward(
            ir0, W, co, saved, lay.last[i], d_blk[i], [-d for d in dMn], anchor)
        dW = [keep * d + u + s for d, u, s in zip(dW, dMn, dWS)]
        lay.add_key_grads(ir.window, i, dk, dv, d_hist, dk_i, dv_i)
        if dA is not None:
            for total, part in zip(dA_total, dA):
                total += part
    return dq, dk, dv, dtheta, deta, dalpha, dW, dM, dA_total, d_hist


class MuonFunction(torch.autograd.Function):
    """out, *W_end, *M_end = f(q, k, v, theta, eta, alpha, *W0, *M0[, *anchor][, *history]) with
    the hand-derived backward above; the same calling convention as function.DualFormFunction."""

    @staticmethod
    def forward(ctx, ir: MemoryIR, chunk_size: int, group, has_anchor: bool, q, k, v, theta, eta, alpha, *state):
        cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
        lay = Layout(q, k, v, theta, eta, alpha, chunk_size, cdt)
        weights, momentum, anchor = split_state(ir, lay, has_anchor, state)
        flat = lambda t: t.reshape(lay.n, *t.shape[2:]).to(cdt)  # noqa: E731
        W = [flat(w) for w in weights]
        if anchor is not None:
            W = [w - a for w, a in zip(W, anchor)]
        M = [flat(m) for m in momentum] if momentum else None
        with matmul_engine(lay.device):
            out, W_end, M_end, records = forward_loop(ir, lay, W, M, anchor, save=True)
        ctx.ir, ctx.lay, ctx.records, ctx.anchor = ir, lay, records, anchor
        ctx.in_dtypes = [x.dtype if isinstance(x, Tensor) else None for x in (q, k, v, theta, eta, alpha)]
        ctx.state_dtypes = [s.dtype for s in state]
        shape = lambda t: t.view(lay.B, lay.H, *t.shape[1:])  # noqa: E731
        w_end = [shape(w + a if anchor is not None else w) for w, a in zip(W_end, anchor or W_end)]
        return (lay.tokens_out(out, q.dtype), *w_end, *[shape(m) for m in (M_end or [])])

    @staticmethod
    def backward(ctx, d_out, *d_state):
        ir, lay, anchor = ctx.ir, ctx.lay, ctx.anchor
        L = ir.depth
        shapes = ir.layer_shapes(lay.D)
        zeros = lambda l: torch.zeros(lay.n, *shapes[l % L], dtype=lay.cdt, device=lay.device)  # noqa: E731
        filled = [d.reshape(lay.n, *d.shape[2:]).to(lay.cdt) if d is not None else zeros(l)
                  for l, d in enumerate(d_state)]
        if d_out is None:
            d_out = torch.zeros(lay.B, lay.H, lay.T, lay.D, device=lay.device)
        with matmul_engine(lay.device):
            dq, dk, dv, dtheta, deta, dalpha, dW0, dM0, dA, d_hist = backward_loop(
                ir, lay, ctx.records, d_out.reshape(lay.n, lay.T, lay.D).to(lay.cdt), filled[:L],
                filled[L:] or None, anchor)
        dt = ctx.in_dtypes
        grads = [lay.tokens_out(dq, dt[0]), lay.tokens_out(dk, dt[1]), lay.tokens_out(dv, dt[2]),
                 lay.gates_out(dtheta, dt[3]),
                 lay.gates_out(deta, dt[4]) if deta is not None else None,
                 lay.gates_out(dalpha, dt[5]) if dalpha is not None else None]
        shape = lambda t: t.view(lay.B, lay.H, *t.shape[1:])  # noqa: E731
        state_grads = [shape(d) for d in dW0] + [shape(d) for d in (dM0 or [])]
        if anchor is not None:   # U0 = W0 - anchor and W_end = U_end + anchor
            state_grads += [shape(a - w + f) for a, w, f in zip(dA, dW0, filled[:L])]
        if d_hist is not None:
            state_grads += [shape(d) for d in d_hist]
        return (None, None, None, None, *grads, *[g.to(t) for g, t in zip(state_grads, ctx.state_dtypes)])


def forward_autograd(ir: MemoryIR, q, k, v, theta, eta, alpha, state, chunk_size: int):
    """`forward_loop` differentiated by autograd (TorchRule backward="autograd")."""
    from ..state import MemoryState, next_history
    cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
    lay = Layout(q, k, v, theta, eta, alpha, chunk_size, cdt)
    flat = lambda t: t.reshape(lay.n, *t.shape[2:]).to(cdt)  # noqa: E731
    anchor = [flat(a) for a in state.anchor] if ir.decay_to_init and state.anchor else None
    W = [flat(w) for w in state.weights]
    if anchor is not None:
        W = [w - a for w, a in zip(W, anchor)]
    if state.history:
        lay.set_history(*state.history)
    out, W_end, M_end, _ = forward_loop(ir, lay, W, [flat(m) for m in state.momentum] if state.momentum else None,
                                        anchor, save=False)
    shape = lambda t: t.view(lay.B, lay.H, *t.shape[1:])  # noqa: E731
    weights = [shape(w + a if anchor is not None else w) for w, a in zip(W_end, anchor or W_end)]
    return lay.tokens_out(out, q.dtype), MemoryState(weights, [shape(m) for m in M_end] if M_end else None,
                                                     state.anchor, next_history(ir.window, state, k, v))
