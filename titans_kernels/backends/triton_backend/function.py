"""autograd.Function of the Triton backend.

Forward: the generated fused kernel, the tiled one or the one-pass one (whole chunk loop in one
launch), each of which also writes the state at every checkpoint-group start. Backward: the generated backward kernel, which
walks the groups in reverse from those checkpoints (re-running each group's chunk states, then
each chunk's intermediates) and applies the hand-derived gradient of every step; or the tiled
or one-pass backward (depth 2), which do the same group by group in two launches per group.
"""
from __future__ import annotations

import torch

from ..checkpoints import default_group
from . import launch
from ..launch_config import backward_config


class TritonFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, ir, cfg, chunk_size, group, has_anchor, q, k, v, theta, eta, alpha, *state):
        B, H, T, D = q.shape
        n = B * H
        L = ir.depth
        n_mom = L if ir.gates.has_momentum else 0
        weights, momentum = list(state[:L]), list(state[L:L + n_mom]) or None
        anchor = list(state[L + n_mom:]) if has_anchor else None
        if anchor is not None:  # the kernels carry U = W - anchor
            weights = [w - a for w, a in zip(weights, anchor)]
        flat = launch.flatten_state(ir, weights, momentum, n)
        anchor_flat = torch.cat([a.reshape(n, -1).float() for a in anchor], 1) if anchor is not None else None
        needs_grad = any(ctx.needs_input_grad)
        num_chunks = -(-T // chunk_size)
        group = (group or default_group(num_chunks)) if needs_grad else None
        as_rows = lambda x: x.reshape(n, T, D).contiguous()  # noqa: E731
        gate = lambda g: g.reshape(n, T).contiguous() if g is not None else None  # noqa: E731
        run = {"tiled": launch.run_forward_tiled, "onepass": launch.run_forward_onepass}.get(cfg.kernel,
                                                                                             launch.run_forward)
        out, final, ckpt = run(ir, as_rows(q), as_rows(k), as_rows(v), gate(theta), gate(eta), gate(alpha), flat,
                               chunk_size, cfg, group, anchor_flat)
        if needs_grad:
            ctx.save_for_backward(q, k, v, theta, *(g for g in (eta, alpha) if g is not None), ckpt)
            ctx.meta = (ir, cfg, chunk_size, group, eta is not None, alpha is not None, [s.dtype for s in state])
            ctx.anchor_flat = anchor_flat
        weights, momentum = launch.unflatten_state(ir, final, B, H, D)
        if anchor is not None:
            weights = [w + a.to(w.dtype) for w, a in zip(weights, anchor)]
        return (out.view(B, H, T, D), *weights, *(momentum or []))

    @staticmethod
    def backward(ctx, d_out, *d_state):
        ir, cfg, b, group, has_eta, has_alpha, state_dtypes = ctx.meta
        saved = list(ctx.saved_tensors)
        q, k, v, theta = saved[:4]
        rest = saved[4:-1]
        ckpt = saved[-1]
        eta = rest.pop(0) if has_eta else None
        alpha = rest.pop(0) if has_alpha else None
        B, H, T, D = q.shape
        n = B * H
        L = ir.depth
        if d_out is None:
            d_out = torch.zeros_like(q)
        shapes = ir.layer_shapes(D)
        filled = [d if d is not None else torch.zeros(B, H, *shapes[i % L], device=q.device)
                  for i, d in enumerate(d_state)]
        d_flat = launch.flatten_state(ir, filled[:L], filled[L:] or None, n)
        rows = lambda x: x.reshape(n, T, D).contiguous()  # noqa: E731
        gate = lambda g: g.reshape(n, T).contiguous() if g is not None else None  # noqa: E731
        run = {"tiled": launch.run_backward_tiled, "onepass": launch.run_backward_onepass}.get(cfg.backward,
                                                                                              launch.run_backward)
        dq, dk, dv, dtheta, deta, dalpha, d0, d_anc = run(
            ir, rows(q), rows(k), rows(v), gate(theta), gate(eta), gate(alpha), rows(d_out.to(q.dtype)),
            d_flat, ckpt, b, backward_config(ir, cfg), group, ctx.anchor_flat)
        shape3 = lambda g, like: g.view(B, H, T).to(like.dtype) if g is not None else None  # noqa: E731
        weights, momentum = launch.unflatten_state(ir, d0, B, H, D)
        grads_state = weights + (momentum or [])
        if d_anc is not None:  # U0 = W0 - anchor, W_end = U_end + anchor
            pos = 0
            for l, (o, i) in enumerate(ir.layer_shapes(D)):
                part = d_anc[:, pos: pos + o * i].view(B, H, o, i)
                grads_state.append(part - weights[l] + filled[l].float())
                pos += o * i
        state_grads = [g.to(t) for g, t in zip(grads_state, state_dtypes)]
        return (None, None, None, None, None, dq.view(B, H, T, D), dk.view(B, H, T, D), dv.view(B, H, T, D),
                shape3(dtheta, theta), shape3(deta, eta) if eta is not None else None,
                shape3(dalpha, alpha) if alpha is not None else None, *state_grads)
