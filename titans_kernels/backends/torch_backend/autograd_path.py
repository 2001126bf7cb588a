"""The dual form differentiated by autograd (no custom backward): for gradient checks."""
from __future__ import annotations

import torch

from ..state import MemoryState, next_history
from . import chunk as chunk_ops
from .function import Layout, _group_operands, chunk_tokens, pack_state, shrink_state, unpack_state


def forward_autograd(ir, q, k, v, theta, eta, alpha, state: MemoryState, chunk_size: int):
    k_in, v_in = k, v
    cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
    lay = Layout(q, k, v, theta, eta, alpha, chunk_size, cdt)
    anchor = ([a.reshape(lay.n, *a.shape[2:]).to(cdt) for a in state.anchor]
              if ir.decay_to_init and state.anchor else None)
    weights = state.weights if anchor is None else [w - a.view_as(w) for w, a in zip(state.weights, anchor)]
    WS = pack_state(ir, weights, state.momentum, lay.n, cdt)
    if state.history:
        lay.set_history(*state.history)
    out_dtype = q.dtype
    _, co, _, q, k, v, prep = _group_operands(ir, lay, 0, lay.N)
    outs = []
    for i, c_i in enumerate(co.chunks()):
        o, WS, _ = chunk_ops.forward(ir, WS, k[i], v[i], q[i], c_i, prep.at(i), anchor=anchor)
        if ir.shrink:
            WS = shrink_state(ir, WS, lay.D, chunk_tokens(lay, i))
        outs.append(o)
    weights, momentum = unpack_state(ir, WS, lay.B, lay.H, lay.D)
    if anchor is not None:
        weights = [w + a.view_as(w) for w, a in zip(weights, anchor)]
    out = torch.cat(outs, dim=1)  # (n, N*b, D)
    return lay.tokens_out(out, out_dtype), MemoryState(weights, momentum, state.anchor,
                                                       next_history(ir.window, state, k_in, v_in))
