"""Argument checks of the Titans networks: each bad value becomes one `tk.InputError` line that
names it and says what is expected, before any tensor operation could fail deep inside a layer."""
from __future__ import annotations

import torch
from torch import Tensor

from titans_kernels.errors import InputError


def check_count(name: str, value, minimum: int = 1) -> None:
    """An int (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name}={value!r}: expected an integer >= {minimum}")


def check_positive(name: str, value) -> None:
    """A finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise InputError(f"{name}={value!r}: expected a number > 0, finite")


def check_features(x, dim: int, who: str) -> None:
    """x: a floating (B, T, dim) tensor."""
    if not isinstance(x, Tensor):
        raise InputError(f"{who}: expected a (batch, time, {dim}) tensor, got {type(x).__name__}")
    if x.dim() != 3 or x.shape[-1] != dim:
        raise InputError(f"{who}: expected shape (batch, time, {dim}), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise InputError(f"{who}: expected a floating-point tensor, got {x.dtype}")
    if x.shape[1] == 0:
        raise InputError(f"{who}: no tokens (time length 0); pass at least one")


def check_tokens(tokens, vocab_size: int) -> None:
    """tokens: an integer (B, T) tensor with ids in [0, vocab_size)."""
    if not isinstance(tokens, Tensor):
        raise InputError(f"tokens: expected a (batch, time) tensor of token ids, got {type(tokens).__name__}")
    if tokens.dim() != 2:
        hint = " (add a batch dimension: tokens[None])" if tokens.dim() == 1 else ""
        raise InputError(f"tokens: expected shape (batch, time), got {tuple(tokens.shape)}{hint}")
    if tokens.dtype.is_floating_point or tokens.dtype.is_complex or tokens.dtype == torch.bool:
        raise InputError(f"tokens: expected integer token ids, got {tokens.dtype}")
    if tokens.shape[1] == 0:
        raise InputError("tokens: no tokens (time length 0); pass at least one")
    if tokens.numel():
        lo, hi = (int(v) for v in torch.aminmax(tokens))   # one pass, one host sync
        if lo < 0 or hi >= vocab_size:
            bad = lo if lo < 0 else hi
            raise InputError(f"tokens: id {bad} is outside the vocabulary [0, {vocab_size}) of this model")


def check_stream(owner_kind: str | None, owner_batch: int | None, kind: str, batch: int, what: str) -> None:
    """A carried cache or state belongs to a stream of block `kind` and this batch size."""
    if owner_kind is not None and owner_kind != kind:
        raise InputError(f"{what} comes from a '{owner_kind}' block, not '{kind}': pass back the cache this "
                         f"model returned (or none, to start a new stream)")
    if owner_batch is not None and owner_batch != batch:
        raise InputError(f"{what} holds a stream of batch {owner_batch}, got input of batch {batch}: continue "
                         f"with the same batch (or pass none, to start a new stream)")
