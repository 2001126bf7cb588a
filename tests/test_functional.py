"""titans_models.functional: each hand-written backward against autograd through the plain torch
expression it replaces (values and every input's gradient, fresh random inputs)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from titans_models import functional as fn


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().norm() / b.detach().norm())


def _check(fast, plain, inputs, tol=1e-5):
    """fast(*inputs) and plain(*inputs): equal outputs and input gradients for a random cotangent."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    ref_leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out, ref = fast(*leaves), plain(*ref_leaves)
    assert out.shape == ref.shape and torch.isfinite(out).all()
    assert _rel(out, ref) < tol
    cot = torch.randn_like(ref)
    grads = torch.autograd.grad(out, leaves, cot)
    ref_grads = torch.autograd.grad(ref, ref_leaves, cot)
    for g, r in zip(grads, ref_grads):
        assert g.shape == r.shape and torch.isfinite(g).all()
        assert _rel(g, r) < tol


@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_f_linear(bias):
    g = torch.Generator().manual_seed(1)
    x, w = torch.randn(3, 17, 24, generator=g), torch.randn(40, 24, generator=g)
    b = torch.randn(40, generator=g)
    if bias:
        _check(fn.linear, F.linear, [x, w, b])
    else:
        _check(lambda x_, w_: fn.linear(x_, w_), lambda x_, w_: F.linear(x_, w_), [x, w])


def test_linear_routes_backward_through_the_engine_scope(monkeypatch):
    """With the oneDNN route chosen, the backward products run inside tk.matmul_engine."""
    seen = []

    class Spy:
        def __init__(self, device):
            seen.append(device.type)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(fn, "_routed", lambda device: True)
    monkeypatch.setattr(fn.tk, "matmul_engine", Spy)
    x = torch.randn(5, 8, requires_grad=True)
    w = torch.randn(6, 8, requires_grad=True)
    fn.linear(x, w).sum().backward()
    assert seen == ["cpu", "cpu"]          # forward, then backward
    assert x.grad is not None and w.grad is not None


@pytest.mark.parametrize("T", [37, 2, 1])
def test_causal_depthwise_conv_matches_shifted_sum(T):
    """Long inputs, and inputs shorter than the kernel (streaming steps of one or two tokens)."""
    g = torch.Generator().manual_seed(2)
    K, C = 4, 12
    x, hist = torch.randn(2, T, C, generator=g), torch.randn(2, K - 1, C, generator=g)
    taps, bias = torch.randn(K, C, generator=g), torch.randn(C, generator=g)

    def plain(x_, hist_, taps_, bias_):
        full = torch.cat([hist_, x_], 1)
        return bias_ + sum(full[:, j: j + T] * taps_[j] for j in range(K))

    _check(fn.causal_depthwise_conv, plain, [x, hist, taps, bias])


def test_causal_depthwise_conv_equals_conv1d():
    g = torch.Generator().manual_seed(3)
    K, T, C = 4, 29, 6
    conv = torch.nn.Conv1d(C, C, K, groups=C)
    x = torch.randn(2, T, C, generator=g)
    ours = fn.causal_depthwise_conv(x, torch.zeros(2, K - 1, C), conv.weight.view(C, K).t(), conv.bias)
    ref = conv(F.pad(x, (0, 0, K - 1, 0)).transpose(1, 2)).transpose(1, 2)
    assert _rel(ours, ref) < 1e-6


def test_silu_head_norm_matches_normalize_and_rms():
    g = torch.Generator().manual_seed(4)
    B, T, H, D = 2, 9, 3, 16
    a = torch.randn(B, T, 3 * H * D, generator=g) * 2

    def plain(a_):
        s = F.silu(a_).view(B, T, 3, H, D)
        q, k, v = s[:, :, 0], s[:, :, 1], s[:, :, 2]
        v = v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + 1e-6)
        return torch.stack([F.normalize(q, dim=-1), F.normalize(k, dim=-1), v], 2)

    _check(lambda a_: fn.silu_head_norm(a_, H), plain, [a])


def test_engine_linear_backward_under_autocast(monkeypatch):
    """With the oneDNN route chosen, the linear's backward under bf16 autocast (whose forward ran
    in bf16) gives float32 gradients close to the plain linear's, whichever engine the probe picks."""
    monkeypatch.setattr(fn, "_routed", lambda device: True)
    g = torch.Generator().manual_seed(3)
    x, w = (torch.randn(*shape, generator=g).requires_grad_() for shape in ((4, 9, 16), (8, 16)))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = fn.linear(x, w)
    cot = torch.randn(y.shape, generator=g)
    dx, dw = torch.autograd.grad(y, (x, w), cot.to(y.dtype))
    ref = torch.autograd.grad(F.linear(x, w), (x, w), cot)
    assert dx.dtype == dw.dtype == torch.float32
    assert _rel(dx, ref[0]) < 2e-2 and _rel(dw, ref[1]) < 2e-2
