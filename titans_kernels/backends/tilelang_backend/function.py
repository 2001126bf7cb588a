"""autograd.Function of the TileLang backend.

Forward: the generated TileLang kernel (whole chunk loop in one launch), which also writes the
state at every checkpoint-group start. Backward ("kernel", the default): the generated TileLang
backward kernel walks the groups in reverse from those checkpoints (codegen_bwd.py), and the
gate gradients are finished from its coefficient gradients by torch_backend/coeffs.py; ("torch"):
the torch backend's hand-derived walk from the same checkpoints. No autograd graph either way.
"""
from __future__ import annotations

import torch

from ..checkpoints import default_group
from ..torch_backend import chunk as chunk_ops
from ..torch_backend import function as dual
from . import launch
from .codegen import TileConfig


def _pack(ir, weights, momentum, D: int):
    """Per layer the torch backend's packed state ([W | S] or [W ; S]; W alone without momentum)."""
    if momentum is None:
        return list(weights)
    return [torch.cat([w, s], -1 if chunk_ops.input_side(i, o) else -2)
            for w, s, (o, i) in zip(weights, momentum, ir.layer_shapes(D))]


class TileLangFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, ir, cfgs: tuple[TileConfig, TileConfig], chunk_size, group, backward, has_anchor, q, k, v, theta, eta,
                alpha, *state):
        cfg, cfg_bwd = cfgs
        B, H, T, D = q.shape
        L = ir.depth
        lay = dual.Layout(q, k, v, theta, eta, alpha, chunk_size, torch.float32)
        n = lay.n
        n_mom = L if ir.gates.has_momentum else 0
        flat = lambda t: t.reshape(n, *t.shape[2:]).float()  # noqa: E731
        weights = [flat(w) for w in state[:L]]
        momentum = [flat(s) for s in state[L:L + n_mom]] or None
        anchor = [flat(a) for a in state[L + n_mom:]] if has_anchor else None
        if anchor is not None:  # the kernel carries U = W - anchor
            weights = [w - a for w, a in zip(weights, anchor)]
        needs_grad = any(ctx.needs_input_grad)
        group = (group or default_group(lay.N)) if needs_grad else None
        res = launch.run_forward(ir, lay, weights, momentum, anchor, cfg, group)
        if needs_grad:
            ctx.ckpts = None
            if backward == "torch":  # the torch walk takes packed states; the kernel reads the raw buffers
                ctx.ckpts = [_pack(ir, ck[:L], ck[L:] or None, D) for ck in res.checkpoints]
            ctx.raw_ckpts, ctx.cfg, ctx.backward = res.raw_checkpoints, cfg_bwd, backward
            ctx.ir, ctx.lay, ctx.group, ctx.anchor = ir, lay, group, anchor
            ctx.in_dtypes = [x.dtype if isinstance(x, torch.Tensor) else None for x in (q, k, v, theta, eta, alpha)]
            ctx.state_dtypes = [s.dtype for s in state]
        w_end = res.weights if anchor is None else [w + a for w, a in zip(res.weights, anchor)]
        shapes = ir.layer_shapes(D)
        unflat = lambda t, l: t.view(B, H, *shapes[l])  # noqa: E731
        return (res.out.reshape(B, H, T, D).to(q.dtype), *(unflat(w, l) for l, w in enumerate(w_end)),
                *(unflat(s, l) for l, s in enumerate(res.momentum or [])))

    @staticmethod
    def backward(ctx, d_out, *d_state):
        if ctx.backward == "torch":
            grads, state_grads = dual.backward_from_checkpoints(ctx.ir, ctx.lay, ctx.ckpts, None, ctx.group, d_out,
                                                                d_state, ctx.in_dtypes, ctx.state_dtypes,
                                                                ctx.anchor)
        else:
            grads, state_grads = _kernel_backward(ctx, d_out, d_state)
        return (None, None, None, None, None, None, *grads, *state_grads)


def _kernel_backward(ctx, d_out, d_state):
    """Gradients of (q, k, v, theta, eta, alpha) and of the initial state (and anchor) from the
    TileLang backward kernel, in the same form as dual.backward_from_checkpoints."""
    ir, lay = ctx.ir, ctx.lay
    L, shapes = ir.depth, ir.layer_shapes(lay.D)
    n = lay.n
    if d_out is None:
        d_out = torch.zeros(lay.B, lay.H, lay.T, lay.D, device=lay.device)
    filled = [d if d is not None else torch.zeros(lay.B, lay.H, *shapes[i % L], device=lay.device)
              for i, d in enumerate(d_state)]
    flat = lambda t: t.reshape(n, *t.shape[2:]).float()  # noqa: E731
    d_w = [flat(t) for t in filled[:L]]
    d_s = [flat(t) for t in filled[L:]] or None
    res = launch.run_backward(ir, lay, d_out.reshape(n, lay.T, lay.D), d_w, d_s, ctx.anchor, ctx.raw_ckpts,
                              ctx.cfg, ctx.group)
    dt = ctx.in_dtypes
    tok = lambda x, d: x.reshape(lay.B, lay.H, lay.T, lay.D).to(d)  # noqa: E731
    grads = [tok(res.dq, dt[0]), tok(res.dk, dt[1]), tok(res.dv, dt[2]), lay.gates_out(res.dtheta, dt[3]),
             lay.gates_out(res.deta, dt[4]) if res.deta is not None else None,
             lay.gates_out(res.dalpha, dt[5]) if res.dalpha is not None else None]
    unflat = lambda t, l: t.view(lay.B, lay.H, *shapes[l])  # noqa: E731
    state_grads = [unflat(t, l) for l, t in enumerate(res.dweights)]
    state_grads += [unflat(t, l) for l, t in enumerate(res.dmomentum or [])]
    if res.danchor is not None:  # U0 = W0 - anchor and W_end = U_end + anchor
        for l in range(L):
            state_grads.append(unflat(res.danchor[l], l) - state_grads[l] + filled[l].float())
    return grads, [g.to(t) for g, t in zip(state_grads, ctx.state_dtypes)]
