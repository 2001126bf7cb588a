"""Tune specs for a GPU over head-dim/chunk shapes and store the winners in the database."""
from __future__ import annotations

import importlib.metadata as md
from dataclasses import asdict, replace

from titans_kernels.backends.triton_backend.codegen import supported
from titans_kernels.backends.launch_config import (KERNELS, TILELANG_KERNELS, TUNABLES, TritonConfig, onepass_problem,
                                                   tiled_supported)
from titans_kernels.backends.tilelang_backend import KERNELS as TILELANG
from titans_kernels.compiler import compile as compile_rule
from titans_kernels.ir import MemoryIR

from . import predicted, space
from titans_kernels.tuning import GPU, Record, TuningDB, bucket

QUICK = {"tiles": (32,), "warps": (4, 8), "stages": (1, 2)}


def _versions() -> dict:
    out = {}
    for pkg in ("torch", "triton", "tilelang", "titans-kernels"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def _space(ir: MemoryIR, head_dim: int, chunk_size: int, quick: bool, dtype: str = "float32",
           kernels: tuple[str, ...] = ("generic",)):
    # tf32 products for half-precision inputs only: float32 inputs keep exact (ieee) products
    configs, pruned = space.candidates(ir, head_dim, chunk_size, allow_tf32=dtype != "float32", kernels=kernels)
    if quick:   # the one-pass forward at its defaults and staged
        configs = [c for c in configs if (c.tile in QUICK["tiles"] and c.num_warps in QUICK["warps"]
                                          and c.num_stages in QUICK["stages"] and c.kernel != "onepass")
                   or (c.kernel == "onepass" and c.tile == 64 and c.num_warps == 8)] or configs[:1]
    return configs, pruned


def tune_spec(ir: MemoryIR, gpu: GPU, head_dim: int, chunk_size: int, dtype: str, quick: bool = False,
              progress=None, backend: str = "triton") -> tuple[Record | None, list[predicted.Candidate], int]:
    """Predicted tuning of one spec and shape: (record or None, ranked candidates, pruned)."""
    configs, pruned = _space(ir, head_dim, chunk_size, quick, dtype)
    ranked = predicted.tune(ir, gpu, configs, head_dim, chunk_size, dtype, progress=progress, backend=backend)
    discarded = sum(1 for c in ranked if c.time_s is None)
    best = ranked[0] if ranked and ranked[0].time_s is not None else None
    if best is None:
        return None, ranked, pruned
    rec = Record(spec_hash=ir.spec_hash, spec=ir.name, backend=backend, arch=gpu.arch, gpu=gpu.key,
                 dtype=dtype, bucket=bucket(head_dim, chunk_size), config=asdict(best.config), tuner="predicted",
                 time_s=best.time_s, candidates=len(ranked), pruned=pruned + discarded, versions=_versions())
    return rec, ranked, pruned


def tunable(spec: str) -> MemoryIR | None:
    ir = compile_rule(spec, backend="torch").ir
    return ir if supported(ir) is None else None


def save(records: list[Record], db: TuningDB) -> None:
    if records:
        db.save(records)


def measure_spec(ir: MemoryIR, gpu: GPU, head_dim: int, chunk_size: int, dtype: str, quick: bool = False,
                 timer=None, check=None, progress=None, batch_heads: int = 128, tokens: int = 8192,
                 backend: str = "triton", train_timer=None, train_check=None):
    """Measured tuning on the local GPU: (record or None, ranked candidates, pruned).

    timer(cfg) -> seconds and check(cfg) -> bool default to CUDA-event timing of the forward and
    a comparison with the torch backend on the same inputs. For depth-2 Triton rules the winning
    forward config is then timed with each backward kernel (train_timer: forward+backward;
    train_check: gradients against the torch backend's), and the faster one that checks is kept;
    the ranked list gains those candidates."""
    from . import measured

    # the measured tuner also times the tiled and one-pass forwards (Triton, depth 2); the predicted
    # tuner's cost model describes the generic kernel only, so it ranks generic configs
    # the tilelang backend: its generic kernel and the resident one (where the weights fit on chip)
    kernels = tuple(k for k in KERNELS if k not in TILELANG_KERNELS) if backend == "triton" else TILELANG
    configs, pruned = _space(ir, head_dim, chunk_size, quick, dtype, kernels)
    choose_backward = (backend == "tilelang" or tiled_supported(ir) or onepass_problem(ir) is None)
    if timer is None or check is None or (choose_backward and (train_timer is None or train_check is None)):
        defaults = _gpu_timers_and_checks(ir, head_dim, chunk_size, dtype, batch_heads, tokens, backend)
        timer, check = timer or defaults[0], check or defaults[1]
        train_timer, train_check = train_timer or defaults[2], train_check or defaults[3]
    ranked = measured.tune(configs, timer, check, progress=progress)
    best = ranked[0] if ranked and ranked[0].time_s is not None and not ranked[0].reason else None
    if best is None:
        return None, ranked, pruned
    config = best.config
    if choose_backward:
        config, trained = _choose_backward(ir, best.config, train_timer, train_check, progress, backend)
        ranked = ranked + trained
    rec = Record(spec_hash=ir.spec_hash, spec=ir.name, backend=backend, arch=gpu.arch, gpu=gpu.key,
                 dtype=dtype, bucket=bucket(head_dim, chunk_size), config=asdict(config), tuner="measured",
                 time_s=best.time_s, candidates=len(ranked),
                 pruned=pruned + sum(1 for c in ranked if c.time_s is None), versions=_versions())
    return rec, ranked, pruned


def _choose_backward(ir: MemoryIR, forward: TritonConfig, train_timer, train_check, progress=None,
                     backend: str = "triton"):
    """(config with the faster backward kernel that checks, or the forward's own if none does;
    the backward candidates that cover `ir`, timed as forward+backward)."""
    from . import measured

    if backend == "tilelang":   # the resident backward where the resident forward fits
        backwards = [k for k in TILELANG if k == "generic" or forward.kernel == k]
    else:
        covers = {"generic": True, "tiled": tiled_supported(ir), "onepass": onepass_problem(ir) is None}
        backwards = [k for k in TUNABLES["backward"].values if covers.get(k, False)]
    ranked = measured.tune([replace(forward, backward=kernel) for kernel in backwards], train_timer, train_check,
                           progress=progress)
    win = ranked[0] if ranked[0].time_s is not None and not ranked[0].reason else None
    return (win.config if win is not None else forward), ranked


def _gpu_timers_and_checks(ir: MemoryIR, head_dim: int, chunk_size: int, dtype: str, batch_heads: int, tokens: int,
                           backend: str = "triton"):
    """(timer, check) of the forward and (train_timer, train_check) of forward+backward on the local
    GPU, against the torch backend on the same random inputs."""
    import torch

    from titans_kernels.backends.tilelang_backend import TileLangRule
    from titans_kernels.backends.triton_backend import TritonRule
    from titans_kernels.testing import random_inputs, rel_error

    from .measured import cuda_timer

    dt = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    g = torch.Generator().manual_seed(0)
    inputs = random_inputs(ir, 1, batch_heads, tokens, head_dim, chunk_size, dtype=dt, generator=g)
    inputs = type(inputs)(*(x.cuda() if x is not None else None for x in inputs.args()))
    ref_rule = compile_rule(ir.name, backend="torch")
    state = ref_rule.init_state(1, batch_heads, head_dim, generator=g).to("cuda")
    with torch.no_grad():
        ref, _ = ref_rule(*inputs.args(), state=state, chunk_size=chunk_size)

    def rule_for(cfg):
        return (TileLangRule if backend == "tilelang" else TritonRule)(ir, config=cfg)

    def run_for(cfg):
        rule = rule_for(cfg)

        def go():
            with torch.no_grad():
                return rule(*inputs.args(), state=state, chunk_size=chunk_size)[0]
        return go

    def check(cfg) -> bool:
        return rel_error(run_for(cfg)(), ref) < (1e-2 if dt != torch.float32 else 1e-4)

    def train_for(rule):
        args = [x.detach().clone().requires_grad_() if x is not None else None for x in inputs.args()]
        leaves = [x for x in args if x is not None]

        def go():
            out, _ = rule(*args, state=state, chunk_size=chunk_size)
            return torch.autograd.grad(out.float().square().mean(), leaves)
        return go

    ref_grads = []

    def train_check(cfg) -> bool:
        if not ref_grads:
            ref_grads.extend(train_for(ref_rule)())
        grads = train_for(rule_for(cfg))()
        return all(rel_error(g, r) < (3e-2 if dt != torch.float32 else 1e-3) for g, r in zip(grads, ref_grads))

    return cuda_timer(run_for), check, cuda_timer(lambda cfg: train_for(rule_for(cfg)), 3), train_check
