"""The dual form differentiated by autograd (no custom backward): for gradient checks."""
from __future__ import annotations

import torch

from ..state import MemoryState
from . import chunk as chunk_ops
from . import coeffs as coeff_ops
from .function import Layout


def forward_autograd(ir, q, k, v, theta, eta, alpha, state: MemoryState, b: int):
    cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
    lay = Layout(q, k, v, theta, eta, alpha, b, cdt)
    W = [w.reshape(lay.n, *w.shape[2:]).to(cdt) for w in state.weights]
    S = [s.reshape(lay.n, *s.shape[2:]).to(cdt) for s in state.momentum] if ir.gates.has_momentum else None
    co = coeff_ops.compute(*lay.gates(0, lay.N))
    outs = []
    for i in range(lay.N):
        ci = coeff_ops.Coeffs(**{f: (getattr(co, f)[:, i] if getattr(co, f) is not None else None)
                                 for f in co.__dataclass_fields__})
        o, W, S, _ = chunk_ops.forward(ir, W, S, lay.k[:, i], lay.v[:, i], lay.q[:, i], ci)
        outs.append(o)
    out = lay.unchunk(torch.stack(outs, 1), q.dtype)
    shape = lambda x: x.view(lay.B, lay.H, *x.shape[1:])  # noqa: E731
    return out, MemoryState([shape(w) for w in W], [shape(s) for s in S] if S is not None else None)
