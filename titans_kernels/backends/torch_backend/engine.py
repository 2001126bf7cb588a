"""Which library runs the torch backend's float32 matrix products on CPU.

PyTorch's CPU wheels send float32 `bmm`/`mm` to MKL, which on some CPUs (AMD with AVX-512, for
one) runs a narrower code path than the hardware has; oneDNN's brgemm runs the full width. Torch
routes float32 products to oneDNN when `torch.backends.mkldnn.matmul.fp32_precision` is "bf16",
a setting that *permits* bfloat16 arithmetic: on CPUs with AMX it is taken, elsewhere oneDNN
keeps float32. So the route is chosen once per process by a probe on this CPU, on the chunk
loop's own product shapes: oneDNN is used only when its results stay within float32 rounding of
the default route (relative difference < 1e-5; bfloat16 arithmetic gives ~1e-3) and it is at
least 10% faster. `TITANS_CPU_MATMUL=default|onednn|auto` overrides (auto is the probe), which
runs once per process.
"""
from __future__ import annotations

import contextlib
import time
from functools import lru_cache
from typing import Callable, Iterator

import torch

from ... import settings
from ...errors import BackendError

ENGINES = ("auto", "default", "onednn")
EXACT_REL_TOL = 1e-5      # float32 products in another summation order differ by ~1e-7
MIN_SPEEDUP = 1.1
_PROBE_SHAPES = ((8, 64, 64, 256), (8, 64, 256, 64), (8, 64, 256, 256))   # (n, m, k, p): (n,m,k)@(n,k,p)


def _precision_flag():
    """The torch setting that routes float32 CPU matmuls, or None on builds without it."""
    matmul = getattr(getattr(torch.backends, "mkldnn", None), "matmul", None)
    if matmul is None or not torch.backends.mkldnn.is_available():
        return None
    try:
        matmul.fp32_precision  # noqa: B018 - probing that the attribute exists
    except (AttributeError, RuntimeError):
        return None
    return matmul


@contextlib.contextmanager
def _routed(flag, value: str) -> Iterator[None]:
    old = flag.fp32_precision
    flag.fp32_precision = value
    try:
        yield
    finally:
        flag.fp32_precision = old


def _best_time(fn: Callable[[], object], reps: int = 10, rounds: int = 3) -> float:
    fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _outside_modes():
    """Hide the probe's products from any active dispatch mode (a FLOP counter, say)."""
    try:
        from torch.utils._python_dispatch import _disable_current_modes
    except ImportError:  # pragma: no cover - older or newer torch without it
        return contextlib.nullcontext()
    return _disable_current_modes()


def probe(flag) -> tuple[bool, float, float]:
    """(exact, speed-up, worst relative difference) of the oneDNN route on this CPU."""
    with _outside_modes(), torch.no_grad():
        return _probe(flag)


def _probe(flag) -> tuple[bool, float, float]:
    g = torch.Generator().manual_seed(0)
    pairs = [(torch.randn(n, m, k, generator=g), torch.randn(n, k, p, generator=g)) for n, m, k, p in _PROBE_SHAPES]
    run = lambda: [torch.bmm(a, b) for a, b in pairs]  # noqa: E731
    ref = run()
    t_default = _best_time(run)
    with _routed(flag, "bf16"):
        out = run()
        t_onednn = _best_time(run)
    worst = max(float((o - r).norm() / r.norm()) for o, r in zip(out, ref))
    return worst < EXACT_REL_TOL, t_default / t_onednn, worst


@lru_cache(maxsize=1)
def cpu_engine() -> str:
    """'onednn' or 'default' for this process (env TITANS_CPU_MATMUL, else the probe)."""
    choice = settings.cpu_matmul()
    if choice not in ENGINES:
        raise BackendError(f"TITANS_CPU_MATMUL={choice!r} is not an engine; set it to one of {', '.join(ENGINES)}")
    flag = _precision_flag()
    if flag is None or choice == "default":
        return "default"
    if choice == "onednn":
        return "onednn"
    exact, speedup, _ = probe(flag)
    return "onednn" if exact and speedup >= MIN_SPEEDUP else "default"


@contextlib.contextmanager
def matmul_engine(device: torch.device) -> Iterator[None]:
    """Run the enclosed float32 CPU products on the engine chosen for this process. The setting
    is process-wide in torch, so it is restored on exit; on other devices this does nothing."""
    if device.type != "cpu" or cpu_engine() != "onednn":
        yield
        return
    with _routed(_precision_flag(), "bf16"):
        yield
