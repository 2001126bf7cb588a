"""Tune specs for a GPU over head-dim/chunk shapes and store the winners in the database."""
from __future__ import annotations

import importlib.metadata as md
from dataclasses import asdict

from titans_kernels.backends.triton_backend.codegen import supported
from titans_kernels.compiler import compile as compile_rule
from titans_kernels.ir import MemoryIR

from . import predicted, space
from .catalogue import GPU
from .db import Record, TuningDB, bucket

QUICK = {"tiles": (32,), "warps": (4, 8), "stages": (1, 2)}


def _versions() -> dict:
    out = {}
    for pkg in ("torch", "triton", "titans-kernels"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def tune_spec(ir: MemoryIR, gpu: GPU, head_dim: int, chunk: int, dtype: str, quick: bool = False,
              progress=None) -> tuple[Record | None, list[predicted.Candidate], int]:
    """Predicted tuning of one spec and shape: (record or None, ranked candidates, pruned)."""
    configs, pruned = space.candidates(ir, head_dim, chunk)
    if quick:
        configs = [c for c in configs if c.tile in QUICK["tiles"] and c.num_warps in QUICK["warps"]
                   and c.num_stages in QUICK["stages"]] or configs[:1]
    ranked = predicted.tune(ir, gpu, configs, head_dim, chunk, dtype, progress=progress)
    discarded = sum(1 for c in ranked if c.time_s is None)
    best = ranked[0] if ranked and ranked[0].time_s is not None else None
    if best is None:
        return None, ranked, pruned
    rec = Record(spec_hash=ir.spec_hash, spec=ir.name, backend="triton", arch=gpu.arch, gpu=gpu.key,
                 dtype=dtype, bucket=bucket(head_dim, chunk), config=asdict(best.config), tuner="predicted",
                 time_s=best.time_s, candidates=len(ranked), pruned=pruned + discarded, versions=_versions())
    return rec, ranked, pruned


def tunable(spec: str) -> MemoryIR | None:
    ir = compile_rule(spec, backend="torch").ir
    return ir if supported(ir) is None else None


def save(records: list[Record], db: TuningDB) -> None:
    if records:
        db.save(records)
