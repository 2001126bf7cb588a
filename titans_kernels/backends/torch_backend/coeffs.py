"""Decay/momentum coefficients of the chunk-parallel form, and their hand-derived backward.

Shapes: gates are (..., b) for the b tokens of a chunk ("..." = any batch of chunks);
`last` is (...,) int64, the index of the chunk's last real token (b-1 except in a ragged
final chunk). With B_{j->t} = prod_{r=j+1..t}(1-alpha_r), P_{i->j} = prod_{r=i+1..j} eta_r:

    a_t = B_{s->t}            m_t = sum_{j<=t} B_{j->t} P_{s->j}       p_e = P_{s->e}
    C = (L_B @ L_P) diag(theta)                    c = C[e, :]         w_i = theta_i P_{i->e}

A gate that the IR declares absent is None: no momentum gives L_P = I and m = w = p = None;
no decay gives L_B = lower-triangular ones and a = None (meaning 1). No log(0) is taken.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor

LOG_FLOOR = -30.0  # log(1-alpha), log(eta) are clamped here: exp(-30) ~ 1e-13 acts as exactly 0


@dataclass
class Coeffs:
    """Coefficients of one batch of chunks (see module docstring). None = absent term."""

    C: Tensor                 # (..., b, b) lower triangular
    c: Tensor                 # (..., b)   row `last` of C
    a: Tensor | None          # (..., b)   decay from chunk start
    m: Tensor | None          # (..., b)   momentum-carry coefficient
    a_e: Tensor | None        # (...,)
    m_e: Tensor | None        # (...,)
    p_e: Tensor | None        # (...,)
    w: Tensor | None          # (..., b)   theta_i P_{i->e}
    Pe: Tensor | None         # (..., b)   P_{i->e}
    ap_e: Tensor | None       # (..., 2)   [a_e (1 without decay), p_e], momentum only
    # kept for the backward
    F: Tensor                 # (..., b, b) C / theta
    L_B: Tensor | None
    L_P: Tensor | None
    pv: Tensor | None         # (..., b)   P_{s->j}

    def at(self, i: int) -> "Coeffs":
        """Chunk i of a batch of chunks (every field indexed along its first dim)."""
        return Coeffs(**{f: _index(getattr(self, f), i) for f in _FIELDS})

    def chunks(self) -> list["Coeffs"]:
        """Every chunk of a batch of chunks, as `at(i)` for each i, with one unbind per field
        (cheaper than indexing field by field when all chunks are walked eagerly)."""
        count = self.C.shape[0]
        split = {f: _unbind(getattr(self, f), count) for f in _FIELDS}
        return [Coeffs(**{f: split[f][i] for f in _FIELDS}) for i in range(count)]

    def part(self, lo: int, hi: int) -> "Coeffs":
        """Chunks [lo, hi) of a batch of chunks, still batched."""
        return Coeffs(**{f: _index(getattr(self, f), slice(lo, hi)) for f in _FIELDS})


_FIELDS = tuple(f.name for f in fields(Coeffs))


def _index(t: Tensor | None, i: int | slice) -> Tensor | None:
    return t[i] if t is not None else None


def _unbind(t: Tensor | None, count: int) -> tuple:
    return t.unbind(0) if t is not None else (None,) * count


def _tril(chunk_size: int, like: Tensor) -> Tensor:
    return torch.ones(chunk_size, chunk_size, dtype=torch.bool, device=like.device).tril()


def _segment_exp(cum: Tensor) -> Tensor:
    """exp(cum_t - cum_j) on and below the diagonal, 0 above: (..., b) -> (..., b, b).

    The exponent is clamped at 0 (the exact value on and below the diagonal, where cum is
    non-increasing; above it the entries are zeroed anyway). Masking with -inf instead would
    be exact too, but exp(-inf) is ~10x slower on CPU, and inf * 0 would poison autograd.
    """
    diff = cum.unsqueeze(-1) - cum.unsqueeze(-2)
    if torch.is_grad_enabled() and cum.requires_grad:
        return diff.clamp_max(0.0).exp().tril()
    return diff.clamp_max_(0.0).exp_().tril_()


def _row(x: Tensor, last: Tensor) -> Tensor:
    """x[..., last, :] per chunk: (..., b, b) -> (..., b)."""
    idx = last.view(*last.shape, 1, 1).expand(*last.shape, 1, x.shape[-1])
    return x.gather(-2, idx).squeeze(-2)


def _pick(x: Tensor, last: Tensor) -> Tensor:
    """x[..., last] per chunk: (..., b) -> (...,)."""
    return x.gather(-1, last.unsqueeze(-1)).squeeze(-1)


def log_gates(eta: Tensor | None, alpha: Tensor | None) -> tuple[Tensor | None, Tensor | None]:
    """log(eta) and log(1-alpha), clamped at LOG_FLOOR."""
    ln = torch.log(eta).clamp_min(LOG_FLOOR) if eta is not None else None
    la = torch.log1p(-alpha).clamp_min(LOG_FLOOR) if alpha is not None else None
    return ln, la


def compute(theta: Tensor, eta: Tensor | None, alpha: Tensor | None, last: Tensor) -> Coeffs:
    """All coefficients of a batch of chunks. theta/eta/alpha: (..., b); last: (...,)."""
    b = theta.shape[-1]
    mask = _tril(b, theta)
    ln, la = log_gates(eta, alpha)
    L_B = _segment_exp(la.cumsum(-1)) if la is not None else None
    L_P = _segment_exp(ln.cumsum(-1)) if ln is not None else None
    ones_tril = mask.to(theta.dtype)
    if L_P is None:
        F = L_B if L_B is not None else ones_tril.expand(*theta.shape[:-1], b, b)   # batched, like the others
    elif L_B is None:
        F = ones_tril @ L_P
    else:
        F = L_B @ L_P
    C = F * theta.unsqueeze(-2)
    a = a_e = m = m_e = p_e = w = pv = Pe = None
    if la is not None:
        a = torch.exp(la.cumsum(-1))
        a_e = _pick(a, last)
    if ln is not None:
        ncum = ln.cumsum(-1)
        pv = torch.exp(ncum)
        # m = L_B @ pv, read off F = L_B @ L_P: pv_j = P_{s->j} = eta_0 P_{0->j} = pv_0 L_P[j, 0], so
        # m = pv_0 F[:, 0] (a matrix-vector product per chunk saved)
        m = pv[..., :1] * F[..., :, 0] if L_B is not None else pv.cumsum(-1)
        m_e = _pick(m, last)
        p_e = _pick(pv, last)
        Pe = torch.exp((_pick(ncum, last).unsqueeze(-1) - ncum).clamp_max(0.0))
        w = theta * Pe
    ap_e = None
    if p_e is not None:
        ap_e = torch.stack([a_e if a_e is not None else torch.ones_like(p_e), p_e], -1)
    return Coeffs(C=C, F=F, c=_row(C, last), a=a, m=m, a_e=a_e, m_e=m_e, p_e=p_e, w=w, Pe=Pe, ap_e=ap_e,
                  L_B=L_B, L_P=L_P, pv=pv)


def _rev_cumsum(x: Tensor) -> Tensor:
    return x.flip(-1).cumsum(-1).flip(-1)


def backward(theta: Tensor, eta: Tensor | None, alpha: Tensor | None, last: Tensor, co: Coeffs,
             dC: Tensor, da: Tensor | None, dm: Tensor | None, dw: Tensor | None,
             dp_e: Tensor | None) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Gradients w.r.t. theta, eta, alpha from gradients of the coefficients.

    dC must already hold the gradient of c (added into row `last`), da that of a_e, dm that of m_e.
    """
    b = theta.shape[-1]
    mask = _tril(b, theta)
    dC = dC.tril()
    dtheta = (dC * co.F).sum(-2)
    dF = dC * theta.unsqueeze(-2)
    dA = dN = None
    if co.L_B is not None:
        dL_B = dF @ co.L_P.transpose(-1, -2) if co.L_P is not None else dF
        if dm is not None:
            dL_B = dL_B + dm.unsqueeze(-1) * co.pv.unsqueeze(-2)
        gB = dL_B * co.L_B
        dA = gB.sum(-1) - gB.sum(-2)
        if da is not None:
            dA = dA + da * co.a
    if co.L_P is not None:
        ones = mask.to(theta.dtype)
        LB = co.L_B if co.L_B is not None else ones
        gP = (LB.transpose(-1, -2) @ dF) * co.L_P
        dN = gP.sum(-1) - gP.sum(-2)
        dpv = (LB.transpose(-1, -2) @ dm.unsqueeze(-1)).squeeze(-1) if dm is not None else 0.0
        dN = dN + dpv * co.pv
        if dw is not None:
            dtheta = dtheta + dw * co.Pe
            gw = dw * co.w
            dN = dN - gw
            at_last = torch.zeros_like(dN).scatter_(-1, last.unsqueeze(-1), 1.0)
            dN = dN + at_last * gw.sum(-1, keepdim=True)
        if dp_e is not None:
            at_last = torch.zeros_like(dN).scatter_(-1, last.unsqueeze(-1), 1.0)
            dN = dN + at_last * (dp_e * co.p_e).unsqueeze(-1)
    ln, la = log_gates(eta, alpha)
    deta = dalpha = None
    if dN is not None:
        dln = _rev_cumsum(dN)
        deta = torch.where(ln > LOG_FLOOR, dln / eta, torch.zeros_like(dln))
    if dA is not None:
        dla = _rev_cumsum(dA)
        dalpha = torch.where(la > LOG_FLOOR, -dla / (1 - alpha), torch.zeros_like(dla))
    return dtheta, deta, dalpha

