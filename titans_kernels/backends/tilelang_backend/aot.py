"""Ahead-of-time lowering of the TileLang kernel for a GPU that need not be present.

`compile_report(ir, "sm_90a")` lowers the generated program to CUDA for the target (a dict
target inside a `tvm.target.Target` context), compiles the CUDA source with nvcc
(`-cubin -Xptxas -v`, TileLang's headers and CUTLASS on the include path) and reads back the
source size, registers, spill bytes, where the spill instructions sit by loop depth, and shared
memory (static from ptxas plus the dynamic shared memory the lowering planned).
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ... import settings
from ...errors import BackendError, InputError
from ...ir import MemoryIR
from ..kernel_report import (
    cubin_spill_sites,
    ptxas_figures,
    report_fields,
    report_lines,
)
from ..launch_config import TritonConfig, check_shape

TARGETS = {"sm_80": "sm_80", "sm_90a": "sm_90a", "sm_90": "sm_90a"}


@dataclass
class TileLangReport:
    spec: str
    target: str
    kernel: str
    head_dim: int
    chunk: int
    config: dict
    cuda_source_bytes: int
    registers: int | None
    spill_bytes: int
    shared_bytes: int
    instructions: int | None = None        # SASS instructions
    spill_sites: list[int] | None = None   # spill stores/reloads by loop depth (kernel_report.py)
    hgmma_sites: list[int] | None = None   # tensor-core products by loop depth: warpgroup (sm_90)
    hmma_sites: list[int] | None = None    # and warp-level
    onchip: list[str] | None = None        # buffers held in shared memory (resident kernel)
    onchip_bytes: int = 0

    def lines(self) -> list[str]:
        c = self.config
        return [f"{self.kernel} for {self.target} (tilelang, D={self.head_dim}, chunk={self.chunk}, "
                f"tile={c['tile']}, threads={32 * c['num_warps']}, stages={c['num_stages']})",
                f"  generated CUDA: {self.cuda_source_bytes} bytes",
                f"  registers/thread: {self.registers if self.registers is not None else 'n/a'}",
                f"  spills: {self.spill_bytes} bytes",
                *report_lines(self.instructions, self.spill_sites, (), self.hgmma_sites, self.hmma_sites),
                f"  shared memory: {self.shared_bytes} bytes"
                + (f" ({self.onchip_bytes} on chip for the whole kernel: {', '.join(self.onchip)})" if self.onchip else "")]


def check_target(target: str) -> None:
    if target not in TARGETS:
        raise InputError(f"unknown tilelang target '{target}'; known: sm_80, sm_90a")


def _nvcc() -> str:
    found = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if Path("/usr/local/cuda/bin/nvcc").exists() else None)
    if not found:
        raise BackendError("nvcc not found; install the CUDA toolkit (or put nvcc on PATH) to compile TileLang kernels")
    return found


def lower_cuda(ir: MemoryIR, target: str, D: int, chunk_size: int, cfg: TritonConfig, kind: str = "fwd") -> tuple[str, int]:
    """(CUDA source, dynamic shared memory bytes) of the forward ("fwd") or backward ("bwd")
    kernel lowered for `target`."""
    import tilelang
    from tilelang import tvm

    from . import tile_config
    from .launch import PASS_CONFIGS, load_source

    if cfg.cluster > 1 and kind == "fwd" and TARGETS[target] == "sm_80":
        raise InputError(f"cluster={cfg.cluster} needs thread-block clusters, which sm_80 lacks; use --target sm_90a "
                         f"or cluster 1")
    _, func, _ = load_source(ir, tile_config(cfg, D, chunk_size, on_gpu=True, kind=kind, target=TARGETS[target]), kind)
    with tvm.transform.PassContext(config=PASS_CONFIGS), tvm.target.Target({"kind": "cuda", "arch": TARGETS[target]}):
        artifact = tilelang.lower(func)
    dyn = 0
    for _, fn in artifact.device_mod.functions.items():
        attrs = fn.attrs or {}
        if "dyn_shared_memory_buf" in attrs:
            dyn = max(dyn, int(attrs["dyn_shared_memory_buf"]))
    return artifact.kernel_source, dyn


def compile_report(ir: MemoryIR, target: str, D: int = 64, chunk_size: int = 64,
                   cfg: TritonConfig | None = None, kind: str = "fwd") -> TileLangReport:
    """Lower, nvcc-compile and report the TileLang forward ("fwd") or backward ("bwd") kernel of
    `ir` for `target`."""
    from . import backward_config, default_config, tile_config, tilelang_available
    from .codegen import forward_name
    from .codegen_bwd import kernel_name_bwd
    from .launch import onchip_plan

    check_target(target)
    reason = tilelang_available()
    if reason:
        raise BackendError(f"backend 'tilelang' unavailable: {reason}")
    check_shape(max(l.out_mult for l in ir.layers), D, chunk_size, backend="tilelang")
    cfg = cfg or (default_config(ir) if kind == "fwd" else backward_config(ir))
    source, dyn = lower_cuda(ir, target, D, chunk_size, cfg, kind)
    import tilelang
    root = Path(tilelang.__file__).parent
    with tempfile.TemporaryDirectory() as tmp:
        cu = Path(tmp) / "kernel.cu"
        cu.write_text(source)
        cmd = [_nvcc(), "-std=c++17", f"-arch={TARGETS[target]}", "-cubin", "-Xptxas", "-v", "-w",
               f"-I{root / 'src'}", f"-I{root / '3rdparty' / 'cutlass' / 'include'}", str(cu),
               "-o", str(Path(tmp) / "kernel.cubin")]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=settings.environ())
        sites = cubin_spill_sites((Path(tmp) / "kernel.cubin").read_bytes()) if proc.returncode == 0 else None
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        first = next((ln for ln in text.splitlines() if "error" in ln), text.strip().splitlines()[-1:])
        raise BackendError(f"nvcc failed on the generated TileLang kernel: {first}")
    regs, spills, smem = ptxas_figures(text)
    tc = tile_config(cfg, D, chunk_size, on_gpu=True, kind=kind, target=TARGETS[target])
    name = forward_name(ir, tc) if kind == "fwd" else kernel_name_bwd(ir)
    placed, placed_bytes = onchip_plan(ir, tc, kind)
    return TileLangReport(spec=ir.name, target=target, kernel=name, head_dim=D, chunk=chunk_size,
                          config=asdict(cfg), cuda_source_bytes=len(source.encode()),
                          registers=regs, spill_bytes=spills, shared_bytes=smem + dyn,
                          **report_fields(sites), onchip=list(placed) or None, onchip_bytes=placed_bytes)
