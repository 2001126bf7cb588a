"""Search space of the Triton kernels' launch configuration, derived from the IR and shape and
pruned by hard limits before anything is compiled."""
from __future__ import annotations

import itertools

from titans_kernels.backends.launch_config import (
    TUNABLES,
    TritonConfig,
    onepass_config,
    onepass_problem,
    tiled_supported,
)
from titans_kernels.ir import MemoryIR

# the grids declared with each field's legal values (launch_config.TUNABLES). The tiled forward
# keeps a chunk's token-side matrices in one program, so it is tried with fewer warp and stage
# counts (its spills grow outside them; docs/design.md); fused, its default.
TILES = TUNABLES["tile"].search
WARPS = TUNABLES["num_warps"].search
STAGES = TUNABLES["num_stages"].search
TILED_WARPS = TUNABLES["num_warps"].tiled_search
TILED_STAGES = TUNABLES["num_stages"].tiled_search
# The one-pass forward: hidden tiles of 32 and 64 units (every product at least 32 rows; 64 is a
# warpgroup product), 4 or 8 warps, one stage (its loop carries no software pipeline), staged
# operands or not, and product precisions by group (read/key/update): exact or near-exact for
# float32 inputs, tf32 or a bf16 read for half-precision ones (a bf16 key path or update breaks
# the error bound at long sequences: docs/design.md, "Product precision by group").
ONEPASS_TILES = (32, 64)
ONEPASS_WARPS = (4, 8)
ONEPASS_PRECISIONS = {False: (("ieee", None, None), ("bf16x3", None, None)),
                      True: (("tf32", None, None), ("bf16", "tf32", "tf32"))}


def candidates(ir: MemoryIR, head_dim: int, chunk_size: int, allow_tf32: bool = False,
               kernels: tuple[str, ...] = ("generic",)) -> tuple[list[TritonConfig], int]:
    """(candidates, number pruned by hard limits). A tile must divide the head dim and the chunk
    (every GEMM dimension is a multiple of one of them); tf32 only when allowed; the tiled
    forward kernel only for the IRs it covers, with 4 or 8 warps and 1 or 2 stages; the one-pass
    forward (kernels containing "onepass") on its own grid."""
    precisions = ("ieee", "tf32") if allow_tf32 else ("ieee",)
    kernels = tuple(k for k in kernels if k != "tiled" or tiled_supported(ir))
    kept, pruned = [], 0
    if "onepass" in kernels:
        kept, pruned = _onepass_candidates(ir, head_dim, chunk_size, allow_tf32)
    for kernel, tile, warps, stages, prec in itertools.product([k for k in kernels if k != "onepass"], TILES, WARPS,
                                                              STAGES, precisions):
        if tile > min(head_dim, chunk_size) or head_dim % tile or chunk_size % tile:
            pruned += 1
            continue
        if tile * tile < 32 * warps:  # fewer tile elements than threads: idle lanes
            pruned += 1
            continue
        if kernel == "tiled" and (warps not in TILED_WARPS or stages not in TILED_STAGES):
            pruned += 1
            continue
        if kernel == "resident" and resident_problem(ir, head_dim, chunk_size, tile, stages, precision=prec):
            pruned += 1
            continue
        # the resident forward's blocks per head: chosen per call from batch x heads (cluster=0)
        kept.append(TritonConfig(tile=tile, num_warps=warps, num_stages=stages, precision=prec, kernel=kernel,
                                 cluster=0 if kernel == "resident" else 1))
    return kept, pruned


def resident_problem(ir: MemoryIR, head_dim: int, chunk_size: int, tile: int, stages: int,
                     target: str = "sm_90a", precision: str = "ieee") -> str | None:
    """Why the TileLang resident forward does not fit `target`'s shared memory at this tile, stage
    count and product precision (its operand tiles' size and shape; None when it does): the
    generator's parameters as the rule builds them (`tile_config`)."""
    from titans_kernels.backends.tilelang_backend import tile_config
    from titans_kernels.backends.tilelang_backend.codegen import forward_problem

    cfg = TritonConfig(tile=tile, num_stages=stages, precision=precision, kernel="resident")
    return forward_problem(ir, tile_config(cfg, head_dim, chunk_size, on_gpu=True, target=target))


def _onepass_candidates(ir: MemoryIR, head_dim: int, chunk_size: int, allow_tf32: bool) -> tuple[list[TritonConfig], int]:
    """The one-pass forward's grid (none where it does not cover the IR): a hidden tile must divide
    the hidden width (depth 1 has none); staged operands need the chunk equal to the head dim
    (depth 2 only)."""
    if onepass_problem(ir):
        return [], 0
    hidden = ir.layer_shapes(head_dim)[0][0]
    kept, pruned = [], 0
    # depth 1 (onepass_linear.py) has no hidden tiles; depths 1 and 3 (onepass_deep.py) no staged operands
    tiles = ONEPASS_TILES if ir.depth > 1 else ONEPASS_TILES[-1:]
    stages = (False, True) if ir.depth == 2 else (False,)
    for tile, warps, stage, (prec, kprec, uprec) in itertools.product(
            tiles, ONEPASS_WARPS, stages, ONEPASS_PRECISIONS[allow_tf32]):
        if hidden % tile or (stage and chunk_size != head_dim):
            pruned += 1
            continue
        kept.append(onepass_config(tile=tile, num_warps=warps, stage=stage, precision=prec, key_precision=kprec,
                                   update_precision=uprec))
    return kept, pruned
