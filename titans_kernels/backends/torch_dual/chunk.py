"""One chunk of the dual form, forward and hand-derived backward, batched over rows "n".

Shapes (n = batch*heads, b = chunk tokens, D = head dim): k, v, q are (n, b, D); coefficient
vectors are (n, b), C is (n, b, b), scalars a_e, m_e, p_e are (n,). The state of layer l is one
tensor WS[l] = [W_l | S_l] of shape (n, out_l, nm * in_l), nm = 2 with momentum, 1 without, so
that the read and the state update of a layer are each a single matrix product:

    read:    Z'_l = [a*X' | m*X'] @ WS_l^T - (C * X' X_l^T) @ G_l
    update:  WS'_l = [a_e W + m_e S | p_e S] - G_l^T @ [c*X_l | w*X_l]

Notation follows the math page: X[l] is the key-path input of layer l (X[0] = K), Z[l] its
pre-activation, G[l] the loss gradient w.r.t. Z[l]; Xq, Zq the same on the read (query) path.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ...ir import ACTIVATIONS, LOSSES, MemoryIR, ReadMode
from .coeffs import Coeffs


@dataclass
class ChunkSaved:
    """Intermediates of one chunk's forward that its backward reuses (per layer lists)."""

    X: list[Tensor]               # key-path inputs, (n, b, in_l)
    Z: list[Tensor]               # key-path pre-activations, (n, b, out_l)
    G: list[Tensor]               # loss gradients w.r.t. Z, (n, b, out_l)
    GW: list[Tensor | None]       # G[l] @ W_l, (n, b, in_l), l >= 1
    R: Tensor                     # memory error f(k) - v
    Xq: list[Tensor]              # read-path inputs
    Zq: list[Tensor | None]       # read-path pre-activations
    XS: list[Tensor | None]       # input-side read: [a*Xq | m*Xq]
    P: list[Tensor | None]        # output-side read: Xq W^T
    Qm: list[Tensor | None]       # output-side read: Xq S^T
    QK: list[Tensor | None]       # C * (Xq X^T) (after_update)
    QKraw: list[Tensor | None]    # Xq X^T (after_update)
    Y: list[Tensor | None]        # input-side update: [c*X | w*X]


def input_side(in_f: int, out_f: int) -> bool:
    """Where a layer applies per-token scalings: to its inputs (b x in) when in <= out, else to its
    outputs (b x out). Chosen per layer from the IR's shapes, so the wide side is never scaled."""
    return in_f <= out_f


def _t(x: Tensor) -> Tensor:
    return x.transpose(-1, -2)


def _scaled_cat(x: Tensor, first: Tensor | None, second: Tensor | None) -> Tensor:
    """[first*x | second*x] along features; first None means 1, second None means absent."""
    head = x if first is None else first.unsqueeze(-1) * x
    if second is None:
        return head
    return torch.cat([head, second.unsqueeze(-1) * x], dim=-1)


def _col(x: Tensor) -> Tensor:
    return x.view(-1, 1, 1)


def weight_view(ws: Tensor, in_f: int) -> Tensor:
    """W_l out of WS_l = [W_l | S_l]."""
    return ws[..., :in_f]


def _state_base(ws: Tensor, in_f: int, co: Coeffs) -> Tensor:
    """[a_e W + m_e S | p_e S] (a None means 1), always a fresh tensor."""
    if co.m_e is None:
        return ws.clone() if co.a_e is None else _col(co.a_e) * ws
    n, out_f, _ = ws.shape
    base = (ws.view(n, out_f, 2, in_f) * co.ap_e.view(n, 1, 2, 1)).view(n, out_f, 2 * in_f)
    base[..., :in_f].addcmul_(ws[..., in_f:], _col(co.m_e))
    return base


@dataclass
class Layer1Prep:
    """State-independent operands of layer 1, built for many chunks in one batched pass.

    xs = [a*Q | m*Q], qk = Q K^T, qkC = C * qk (after_update only), y = [c*K | w*K].
    """

    xs: Tensor | None
    qk: Tensor | None
    qkC: Tensor | None
    y: Tensor

    def at(self, i: int) -> "Layer1Prep":
        pick = lambda t: t[i] if t is not None else None  # noqa: E731
        return Layer1Prep(pick(self.xs), pick(self.qk), pick(self.qkC), self.y[i])


def prepare_layer1(ir: MemoryIR, q: Tensor, k: Tensor, co: Coeffs) -> Layer1Prep:
    """q, k: (..., b, D) with coefficients batched the same way."""
    y = _scaled_cat(k, co.c, co.w)
    if ir.read is not ReadMode.AFTER_UPDATE:
        return Layer1Prep(None, None, None, y)
    qk = q @ _t(k)
    return Layer1Prep(_scaled_cat(q, co.a, co.m), qk, co.C * qk, y)


def forward(ir: MemoryIR, WS: list[Tensor], k: Tensor, v: Tensor, q: Tensor, co: Coeffs,
            prep: Layer1Prep, save: bool = False, need_out: bool = True):
    """Returns (out (n, b, D) or None, WS_end, saved or None). `prep`: this chunk's Layer1Prep.

    need_out=False (re-running a chunk for its backward) skips the last layer's read product.
    """
    act = ACTIVATIONS[ir.activation]
    loss = LOSSES[ir.loss]
    L = ir.depth
    X, Z = [k], []
    for l in range(L):
        Z.append(X[l] @ _t(weight_view(WS[l], X[l].shape[-1])))
        if l < L - 1:
            X.append(act.fn(Z[l]))
    R = Z[-1] + k - v if ir.residual else Z[-1] - v
    G: list[Tensor] = [None] * L  # type: ignore[list-item]
    GW: list[Tensor | None] = [None] * L
    G[L - 1] = loss.grad(R, ir.huber_delta)
    for l in range(L - 1, 0, -1):
        GW[l] = G[l] @ weight_view(WS[l], X[l].shape[-1])
        G[l - 1] = act.grad(GW[l], Z[l - 1])

    after = ir.read is ReadMode.AFTER_UPDATE
    Xq, Zq = [q], []
    XS, P, Qm, QK, QKraw = ([None] * L for _ in range(5))
    for l in range(L):
        x = Xq[l]
        in_f, out_f = x.shape[-1], G[l].shape[-1]
        skip = l == L - 1 and not need_out
        if not after:
            zq = None if skip else x @ _t(weight_view(WS[l], in_f))
        else:
            if l == 0:
                QKraw[l], QK[l] = prep.qk, prep.qkC
            else:
                QKraw[l] = x @ _t(X[l])
                QK[l] = co.C * QKraw[l]
            if input_side(in_f, out_f):
                XS[l] = prep.xs if l == 0 else _scaled_cat(x, co.a, co.m)
                zq = None if skip else (XS[l] @ _t(WS[l])).baddbmm_(QK[l], G[l], alpha=-1.0)
            else:
                P[l] = x @ _t(weight_view(WS[l], in_f))
                if co.m is not None:
                    Qm[l] = x @ _t(WS[l][..., in_f:])
                if skip:
                    zq = None
                else:
                    zq = P[l].clone() if co.a is None else co.a.unsqueeze(-1) * P[l]
                    if co.m is not None:
                        zq.addcmul_(co.m.unsqueeze(-1), Qm[l])
                    zq.baddbmm_(QK[l], G[l], alpha=-1.0)
        Zq.append(zq)
        if l < L - 1:
            Xq.append(act.fn(zq))
    out = None if Zq[-1] is None else (Zq[-1] + q if ir.residual else Zq[-1])

    WS_end, Ys = [], [None] * L
    for l in range(L):
        in_f, out_f = X[l].shape[-1], G[l].shape[-1]
        new = _state_base(WS[l], in_f, co)
        if input_side(in_f, out_f):
            Ys[l] = prep.y if l == 0 else _scaled_cat(X[l], co.c, co.w)
            new.baddbmm_(_t(G[l]), Ys[l], alpha=-1.0)
        else:
            new[..., :in_f].baddbmm_(_t(co.c.unsqueeze(-1) * G[l]), X[l], alpha=-1.0)
            if co.w is not None:
                new[..., in_f:].baddbmm_(_t(co.w.unsqueeze(-1) * G[l]), X[l], alpha=-1.0)
        WS_end.append(new)
    saved = ChunkSaved(X, Z, G, GW, R, Xq, Zq, XS, P, Qm, QK, QKraw, Ys) if save else None
    return out, WS_end, saved


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


def _rowdot(x: Tensor, y: Tensor) -> Tensor:
    """(n, b, f) x (n, b, f) -> (n, b)."""
    return (x * y).sum(-1)


def backward(ir: MemoryIR, WS: list[Tensor], co: Coeffs, sv: ChunkSaved, last: Tensor,
             d_out: Tensor, dWS_end: list[Tensor]):
    """Backward of `forward`. Returns (dWS, dk, dv, dq, CoeffGrads)."""
    act = ACTIVATIONS[ir.activation]
    loss = LOSSES[ir.loss]
    L = ir.depth
    has_m = co.m_e is not None
    after = ir.read is ReadMode.AFTER_UPDATE
    n, b = d_out.shape[0], d_out.shape[1]
    opts = dict(dtype=d_out.dtype, device=d_out.device)
    da_e = torch.zeros(n, **opts) if co.a_e is not None else None
    dm_e = torch.zeros(n, **opts) if has_m else None
    dp_e = torch.zeros(n, **opts) if has_m else None
    dc = torch.zeros(n, b, **opts)
    dw = torch.zeros(n, b, **opts) if has_m else None
    dX: list[Tensor] = [None] * L  # type: ignore[list-item]
    dG: list[Tensor] = [None] * L  # type: ignore[list-item]
    dWS: list[Tensor] = [None] * L  # type: ignore[list-item]

    # state update: WS_end = base(WS) - G^T @ [c*X | w*X]. ndG, ndX hold -dG, -dX until the read path.
    for l in range(L):
        g_end, x, g, ws = dWS_end[l], sv.X[l], sv.G[l], WS[l]
        in_f, out_f = x.shape[-1], g.shape[-1]
        gw_end = g_end[..., :in_f]
        gs_end = g_end[..., in_f:] if has_m else None
        if has_m:
            if da_e is not None:
                da_e += _dot(gw_end, ws[..., :in_f])
            dm_e += _dot(gw_end, ws[..., in_f:])
            dp_e += _dot(gs_end, ws[..., in_f:])
            dWS[l] = _state_base_backward(g_end, in_f, co)
        else:
            if da_e is not None:
                da_e += _dot(g_end, ws)
            dWS[l] = g_end.clone() if co.a_e is None else _col(co.a_e) * g_end
        if input_side(in_f, out_f):
            dG[l] = sv.Y[l] @ _t(g_end)
            ndy = g @ g_end
            dc -= _rowdot(ndy[..., :in_f], x)
            dX[l] = co.c.unsqueeze(-1) * ndy[..., :in_f]
            if has_m:
                dw -= _rowdot(ndy[..., in_f:], x)
                dX[l].addcmul_(co.w.unsqueeze(-1), ndy[..., in_f:])
        else:
            t1 = x @ _t(gw_end)
            dc -= _rowdot(t1, g)
            dG[l] = co.c.unsqueeze(-1) * t1
            dX[l] = (co.c.unsqueeze(-1) * g) @ gw_end
            if has_m:
                t2 = x @ _t(gs_end)
                dw -= _rowdot(t2, g)
                dG[l].addcmul_(co.w.unsqueeze(-1), t2)
                dX[l].baddbmm_(co.w.unsqueeze(-1) * g, gs_end)

    # read path, top layer down
    dC = torch.zeros(n, b, b, **opts)
    da = torch.zeros(n, b, **opts) if co.a is not None else None
    dm = torch.zeros(n, b, **opts) if has_m else None
    dq = d_out if ir.residual else None
    dz = d_out
    for l in range(L - 1, -1, -1):
        x = sv.Xq[l]
        in_f = x.shape[-1]
        if after:
            if input_side(in_f, dz.shape[-1]):
                dxs = dz @ WS[l]
                dWS[l].baddbmm_(_t(dz), sv.XS[l])
                if da is not None:
                    da += _rowdot(dxs[..., :in_f], x)
                dxq = dxs[..., :in_f].clone() if co.a is None else co.a.unsqueeze(-1) * dxs[..., :in_f]
                if has_m:
                    dm += _rowdot(dxs[..., in_f:], x)
                    dxq.addcmul_(co.m.unsqueeze(-1), dxs[..., in_f:])
            else:
                ad = dz
                if da is not None:
                    da += _rowdot(dz, sv.P[l])
                    ad = co.a.unsqueeze(-1) * dz
                dWS[l][..., :in_f].baddbmm_(_t(ad), x)
                dxq = ad @ weight_view(WS[l], in_f)
                if has_m:
                    dm += _rowdot(dz, sv.Qm[l])
                    md = co.m.unsqueeze(-1) * dz
                    dWS[l][..., in_f:].baddbmm_(_t(md), x)
                    dxq.baddbmm_(md, WS[l][..., in_f:])
            d_mix = dz @ _t(sv.G[l])                        # minus the grad of C * (Xq X^T)
            dG[l].baddbmm_(_t(sv.QK[l]), dz)
            dC -= d_mix * sv.QKraw[l]
            d_qk = d_mix * co.C
            dxq.baddbmm_(d_qk, sv.X[l], alpha=-1.0)
            dX[l].baddbmm_(_t(d_qk), x)
        else:
            dWS[l][..., :in_f].baddbmm_(_t(dz), x)
            dxq = dz @ weight_view(WS[l], in_f)
        dG[l].neg_()
        dX[l].neg_()
        if l > 0:
            dz = act.grad(dxq, sv.Zq[l - 1])
        else:
            dq = dxq if dq is None else dq + dxq

    # gradient recursion G[j] = (G[j+1] W_{j+1}) * phi'(Z[j]), walked from layer 0 upwards
    dZ: list[Tensor] = [None] * L  # type: ignore[list-item]
    for j in range(L - 1):
        in_f = sv.X[j + 1].shape[-1]
        dp = act.grad(dG[j], sv.Z[j])
        dZ[j] = dG[j] * sv.GW[j + 1] * act.d2(sv.Z[j])
        dG[j + 1].baddbmm_(dp, _t(weight_view(WS[j + 1], in_f)))
        dWS[j + 1][..., :in_f].baddbmm_(_t(sv.G[j + 1]), dp)
    dR = dG[L - 1] if ir.loss == "l2" else dG[L - 1] * loss.grad_d1(sv.R, ir.huber_delta)
    dv = -dR
    dk = dR if ir.residual else None
    dZ[L - 1] = dR

    # key forward Z[l] = X[l] W_l^T, X[l] = phi(Z[l-1])
    for l in range(L - 1, -1, -1):
        in_f = sv.X[l].shape[-1]
        dWS[l][..., :in_f].baddbmm_(_t(dZ[l]), sv.X[l])
        dX[l].baddbmm_(dZ[l], weight_view(WS[l], in_f))
        if l > 0:
            dZ[l - 1] = dZ[l - 1] + act.grad(dX[l], sv.Z[l - 1])
    dk = dX[0] if dk is None else dk + dX[0]

    at_last = torch.zeros(n, b, **opts).scatter_(1, last.view(n, 1), 1.0)
    dC += at_last.unsqueeze(-1) * dc.unsqueeze(-2)
    if da_e is not None:
        da += at_last * da_e.unsqueeze(-1)
    if has_m:
        dm += at_last * dm_e.unsqueeze(-1)
    return dWS, dk, dv, dq, CoeffGrads(dC=dC, da=da, dm=dm, dw=dw, dp_e=dp_e)


def _state_base_backward(g_end: Tensor, in_f: int, co: Coeffs) -> Tensor:
    """Backward of `_state_base` with momentum: [a_e dW' | m_e dW' + p_e dS']."""
    n, out_f, _ = g_end.shape
    d = (g_end.view(n, out_f, 2, in_f) * co.ap_e.view(n, 1, 2, 1)).view(n, out_f, 2 * in_f)
    d[..., in_f:].addcmul_(g_end[..., :in_f], _col(co.m_e))
    return d
