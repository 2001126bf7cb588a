"""Synthetic tasks that need memory beyond the attention window.

Token layout (vocab = 4 + n_keys + n_values + n_filler):
0 pad, 1 separator / needle marker, 2 query marker, 3 unused; then keys, values, filler.

- recall: `pairs` key-value pairs at the start, filler up to the end, then
  [query, key_i] and the model must answer value_i (the last target).
- niah (single needle in a haystack): filler with [needle marker, value] at a random position in
  the first half, then [query, needle marker]; answer: the value.
Every batch is fresh random data from the given generator.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

PAD, SEP, QUERY = 0, 1, 2
BASE = 4


@dataclass(frozen=True)
class TaskSpec:
    name: str = "recall"
    n_keys: int = 32
    n_values: int = 32
    n_filler: int = 64
    pairs: int = 4

    @property
    def vocab_size(self) -> int:
        return BASE + self.n_keys + self.n_values + self.n_filler

    def keys(self) -> tuple[int, int]:
        return BASE, BASE + self.n_keys

    def values(self) -> tuple[int, int]:
        return BASE + self.n_keys, BASE + self.n_keys + self.n_values

    def filler(self) -> tuple[int, int]:
        lo = BASE + self.n_keys + self.n_values
        return lo, lo + self.n_filler


TASKS = ("recall", "niah")


def make_batch(task: TaskSpec, batch: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(inputs (B, length), answer (B,)): the answer is the token that follows the last input."""
    lo, hi = task.filler()
    x = torch.randint(lo, hi, (batch, length), generator=generator)
    v_lo, v_hi = task.values()
    if task.name == "recall":
        k_lo, k_hi = task.keys()
        if length < 2 * task.pairs + 2:
            raise ValueError(f"too short for {task.pairs} key-value pairs (needs at least {2 * task.pairs + 2} tokens)")
        keys = torch.stack([torch.randperm(k_hi - k_lo, generator=generator)[: task.pairs] for _ in range(batch)]) + k_lo
        vals = torch.randint(v_lo, v_hi, (batch, task.pairs), generator=generator)
        x[:, 0: 2 * task.pairs: 2] = keys
        x[:, 1: 2 * task.pairs: 2] = vals
        pick = torch.randint(0, task.pairs, (batch,), generator=generator)
        x[:, -2] = QUERY
        x[:, -1] = keys[torch.arange(batch), pick]
        return x, vals[torch.arange(batch), pick]
    if task.name == "niah":
        pos = torch.randint(0, max(1, length // 2 - 1), (batch,), generator=generator)
        val = torch.randint(v_lo, v_hi, (batch,), generator=generator)
        rows = torch.arange(batch)
        x[rows, pos] = SEP
        x[rows, pos + 1] = val
        x[:, -2] = QUERY
        x[:, -1] = SEP
        return x, val
    raise ValueError(f"unknown task '{task.name}'; choose one of {', '.join(TASKS)}")
