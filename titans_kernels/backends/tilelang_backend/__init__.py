"""TileLang backend: the forward chunk loop generated from the same IR as the Triton kernels.

CUDA tensors run the kernel lowered for the local GPU; CPU tensors run the same program
through TileLang's C target (float32), which is how it is checked without a GPU.
"""
from __future__ import annotations

import functools
from dataclasses import replace

import torch

from ...errors import BackendError, InputError
from ..base import register
from ..kernel_rule import KernelRule
from ..state import MemoryState
from ..launch_config import TritonConfig, check_shape, gpu_problem
from .codegen import TF32, TileConfig


def tilelang_available() -> str | None:
    """None when usable, else the reason it is not."""
    try:
        import tilelang  # noqa: F401
    except ImportError:
        return "tilelang is not installed (pip install 'titans-kernels[tilelang]')"
    except Exception as exc:  # a broken native install: say so in one line
        return f"tilelang failed to import ({type(exc).__name__}: {exc})"
    return None


DEFAULT_CONFIG = TritonConfig(tile=32, num_warps=4, num_stages=2)


def default_config(ir) -> TritonConfig:
    """Safe defaults per IR until tuned: the config under which no forward kernel spills at
    D=64, chunk 64 on sm_80 or sm_90a (nvcc -Xptxas -v): 8 warps for residual rules (an extra
    operand in two epilogues), 4 otherwise."""
    return TritonConfig(tile=32, num_warps=8, num_stages=2) if ir.residual else DEFAULT_CONFIG


def backward_config(ir, forward: TritonConfig | None = None) -> TritonConfig:
    """Launch parameters of the backward kernel (chosen apart from the forward's): 4 warps, the
    fewest spills on sm_90a at D=64 for every shipped rule (docs/design.md); the kernel the
    forward's config names as its backward (generic or resident), at `backward_precision`."""
    if forward is None:
        return DEFAULT_CONFIG
    return replace(DEFAULT_CONFIG, backward=forward.backward, precision=backward_precision(forward.precision))


def backward_precision(precision: str) -> str:
    """The backward's products: tf32 where the forward's read takes tensor-core precision (bf16
    becomes tf32: its gradients are sums of many small products), float32 tiles otherwise."""
    return "tf32" if precision in ("tf32", "bf16") else "ieee"


KERNELS = ("generic", "resident")
# shared memory per block (bytes, opt-in maximum) of the targets the kernels are compiled for; the
# CPU flavour plans with the H100's so that the C target runs the placement an H100 would
SHARED_PER_BLOCK = {"sm_80": 163 * 1024, "sm_90a": 227 * 1024}
CPU_PLAN_TARGET = "sm_90a"


def shared_per_block(on_gpu: bool, target: str | None = None) -> int:
    """Shared memory one block may use: the named target's, the local GPU's, or (CPU) the H100's."""
    if target is not None:
        return SHARED_PER_BLOCK[target]
    if on_gpu:
        return torch.cuda.get_device_properties(torch.cuda.current_device()).shared_memory_per_block_optin
    return SHARED_PER_BLOCK[CPU_PLAN_TARGET]


@functools.lru_cache(maxsize=256)
def cluster_for(ir, cfg: TritonConfig, heads: int, sms: int, D: int, chunk_size: int, target: str | None = None) -> int:
    """Blocks per head of the resident forward: the largest cluster (4, then 2) whose blocks for
    `heads` programs (batch x heads) all fit on `sms` SMs at once and that covers the rule and fits
    its shared memory (that of `target`, or of the local GPU); 1 otherwise (and on a CPU, sms = 0)."""
    from .codegen import forward_problem
    for c in (4, 2):
        if heads * c > sms:
            continue
        tc = tile_config(replace(cfg, kernel="resident", cluster=c), D, chunk_size, on_gpu=True, target=target)
        if forward_problem(ir, tc) is None:
            return c
    return 1


def tile_config(cfg: TritonConfig, D: int, chunk_size: int, on_gpu: bool, kind: str = "fwd",
                target: str | None = None) -> TileConfig:
    """The shared launch config as the TileLang generator's parameters; the forward ("fwd") or
    backward ("bwd") kernel is "resident" (cfg.kernel / cfg.backward) when it holds state in the
    shared memory of `target` (or of the local device)."""
    which = cfg.kernel if kind == "fwd" else cfg.backward
    if which not in KERNELS:
        field = "kernel" if kind == "fwd" else "backward"
        raise InputError(f"config {field}='{which}' is a Triton kernel; the tilelang backend has "
                         f"{' and '.join(KERNELS)} (use backend='triton', or {field}='generic')")
    if cfg.cluster != 1 and cfg.kernel != "resident":
        raise InputError(f"config cluster={cfg.cluster} applies to kernel='resident' (the forward's state slices "
                         f"live in the cluster's shared memory); set kernel='resident' or cluster=1")
    onchip = shared_per_block(on_gpu, target) if which == "resident" else 0
    operands = TileConfig.operands
    if on_gpu and kind == "fwd":
        operands = operand_dtypes(cfg)
    elif on_gpu:   # the backward, its re-run of the forward included: one precision for every product
        operands = (OPERANDS[backward_precision(cfg.precision)],) * 3
    return TileConfig(D=D, b=chunk_size, tile=cfg.tile_for(D, chunk_size), threads=32 * cfg.num_warps, stages=cfg.num_stages,
                      flavour="gpu" if on_gpu else "cpu", onchip=onchip, cluster=cfg.cluster if kind == "fwd" else 1,
                      operands=operands)


# operand tiles of the products per precision name: float32 tiles run as tf32 on tensor cores
# (TileLang has no exact float32 tensor-core product), bf16 rounds them to bfloat16
OPERANDS = {"ieee": "float32", "tf32": TF32, "bf16": "bfloat16"}


def operand_dtypes(cfg: TritonConfig) -> tuple[str, str, str]:
    """The forward's operand tiles for its read, key-path and state-update products (precision,
    key_precision, update_precision; None: as precision). The C target runs float32 throughout."""
    groups = (cfg.precision, cfg.key_precision or cfg.precision, cfg.update_precision or cfg.precision)
    for p in groups:
        if p not in OPERANDS:
            raise InputError(f"precision '{p}' is not a tilelang product precision; use ieee or tf32 (float32 "
                             f"tiles, tf32 on tensor cores) or bf16")
    return tuple(OPERANDS[p] for p in groups)


@register("tilelang")
class TileLangRule(KernelRule):
    """Same call contract as the torch backend; forward and backward are generated TileLang
    kernels (the backward walks the checkpoints the forward writes).

    config: fixed launch config of the forward; else the tuning database's tilelang record for the
    local GPU (or `tuned_for`), else default_config(ir); the backward uses backward_config(ir).
    backward: "kernel" (the generated TileLang backward) or "torch" (the torch backend's
    hand-derived walk from the same checkpoints)."""

    backend = "tilelang"

    def __init__(self, ir, config: TritonConfig | None = None, checkpoint_group: int | None = None,
                 tuned_for: str | None = None, tuning_dir: str | None = None, backward: str = "kernel"):
        if backward not in ("kernel", "torch"):
            raise BackendError(f"backward='{backward}' unknown; use 'kernel' or 'torch'")
        reason = tilelang_available()
        if reason:
            raise BackendError(f"backend 'tilelang' unavailable: {reason}")
        if gpu_problem(ir):
            raise InputError(f"backend 'tilelang' does not cover spec '{ir.name}': {gpu_problem(ir)}")
        super().__init__(ir, config, checkpoint_group, tuned_for, tuning_dir)
        self.backward = backward

    def default_config(self) -> TritonConfig:
        return default_config(self.ir)

    def _run(self, q, k, v, theta, eta, alpha, state: MemoryState, chunk_size: int):
        from .function import TileLangFunction
        from .launch import onchip_plan

        D = q.shape[-1]
        check_shape(max(l.out_mult for l in self.ir.layers), D, chunk_size, backend="tilelang")
        on_gpu = q.device.type == "cuda"
        cfg = self._config_for(q, D, chunk_size)
        clusters = on_gpu and torch.cuda.get_device_capability(q.device)[0] >= 9   # sm_90 and later
        if cfg.cluster > 1 and on_gpu and not clusters:   # (the C target runs the blocks in turn)
            raise InputError(f"config cluster={cfg.cluster} needs thread-block clusters (an sm_90 or later GPU); "
                             f"use cluster=1 (or 0: chosen per call)")
        if cfg.cluster == 0:   # blocks per head from batch x heads against the SM count
            sms = torch.cuda.get_device_properties(q.device).multi_processor_count if clusters else 0
            cfg = replace(cfg, cluster=cluster_for(self.ir, cfg, q.shape[0] * q.shape[1], sms, D, chunk_size))
            self.last_config = cfg
        cfgs = (tile_config(cfg, D, chunk_size, on_gpu),
                tile_config(backward_config(self.ir, cfg), D, chunk_size, on_gpu, kind="bwd"))
        for kind, tc in zip(("fwd", "bwd"), cfgs):  # a resident kernel's fit, before any work
            if tc.onchip:
                onchip_plan(self.ir, tc, kind)
        return self._apply(TileLangFunction, (self.ir, cfgs, chunk_size, self.checkpoint_group, self.backward),
                           q, k, v, theta, eta, alpha, state)
