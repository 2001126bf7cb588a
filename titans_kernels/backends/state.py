"""Memory state carried between calls: per-layer weights W_l and momenta S_l."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class MemoryState:
    """weights[l], momentum[l]: (B, H, out_l, in_l), like nn.Linear weights, per batch and head.

    `momentum` is None (or empty) for rules without momentum.
    """

    weights: list[Tensor]
    momentum: list[Tensor] | None = field(default=None)

    def __post_init__(self) -> None:
        self.weights = list(self.weights)
        self.momentum = list(self.momentum) if self.momentum else None

    def detach(self) -> "MemoryState":
        return MemoryState([w.detach() for w in self.weights],
                           [s.detach() for s in self.momentum] if self.momentum else None)

    def to(self, *args, **kwargs) -> "MemoryState":
        return MemoryState([w.to(*args, **kwargs) for w in self.weights],
                           [s.to(*args, **kwargs) for s in self.momentum] if self.momentum else None)

    def tensors(self) -> list[Tensor]:
        return self.weights + (self.momentum or [])
