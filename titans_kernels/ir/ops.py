"""Elementwise building blocks named by the IR: activations and loss gradients, in torch.

Each entry is whitelisted by name; backends look functions up here (or in their own tables
keyed by the same names), never from spec text.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """phi, phi', phi'' of an activation (elementwise, any shape); `grad(g, z)` = g * phi'(z), fused.

    A gated activation (`gated`, SwiGLU) maps z = [z1 | z3] of width 2h to h outputs, so it is not
    elementwise: `grad` is its vector-Jacobian product (h -> 2h), `jvp` its Jacobian-vector
    product (2h -> h), and `hvp(dG, g, z)` the gradient in z of <dG, grad(g, z)>; d1 and d2 are
    not defined. For an elementwise activation jvp = grad and hvp = dG * g * phi''(z).

    `aux` (silu: its sigmoid) is a tensor from which phi, phi' and phi'' are cheap arithmetic
    (`fn_aux`, `d1_aux`, `d2_aux` of (z, aux)): a caller that keeps it (`fn_keep`) passes it to
    `grad_from`, `jvp` and `hvp` instead of having each take it again; None recomputes.
    """

    name: str
    fn: Callable[[Tensor], Tensor]
    d1: Callable[[Tensor], Tensor] | None
    d2: Callable[[Tensor], Tensor] | None
    grad: Callable[[Tensor, Tensor], Tensor]
    linear: bool = False
    gated: bool = False
    gated_jvp: Callable[[Tensor, Tensor], Tensor] | None = None
    gated_hvp: Callable[[Tensor, Tensor, Tensor], Tensor] | None = None
    aux: Callable[[Tensor], Tensor] | None = None
    fn_aux: Callable[[Tensor, Tensor], Tensor] | None = None
    d1_aux: Callable[[Tensor, Tensor], Tensor] | None = None
    d2_aux: Callable[[Tensor, Tensor], Tensor] | None = None

    def fn_keep(self, z: Tensor, keep: bool) -> tuple[Tensor, Tensor | None]:
        """(phi(z), aux(z) when `keep` and the activation has one, else None)."""
        if not keep or self.aux is None:
            return self.fn(z), None
        a = self.aux(z)
        return self.fn_aux(z, a), a

    def grad_from(self, g: Tensor, z: Tensor, aux: Tensor | None) -> Tensor:
        """`grad`, from a kept aux when given."""
        return self.grad(g, z) if aux is None else g * self.d1_aux(z, aux)

    def jvp(self, t: Tensor, z: Tensor, aux: Tensor | None = None) -> Tensor:
        return self.gated_jvp(t, z) if self.gated else self.grad_from(t, z, aux)

    def hvp(self, dG: Tensor, g: Tensor, z: Tensor, aux: Tensor | None = None) -> Tensor:
        if self.gated:
            return self.gated_hvp(dG, g, z)
        return dG * g * (self.d2(z) if aux is None else self.d2_aux(z, aux))


def _tracked(x: Tensor) -> bool:
    return torch.is_grad_enabled() and x.requires_grad


# Untracked, the derivatives below update one fresh tensor in place: on CPU, chains of
# out-of-place temporaries of this size (chunk x hidden floats) ran several times slower in some
# processes (glibc malloc trimming and re-mapping freed blocks). Tracked by autograd, they keep
# the out-of-place form it can differentiate.
def _silu_d1_aux(x: Tensor, s: Tensor) -> Tensor:
    """silu'(x) from s = sigmoid(x)."""
    return s * (1 + x * (1 - s))


def _silu_d2_aux(x: Tensor, s: Tensor) -> Tensor:
    """silu''(x) from s = sigmoid(x)."""
    return (s - s * s) * (x + 2 - 2 * x * s)


def _silu_d1(x: Tensor) -> Tensor:
    s = torch.sigmoid(x)
    if _tracked(x):
        return _silu_d1_aux(x, s)
    return (1 - s).mul_(x).add_(1).mul_(s)


def _silu_d2(x: Tensor) -> Tensor:
    s = torch.sigmoid(x)
    if _tracked(x):
        return _silu_d2_aux(x, s)
    second = (x + 2).addcmul_(x, s, value=-2.0)
    return s.addcmul_(s, s, value=-1.0).mul_(second)


def _relu_d1(x: Tensor) -> Tensor:
    return (x > 0).to(x.dtype)


def _gelu_d1(x: Tensor) -> Tensor:
    if _tracked(x):
        return 0.5 * (1 + torch.erf(x * _INV_SQRT2)) + x * torch.exp(-0.5 * x * x) * _INV_SQRT2PI
    pdf = torch.exp(x.square().mul_(-0.5)).mul_(x).mul_(_INV_SQRT2PI)
    return torch.erf(x * _INV_SQRT2).add_(1).mul_(0.5).add_(pdf)


def _gelu_d2(x: Tensor) -> Tensor:
    if _tracked(x):
        return torch.exp(-0.5 * x * x) * _INV_SQRT2PI * (2 - x * x)
    sq = x.square()
    return torch.exp(sq * -0.5).mul_(_INV_SQRT2PI).mul_(sq.neg_().add_(2))


_aten = torch.ops.aten


def _fused_grad(fused: Callable[[Tensor, Tensor], Tensor], d1: Callable[[Tensor], Tensor]):
    """g * phi'(z) in one fused kernel; composed from d1 when autograd must see through it."""
    def grad(g: Tensor, z: Tensor) -> Tensor:
        if torch.is_grad_enabled() and (g.requires_grad or z.requires_grad):
            return g * d1(z)
        return fused(g, z)
    return grad


def _halves(z: Tensor) -> tuple[Tensor, Tensor]:
    h = z.shape[-1] // 2
    return z[..., :h], z[..., h:]


def _swiglu(z: Tensor) -> Tensor:
    """silu(z1) * z3 for z = [z1 | z3]: LaCT's gated hidden layer, W1 and W3 stacked in one weight."""
    z1, z3 = _halves(z)
    return torch.nn.functional.silu(z1) * z3


def _swiglu_grad(g: Tensor, z: Tensor) -> Tensor:
    z1, z3 = _halves(z)
    return torch.cat([g * z3 * _silu_d1(z1), g * torch.nn.functional.silu(z1)], -1)


def _swiglu_jvp(t: Tensor, z: Tensor) -> Tensor:
    (z1, z3), (t1, t3) = _halves(z), _halves(t)
    return t1 * z3 * _silu_d1(z1) + t3 * torch.nn.functional.silu(z1)


def _swiglu_hvp(dG: Tensor, g: Tensor, z: Tensor) -> Tensor:
    """d/dz <dG, grad(g, z)>, grad = [g z3 s'(z1), g s(z1)]: [dG1 g z3 s''(z1) + dG3 g s'(z1), dG1 g s'(z1)]."""
    (z1, z3), (d1, d3) = _halves(z), _halves(dG)
    s1 = _silu_d1(z1)
    return torch.cat([g * (d1 * z3 * _silu_d2(z1) + d3 * s1), d1 * g * s1], -1)


ACTIVATIONS: dict[str, Activation] = {
    "silu": Activation("silu", torch.nn.functional.silu, _silu_d1, _silu_d2,
                       _fused_grad(_aten.silu_backward, _silu_d1),
                       aux=torch.sigmoid, fn_aux=torch.mul, d1_aux=_silu_d1_aux, d2_aux=_silu_d2_aux),
    "gelu": Activation("gelu", torch.nn.functional.gelu, _gelu_d1, _gelu_d2,
                       _fused_grad(_aten.gelu_backward, _gelu_d1)),
    "relu": Activation("relu", torch.relu, _relu_d1, torch.zeros_like,
                       _fused_grad(lambda g, z: _aten.threshold_backward(g, z, 0), _relu_d1)),
    "identity": Activation("identity", lambda x: x, torch.ones_like, torch.zeros_like,
                           lambda g, z: g, linear=True),
    "swiglu": Activation("swiglu", _swiglu, None, None, _swiglu_grad, gated=True, gated_jvp=_swiglu_jvp,
                         gated_hvp=_swiglu_hvp),
}


@dataclass(frozen=True)
class Loss:
    """Per-token attentional bias l(f, v) of the memory output f = M(k) and the value v, written
    in the error r = f - v and v, each function taking (r, v, the loss's parameter
    MemoryIR.loss_param): its value; G = dl/df; and the elementwise derivatives of G (every loss
    here is separable) along f (`grad_d1`) and along v with f held fixed (`grad_dv`).

    A loss of the error alone (l2, Huber, lp) has grad_dv = -grad_d1; the dot-product bias
    l = -<f, v> has G = -v, grad_d1 = 0 and grad_dv = -1. `of_error` says which kind it is, so
    that backends can skip the products a zero grad_d1 would feed.
    """

    name: str
    value: Callable[[Tensor, Tensor, float], Tensor]
    grad: Callable[[Tensor, Tensor, float], Tensor]
    grad_d1: Callable[[Tensor, Tensor, float], Tensor]
    grad_dv: Callable[[Tensor, Tensor, float], Tensor]
    of_error: bool = True


def _error_loss(name: str, value, grad, d1) -> Loss:
    """A loss of the error r alone, from its value, gradient and second derivative in (r, param)."""
    return Loss(name, lambda r, v, c: value(r, c), lambda r, v, c: grad(r, c), lambda r, v, c: d1(r, c),
                lambda r, v, c: -d1(r, c))


def _huber(r: Tensor, delta: float) -> Tensor:
    a = r.abs()
    return torch.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)).sum(-1)


LP_FLOOR = 1e-12   # |r| below which the lp loss's second derivative is taken at the floor (p < 2)


def _lp_grad(r: Tensor, p: float) -> Tensor:
    """d/dr (1/p) |r|^p = sign(r) |r|^(p-1)."""
    return r.sign() * r.abs().pow(p - 1.0)


def _lp_grad_d1(r: Tensor, p: float) -> Tensor:
    """d^2/dr^2 (1/p) |r|^p = (p - 1) |r|^(p-2), finite at r = 0 for p < 2 through LP_FLOOR."""
    return (p - 1.0) * r.abs().clamp_min(LP_FLOOR).pow(p - 2.0)


LOSSES: dict[str, Loss] = {
    "l2": _error_loss("l2", lambda r, _: 0.5 * (r * r).sum(-1), lambda r, _: r, lambda r, _: torch.ones_like(r)),
    "huber": _error_loss("huber", _huber, lambda r, d: r.clamp(-d, d), lambda r, d: (r.abs() <= d).to(r.dtype)),
    # Moneta's attentional bias: (1/p) sum |r|^p, p in (1, 4]; p = 2 is l2
    "lp": _error_loss("lp", lambda r, p: r.abs().pow(p).sum(-1) / p, _lp_grad, _lp_grad_d1),
    # the dot-product (Hebbian) bias -<f, v> = -<r + v, v>: linear attention's update on a matrix memory
    "dot": Loss("dot", lambda r, v, _: -((r + v) * v).sum(-1), lambda r, v, _: -v,
                lambda r, v, _: torch.zeros_like(r), lambda r, v, _: torch.full_like(v, -1.0), of_error=False),
}


LN_EPS = 1e-6   # the output normalization's variance floor (memory.norm: layer)


def layer_norm(z: Tensor) -> tuple[Tensor, Tensor]:
    """The memory's output normalization over the last dim, without affine parameters:
    returns (zhat, inv_sigma) with zhat = (z - mean) * inv_sigma, inv_sigma = 1/sqrt(var + eps)
    of shape (..., 1); zhat is the normalized output."""
    mu = z.mean(-1, keepdim=True)
    zc = z - mu
    inv_sigma = (zc.square().mean(-1, keepdim=True) + LN_EPS).rsqrt()
    return zc * inv_sigma, inv_sigma


def layer_norm_vjp(zhat: Tensor, inv_sigma: Tensor, g: Tensor) -> Tensor:
    """J^T g for J the Jacobian of `layer_norm` at z, J = inv_sigma (I - 11^T/n - zhat zhat^T/n)
    (symmetric): inv_sigma (g - mean(g) - zhat mean(g zhat))."""
    return inv_sigma * (g - g.mean(-1, keepdim=True) - zhat * (g * zhat).mean(-1, keepdim=True))


def layer_norm_vjp_backward(zhat: Tensor, inv_sigma: Tensor, g: Tensor, h: Tensor, dh: Tensor):
    """Backward of h = layer_norm_vjp(zhat(z), inv_sigma(z), g) for an upstream dh: returns
    (dg, dz). dg = J dh; with a = mean(g zhat) and n the width,
    dz = -inv_sigma (<dh, zhat> h + <dh, h> zhat) / n - a inv_sigma dg."""
    dg = layer_norm_vjp(zhat, inv_sigma, dh)
    a = (g * zhat).mean(-1, keepdim=True)
    dz = ((dh * zhat).mean(-1, keepdim=True) * h + (dh * h).mean(-1, keepdim=True) * zhat).add_(a * dg)
    return dg, dz.mul_(-inv_sigma)


NS_STEPS = 5                          # Newton-Schulz iterations of the Muon step
NS_COEFFS = (3.4445, -4.7750, 2.0315)  # the quintic X <- a X + (b A + c A^2) X, A = X X^T (Muon's)
NS_EPS = 1e-7


def newton_schulz(M: Tensor, keep: bool = False):
    """Muon's orthogonalization of M (..., out, in): X_0 = M / (||M||_F + eps), then NS_STEPS
    quintic iterations on the wide orientation (X X^T the smaller Gram), which drive every singular
    value toward 1; times sqrt(max(1, out/in)). Returns the result, and with keep=True also the
    iterates the backward needs."""
    tall = M.shape[-2] > M.shape[-1]
    X = M.mT if tall else M
    norm = torch.linalg.vector_norm(X, dim=(-2, -1), keepdim=True)
    X = X / (norm + NS_EPS)
    a, b, c = NS_COEFFS
    iterates = []
    for _ in range(NS_STEPS):
        A = X @ X.mT
        iterates.append((X, A))
        X = a * X + (b * A + c * A @ A) @ X
    scale = max(1.0, M.shape[-2] / M.shape[-1]) ** 0.5
    out = (X.mT if tall else X) * scale
    return (out, (tall, norm, iterates)) if keep else out


def newton_schulz_vjp(M: Tensor, saved, dOut: Tensor) -> Tensor:
    """Backward of `newton_schulz`: dM from dOut, with the iterates saved by keep=True. Per step,
    with B = b A + c A^2: dX = a dX' + B dX' + (dA + dA^T) X for dB = dX' X^T and
    dA = b dB + c (dB A + A dB); then through X_0 = M / (n + eps), n = ||M||_F."""
    tall, norm, iterates = saved
    a, b, c = NS_COEFFS
    dX = (dOut.mT if tall else dOut) * max(1.0, M.shape[-2] / M.shape[-1]) ** 0.5
    for X, A in reversed(iterates):
        dB = dX @ X.mT
        dA = b * dB + c * (dB @ A + A @ dB)
        dX = a * dX + (b * A + c * A @ A) @ dX + (dA + dA.mT) @ X
    Mw = M.mT if tall else M
    s = norm + NS_EPS
    dM = dX / s - Mw * ((dX * Mw).sum((-2, -1), keepdim=True) / (s * s * norm.clamp_min(1e-30)))
    return dM.mT if tall else dM


def soft_threshold(w: Tensor, amount: float) -> Tensor:
    """The elastic-net retention's proximal map, sign(w) max(|w| - amount, 0), elementwise. Its
    derivative is 1 where the result is non-zero and 0 where it is zero (amount > 0)."""
    return torch.nn.functional.softshrink(w, amount)


GRAM_SQUARINGS = 4   # ||W||_op^2 <= ||(W W^T)^16||_F^(1/16) <= n^(1/16) ||W||_op^2


def op_norm_sq_bound(W: Tensor) -> Tensor:
    """An upper bound on ||W||_op^2 for W (..., out, in): the Gram matrix G (the smaller of W W^T
    and W^T W, n x n) squared GRAM_SQUARINGS times, ||G^(2^s)||_F^(1/2^s), within n^(1/2^s) of
    the truth. Each square is normalised by its Frobenius norm first (logs accumulate), so nothing
    overflows. Returns (...)."""
    G = W @ W.mT if W.shape[-2] <= W.shape[-1] else W.mT @ W
    log_bound = torch.zeros(G.shape[:-2], dtype=G.dtype, device=G.device)
    for s in range(GRAM_SQUARINGS + 1):
        norm = torch.linalg.vector_norm(G, dim=(-2, -1)).clamp_min_(1e-30)
        if s < GRAM_SQUARINGS:
            G = G.div_(norm[..., None, None])
            G = G @ G
        log_bound.add_(norm.log_(), alpha=1.0 / 2 ** s)
    return log_bound.exp_()


def _sq_norm(x: Tensor, dim: int) -> Tensor:
    """Squared Euclidean norm over a contiguous last `dim`, without an elementwise temporary
    (over a strided dim, vector_norm is slower than square().sum())."""
    return torch.linalg.vector_norm(x, dim=dim).square_()


def loss_curvature(loss: str, r: Tensor, param: float) -> Tensor | None:
    """A bound on the loss's curvature d2l/dr2 along the error, per token (..., b), where it can
    exceed 1: the lp loss with p > 2, (p - 1) max_j |r_j|^(p-2). None for the others (l2 and
    Huber are at most 1; the dot bias has none; lp with p <= 2 is flattest where errors are large)."""
    if loss != "lp" or param <= 2.0:
        return None
    with torch.no_grad():
        return (param - 1.0) * r.abs().amax(-1).pow(param - 2.0)


def step_scale(act: Activation, X: list[Tensor], Z: list[Tensor], W: list[Tensor],
               loss_curv: Tensor | None = None) -> Tensor:
    """The normalized step's per-token factor 1 / max(1, kappa), with no gradient.

    kappa bounds the curvature ||J||^2 of the memory output f(k; W) in all of its weights, for
    one token: a depth-L memory with layer inputs x_0 = k, x_l = phi(z_l) has
    kappa = sum_l ||x_l||^2 prod_{m > l} r_m, where r_m bounds ||W_m diag(phi'(z_{m-1}))||_op^2 by
    the smaller of its Frobenius norm, sum_j phi'(z_{m-1, j})^2 ||W_m[:, j]||^2, and
    `op_norm_sq_bound(W_m)` * max_j phi'(z_{m-1, j})^2; evaluated by Horner's rule.
    X[l]: (..., b, in_l) inputs of layer l; Z[l]: (..., b, out_l) pre-activations (the last may
    be absent); W[l]: (..., out_l, in_l). loss_curv (..., b) (`loss_curvature`), when given,
    multiplies kappa: the step's curvature is the loss's times the output's. Returns (..., b).
    """
    with torch.no_grad():
        kappa = _sq_norm(X[0], -1)
        for m in range(1, len(W)):
            col_sq = W[m].square().sum(-2).unsqueeze(-2)               # (..., 1, in_m)
            z = Z[m - 1]
            slope = act.grad(z.new_ones(()).expand_as(z), z)            # phi'(z); the fused form is faster
            slope_sq = slope.square() if act.linear else slope.square_()
            frobenius = (slope_sq * col_sq).sum(-1)
            spectral = op_norm_sq_bound(W[m]).unsqueeze(-1) * slope_sq.amax(-1)
            kappa = kappa.mul_(torch.minimum(frobenius, spectral)).add_(_sq_norm(X[m], -1))
        if loss_curv is not None:
            kappa = kappa.mul_(loss_curv)
        return kappa.clamp_min_(1.0).reciprocal_()
