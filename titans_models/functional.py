"""Autograd functions with hand-written backwards for the layers' elementwise and projection work.

Autograd's generic backwards are slow on CPU for what the memory layer does around its rule:
a depthwise causal convolution written as shifted slices materialises a zero-padded copy of
the whole input per tap, and l2 / RMS normalisation takes several full passes. The projections'
backward products also run outside the forward's `tk.matmul_engine` scope, so on CPUs where the
probe picked oneDNN they fell back to the slower default route. Each function here computes the
same values as the plain torch expression it replaces (tests/test_functional.py checks values
and gradients against it).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

import titans_kernels as tk


def _routed(device: torch.device) -> bool:
    """True when float32 products on `device` take a route that needs an explicit scope."""
    return device.type == "cpu" and tk.cpu_engine() == "onednn"


class _EngineLinear(torch.autograd.Function):
    """y = x W^T + b with forward and backward products on the engine tk.cpu_engine() picked."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        with tk.matmul_engine(x.device):
            return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, dy: Tensor):
        x, weight = ctx.saved_tensors
        dx = dw = db = None
        dy = dy.to(x.dtype)   # under autocast the forward ran in bf16; x and W are float32 here
        with tk.matmul_engine(dy.device):
            if ctx.needs_input_grad[0]:
                dx = dy @ weight
            if ctx.needs_input_grad[1]:
                dw = dy.reshape(-1, dy.shape[-1]).t() @ x.reshape(-1, x.shape[-1])
        if ctx.has_bias and ctx.needs_input_grad[2]:
            db = dy.reshape(-1, dy.shape[-1]).sum(0)
        return dx, dw, db


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """F.linear, whose backward products also run on the chosen CPU engine. x: (..., in)."""
    if _routed(x.device) and x.dtype == torch.float32 and torch.is_grad_enabled():
        return _EngineLinear.apply(x, weight, bias)
    with tk.matmul_engine(x.device):
        return F.linear(x, weight, bias)


class _CausalDepthwiseConv(torch.autograd.Function):
    """y_t = bias + sum_j taps[j] * full[t + j] over full = [history | x] (B, K-1+T, C), computed
    without materialising `full`: tap j reads x shifted by s = K-1-j, and history for t < s."""

    @staticmethod
    def forward(ctx, x: Tensor, history: Tensor, taps: Tensor, bias: Tensor) -> Tensor:
        K, T = taps.shape[0], x.shape[1]
        y = torch.addcmul(bias, x, taps[K - 1])
        for j in range(K - 1):
            s = K - 1 - j
            if T > s:
                y[:, s:].addcmul_(x[:, : T - s], taps[j])
            y[:, :s].addcmul_(history[:, j: j + min(s, T)], taps[j])
        ctx.save_for_backward(x, history, taps)
        return y

    @staticmethod
    def backward(ctx, dy: Tensor):
        x, history, taps = ctx.saved_tensors
        K, T = taps.shape[0], x.shape[1]
        dx = dh = dtaps = dbias = None
        if ctx.needs_input_grad[0]:
            dx = dy * taps[K - 1]
            for j in range(K - 1):
                s = K - 1 - j
                if T > s:
                    dx[:, : T - s].addcmul_(dy[:, s:], taps[j])
        if ctx.needs_input_grad[1]:
            dh = torch.zeros_like(history)
            for j in range(K - 1):
                s = K - 1 - j
                dh[:, j: j + min(s, T)].addcmul_(dy[:, :s], taps[j])
        if ctx.needs_input_grad[2]:
            rows = []
            for j in range(K):
                s = K - 1 - j
                row = (x[:, : T - s] * dy[:, s:]).sum((0, 1)) if T > s else taps.new_zeros(taps.shape[1])
                if s:
                    row += (history[:, j: j + min(s, T)] * dy[:, :s]).sum((0, 1))
                rows.append(row)
            dtaps = torch.stack(rows)
        if ctx.needs_input_grad[3]:
            dbias = dy.sum((0, 1))
        return dx, dh, dtaps, dbias


def causal_depthwise_conv(x: Tensor, history: Tensor, taps: Tensor, bias: Tensor) -> Tensor:
    """x (B, T, C) after history (B, K-1, C), taps (K, C), bias (C,) -> (B, T, C)."""
    return _CausalDepthwiseConv.apply(x, history, taps, bias)


class _SiluHeadNorm(torch.autograd.Function):
    """silu(a), split in three (B, T, H, D) parts: the first two l2-normalised and the third
    RMS-normalised over D (x * rsqrt(mean x^2 + eps)); a (B, T, 3*H*D) -> (B, T, 3, H, D)."""

    @staticmethod
    def forward(ctx, a: Tensor, heads: int, eps: float) -> Tensor:
        B, T, C = a.shape
        s = F.silu(a).view(B, T, 3, heads, C // (3 * heads))
        sq = s.square().sum(-1, keepdim=True)                    # (B, T, 3, H, 1)
        inv = torch.empty_like(sq)
        inv[:, :, :2] = sq[:, :, :2].sqrt().clamp_min_(1e-12).reciprocal_()
        inv[:, :, 2:] = (sq[:, :, 2:] / s.shape[-1] + eps).rsqrt_()
        y = s * inv
        ctx.save_for_backward(a, y, inv)
        return y

    @staticmethod
    def backward(ctx, dy: Tensor):
        a, y, inv = ctx.saved_tensors
        D = y.shape[-1]
        dot = (y * dy).sum(-1, keepdim=True)
        dot[:, :, 2:] /= D
        dot[:, :, :2].masked_fill_(inv[:, :, :2] >= 1e12, 0.0)   # l2 norm clamped at 1e-12: y = s * 1e12
        # both norms: ds = inv * (dy - y * dot)
        ds = (dy - y * dot).mul_(inv).view(a.shape)
        sig = torch.sigmoid(a)
        return ds.mul_(sig * (1 + a * (1 - sig))), None, None


def silu_head_norm(a: Tensor, heads: int, eps: float = 1e-6) -> Tensor:
    """(B, T, 3*H*D) -> (B, T, 3, H, D): silu, then l2 norm of q and k and RMS norm of v per head."""
    return _SiluHeadNorm.apply(a, heads, eps)
