"""Attention with persistent memory tokens: sliding-window (MAG, MAL) and segment (MAC) masks,
over an explicit context so that streaming with a cache equals a full pass."""
from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import Linear

ATTENTION_IMPLS = ("auto", "sdpa", "flex")


def flex_available() -> bool:
    try:
        from torch.nn.attention.flex_attention import flex_attention  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _compiled_flex():
    from torch.nn.attention.flex_attention import flex_attention
    return torch.compile(flex_attention, dynamic=False)


def resolve_impl(impl: str, device: torch.device) -> str:
    """"auto": flex attention on CUDA where torch has it (its block mask skips the tiles a sliding
    window or segment mask removes), scaled_dot_product_attention with a dense mask otherwise."""
    if impl not in ATTENTION_IMPLS:
        raise ValueError(f"attention='{impl}' unknown; choose one of {', '.join(ATTENTION_IMPLS)}")
    if impl == "auto":
        return "flex" if device.type == "cuda" and flex_available() else "sdpa"
    if impl == "flex" and not flex_available():
        raise ValueError("attention='flex' needs torch.nn.attention.flex_attention (torch >= 2.5); use 'sdpa'")
    return impl


def flex_attend(q: Tensor, k: Tensor, v: Tensor, allowed: Tensor) -> Tensor:
    """Flex attention with the dense (Tq, Tk) boolean mask as its mask_mod; compiled on CUDA, the
    reference path elsewhere (used by the tests to check it against sdpa)."""
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    def mask_mod(b, h, q_idx, kv_idx):
        return allowed[q_idx, kv_idx]

    block = create_block_mask(mask_mod, None, None, q.shape[-2], k.shape[-2], device=q.device)
    fn = _compiled_flex() if q.device.type == "cuda" else flex_attention
    return fn(q, k, v, block_mask=block)


def rotate(x: Tensor, pos: Tensor, base: float = 10000.0) -> Tensor:
    """Rotary position embedding of x (B, H, T, d) at absolute positions pos (T,): each pair
    (x_i, x_{i + d/2}) turned by the angle pos * base^(-2i/d), computed in float32. The dot
    product of a rotated query and key then depends on their positions' difference alone, so a
    stream cut into pieces (positions continuing through the cache) attends exactly as one pass."""
    d = x.shape[-1]
    freq = base ** (-torch.arange(0, d // 2, device=x.device, dtype=torch.float32) * 2 / d)
    angle = pos.to(torch.float32)[:, None] * freq[None, :]
    cos, sin = angle.cos(), angle.sin()
    x1, x2 = x.float()[..., : d // 2], x.float()[..., d // 2:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).to(x.dtype)


class PersistentAttention(nn.Module):
    """Multi-head attention whose keys/values start with `persistent` learned tokens.

    forward(x_q (B, Tq, dim), ctx (B, Tc, dim), mask (Tq, Tc) bool, True = may attend,
    q_pos (Tq,), k_pos (Tc,)) -> (B, Tq, dim); every query also attends to all persistent
    tokens. With `rotary`, queries and context keys are rotated by their absolute positions
    (`rotate`); the persistent tokens carry no position. impl: "sdpa", "flex" or "auto".
    """

    def __init__(self, dim: int, heads: int, persistent: int, impl: str = "auto", rotary: bool = True):
        super().__init__()
        resolve_impl(impl, torch.device("cpu"))  # validate early
        self.impl = impl
        self.rotary = rotary
        self.heads = heads
        self.to_q = Linear(dim, dim, bias=False)
        self.to_kv = Linear(dim, 2 * dim, bias=False)
        self.out = Linear(dim, dim, bias=False)
        self.persistent = nn.Parameter(torch.randn(persistent, dim) * 0.02)

    def _split(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        return x.view(B, T, self.heads, C // self.heads).transpose(1, 2)

    def forward(self, x_q: Tensor, ctx: Tensor, mask: Tensor, q_pos: Tensor | None = None,
                k_pos: Tensor | None = None) -> Tensor:
        B, Tq, C = x_q.shape
        P = self.persistent.shape[0]
        full = torch.cat([self.persistent.unsqueeze(0).expand(B, P, C), ctx], dim=1)
        k, v = self.to_kv(full).chunk(2, dim=-1)
        allowed = torch.cat([mask.new_ones(Tq, P), mask], dim=1)
        q, k, v = self._split(self.to_q(x_q)), self._split(k), self._split(v)
        if self.rotary:
            if q_pos is None or k_pos is None:
                raise ValueError("rotary attention needs the positions of its queries and keys")
            q = rotate(q, q_pos)
            k = torch.cat([k[:, :, :P], rotate(k[:, :, P:], k_pos)], dim=2)
        if resolve_impl(self.impl, x_q.device) == "flex":
            o = flex_attend(q, k, v, allowed)
        else:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        return self.out(o.transpose(1, 2).reshape(B, Tq, C))


def window_mask(q_pos: Tensor, k_pos: Tensor, window: int) -> Tensor:
    """Causal sliding window on absolute positions: key j visible to query i iff i - window < j <= i."""
    diff = q_pos[:, None] - k_pos[None, :]
    return (diff >= 0) & (diff < window)


class SlidingWindowAttention(nn.Module):
    """Causal sliding-window attention; the cache holds the last window-1 inputs."""

    def __init__(self, dim: int, heads: int, persistent: int, window: int, impl: str = "auto",
                 rotary: bool = True):
        super().__init__()
        self.attn = PersistentAttention(dim, heads, persistent, impl, rotary)
        self.window = window

    def forward(self, x: Tensor, cache: Tensor | None, start: int):
        """x: (B, T, dim) at absolute positions start..start+T-1. Returns (y, new cache)."""
        cache = cache if cache is not None else x.new_zeros(x.shape[0], 0, x.shape[2])
        ctx = torch.cat([cache, x], dim=1)
        q_pos = torch.arange(start, start + x.shape[1], device=x.device)
        k_pos = torch.arange(start - cache.shape[1], start + x.shape[1], device=x.device)
        y = self.attn(x, ctx, window_mask(q_pos, k_pos, self.window), q_pos, k_pos)
        keep = min(max(self.window - 1, 0), ctx.shape[1])
        return y, ctx[:, ctx.shape[1] - keep:].clone()   # a copy: a view would keep all of ctx alive
