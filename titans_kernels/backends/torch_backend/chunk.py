"""One chunk of the dual form, forward and hand-derived backward, batched over rows "n".

Shapes (n = batch*heads, b = chunk tokens, D = head dim): k, v, q are (n, b, D); coefficient
vectors are (n, b), C is (n, b, b), scalars a_e, m_e, p_e are (n,).

Each layer applies the per-token scalings (a, m on the read; c, w on the update) on its
narrow side, chosen from the IR's shapes (`input_side`), and packs its state to match, so
that every read, update and their backward is a single contiguous matrix product:

  input side (in <= out), WS = [W | S]  (n, out, 2 in):
      read    Z' = [a*X' | m*X'] @ WS^T - (C * X' X^T) @ G
      update  WS' = [a_e W + m_e S | p_e S] - G^T @ [c*X | w*X]
  output side (in > out), WS = [W ; S]  (n, 2 out, in):
      read    [P | Q] = X' @ WS^T,  Z' = a*P + m*Q - (C * X' X^T) @ G
      update  WS' = [a_e W + m_e S ; p_e S] - [c*G | w*G]^T @ X

Without momentum WS is just W. Notation follows the math page: X[l] is the key-path input of
layer l (X[0] = K), Z[l] its pre-activation, G[l] the loss gradient w.r.t. Z[l]; Xq, Zq the
same on the read (query) path at the per-token weights W_t.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor

from ...ir import ACTIVATIONS, LOSSES, MemoryIR, ReadMode, step_scale
from ...ir.ops import layer_norm, layer_norm_vjp, layer_norm_vjp_backward, loss_curvature, soft_threshold
from .coeffs import Coeffs


def input_side(in_f: int, out_f: int) -> bool:
    """True when a layer scales its inputs (b x in), False when its outputs (b x out)."""
    return in_f <= out_f


def w_part(ws: Tensor, in_f: int, out_f: int) -> Tensor:
    """W_l out of the packed state."""
    return ws[..., :in_f] if input_side(in_f, out_f) else ws[..., :out_f, :]


def s_part(ws: Tensor, in_f: int, out_f: int) -> Tensor:
    """S_l out of the packed state (momentum rules only)."""
    return ws[..., in_f:] if input_side(in_f, out_f) else ws[..., out_f:, :]


def _pair_view(x: Tensor, in_f: int, out_f: int) -> tuple[Tensor, tuple[int, ...]]:
    """View of a packed (n, ., .) tensor with the W/S pair on its own axis, and the broadcast
    shape of an (n, 2) per-pair scale."""
    n = x.shape[0]
    if input_side(in_f, out_f):
        return x.view(n, out_f, 2, in_f), (n, 1, 2, 1)
    return x.view(n, 2, out_f, in_f), (n, 2, 1, 1)


def _t(x: Tensor) -> Tensor:
    return x.transpose(-1, -2)


def _rows(x: Tensor | None, y: Tensor) -> Tensor:
    """Scale the rows of y (n, b, f) by x (n, b) into a new tensor; None means 1."""
    return y.clone() if x is None else x.unsqueeze(-1) * y


def _scaled_cat(x: Tensor, first: Tensor | None, second: Tensor | None) -> Tensor:
    """[first*x | second*x] along features; first None means 1, second None means absent.

    Eager and without autograd, both halves are written into one buffer (no concatenation pass:
    half the memory traffic of two products and a cat); a compiled step fuses the cat itself,
    and autograd needs the out-of-place form."""
    if second is None:
        return x if first is None else first.unsqueeze(-1) * x
    if torch.compiler.is_compiling() or (torch.is_grad_enabled() and
                                         any(t is not None and t.requires_grad for t in (x, first, second))):
        head = x if first is None else first.unsqueeze(-1) * x
        return torch.cat([head, second.unsqueeze(-1) * x], dim=-1)
    f = x.shape[-1]
    scales = [t for t in (first, second) if t is not None]
    shape = torch.broadcast_shapes(x.shape, *(t.unsqueeze(-1).shape for t in scales))
    dtype = functools.reduce(torch.promote_types, (t.dtype for t in scales), x.dtype)
    out = x.new_empty(*shape[:-1], 2 * f, dtype=dtype)
    if first is None:
        out[..., :f] = x
    else:
        torch.mul(x, first.unsqueeze(-1), out=out[..., :f])
    torch.mul(x, second.unsqueeze(-1), out=out[..., f:])
    return out


def _col(x: Tensor) -> Tensor:
    return x.view(-1, 1, 1)


def _pair_mix(x: Tensor, in_f: int, out_f: int, co: Coeffs, into_w: bool) -> Tensor:
    """Packed [a_e W, p_e S] plus m_e times one half added into the other, as a fresh tensor (a
    None means 1). into_w: W += m_e S (the state update); else S += m_e W (its backward)."""
    if co.m_e is None:
        return x.clone() if co.a_e is None else _col(co.a_e) * x
    pair, shape = _pair_view(x, in_f, out_f)
    out = (pair * co.ap_e.view(shape)).view(x.shape)
    dst, src = (w_part, s_part) if into_w else (s_part, w_part)
    dst(out, in_f, out_f).addcmul_(src(x, in_f, out_f), _col(co.m_e))
    return out


def _state_base(ws: Tensor, in_f: int, out_f: int, co: Coeffs) -> Tensor:
    """Packed [a_e W + m_e S, p_e S]."""
    return _pair_mix(ws, in_f, out_f, co, into_w=True)


def _state_base_backward(g_end: Tensor, in_f: int, out_f: int, co: Coeffs) -> Tensor:
    """Backward of `_state_base`: packed [a_e dW', m_e dW' + p_e dS']."""
    return _pair_mix(g_end, in_f, out_f, co, into_w=False)


def _keeps_aux(act, save: bool) -> bool:
    """Whether a forward step keeps the activation's `aux` (silu: its sigmoid) for its backward
    (`save`): in a compiled step, where the compiler fuses the arithmetic around it, so the
    backward takes no sigmoid at all instead of one per derivative. Not in a forward that saves
    nothing (keeping it there measured no faster than recomputing: docs/design.md), nor eager
    (torch's fused silu kernels beat the composed formulas)."""
    return save and act.aux is not None and torch.compiler.is_compiling()


@dataclass
class Layer1Prep:
    """State-independent operands of layer 1 (always input side), built for many chunks in one
    batched pass: xs = [a*Q | m*Q], qk = Q K^T, qkC = C * qk (after_update only), y = [c*K | w*K]."""

    xs: Tensor | None
    qk: Tensor | None
    qkC: Tensor | None
    y: Tensor

    def at(self, i: int) -> "Layer1Prep":
        """Chunk i of a batch of chunks."""
        return self._index(i)

    def part(self, lo: int, hi: int) -> "Layer1Prep":
        """Chunks [lo, hi) of a batch, still batched."""
        return self._index(slice(lo, hi))

    def _index(self, i: int | slice) -> "Layer1Prep":
        pick = lambda t: t[i] if t is not None else None  # noqa: E731
        return Layer1Prep(pick(self.xs), pick(self.qk), pick(self.qkC), self.y[i])


def prepare_layer1(ir: MemoryIR, q: Tensor, k: Tensor, co: Coeffs) -> Layer1Prep:
    """q, k: (..., b, D) with coefficients batched the same way."""
    y = _scaled_cat(k, co.c, co.w)
    if ir.read is not ReadMode.AFTER_UPDATE:
        return Layer1Prep(None, None, None, y)
    qk = q @ _t(k)
    return Layer1Prep(_scaled_cat(q, co.a, co.m), qk, co.C * qk, y)


@dataclass
class ChunkSaved:
    """Intermediates of one chunk's forward that its backward reuses (per-layer lists)."""

    X: list[Tensor]               # key-path inputs, (n, b, in_l)
    Z: list[Tensor]               # key-path pre-activations, (n, b, out_l)
    G: list[Tensor]               # loss gradients w.r.t. Z, (n, b, out_l)
    GW: list[Tensor | None]       # G[l] @ W_l, (n, b, in_l), l >= 1
    R: Tensor                     # memory error f(k) - v
    Xq: list[Tensor]              # read-path inputs
    Zq: list[Tensor | None]       # read-path pre-activations
    XS: list[Tensor | None]       # input side: [a*Xq | m*Xq]
    PQ: list[Tensor | None]       # output side: Xq @ WS^T = [P | Q]
    QK: list[Tensor | None]       # C * (Xq X^T) (after_update)
    QKraw: list[Tensor | None]    # Xq X^T (after_update)
    U: list[Tensor]               # update operand: [c*X | w*X] (input side) or [c*G | w*G]
    Weff: list[Tensor]            # weights the key path used: W_l, or U_l + anchor_l
    scale: Tensor | None = None   # (n, b) normalized step factor (constant in the backward)
    V: Tensor | None = None       # the values (a loss not of the error alone reads them)
    norm: tuple | None = None     # memory.norm: layer: (zhat, inv_sigma, g, h) of the key path, g the
    #                               loss gradient at f and h = J^T g at Z[-1], then (zhat, inv_sigma) of the read
    aux: list[Tensor] | None = None    # the activation's aux (silu: sigmoid) of Z[l] / Zq[l], l < depth - 1,
    aux_q: list[Tensor] | None = None  # when the step kept it (`_keeps_aux`); None: the backward recomputes

    def kept(self, l: int, read: bool = False) -> Tensor | None:
        """The kept aux of Z[l] (read: of Zq[l]), or None."""
        kept = self.aux_q if read else self.aux
        return kept[l] if kept is not None else None


def forward(ir: MemoryIR, WS: list[Tensor], k: Tensor, v: Tensor, q: Tensor, co: Coeffs,
            prep: Layer1Prep, save: bool = False, need_out: bool = True, anchor: list[Tensor] | None = None):
    """Returns (out (n, b, D) or None, WS_end, saved or None). `prep`: this chunk's Layer1Prep.

    need_out=False (re-running a chunk for its backward) skips the last layer's read product.
    anchor (decay_to: init): WS holds U = W - anchor; gradients are taken at U + anchor and
    the read adds X' anchor^T, while forgetting acts on U.
    """
    act = ACTIVATIONS[ir.activation]
    loss = LOSSES[ir.loss]
    L = ir.depth
    shapes = [(o, i) for o, i in ir.layer_shapes(k.shape[-1])]
    Weff = [w_part(WS[l], i, o) if anchor is None else w_part(WS[l], i, o) + anchor[l]
            for l, (o, i) in enumerate(shapes)]
    keep = _keeps_aux(act, save)
    X, Z, AZ = [k], [], []
    for l in range(L):
        Z.append(X[l] @ _t(Weff[l]))
        if l < L - 1:
            x_next, a_l = act.fn_keep(Z[l], keep)
            X.append(x_next)
            AZ.append(a_l)
    F = Z[-1]
    if ir.out_norm:
        zhat, inv_sigma = layer_norm(Z[-1])
        F = zhat
    R = F + k - v if ir.residual else F - v
    G: list[Tensor] = [None] * L  # type: ignore[list-item]
    GW: list[Tensor | None] = [None] * L
    G[L - 1] = loss.grad(R, v, ir.loss_param)
    norm = None
    if ir.out_norm:   # the gradient at Z[-1]: through the normalization's Jacobian
        g_f = G[L - 1]
        G[L - 1] = layer_norm_vjp(zhat, inv_sigma, g_f)
        norm = (zhat, inv_sigma, g_f, G[L - 1])
    scale = step_scale(act, X, Z, Weff, loss_curvature(ir.loss, R, ir.loss_param)) if ir.normalized_step else None
    if scale is not None:   # a normalized step is the gradient step of a loss weighted by `scale`
        G[L - 1] = G[L - 1] * scale.unsqueeze(-1)
    for l in range(L - 1, 0, -1):
        out_f, in_f = shapes[l]
        GW[l] = G[l] @ Weff[l]
        G[l - 1] = act.grad_from(GW[l], Z[l - 1], AZ[l - 1])

    after = ir.read is ReadMode.AFTER_UPDATE
    Xq, Zq, AZq = [q], [], []
    XS, PQ, QK, QKraw = ([None] * L for _ in range(4))
    for l, (out_f, in_f) in enumerate(shapes):
        x = Xq[l]
        skip = l == L - 1 and not need_out and not ir.out_norm   # the norm's backward needs the read
        if not after:
            zq = None if skip else x @ _t(Weff[l])
        else:
            if l == 0:
                QKraw[l], QK[l] = prep.qk, prep.qkC
            else:
                QKraw[l] = x @ _t(X[l])
                QK[l] = co.C * QKraw[l]
            if input_side(in_f, out_f):
                XS[l] = prep.xs if l == 0 else _scaled_cat(x, co.a, co.m)
                zq = None if skip else (XS[l] @ _t(WS[l])).baddbmm_(QK[l], G[l], alpha=-1.0)
                if zq is not None and anchor is not None:
                    zq.baddbmm_(x, _t(anchor[l]))
            else:
                PQ[l] = x @ _t(WS[l])
                zq = None
                if not skip:
                    zq = _rows(co.a, PQ[l][..., :out_f])
                    if co.m is not None:
                        zq.addcmul_(co.m.unsqueeze(-1), PQ[l][..., out_f:])
                    zq.baddbmm_(QK[l], G[l], alpha=-1.0)
                    if anchor is not None:
                        zq.baddbmm_(x, _t(anchor[l]))
        Zq.append(zq)
        if l < L - 1:
            x_next, a_l = act.fn_keep(zq, keep)
            Xq.append(x_next)
            AZq.append(a_l)
    top = Zq[-1]
    if ir.out_norm:
        top, inv_q = layer_norm(Zq[-1])
        norm = (*norm, top, inv_q)
    out = None if top is None else (top + q if ir.residual else top)

    WS_end, U = [], []
    for l, (out_f, in_f) in enumerate(shapes):
        new = _state_base(WS[l], in_f, out_f, co)
        if input_side(in_f, out_f):
            U.append(prep.y if l == 0 else _scaled_cat(X[l], co.c, co.w))
            new.baddbmm_(_t(G[l]), U[l], alpha=-1.0)
        else:
            U.append(_scaled_cat(G[l], co.c, co.w))
            new.baddbmm_(_t(U[l]), X[l], alpha=-1.0)
        WS_end.append(new)
    saved = ChunkSaved(X, Z, G, GW, R, Xq, Zq, XS, PQ, QK, QKraw, U, Weff, scale, v, norm,
                       AZ if keep else None, AZq if keep else None) if save else None
    return out, WS_end, saved


def shrink_state(ir: MemoryIR, WS: list[Tensor], D: int, tokens: int) -> list[Tensor]:
    """Elastic-net retention at a chunk end: the W half of each packed state (not the momentum)
    soft-thresholded by ir.shrink * tokens, the chunk's real tokens. A fresh list; WS unchanged."""
    out = []
    for ws, (o, i) in zip(WS, ir.layer_shapes(D)):
        new = ws.clone()
        w_part(new, i, o).copy_(soft_threshold(w_part(ws, i, o), ir.shrink * tokens))
        out.append(new)
    return out


def forward_run(ir: MemoryIR, WS: list[Tensor], k: Tensor, v: Tensor, q: Tensor, co: Coeffs, prep: Layer1Prep,
                anchor: list[Tensor] | None = None, tokens: tuple[int, ...] | None = None):
    """`forward` over u consecutive chunks, nothing saved: returns ([out of each chunk], WS at the
    end). k, v, q: (u, n, ., D); co, prep: the u chunks' batched coefficients and layer-1 operands;
    tokens: each chunk's real tokens, with update.shrink (the state is thresholded after each)."""
    outs = []
    for i in range(k.shape[0]):
        out, WS, _ = forward(ir, WS, k[i], v[i], q[i], co.at(i), prep.at(i), anchor=anchor)
        if ir.shrink:
            WS = shrink_state(ir, WS, q.shape[-1], tokens[i])
        outs.append(out)
    return outs, WS


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
             d_out: Tensor, dWS_end: list[Tensor], anchor: list[Tensor] | None = None):
    """Backward of `forward`. Returns (dWS, dk, dv, dq, CoeffGrads, dAnchor or None)."""
    act = ACTIVATIONS[ir.activation]
    loss = LOSSES[ir.loss]
    L = ir.depth
    shapes = [(o, i) for o, i in ir.layer_shapes(d_out.shape[-1])]
    has_m = co.m_e is not None
    after = ir.read is ReadMode.AFTER_UPDATE
    n, b = d_out.shape[0], d_out.shape[1]
    opts = dict(dtype=d_out.dtype, device=d_out.device)
    da_e = torch.zeros(n, **opts) if co.a_e is not None else None
    dm_e = torch.zeros(n, **opts) if has_m else None
    dp_e = torch.zeros(n, **opts) if has_m else None
    nk = sv.X[0].shape[1]   # key tokens: b, or window - 1 + b with an Omega window
    dc = torch.zeros(n, nk, **opts)
    dw = torch.zeros(n, nk, **opts) if has_m else None
    ndX: list[Tensor] = [None] * L  # type: ignore[list-item]  # -dX until the read path is done
    ndG: list[Tensor] = [None] * L  # type: ignore[list-item]  # -dG likewise
    dWS: list[Tensor] = [None] * L  # type: ignore[list-item]
    # gradients w.r.t. the weights the key path used (W, or U + anchor): go to U and to the anchor
    dKey = [torch.zeros_like(w) for w in sv.Weff]
    dA = [torch.zeros_like(w) for w in sv.Weff] if anchor is not None else None

    # state update: WS_end = base(WS) - (update product)
    for l, (out_f, in_f) in enumerate(shapes):
        g_end, x, g, ws = dWS_end[l], sv.X[l], sv.G[l], WS[l]
        gw_end = w_part(g_end, in_f, out_f)
        if da_e is not None:
            da_e += _dot(gw_end, w_part(ws, in_f, out_f))
        if has_m:
            dm_e += _dot(gw_end, s_part(ws, in_f, out_f))
            dp_e += _dot(s_part(g_end, in_f, out_f), s_part(ws, in_f, out_f))
        dWS[l] = _state_base_backward(g_end, in_f, out_f, co)
        if input_side(in_f, out_f):         # - G^T @ U with U = [c*X | w*X]
            ndG[l] = sv.U[l] @ _t(g_end)
            ndu = g @ g_end
            dc -= _rowdot(ndu[..., :in_f], x)
            ndX[l] = co.c.unsqueeze(-1) * ndu[..., :in_f]
            if has_m:
                dw -= _rowdot(ndu[..., in_f:], x)
                ndX[l].addcmul_(co.w.unsqueeze(-1), ndu[..., in_f:])
        else:                                # - U^T @ X with U = [c*G | w*G]
            ndu = x @ _t(g_end)
            dc -= _rowdot(ndu[..., :out_f], g)
            ndG[l] = co.c.unsqueeze(-1) * ndu[..., :out_f]
            if has_m:
                dw -= _rowdot(ndu[..., out_f:], g)
                ndG[l].addcmul_(co.w.unsqueeze(-1), ndu[..., out_f:])
            ndX[l] = sv.U[l] @ g_end

    # read path, top layer down
    dC = torch.zeros(n, b, nk, **opts)
    da = torch.zeros(n, b, **opts) if co.a is not None else None
    dm = torch.zeros(n, b, **opts) if has_m else None
    dq = d_out if ir.residual else None
    dz = d_out if sv.norm is None else layer_norm_vjp(sv.norm[4], sv.norm[5], d_out)
    for l in range(L - 1, -1, -1):
        out_f, in_f = shapes[l]
        x = sv.Xq[l]
        if not after:
            dKey[l].baddbmm_(_t(dz), x)
            dxq = dz @ sv.Weff[l]
        else:
            if input_side(in_f, out_f):
                dxs = dz @ WS[l]
                dWS[l].baddbmm_(_t(dz), sv.XS[l])
                if da is not None:
                    da += _rowdot(dxs[..., :in_f], x)
                dxq = _rows(co.a, dxs[..., :in_f])
                if has_m:
                    dm += _rowdot(dxs[..., in_f:], x)
                    dxq.addcmul_(co.m.unsqueeze(-1), dxs[..., in_f:])
            else:
                if da is not None:
                    da += _rowdot(dz, sv.PQ[l][..., :out_f])
                if has_m:
                    dm += _rowdot(dz, sv.PQ[l][..., out_f:])
                dpq = _scaled_cat(dz, co.a, co.m)
                dWS[l].baddbmm_(_t(dpq), x)
                dxq = dpq @ WS[l]
            if anchor is not None:
                dA[l].baddbmm_(_t(dz), x)
                dxq.baddbmm_(dz, anchor[l])
            d_mix = dz @ _t(sv.G[l])                 # minus the grad of C * (Xq X^T)
            ndG[l].baddbmm_(_t(sv.QK[l]), dz)
            dC -= d_mix * sv.QKraw[l]
            d_qk = d_mix * co.C
            dxq.baddbmm_(d_qk, sv.X[l], alpha=-1.0)
            ndX[l].baddbmm_(_t(d_qk), x)
        if l > 0:
            dz = act.grad_from(dxq, sv.Zq[l - 1], sv.kept(l - 1, read=True))
        else:
            dq = dxq if dq is None else dq + dxq
    dG = [t.neg_() for t in ndG]
    dX = [t.neg_() for t in ndX]

    # gradient recursion G[j] = (G[j+1] W_{j+1}) * phi'(Z[j]), walked from layer 0 upwards
    dZ: list[Tensor] = [None] * L  # type: ignore[list-item]
    for j in range(L - 1):
        out_f, in_f = shapes[j + 1]
        dp = act.jvp(dG[j], sv.Z[j], sv.kept(j))
        dZ[j] = act.hvp(dG[j], sv.GW[j + 1], sv.Z[j], sv.kept(j))
        dG[j + 1].baddbmm_(dp, _t(sv.Weff[j + 1]))
        dKey[j + 1].baddbmm_(_t(sv.G[j + 1]), dp)
    dGL = dG[L - 1] if sv.scale is None else dG[L - 1] * sv.scale.unsqueeze(-1)
    if sv.norm is not None:   # G[L-1] = J(Z)^T g: to g, and to Z through J
        dGL, dZ_norm = layer_norm_vjp_backward(*sv.norm[:4], dGL)
    if loss.of_error:   # G = g(f - v): df = dG g', dv = -df
        dR = dGL if ir.loss == "l2" else dGL * loss.grad_d1(sv.R, sv.V, ir.loss_param)
        dv = -dR
    else:
        dR = dGL * loss.grad_d1(sv.R, sv.V, ir.loss_param)
        dv = dGL * loss.grad_dv(sv.R, sv.V, ir.loss_param)
    dk = dR if ir.residual else None
    dZ[L - 1] = dR if sv.norm is None else layer_norm_vjp(sv.norm[0], sv.norm[1], dR) + dZ_norm

    # key forward Z[l] = X[l] W_l^T, X[l] = phi(Z[l-1])
    for l in range(L - 1, -1, -1):
        out_f, in_f = shapes[l]
        dKey[l].baddbmm_(_t(dZ[l]), sv.X[l])
        dX[l].baddbmm_(dZ[l], sv.Weff[l])
        w_part(dWS[l], in_f, out_f).add_(dKey[l])
        if dA is not None:
            dA[l] += dKey[l]
        if l > 0:
            dZ[l - 1] = dZ[l - 1] + act.grad_from(dX[l], sv.Z[l - 1], sv.kept(l - 1))
    dk = dX[0] if dk is None else dk + dX[0]

    at_last = torch.zeros(n, b, **opts).scatter_(1, last.view(n, 1), 1.0)
    dC += at_last.unsqueeze(-1) * dc.unsqueeze(-2)
    if da_e is not None:
        da += at_last * da_e.unsqueeze(-1)
    if has_m:
        dm += at_last * dm_e.unsqueeze(-1)
    return dWS, dk, dv, dq, CoeffGrads(dC=dC, da=da, dm=dm, dw=dw, dp_e=dp_e), dA
