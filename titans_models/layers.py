"""Small building blocks: RMSNorm, causal depthwise convolution, feed-forward, branch gate."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from titans_kernels.errors import InputError

from .functional import causal_depthwise_conv, linear


class Linear(nn.Linear):
    """nn.Linear whose backward products also run on the CPU engine tk.cpu_engine() picked
    (the same parameters and state_dict keys as nn.Linear)."""

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class CausalDepthwiseConv(nn.Module):
    """Depthwise causal conv over time: (B, T, C) -> (B, T, C); `history` holds the previous
    kernel-1 inputs (B, kernel-1, C) for streaming (zeros at the start of a sequence)."""

    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.kernel = kernel
        self.conv = nn.Conv1d(channels, channels, kernel, groups=channels)

    def forward(self, x: Tensor, history: Tensor | None = None) -> Tensor:
        if history is None:
            history = x.new_zeros(x.shape[0], self.kernel - 1, x.shape[2])
        # y_t = bias + sum_j w_j * x_{t - (K-1) + j}: K shifted multiply-adds in the (B, T, C)
        # layout (the same function as self.conv, without transposing to (B, C, T) and back)
        return causal_depthwise_conv(x, history, self.conv.weight.view(-1, self.kernel).t(), self.conv.bias)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4):
        super().__init__()
        self.net = nn.Sequential(Linear(dim, dim * mult), nn.GELU(), Linear(dim * mult, dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


GATES = ("product", "silu", "sigmoid")


def check_gate(kind: str) -> None:
    """One clear error for a gate name BranchGate does not know."""
    if kind not in GATES:
        raise InputError(f"gate='{kind}' unknown; choose one of {', '.join(GATES)}")


class BranchGate(nn.Module):
    """Combines an attention output y with a memory read m (both (B, T, dim)) as MAG and MAC do:
    each branch RMS-normalised with its own learned vector weights, then
      product: norm(y) * norm(m)             (the memory read passes linearly; learns fastest)
      silu:    norm(y) * silu(norm(m))
      sigmoid: norm(y) * sigmoid(W norm(m))  (a learned sigmoid gate)."""

    def __init__(self, dim: int, kind: str = "product"):
        super().__init__()
        check_gate(kind)
        self.kind = kind
        self.y_norm, self.m_norm = RMSNorm(dim), RMSNorm(dim)
        self.proj = Linear(dim, dim) if kind == "sigmoid" else None

    def forward(self, y: Tensor, m: Tensor) -> Tensor:
        m = self.m_norm(m)
        if self.kind == "silu":
            m = F.silu(m)
        elif self.kind == "sigmoid":
            m = torch.sigmoid(self.proj(m))
        return self.y_norm(y) * m
