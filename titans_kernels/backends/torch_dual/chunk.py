"""One chunk of the dual form, forward and hand-derived backward, batched over rows "n".

Shapes (n = batch*heads, b = chunk tokens, D = head dim): k, v, q are (n, b, D); weights W[l]
and momenta S[l] are (n, out_l, in_l); coefficient vectors are (n, b), C is (n, b, b), scalars
a_e, m_e, p_e are (n,). Notation follows the math page: X[l] is the key-path input of layer l
(X[0] = K), Z[l] its pre-activation, G[l] the loss gradient w.r.t. Z[l]; Xq, Zq the same on the
read (query) path at the per-token weights W_t.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ...ir import ACTIVATIONS, LOSSES, MemoryIR, ReadMode
from .coeffs import Coeffs


@dataclass
class ChunkSaved:
    """Intermediates of one chunk's forward that its backward reuses."""

    X: list[Tensor]
    Z: list[Tensor]
    G: list[Tensor]
    R: Tensor                     # memory error f(k) - v
    Xq: list[Tensor]
    Zq: list[Tensor]
    QW: list[Tensor | None]       # Xq[l] W[l]^T (after_update only)
    QS: list[Tensor | None]       # Xq[l] S[l]^T (after_update with momentum)
    QK: list[Tensor | None]       # Xq[l] X[l]^T (after_update only)


def _rows(x: Tensor | None, y: Tensor) -> Tensor:
    """Scale the rows of y (n, b, f) by x (n, b); None means 1."""
    return y if x is None else x.unsqueeze(-1) * y


def _scal(x: Tensor | None, y: Tensor) -> Tensor:
    """Scale y (n, ...) by a per-row scalar x (n,); None means 1."""
    return y if x is None else x.view(-1, *([1] * (y.dim() - 1))) * y


def _t(x: Tensor) -> Tensor:
    return x.transpose(-1, -2)


def forward(ir: MemoryIR, W: list[Tensor], S: list[Tensor] | None, k: Tensor, v: Tensor, q: Tensor,
            co: Coeffs, save: bool = False):
    """Returns (out (n, b, D), W_end, S_end, saved or None)."""
    act = ACTIVATIONS[ir.activation]
    loss = LOSSES[ir.loss]
    L = ir.depth
    X, Z = [k], []
    for l in range(L):
        Z.append(X[l] @ _t(W[l]))
        if l < L - 1:
            X.append(act.fn(Z[l]))
    R = Z[-1] + k - v if ir.residual else Z[-1] - v
    G = [None] * L
    G[L - 1] = loss.grad(R, ir.huber_delta)
    for l in range(L - 1, 0, -1):
        G[l - 1] = (G[l] @ W[l]) * act.d1(Z[l - 1])

    after = ir.read is ReadMode.AFTER_UPDATE
    Xq, Zq, QW, QS, QK = [q], [], [], [], []
    for l in range(L):
        x = Xq[l]
        if after:
            qw = x @ _t(W[l])
            qs = x @ _t(S[l]) if S is not None else None
            qk = x @ _t(X[l])
            zq = _rows(co.a, qw)
            if qs is not None:
                zq = zq + _rows(co.m, qs)
            zq = torch.baddbmm(zq, co.C * qk, G[l], alpha=-1.0)
        else:
            qw = qs = qk = None
            zq = x @ _t(W[l])
        QW.append(qw), QS.append(qs), QK.append(qk), Zq.append(zq)
        if l < L - 1:
            Xq.append(act.fn(zq))
    out = Zq[-1] + q if ir.residual else Zq[-1]

    W_end, S_end = [], ([] if S is not None else None)
    for l in range(L):
        new_w = _scal(co.a_e, W[l])
        if S is not None:
            new_w = new_w + _scal(co.m_e, S[l])
        W_end.append(torch.baddbmm(new_w, _t(_rows(co.c, G[l])), X[l], alpha=-1.0))
        if S is not None:
            S_end.append(torch.baddbmm(_scal(co.p_e, S[l]), _t(_rows(co.w, G[l])), X[l], alpha=-1.0))
    saved = ChunkSaved(X, Z, G, R, Xq, Zq, QW, QS, QK) if save else None
    return out, W_end, S_end, saved


@dataclass
class CoeffGrads:
    """Gradients w.r.t. the coefficients of one chunk (fed to coeffs.backward)."""

    dC: Tensor
    da: Tensor | None
    dm: Tensor | None
    dw: Tensor | None
    dp_e: Tensor | None


def _dot(x: Tensor, y: Tensor) -> Tensor:
    """Per-row inner product over all but the first dim: (n, ...) -> (n,)."""
    return (x * y).flatten(1).sum(-1)


def backward(ir: MemoryIR, W: list[Tensor], S: list[Tensor] | None, co: Coeffs, sv: ChunkSaved,
             last: Tensor, d_out: Tensor, dW_end: list[Tensor], dS_end: list[Tensor] | None):
    """Backward of `forward`. Returns (dW, dS, dk, dv, dq, CoeffGrads)."""
    act = ACTIVATIONS[ir.activation]
    loss = LOSSES[ir.loss]
    L = ir.depth
    has_m = S is not None
    after = ir.read is ReadMode.AFTER_UPDATE
    n, b = d_out.shape[0], d_out.shape[1]
    at_last = torch.zeros(n, b, dtype=d_out.dtype, device=d_out.device).scatter_(1, last.view(n, 1), 1.0)

    dW = [_scal(co.a_e, g) for g in dW_end]
    dS = [_scal(co.m_e, g) + _scal(co.p_e, h) for g, h in zip(dW_end, dS_end)] if has_m else None
    dX = [None] * L
    dG = [None] * L
    dC = torch.zeros(n, b, b, dtype=d_out.dtype, device=d_out.device)
    da = torch.zeros(n, b, dtype=d_out.dtype, device=d_out.device) if co.a is not None else None
    dm = torch.zeros(n, b, dtype=d_out.dtype, device=d_out.device) if has_m else None
    dw = torch.zeros(n, b, dtype=d_out.dtype, device=d_out.device) if has_m else None
    dp_e = torch.zeros(n, dtype=d_out.dtype, device=d_out.device) if has_m else None

    # state update: W_end = a_e W + m_e S - (c*G)^T X ;  S_end = p_e S - (w*G)^T X
    dc = torch.zeros(n, b, dtype=d_out.dtype, device=d_out.device)
    for l in range(L):
        gw, x, g = dW_end[l], sv.X[l], sv.G[l]
        if da is not None:
            da = da + at_last * _dot(gw, W[l]).unsqueeze(-1)
        t1 = x @ _t(gw)
        dc = dc - (g * t1).sum(-1)
        dG[l] = -_rows(co.c, t1)
        dX[l] = -(_rows(co.c, g) @ gw)
        if has_m:
            gs = dS_end[l]
            dm = dm + at_last * _dot(gw, S[l]).unsqueeze(-1)
            dp_e = dp_e + _dot(gs, S[l])
            t2 = x @ _t(gs)
            dw = dw - (g * t2).sum(-1)
            dG[l] = dG[l] - _rows(co.w, t2)
            dX[l] = dX[l] - _rows(co.w, g) @ gs

    # read path, top layer down
    dq = d_out.clone() if ir.residual else None
    dz = d_out
    for l in range(L - 1, -1, -1):
        x = sv.Xq[l]
        if after:
            ad = _rows(co.a, dz)
            if da is not None:
                da = da + (dz * sv.QW[l]).sum(-1)
            dW[l] = torch.baddbmm(dW[l], _t(ad), x)
            dxq = ad @ W[l]
            if has_m:
                md = _rows(co.m, dz)
                dm = dm + (dz * sv.QS[l]).sum(-1)
                dS[l] = torch.baddbmm(dS[l], _t(md), x)
                dxq = torch.baddbmm(dxq, md, S[l])
            d_mix = -(dz @ _t(sv.G[l]))                    # grad of (C * QK), (n, b, b)
            dG[l] = torch.baddbmm(dG[l], _t(co.C * sv.QK[l]), dz, alpha=-1.0)
            dC = dC + d_mix * sv.QK[l]
            d_qk = d_mix * co.C
            dxq = torch.baddbmm(dxq, d_qk, sv.X[l])
            dX[l] = torch.baddbmm(dX[l], _t(d_qk), x)
        else:
            dW[l] = torch.baddbmm(dW[l], _t(dz), x)
            dxq = dz @ W[l]
        if l > 0:
            dz = dxq * act.d1(sv.Zq[l - 1])
        else:
            dq = dxq if dq is None else dq + dxq

    # gradient recursion G[l-1] = (G[l] W[l]) * phi'(Z[l-1]), walked from layer 0 upwards
    dZ = [None] * L
    for j in range(L - 1):
        dp = dG[j] * act.d1(sv.Z[j])
        dZ[j] = dG[j] * (sv.G[j + 1] @ W[j + 1]) * act.d2(sv.Z[j])
        dG[j + 1] = torch.baddbmm(dG[j + 1], dp, _t(W[j + 1]))
        dW[j + 1] = torch.baddbmm(dW[j + 1], _t(sv.G[j + 1]), dp)
    dR = dG[L - 1] * loss.grad_d1(sv.R, ir.huber_delta)
    dv = -dR
    dk = dR.clone() if ir.residual else None
    dZ[L - 1] = dR

    # key forward Z[l] = X[l] W[l]^T, X[l] = phi(Z[l-1])
    for l in range(L - 1, -1, -1):
        dW[l] = torch.baddbmm(dW[l], _t(dZ[l]), sv.X[l])
        dX[l] = torch.baddbmm(dX[l], dZ[l], W[l])
        if l > 0:
            dZ[l - 1] = dZ[l - 1] + dX[l] * act.d1(sv.Z[l - 1])
    dk = dX[0] if dk is None else dk + dX[0]

    dC = dC + at_last.unsqueeze(-1) * dc.unsqueeze(-2)
    return dW, dS, dk, dv, dq, CoeffGrads(dC=dC, da=da, dm=dm, dw=dw, dp_e=dp_e)
