"""Causal language models: embedding, Titans blocks, norm, head; streaming `step` / `generate`."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from titans_kernels.errors import InputError

from .blocks import BLOCKS, BlockCache
from .checks import check_count, check_tokens
from .config import TitansConfig
from .layers import Linear, RMSNorm


class TitansLM(nn.Module):
    kind = "mac"

    def __init__(self, cfg: TitansConfig, kind: str | None = None):
        super().__init__()
        self.cfg = cfg
        self.kind = kind or self.kind
        if self.kind not in BLOCKS:
            raise InputError(f"unknown block kind '{self.kind}'; choose one of {', '.join(BLOCKS)}")
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blocks = nn.ModuleList(BLOCKS[self.kind](cfg) for _ in range(cfg.layers))
        self.norm = RMSNorm(cfg.dim)
        self.head = Linear(cfg.dim, cfg.vocab_size, bias=False)

    def forward(self, tokens: Tensor, cache: list[BlockCache] | None = None):
        """tokens (B, T) -> (logits (B, T, vocab), cache). Pass the cache back to continue."""
        check_tokens(tokens, self.cfg.vocab_size)
        if cache is not None and (not isinstance(cache, (list, tuple)) or len(cache) != len(self.blocks)):
            got = f"{len(cache)} entries" if isinstance(cache, (list, tuple)) else type(cache).__name__
            raise InputError(f"cache: expected the list of {len(self.blocks)} block caches this model returned, "
                             f"got {got}")
        return self._run(tokens, cache)

    def _run(self, tokens: Tensor, cache: list[BlockCache] | None):
        x = self.embed(tokens)
        cache = list(cache) if cache is not None else [BlockCache() for _ in self.blocks]
        for i, block in enumerate(self.blocks):
            x, cache[i] = block(x, cache[i])
        return self.head(self.norm(x)), cache

    step = forward

    @torch.no_grad()
    def generate(self, prompt: Tensor, max_new_tokens: int, temperature: float = 0.0,
                 generator: torch.Generator | None = None) -> Tensor:
        """Continue `prompt` (B, T) by max_new_tokens tokens (greedy when temperature == 0)."""
        check_count("max_new_tokens", max_new_tokens, minimum=0)
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature >= 0:
            raise InputError(f"temperature={temperature!r}: expected a number >= 0 (0 = greedy)")
        logits, cache = self.forward(prompt)
        out = [prompt]
        for _ in range(max_new_tokens):
            last = logits[:, -1]
            if temperature > 0:
                nxt = torch.multinomial(torch.softmax(last / temperature, -1), 1, generator=generator)
            else:
                nxt = last.argmax(-1, keepdim=True)
            out.append(nxt)
            logits, cache = self._run(nxt, cache)
        return torch.cat(out, dim=1)


class TitansMAC(TitansLM):
    kind = "mac"


class TitansMAG(TitansLM):
    kind = "mag"


class TitansMAL(TitansLM):
    kind = "mal"


class TitansLMM(TitansLM):
    kind = "lmm"


class SlidingWindowLM(TitansLM):
    """Attention-only baseline."""

    kind = "swa"


class FullAttentionLM(TitansLM):
    """Attention-only baseline without a window."""

    kind = "attention"


MODELS = {"mac": TitansMAC, "mag": TitansMAG, "mal": TitansMAL, "lmm": TitansLMM, "swa": SlidingWindowLM,
          "attention": FullAttentionLM}
