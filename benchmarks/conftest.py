"""Benchmark helpers: a matrix-product reference timed in the same test, and a closing summary.

Every benchmark records `fraction_of_matmul`: its achieved FLOP/s over the FLOP/s of a plain
1024^3 matrix product of the same dtype timed right after it, so the figure survives a noisy
or different machine better than an absolute time.
"""
from __future__ import annotations

import statistics
import time

import pytest
import torch

_SUMMARY: list[tuple[str, dict]] = []


def matmul_rate(dtype: torch.dtype = torch.float32, n: int = 1024, reps: int = 15) -> float:
    """FLOP/s of an n^3 matrix product (median of `reps`)."""
    a = torch.randn(n, n, dtype=dtype)
    b = torch.randn(n, n, dtype=dtype)
    a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(times)


def record(benchmark, flops: float, tokens: int, dtype: torch.dtype = torch.float32) -> None:
    """Attach throughput, achieved FLOP/s and the same-run matmul ratio to a finished benchmark."""
    median = benchmark.stats.stats.median
    rate = matmul_rate(dtype)
    info = {
        "tokens_per_s": tokens / median,
        "gflops": flops / median / 1e9,
        "matmul_gflops": rate / 1e9,
        "fraction_of_matmul": flops / median / rate,
    }
    benchmark.extra_info.update(info)
    _SUMMARY.append((benchmark.name, info))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    if not _SUMMARY:
        return
    tr = terminalreporter
    tr.section("throughput vs. the same run's 1024^3 matrix product")
    tr.write_line(f"{'benchmark':58s} {'tokens/s':>12s} {'GFLOP/s':>9s} {'matmul':>8s} {'ratio':>7s}")
    for name, info in _SUMMARY:
        tr.write_line(f"{name:58s} {info['tokens_per_s']:12,.0f} {info['gflops']:9.1f} "
                      f"{info['matmul_gflops']:8.1f} {info['fraction_of_matmul']:7.1%}")
