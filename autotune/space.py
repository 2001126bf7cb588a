"""Search space of the Triton kernels' launch configuration, derived from the IR and shape and
pruned by hard limits before anything is compiled."""
from __future__ import annotations

import itertools

from titans_kernels.backends.launch_config import TUNABLES, TritonConfig, tiled_supported
from titans_kernels.ir import MemoryIR

# the grids declared with each field's legal values (launch_config.TUNABLES). The tiled forward
# keeps a chunk's token-side matrices in one program, so it is tried with fewer warp and stage
# counts (its spills grow outside them; docs/design.md); fused, its default.
TILES = TUNABLES["tile"].search
WARPS = TUNABLES["num_warps"].search
STAGES = TUNABLES["num_stages"].search
TILED_WARPS = TUNABLES["num_warps"].tiled_search
TILED_STAGES = TUNABLES["num_stages"].tiled_search


def candidates(ir: MemoryIR, head_dim: int, chunk_size: int, allow_tf32: bool = False,
               kernels: tuple[str, ...] = ("generic",)) -> tuple[list[TritonConfig], int]:
    """(candidates, number pruned by hard limits). A tile must divide the head dim and the chunk
    (every GEMM dimension is a multiple of one of them); tf32 only when allowed; the tiled
    forward kernel only for the IRs it covers, with 4 or 8 warps and 1 or 2 stages."""
    precisions = ("ieee", "tf32") if allow_tf32 else ("ieee",)
    kernels = tuple(k for k in kernels if k != "tiled" or tiled_supported(ir))
    kept, pruned = [], 0
    for kernel, tile, warps, stages, prec in itertools.product(kernels, TILES, WARPS, STAGES, precisions):
        if tile > min(head_dim, chunk_size) or head_dim % tile or chunk_size % tile:
            pruned += 1
            continue
        if tile * tile < 32 * warps:  # fewer tile elements than threads: idle lanes
            pruned += 1
            continue
        if kernel == "tiled" and (warps not in TILED_WARPS or stages not in TILED_STAGES):
            pruned += 1
            continue
        kept.append(TritonConfig(tile=tile, num_warps=warps, num_stages=stages, precision=prec, kernel=kernel))
    return kept, pruned
