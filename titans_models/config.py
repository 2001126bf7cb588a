"""Shared configuration of the Titans networks."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from titans_kernels.errors import InputError

from .checks import check_count, check_positive
from .layers import check_gate


@dataclass
class TitansConfig:
    vocab_size: int = 256
    dim: int = 128
    layers: int = 2               # blocks
    heads: int = 4                # attention heads
    mem_heads: int = 4            # memory heads
    mem_dim_head: int = 32        # memory head dim (D)
    spec: str = "titans_mlp2_normalized"  # memory rule: forgets toward W0 (no collapse), normalized steps
    chunk_size: int = 16          # memory chunk
    segment_len: int = 64         # MAC segment (a multiple of chunk_size)
    window: int = 64              # sliding-window attention (MAG, MAL)
    persistent_tokens: int = 4
    max_lr: float = 0.01
    conv_kernel: int = 4
    ff_mult: int = 4
    backend: str = "auto"
    attention: str = "auto"       # "sdpa" | "flex" | "auto" (flex on CUDA where torch has it)
    gate: str = "product"         # MAG/MAC: how the memory read gates attention (layers.BranchGate)
    rotary: bool = True           # rotary position embedding in attention (absolute positions)

    def __post_init__(self) -> None:
        for name in ("vocab_size", "dim", "layers", "heads", "mem_heads", "mem_dim_head", "chunk_size",
                     "segment_len", "window", "conv_kernel", "ff_mult"):
            check_count(name, getattr(self, name))
        check_count("persistent_tokens", self.persistent_tokens, minimum=0)
        check_positive("max_lr", self.max_lr)
        if self.segment_len % self.chunk_size:
            raise InputError(f"segment_len={self.segment_len} must be a multiple of chunk_size={self.chunk_size}")
        if self.attention not in ("auto", "sdpa", "flex"):
            raise InputError(f"attention='{self.attention}' unknown; choose auto, sdpa or flex")
        check_gate(self.gate)
        if self.dim % self.heads:
            raise InputError(f"dim={self.dim} must be divisible by heads={self.heads}")
        if not isinstance(self.rotary, bool):
            raise InputError(f"rotary={self.rotary!r}: expected True or False")
        if self.rotary and (self.dim // self.heads) % 2:
            raise InputError(f"rotary attention needs an even head width; dim={self.dim} / heads={self.heads} "
                             f"is {self.dim // self.heads}")

    def to_dict(self) -> dict:
        return asdict(self)
