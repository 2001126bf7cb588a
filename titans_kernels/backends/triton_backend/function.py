"""autograd.Function of the Triton backend.

Forward: the generated fused kernel (whole chunk loop in one launch), which also writes the
state at every checkpoint-group start. Backward: the hand-derived dual-form backward of the
torch backend (re-run each group from the kernel's checkpoints, then reverse chunk by chunk);
no autograd graph of the forward is ever built.
"""
from __future__ import annotations

import torch

from ..torch_dual import function as dual
from . import launch


class TritonFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, ir, cfg, b, group, q, k, v, theta, eta, alpha, *state):
        B, H, T, D = q.shape
        n = B * H
        L = ir.depth
        flat = launch.flatten_state(ir, list(state[:L]), list(state[L:]) or None, n)
        needs_grad = any(ctx.needs_input_grad)
        num_chunks = -(-T // b)
        group = (group or dual.default_group(num_chunks)) if needs_grad else None
        as_rows = lambda x: x.reshape(n, T, D).contiguous()  # noqa: E731
        gate = lambda g: g.reshape(n, T).contiguous() if g is not None else None  # noqa: E731
        out, final, ckpt = launch.run_forward(ir, as_rows(q), as_rows(k), as_rows(v), gate(theta), gate(eta),
                                              gate(alpha), flat, b, cfg, group)
        if needs_grad:
            ctx.save_for_backward(q, k, v, theta, *(g for g in (eta, alpha) if g is not None), ckpt)
            ctx.meta = (ir, b, group, eta is not None, alpha is not None, [s.dtype for s in state])
        weights, momentum = launch.unflatten_state(ir, final, B, H, D)
        return (out.view(B, H, T, D), *weights, *(momentum or []))

    @staticmethod
    def backward(ctx, d_out, *d_state):
        ir, b, group, has_eta, has_alpha, state_dtypes = ctx.meta
        saved = list(ctx.saved_tensors)
        q, k, v, theta = saved[:4]
        rest = saved[4:-1]
        ckpt = saved[-1]
        eta = rest.pop(0) if has_eta else None
        alpha = rest.pop(0) if has_alpha else None
        B, H, T, D = q.shape
        cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
        lay = dual.Layout(q, k, v, theta, eta, alpha, b, cdt)
        checkpoints = []
        for g in range(ckpt.shape[1]):
            w, m = launch.unflatten_state(ir, ckpt[:, g], B, H, D)
            checkpoints.append(dual.pack_state(ir, w, m, lay.n, cdt))
        in_dtypes = [x.dtype if x is not None else None for x in (q, k, v, theta, eta, alpha)]
        grads, state_grads = dual.backward_from_checkpoints(ir, lay, checkpoints, None, group, d_out, d_state,
                                                            in_dtypes, state_dtypes)
        return (None, None, None, None, *grads, *state_grads)
