"""Reference backend: the token-by-token loop with autograd gradients (oracle 2 of the math page).

Every gradient of a chunk is taken at the chunk-start weights; with chunk_size=1 this is the
exact recurrence (oracle 1). Slow, float64-capable, and differentiable (create_graph) so that
gradients of the fast backends can be checked against it.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..ir import ACTIVATIONS, LOSSES, MemoryIR, ReadMode, step_scale
from ..ir.ops import layer_norm, loss_curvature, newton_schulz, soft_threshold
from .base import CompiledRule, register
from .state import MemoryState, next_history


def memory_apply(ir: MemoryIR, W: list[Tensor], x: Tensor) -> Tensor:
    """f(x; W) for per-(batch, head) weights W[l] (B, H, out, in) and x (B, H, D) or (B, H, T, D)."""
    act = ACTIVATIONS[ir.activation]
    h = x
    for l, w in enumerate(W):
        h = h @ w.transpose(-1, -2) if x.dim() == 4 else torch.einsum("bhoi,bhi->bho", w, h)
        if l < len(W) - 1:
            h = act.fn(h)
    if ir.out_norm:
        h = layer_norm(h)[0]
    return h + x if ir.residual else h


def token_step_scale(ir: MemoryIR, W: list[Tensor], x: Tensor, err: Tensor | None = None) -> Tensor:
    """`step_scale` of tokens x (B, H, D) at weights W[l] (B, H, out, in), with the loss's
    curvature at the errors err (B, H, D) where it can exceed 1: (B, H), no gradient."""
    act = ACTIVATIONS[ir.activation]
    X, Z = [x.unsqueeze(-2)], []
    for l, w in enumerate(W):
        Z.append(X[l] @ w.transpose(-1, -2))
        if l < len(W) - 1:
            X.append(act.fn(Z[l]))
    curv = loss_curvature(ir.loss, err.unsqueeze(-2), ir.loss_param) if err is not None else None
    return step_scale(act, X, Z, W, curv).squeeze(-1)


def reference_loop(ir: MemoryIR, q: Tensor, k: Tensor, v: Tensor, theta: Tensor,
                   eta: Tensor | None, alpha: Tensor | None, state: MemoryState, chunk_size: int):
    """Token loop. Gates are per token (B, H, T). Returns out (B, H, T, D) and the final state.
    With loss.window c, token t's step descends the summed loss of tokens t-c+1..t, all at the
    chunk-start weights (Atlas's Omega rule). With update.step: muon the update is per chunk:
    M = eta M + (the chunk's summed gradients), W = (1 - alpha) W - theta NS(M). With
    update.shrink the weights (W - anchor under decay_to: init) are soft-thresholded by
    shrink x (the chunk's tokens) after each chunk's last read."""
    cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
    loss = LOSSES[ir.loss]
    W = [w.to(cdt) for w in state.weights]
    S = [s.to(cdt) for s in state.momentum] if state.momentum else [torch.zeros_like(w) for w in W]
    A = [a.to(cdt) for a in state.anchor] if state.anchor else None
    leaves = [q, k, v, theta, eta, alpha, *state.tensors(), *(state.anchor or [])]
    graph = torch.is_grad_enabled() and any(x is not None and x.requires_grad for x in leaves)
    k_in, v_in = k, v
    q, k, v = (x.to(cdt) for x in (q, k, v))
    theta = theta.to(cdt)
    extra = ir.window - 1    # the Omega window reaches back into the previous call's tokens
    first = -extra if state.history else 0
    if state.history:
        k, v = (torch.cat([h.to(cdt), x], 2) for h, x in zip(state.history, (k, v)))
    outs, U = [], []   # U: the chunk's summed gradients (muon)
    for t in range(q.shape[2]):
        if t % chunk_size == 0:
            W_start = [w if (graph and w.requires_grad) else w.detach().requires_grad_() for w in W]
        with torch.enable_grad():
            total = 0.0
            for i in range(max(first, t - extra), t + 1):   # the Omega window (token t alone by default)
                ki, vi = (x[:, :, i - first] for x in (k, v))
                err = memory_apply(ir, W_start, ki) - vi
                token_loss = loss.value(err, vi, ir.loss_param)
                if ir.normalized_step:
                    token_loss = token_loss * token_step_scale(ir, W_start, ki, err)
                total = total + token_loss.sum()
            u = torch.autograd.grad(total, W_start, create_graph=graph)
        end = t % chunk_size == chunk_size - 1 or t == q.shape[2] - 1
        if ir.muon:   # per chunk: momentum of the summed gradients, orthogonalized, is the step
            U = u if t % chunk_size == 0 else [acc + g for acc, g in zip(U, u)]
            if end:
                t0 = t - t % chunk_size   # the gates are per chunk: its first token's
                S = [s * eta[:, :, t0, None, None].to(cdt) + g if eta is not None else g for s, g in zip(S, U)]
                theta_c = theta[:, :, t0, None, None]
                keep = (1 - alpha[:, :, t0, None, None].to(cdt)) if alpha is not None else 1.0
                A0 = A if A is not None else [0.0] * len(W)
                W = [(w - a) * keep + a - theta_c * newton_schulz(s) for w, a, s in zip(W, A0, S)]
        else:
            theta_t = theta[:, :, t, None, None]
            S = [s * eta[:, :, t, None, None].to(cdt) - theta_t * g if eta is not None else -theta_t * g
                 for s, g in zip(S, u)]
            keep = (1 - alpha[:, :, t, None, None].to(cdt)) if alpha is not None else None
            if A is not None:   # forgetting toward the anchor: W - A decays
                W = [(w - a) * keep + a + s for w, a, s in zip(W, A, S)]
            else:
                W = [(w * keep if keep is not None else w) + s for w, s in zip(W, S)]
        read_w = W if ir.read is ReadMode.AFTER_UPDATE else W_start
        outs.append(memory_apply(ir, read_w, q[:, :, t]))
        if ir.shrink and end:
            amount = ir.shrink * (t % chunk_size + 1)   # elastic-net retention, after the chunk's reads
            W = ([soft_threshold(w - a, amount) + a for w, a in zip(W, A)] if A is not None
                 else [soft_threshold(w, amount) for w in W])
    out = torch.stack(outs, dim=2)
    if not graph:
        W, S = [w.detach() for w in W], [s.detach() for s in S]
    anchor = ([a.detach() for a in A] if not graph else A) if A is not None else None
    history = next_history(ir.window, state, k_in, v_in)
    if history and not graph:
        history = [h.detach() for h in history]
    return out, MemoryState(W, S if ir.gates.has_momentum else None, anchor, history)


@register("reference")
class ReferenceRule(CompiledRule):
    backend = "reference"

    def _run(self, q, k, v, theta, eta, alpha, state, chunk_size):
        out, new_state = reference_loop(self.ir, q, k, v, theta, eta, alpha, state, chunk_size)
        return out.to(q.dtype), new_state
