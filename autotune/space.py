"""Search space of the Triton kernels' launch configuration, derived from the IR and shape and
pruned by hard limits before anything is compiled."""
from __future__ import annotations

import itertools

from titans_kernels.backends.triton_backend.config import TritonConfig, tiled_supported
from titans_kernels.ir import MemoryIR

TILES = (16, 32, 64)
WARPS = (2, 4, 8)
STAGES = (1, 2, 3)
# The tiled forward keeps a chunk's token-side matrices in one program: with 2 warps it spills
# 6.5 KB (ptxas, sm_90, titans_mlp2, D=64, tile 16, tf32) against 64 bytes with 8, and a third
# pipeline stage adds shared memory and spills (148 bytes) to its hidden-tile loops
TILED_WARPS = (4, 8)
TILED_STAGES = (1, 2)
# The tiled forward is tried fused (TritonConfig.fuse, its default: less work for a few dozen
# more bytes of spills); benchmarks/gpu/sweep_configs.py times it against three passes.


def candidates(ir: MemoryIR, head_dim: int, chunk: int, allow_tf32: bool = False,
               kernels: tuple[str, ...] = ("generic",)) -> tuple[list[TritonConfig], int]:
    """(candidates, number pruned by hard limits). A tile must divide the head dim and the chunk
    (every GEMM dimension is a multiple of one of them); tf32 only when allowed; the tiled
    forward kernel only for the IRs it covers, with 4 or 8 warps and 1 or 2 stages."""
    precisions = ("ieee", "tf32") if allow_tf32 else ("ieee",)
    kernels = tuple(k for k in kernels if k != "tiled" or tiled_supported(ir))
    kept, pruned = [], 0
    for kernel, tile, warps, stages, prec in itertools.product(kernels, TILES, WARPS, STAGES, precisions):
        if tile > min(head_dim, chunk) or head_dim % tile or chunk % tile:
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
