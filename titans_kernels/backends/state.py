"""Memory state carried between calls: per-layer weights W_l and momenta S_l."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class MemoryState:
    """weights[l], momentum[l]: (B, H, out_l, in_l), like nn.Linear weights, per batch and head.

    `momentum` is None (or empty) for rules without momentum. `anchor` (same shapes) is what
    forgetting pulls the weights toward in rules with `decay_to: init` (None: zeros); it is
    carried unchanged from call to call.
    """

    weights: list[Tensor]
    momentum: list[Tensor] | None = field(default=None)
    anchor: list[Tensor] | None = field(default=None)

    def __post_init__(self) -> None:
        self.weights = list(self.weights)
        self.momentum = list(self.momentum) if self.momentum else None
        self.anchor = list(self.anchor) if self.anchor else None

    def _map(self, fn) -> "MemoryState":
        opt = lambda xs: [fn(x) for x in xs] if xs else None  # noqa: E731
        return MemoryState([fn(w) for w in self.weights], opt(self.momentum), opt(self.anchor))

    def detach(self) -> "MemoryState":
        return self._map(lambda t: t.detach())

    def to(self, *args, **kwargs) -> "MemoryState":
        return self._map(lambda t: t.to(*args, **kwargs))

    def tensors(self) -> list[Tensor]:
        """weights, then momentum (the tensors a backend's kernels carry; not the anchor)."""
        return self.weights + (self.momentum or [])
