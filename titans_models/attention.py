"""Attention with persistent memory tokens: sliding-window (MAG, MAL) and segment (MAC) masks,
over an explicit context so that streaming with a cache equals a full pass."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PersistentAttention(nn.Module):
    """Multi-head attention whose keys/values start with `persistent` learned tokens.

    forward(x_q (B, Tq, dim), ctx (B, Tc, dim), mask (Tq, Tc) bool, True = may attend) -> (B, Tq, dim);
    every query also attends to all persistent tokens.
    """

    def __init__(self, dim: int, heads: int, persistent: int):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_kv = nn.Linear(dim, 2 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)
        self.persistent = nn.Parameter(torch.randn(persistent, dim) * 0.02)

    def _split(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        return x.view(B, T, self.heads, C // self.heads).transpose(1, 2)

    def forward(self, x_q: Tensor, ctx: Tensor, mask: Tensor) -> Tensor:
        B, Tq, C = x_q.shape
        P = self.persistent.shape[0]
        full = torch.cat([self.persistent.unsqueeze(0).expand(B, P, C), ctx], dim=1)
        k, v = self.to_kv(full).chunk(2, dim=-1)
        allowed = torch.cat([mask.new_ones(Tq, P), mask], dim=1)
        o = F.scaled_dot_product_attention(self._split(self.to_q(x_q)), self._split(k), self._split(v),
                                           attn_mask=allowed)
        return self.out(o.transpose(1, 2).reshape(B, Tq, C))


def window_mask(q_pos: Tensor, k_pos: Tensor, window: int) -> Tensor:
    """Causal sliding window on absolute positions: key j visible to query i iff i - window < j <= i."""
    diff = q_pos[:, None] - k_pos[None, :]
    return (diff >= 0) & (diff < window)


class SlidingWindowAttention(nn.Module):
    """Causal sliding-window attention; the cache holds the last window-1 inputs."""

    def __init__(self, dim: int, heads: int, persistent: int, window: int):
        super().__init__()
        self.attn = PersistentAttention(dim, heads, persistent)
        self.window = window

    def forward(self, x: Tensor, cache: Tensor | None, start: int):
        """x: (B, T, dim) at absolute positions start..start+T-1. Returns (y, new cache)."""
        cache = cache if cache is not None else x.new_zeros(x.shape[0], 0, x.shape[2])
        ctx = torch.cat([cache, x], dim=1)
        q_pos = torch.arange(start, start + x.shape[1], device=x.device)
        k_pos = torch.arange(start - cache.shape[1], start + x.shape[1], device=x.device)
        y = self.attn(x, ctx, window_mask(q_pos, k_pos, self.window))
        keep = min(max(self.window - 1, 0), ctx.shape[1])
        return y, ctx[:, ctx.shape[1] - keep:]
