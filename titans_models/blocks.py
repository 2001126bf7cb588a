"""Titans blocks. Each is pre-norm residual: x + mixer(norm(x)), then x + ff(norm(x)).

- MAC (memory as context), per segment: retrieve from the memory as it was before the segment,
  attend causally over [persistent | retrieved | segment], update the memory with the attention
  layer's output u + attn(u) (u the block's normalised input), and gate the attention output by
  the read of the updated memory (`BranchGate`).
- MAG (memory as gate): sliding-window attention over [persistent | x] and the memory over x,
  combined by `BranchGate` (default: norm(attn) * norm(memory)).
- MAL (memory as layer): a residual memory layer, then a residual sliding-window attention layer
  over the stream the memory wrote into: x + M(norm x), then + attn(norm .), then the FF.
- LMM: the memory alone.
- SWA: sliding-window attention alone (the baseline without long-term memory).
- attention: causal attention over the whole context (the baseline without a window).

The residual forms (MAL's memory layer, MAC's write of u + attn(u)) keep the token itself in
what the memory stores and reads, as in LMM; memory fed with the attention output alone learns
the recall task far more slowly. Each branch is RMS-normalised before the gate: an
un-normalised attention output starts near zero and leaves the block, memory included, almost
no gradient. The default product gate passes the memory read linearly; on the recall task it
learns several times faster than a sigmoid gate (measurements in docs/design.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from titans_kernels.errors import InputError

from .attention import PersistentAttention, SlidingWindowAttention
from .checks import check_features, check_stream
from .config import TitansConfig
from .layers import BranchGate, CausalDepthwiseConv, FeedForward, Linear, RMSNorm
from .memory import NeuralMemory, NeuralMemoryState


@dataclass
class BlockCache:
    pos: int = 0                               # tokens seen
    memory: NeuralMemoryState | None = None
    attn: Tensor | None = None                 # sliding window: last window-1 inputs
    seg_memory: NeuralMemoryState | None = None  # MAC: memory state at the segment start
    seg_x: Tensor | None = None                # MAC: inputs of the current segment so far
    seg_h: Tensor | None = None                # MAC: retrieved tokens of the current segment so far
    conv: Tensor | None = None                 # SWA / attention: last conv_kernel-1 inputs
    kind: str | None = None                    # the block kind and batch of the stream (set on first use)
    batch: int | None = None
    trace: bool = False                        # MAC: keep each piece's retrieval state in debug
    debug: dict = field(default_factory=dict)


def _memory(cfg: TitansConfig) -> NeuralMemory:
    return NeuralMemory(cfg.dim, cfg.mem_heads, cfg.mem_dim_head, spec=cfg.spec, chunk_size=cfg.chunk_size,
                        backend=cfg.backend, max_lr=cfg.max_lr, conv_kernel=cfg.conv_kernel)


class Block(nn.Module):
    kind = "?"

    def __init__(self, cfg: TitansConfig):
        super().__init__()
        self.cfg = cfg
        self.norm1, self.norm2 = RMSNorm(cfg.dim), RMSNorm(cfg.dim)
        self.ff = FeedForward(cfg.dim, cfg.ff_mult)

    def forward(self, x: Tensor, cache: BlockCache | None = None):
        """x (B, T, dim) -> (x', cache); pass the cache back to continue the stream."""
        check_features(x, self.cfg.dim, f"{self.kind} block input")
        cache = BlockCache() if cache is None else cache
        if not isinstance(cache, BlockCache):
            raise InputError(f"cache: expected the BlockCache this block returned, got {type(cache).__name__}")
        check_stream(cache.kind, cache.batch, self.kind, x.shape[0], "cache")
        cache.kind, cache.batch = self.kind, x.shape[0]
        x, cache = self.residual_mix(x, cache)
        return x + self.ff(self.norm2(x)), cache

    def residual_mix(self, x: Tensor, cache: BlockCache):
        """The residual stream x (B, T, dim) after the mixing sublayer(s): x + mix(norm1 x)."""
        h, cache = self.mix(self.norm1(x), cache)
        return x + h, cache

    def mix(self, x: Tensor, cache: BlockCache):
        raise NotImplementedError


class LMMBlock(Block):
    kind = "lmm"

    def __init__(self, cfg: TitansConfig):
        super().__init__(cfg)
        self.memory = _memory(cfg)

    def mix(self, x, cache):
        y, cache.memory = self.memory(x, cache.memory)
        cache.pos += x.shape[1]
        return y, cache


class MALBlock(Block):
    """Memory as a layer: a residual memory sublayer, then a residual sliding-window attention
    sublayer over its output, then the feed-forward: x + M(norm x), then + attn(norm .)."""

    kind = "mal"

    def __init__(self, cfg: TitansConfig):
        super().__init__(cfg)
        self.memory = _memory(cfg)
        self.mid_norm = RMSNorm(cfg.dim)
        self.attn = SlidingWindowAttention(cfg.dim, cfg.heads, cfg.persistent_tokens, cfg.window, cfg.attention,
                                           cfg.rotary)

    def residual_mix(self, x: Tensor, cache: BlockCache):
        m, cache.memory = self.memory(self.norm1(x), cache.memory)
        x = x + m
        y, cache.attn = self.attn(self.mid_norm(x), cache.attn, cache.pos)
        cache.pos += x.shape[1]
        return x + y, cache


class MAGBlock(Block):
    kind = "mag"

    def __init__(self, cfg: TitansConfig):
        super().__init__(cfg)
        self.memory = _memory(cfg)
        self.attn = SlidingWindowAttention(cfg.dim, cfg.heads, cfg.persistent_tokens, cfg.window, cfg.attention,
                                           cfg.rotary)
        self.gate = BranchGate(cfg.dim, cfg.gate)

    def mix(self, x, cache):
        y, cache.attn = self.attn(x, cache.attn, cache.pos)
        m, cache.memory = self.memory(x, cache.memory)
        cache.pos += x.shape[1]
        return self.gate(y, m), cache


class MACBlock(Block):
    kind = "mac"

    def __init__(self, cfg: TitansConfig):
        super().__init__(cfg)
        self.memory = _memory(cfg)
        D, H = self.memory.dim_head, self.memory.heads
        self.to_retrieve = Linear(cfg.dim, H * D, bias=False)
        self.from_retrieve = Linear(H * D, cfg.dim, bias=False)
        self.attn = PersistentAttention(cfg.dim, cfg.heads, cfg.persistent_tokens, cfg.attention, cfg.rotary)
        self.write_norm = RMSNorm(cfg.dim)
        self.gate = BranchGate(cfg.dim, cfg.gate)
        self.seg = cfg.segment_len

    def retrieve(self, x: Tensor, state: NeuralMemoryState) -> Tensor:
        """Read the memory (as of the segment start) with queries from x: (B, T, dim) -> (B, T, dim)."""
        B, T, _ = x.shape
        q = self.to_retrieve(x).view(B, T, self.memory.heads, self.memory.dim_head).transpose(1, 2)
        h = self.memory.read(state, F.normalize(q, dim=-1))
        return self.from_retrieve(h.transpose(1, 2).reshape(B, T, -1))

    def mix(self, x, cache):
        B = x.shape[0]
        if cache.memory is None:
            cache.memory = self.memory.initial_state(B, x.device)
        outs, i = [], 0
        while i < x.shape[1]:
            if cache.seg_x is None:                     # a segment starts
                cache.seg_memory = cache.memory
                cache.seg_x = x[:, :0]
                cache.seg_h = x[:, :0]
            n = min(self.seg - cache.seg_x.shape[1], x.shape[1] - i)
            piece = x[:, i: i + n]
            h = self.retrieve(piece, cache.seg_memory)
            seg_h = torch.cat([cache.seg_h, h], dim=1)
            seg_x = torch.cat([cache.seg_x, piece], dim=1)
            S = seg_x.shape[1]
            pos = torch.arange(S, device=x.device)
            causal = pos[S - n:, None] >= pos[None, :]
            at = pos + (cache.pos + i + n - S)          # absolute positions of the segment so far
            y = self.attn(piece, torch.cat([seg_h, seg_x], dim=1), torch.cat([causal, causal], dim=1),
                          at[S - n:], torch.cat([at, at]))
            # update the memory with the attention layer's (residual) output, then read it back
            m, cache.memory = self.memory(self.write_norm(piece + y), cache.memory)
            outs.append(self.gate(y, m))
            cache.seg_x, cache.seg_h = seg_x, seg_h
            if S == self.seg:
                cache.seg_x = cache.seg_h = None
            if cache.trace:
                cache.debug.setdefault("retrieval_states", []).append(cache.seg_memory)
            i += n
        cache.pos += x.shape[1]
        return torch.cat(outs, dim=1), cache


class SWABlock(Block):
    """Baseline without long-term memory: sliding-window attention with persistent tokens, over
    its input plus the input's short depthwise causal convolution (the convolution the memory
    branch of the other blocks has, so that the comparison is of the memory alone)."""

    kind = "swa"

    def __init__(self, cfg: TitansConfig):
        super().__init__(cfg)
        self.attn = SlidingWindowAttention(cfg.dim, cfg.heads, cfg.persistent_tokens, self.window_of(cfg),
                                           cfg.attention, cfg.rotary)
        self.conv = CausalDepthwiseConv(cfg.dim, cfg.conv_kernel)

    @staticmethod
    def window_of(cfg: TitansConfig) -> int:
        return cfg.window

    def mix(self, x, cache):
        hist = cache.conv if cache.conv is not None else x.new_zeros(x.shape[0], self.conv.kernel - 1, x.shape[2])
        y, cache.attn = self.attn(x + self.conv(x, hist), cache.attn, cache.pos)
        both = torch.cat([hist, x], dim=1)
        cache.conv = both[:, both.shape[1] - (self.conv.kernel - 1):].clone()
        cache.pos += x.shape[1]
        return y, cache


class AttentionBlock(SWABlock):
    """Baseline without long-term memory and without a window: causal attention over everything
    seen (the cache keeps every input)."""

    kind = "attention"

    @staticmethod
    def window_of(cfg: TitansConfig) -> int:
        return FULL_WINDOW


FULL_WINDOW = 2 ** 62
BLOCKS = {"mac": MACBlock, "mag": MAGBlock, "mal": MALBlock, "lmm": LMMBlock, "swa": SWABlock,
          "attention": AttentionBlock}
