"""Memory state carried between calls: per-layer weights W_l and momenta S_l."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass
class MemoryState:
    """weights[l], momentum[l]: (B, H, out_l, in_l), like nn.Linear weights, per batch and head.

    `momentum` is None (or empty) for rules without momentum. `anchor` (same shapes) is what
    forgetting pulls the weights toward in rules with `decay_to: init` (None: zeros); it is
    carried unchanged from call to call. `history` ([keys, values], each (B, H, window - 1, D))
    holds the last tokens of the previous calls for rules with an Omega window (loss.window > 1),
    whose first steps in a call reach back into them; None at the start of a sequence.
    """

    weights: list[Tensor]
    momentum: list[Tensor] | None = field(default=None)
    anchor: list[Tensor] | None = field(default=None)
    history: list[Tensor] | None = field(default=None)

    def __post_init__(self) -> None:
        self.weights = list(self.weights)
        self.momentum = list(self.momentum) if self.momentum else None
        self.anchor = list(self.anchor) if self.anchor else None
        self.history = list(self.history) if self.history else None

    def _map(self, fn) -> "MemoryState":
        opt = lambda xs: [fn(x) for x in xs] if xs else None  # noqa: E731
        return MemoryState([fn(w) for w in self.weights], opt(self.momentum), opt(self.anchor), opt(self.history))

    def detach(self) -> "MemoryState":
        return self._map(lambda t: t.detach())

    def to(self, *args, **kwargs) -> "MemoryState":
        return self._map(lambda t: t.to(*args, **kwargs))

    def tensors(self) -> list[Tensor]:
        """weights, then momentum (the tensors a backend's kernels carry; not the anchor)."""
        return self.weights + (self.momentum or [])


def next_history(window: int, state: MemoryState, k: Tensor, v: Tensor) -> list[Tensor] | None:
    """The Omega window's carried tokens after a call with keys and values k, v (B, H, T, D): the
    last window - 1 of the previous history (zeros at a sequence start) followed by this call's,
    in float32 (float64 inputs: float64). None without a window."""
    extra = window - 1
    if not extra:
        return None
    cdt = torch.float64 if k.dtype == torch.float64 else torch.float32
    out = []
    for i, x in enumerate((k, v)):
        past = state.history[i] if state.history else x.new_zeros(*x.shape[:2], extra, x.shape[3], dtype=cdt)
        out.append(torch.cat([past.to(cdt), x.to(cdt)], 2)[:, :, -extra:])
    return out
