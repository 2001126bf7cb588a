"""autograd.Function of the TileLang backend.

Forward: the generated TileLang kernel (whole chunk loop in one launch), which also writes the
state at every checkpoint-group start. Backward: the hand-derived reverse walk shared with the
torch backend (torch_dual.function.backward_from_checkpoints), started from those checkpoints;
no autograd graph is built.
"""
from __future__ import annotations

import torch

from ..torch_dual import chunk as chunk_ops
from ..torch_dual import function as dual
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
    def forward(ctx, ir, cfg: TileConfig, b, group, has_anchor, q, k, v, theta, eta, alpha, *state):
        B, H, T, D = q.shape
        L = ir.depth
        lay = dual.Layout(q, k, v, theta, eta, alpha, b, torch.float32)
        n = lay.n
        n_mom = L if ir.gates.has_momentum else 0
        flat = lambda t: t.reshape(n, *t.shape[2:]).float()  # noqa: E731
        weights = [flat(w) for w in state[:L]]
        momentum = [flat(s) for s in state[L:L + n_mom]] or None
        anchor = [flat(a) for a in state[L + n_mom:]] if has_anchor else None
        if anchor is not None:  # the kernel carries U = W - anchor
            weights = [w - a for w, a in zip(weights, anchor)]
        needs_grad = any(ctx.needs_input_grad)
        group = (group or dual.default_group(lay.N)) if needs_grad else None
        res = launch.run_forward(ir, lay, weights, momentum, anchor, cfg, group)
        if needs_grad:
            L_ = len(weights)
            ctx.ckpts = [_pack(ir, ck[:L_], ck[L_:] or None, D) for ck in res.checkpoints]
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
        grads, state_grads = dual.backward_from_checkpoints(ctx.ir, ctx.lay, ctx.ckpts, None, ctx.group, d_out,
                                                            d_state, ctx.in_dtypes, ctx.state_dtypes, ctx.anchor)
        return (None, None, None, None, None, *grads, *state_grads)
