"""The predicted tuner: compile every candidate ahead of time for the target GPU, discard what
spills or does not fit, and rank the rest with a roofline-and-occupancy cost model."""
from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass

from titans_kernels import settings

from titans_kernels.backends.triton_backend.aot import KernelReport, compile_report
from titans_kernels.backends.launch_config import TritonConfig
from titans_kernels.errors import InputError
from titans_kernels.ir import MemoryIR

from titans_kernels.tuning.gpus import GPU


MAX_WORKERS = 8   # compile processes at once (each takes a core and a few hundred MB)


@dataclass
class Candidate:
    config: TritonConfig
    report: KernelReport | None
    time_s: float | None
    reason: str = ""                 # why it was discarded ("" when kept)


def occupancy(gpu: GPU, report: KernelReport, warps: int) -> int:
    """Programs resident per SM, from registers, shared memory and threads."""
    threads = warps * (64 if gpu.vendor == "amd" else 32)
    regs = max(report.registers or 1, 1)
    by_regs = gpu.regs_per_sm // (regs * threads)
    by_smem = (gpu.smem_per_sm_kib * 1024) // max(report.shared_bytes, 1)
    by_threads = gpu.max_threads_per_sm // threads
    return max(0, min(by_regs, by_smem, by_threads))


def predict_time(ir: MemoryIR, gpu: GPU, cfg: TritonConfig, report: KernelReport, programs: int,
                 tokens: int, head_dim: int, chunk_size: int, backend: str = "triton") -> float | None:
    """Seconds for one forward over `programs` (batch*heads) rows of `tokens` tokens.

    Each program runs its chunks in order; per chunk it does the dual form's multiply-adds at a
    per-program share of the SM's rate (tensor cores for tf32, FMA otherwise), scaled by how
    well its warps hide latency, and moves each GEMM operand tile through L2 once per
    `tile`-wide step, at a per-program share of the memory bandwidth. Waves of resident programs
    run one after another. A ranking heuristic, not a promise.
    """
    per_sm = occupancy(gpu, report, cfg.num_warps)
    if per_sm == 0:
        return None
    flops = 2 * ir.macs_per_chunk(head_dim, chunk_size) * 2          # forward + gradient re-use, x2 for FMA
    tensor_cores = cfg.precision == "tf32" or backend == "tilelang"  # TileLang's fp32 T.gemm is tf32
    rate_sm = (gpu.tensor_tflops_tf32 if tensor_cores else gpu.fp32_tflops) * 1e12 / gpu.sms
    warps_resident = per_sm * cfg.num_warps
    latency_hiding = min(1.0, warps_resident / 16) * (1.0 - 0.25 / cfg.num_stages)
    compute = flops / (rate_sm / per_sm * latency_hiding)
    operand_bytes = flops / 2 * (2.0 / cfg.tile) * 4             # two operand loads per MAC / tile reuse
    bandwidth_sm = gpu.bandwidth_gbs * 1e9 * 3.0 / gpu.sms        # L2 ~3x HBM
    memory = operand_bytes / (bandwidth_sm / per_sm)
    chunks = math.ceil(tokens / chunk_size)
    waves = math.ceil(programs / (per_sm * gpu.sms))
    return waves * chunks * max(compute, memory)


def report_for(backend: str, ir: MemoryIR, gpu: GPU, head_dim: int, chunk_size: int, dtype: str, cfg: TritonConfig):
    """The ahead-of-time resource report of one candidate for `backend`, from the report cache
    when this exact compile (IR, target, shape, config, compiler versions) was done before."""
    key = _report_key(backend, ir, gpu.aot_target, head_dim, chunk_size, dtype, cfg)
    path = settings.cache_dir() / "aot-reports" / f"{key}.json"
    report_type = KernelReport
    if backend == "tilelang":
        from titans_kernels.backends.tilelang_backend import aot as tl_aot
        report_type = tl_aot.TileLangReport
    try:
        return report_type(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):   # not cached yet, or from another layout: compile
        pass
    if backend == "tilelang":
        rep = tl_aot.compile_report(ir, gpu.aot_target, D=head_dim, chunk_size=chunk_size, cfg=cfg)
    else:
        rep = compile_report(ir, gpu.aot_target, D=head_dim, chunk_size=chunk_size, dtype=dtype, cfg=cfg)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(asdict(rep)))
        os.replace(tmp, path)
    except OSError:   # a cache that cannot be written only costs the next run its time
        pass
    return rep


def _report_key(backend, ir, target, head_dim, chunk_size, dtype, cfg) -> str:
    import importlib.metadata as md
    versions = {}
    for pkg in ("triton", "tilelang", "titans-kernels"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    blob = json.dumps([backend, ir.to_dict(), target, head_dim, chunk_size, dtype, asdict(cfg), versions], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _candidate(args) -> Candidate:
    """Compile and judge one candidate (run in a worker process)."""
    backend, ir, gpu, cfg, head_dim, chunk, dtype, programs, tokens = args
    try:
        rep = report_for(backend, ir, gpu, head_dim, chunk, dtype, cfg)
    except Exception as exc:  # noqa: BLE001 - a candidate that does not compile is discarded
        return Candidate(cfg, None, None, f"does not compile: {type(exc).__name__}")
    if rep.spill_bytes:
        return Candidate(cfg, rep, None, f"spills {rep.spill_bytes} bytes")
    if rep.shared_bytes > gpu.smem_per_block_kib * 1024:
        return Candidate(cfg, rep, None, "shared memory over the per-block limit")
    t = predict_time(ir, gpu, cfg, rep, programs, tokens, head_dim, chunk, backend)
    return Candidate(cfg, rep, t, "" if t is not None else "no program fits on an SM")


def check_backend(backend: str, gpu: GPU) -> None:
    if backend == "tilelang" and gpu.aot_target not in ("sm_80", "sm_90"):
        raise InputError(f"the tilelang backend lowers for sm_80 and sm_90a only; {gpu.name} is {gpu.arch} "
                         f"(tune it with --backend triton)")


def tune(ir: MemoryIR, gpu: GPU, configs: list[TritonConfig], head_dim: int, chunk_size: int, dtype: str,
         programs: int = 128, tokens: int = 8192, progress=None, backend: str = "triton") -> list[Candidate]:
    """Every candidate with its report and predicted time (None when discarded), best first."""
    check_backend(backend, gpu)
    if progress is not None and hasattr(progress, "set_total"):
        progress.set_total(len(configs))
    jobs = [(backend, ir, gpu, cfg, head_dim, chunk_size, dtype, programs, tokens) for cfg in configs]
    workers = min(len(jobs), os.cpu_count() or 1, MAX_WORKERS)
    out = []
    if workers <= 1:
        results = map(_candidate, jobs)
        pool = None
    else:   # each compile is single-threaded: one process per core (spawned: no forked torch state)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        results = (f.result() for f in as_completed([pool.submit(_candidate, job) for job in jobs]))
    try:
        for cand in results:
            out.append(cand)
            if progress is not None:
                progress(cand)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    out.sort(key=lambda c: configs.index(c.config))   # completion order varies: ties keep the search order
    return sorted(out, key=lambda c: (c.time_s is None, c.time_s or 0.0))
