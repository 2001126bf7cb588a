"""Search space of the Triton kernels' launch configuration, derived from the IR and shape and
pruned by hard limits before anything is compiled."""
from __future__ import annotations

import itertools

from titans_kernels.backends.triton_backend.config import TritonConfig
from titans_kernels.ir import MemoryIR

TILES = (16, 32, 64)
WARPS = (2, 4, 8)
STAGES = (1, 2, 3)


def candidates(ir: MemoryIR, head_dim: int, chunk: int, allow_tf32: bool = False) -> tuple[list[TritonConfig], int]:
    """(candidates, number pruned by hard limits). A tile must divide the head dim and the chunk
    (every GEMM dimension is a multiple of one of them); tf32 only when allowed."""
    precisions = ("ieee", "tf32") if allow_tf32 else ("ieee",)
    kept, pruned = [], 0
    for tile, warps, stages, prec in itertools.product(TILES, WARPS, STAGES, precisions):
        if tile > min(head_dim, chunk) or head_dim % tile or chunk % tile:
            pruned += 1
            continue
        if tile * tile < 32 * warps:  # fewer tile elements than threads: idle lanes
            pruned += 1
            continue
        kept.append(TritonConfig(tile=tile, num_warps=warps, num_stages=stages, precision=prec))
    return kept, pruned
