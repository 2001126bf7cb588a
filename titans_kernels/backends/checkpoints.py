"""The checkpoint-group layout every backend shares, so that one backend's forward checkpoints
mean the same chunks to any backward.

A call's N chunks are split into groups of `group` chunks counted from the end: the last group is
full and only the first may be short. The forward keeps the state at each group's start; a
backward walks the groups in reverse, re-running each from its checkpoint.
"""
from __future__ import annotations

import math


def default_group(num_chunks: int) -> int:
    """Chunks per checkpoint: ~sqrt(N) balances checkpoints against re-run intermediates."""
    return num_chunks if num_chunks <= 8 else math.ceil(math.sqrt(num_chunks))


def group_bounds(num_chunks: int, group: int) -> list[tuple[int, int]]:
    """[lo, hi) chunk ranges of the checkpoint groups; only the first may be short."""
    ends = list(range(num_chunks, 0, -group))[::-1]
    return [(max(0, hi - group), hi) for hi in ends]


def group_layout(num_chunks: int, group: int) -> tuple[int, int]:
    """(length of the first group, number of groups): the layout as the kernels take it."""
    n_groups = -(-num_chunks // group)
    return num_chunks - group * (n_groups - 1), n_groups
