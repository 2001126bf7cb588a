"""Benchmark harness: every benchmark also times a plain matrix product of its dtype on its device
in the same run, and records the ratio of the two rates, the figure that survives a noisy or a
different machine. `make bench-compare` gates on that ratio (titans_kernels/perf/gate.py).

Recorded per benchmark (extra_info): tokens_per_s (median), gflops (achieved, median),
matmul_gflops, fraction_of_matmul (achieved FLOP/s over matmul FLOP/s, both from the fastest
round: noise on a shared machine only ever adds time; the matmul is timed before every round,
so both see the same machine), device, dtype.

TITANS_BENCH_THREADS=n pins torch's CPU threads (the gate uses 1: on a small shared machine,
multi-threaded timings swing by tens of percent from run to run).

TITANS_BENCH_PLANT=0.2 makes every timed call 20% slower (a busy wait): how the gate's test
proves that it catches a regression.
"""
from __future__ import annotations

import math
import os
import time
from typing import Callable

import pytest
import torch

from titans_kernels import matmul_engine
from titans_kernels.allocator import keep_heap

_SUMMARY: list[tuple[str, dict]] = []
keep_heap()   # glibc's heap trimming made timings swing by up to 30% between processes
if os.environ.get("TITANS_BENCH_THREADS"):
    torch.set_num_threads(int(os.environ["TITANS_BENCH_THREADS"]))
# eager steps unless a row asks for the compiled ones: "auto" would switch a shape to compiled
# once its rows had run long enough, inside some later row's timed rounds
os.environ.setdefault("TITANS_TORCH_COMPILE", "off")


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def planted(fn: Callable) -> Callable:
    """fn, slowed by the fraction in TITANS_BENCH_PLANT (unset: fn itself)."""
    frac = float(os.environ.get("TITANS_BENCH_PLANT", "0") or 0)
    if frac <= 0:
        return fn

    def slow(*args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        sync(device())
        until = time.perf_counter() + frac * (time.perf_counter() - t0)
        while time.perf_counter() < until:
            pass
        return out
    return slow


class MatmulClock:
    """Times an n^3 matrix product of one dtype on one device, on the engine the torch backend
    uses (`tk.matmul_engine`: the machine's fastest exact float32 route); `tick` adds samples,
    `rate` is the FLOP/s of the fastest sample."""

    def __init__(self, dtype: torch.dtype, dev: torch.device, n: int = 1024):
        self.a = torch.randn(n, n, dtype=dtype, device=dev)
        self.b = torch.randn(n, n, dtype=dtype, device=dev)
        self.dev, self.flops, self.best = dev, 2 * n ** 3, float("inf")
        with matmul_engine(dev):
            self.a @ self.b
        sync(dev)

    def tick(self, reps: int = 2) -> None:
        with matmul_engine(self.dev):
            for _ in range(reps):
                t0 = time.perf_counter()
                self.a @ self.b
                sync(self.dev)
                self.best = min(self.best, time.perf_counter() - t0)

    @property
    def rate(self) -> float:
        return self.flops / self.best


def _conv_backward_flops(grad_out_shape, x_shape, w_shape, *args, output_mask=None, **kwargs) -> int:
    """Grouped-aware FLOPs of aten.convolution_backward: torch's formula ignores `groups` and
    counts a depthwise convolution's backward as a dense one (400x too many for NeuralMemory's)."""
    mask = output_mask if output_mask is not None else args[7]
    per_output = 2 * math.prod(grad_out_shape) * math.prod(w_shape[1:])   # w: (C_out, C_in / groups, *k)
    return per_output * (int(bool(mask[0])) + int(bool(mask[1])))


def _baddbmm_inplace_flops(self_shape, b1_shape, b2_shape, *args, **kwargs) -> int:
    """In-place batched multiply-add: torch's counter knows baddbmm but not baddbmm_."""
    n, m, k = b1_shape
    return 2 * n * m * k * b2_shape[-1]


def count_flops(fn: Callable) -> float:
    """FLOPs of one call of fn, counted by torch's FlopCounterMode (matrix products and
    convolutions; depthwise convolution backward corrected, in-place baddbmm_ added)."""
    from torch.utils.flop_counter import FlopCounterMode
    mapping = {torch.ops.aten.convolution_backward: _conv_backward_flops,
               torch.ops.aten.baddbmm_: _baddbmm_inplace_flops}
    with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        fn()
    return float(counter.get_total_flops())


def run(benchmark, fn: Callable, *, group: str, flops: float, tokens: int, dtype: torch.dtype = torch.float32,
        rounds: int = 10, warmup: int = 1, dev: torch.device | None = None, **extra) -> None:
    """Time fn (pedantic, `rounds`), then the same-run matmul, and record the figures."""
    dev = dev or device()

    def call():
        out = fn()
        sync(dev)
        return out

    clock = MatmulClock(dtype, dev)
    clock.tick(5)
    benchmark.group = group
    benchmark.pedantic(planted(call), setup=clock.tick, rounds=rounds, warmup_rounds=warmup)
    stats = benchmark.stats.stats
    rate = clock.rate
    info = {
        "tokens_per_s": tokens / stats.median,
        "gflops": flops / stats.median / 1e9,
        "matmul_gflops": rate / 1e9,
        "fraction_of_matmul": flops / stats.min / rate,
        "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
        "dtype": str(dtype).replace("torch.", ""),
        **extra,
    }
    benchmark.extra_info.update(info)
    _SUMMARY.append((benchmark.name, info))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    if not _SUMMARY:
        return
    tr = terminalreporter
    tr.section("throughput vs. the same run's 1024^3 matrix product")
    tr.write_line(f"{'benchmark':64s} {'tokens/s':>12s} {'GFLOP/s':>9s} {'matmul':>8s} {'ratio':>7s}")
    for name, info in _SUMMARY:
        tr.write_line(f"{name:64s} {info['tokens_per_s']:12,.0f} {info['gflops']:9.1f} "
                      f"{info['matmul_gflops']:8.1f} {info['fraction_of_matmul']:7.1%}")
