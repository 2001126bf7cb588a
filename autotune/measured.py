"""The measured tuner: time each candidate on the local GPU (median), check the winner against
the torch backend. The timer is injectable, so the selection logic is testable without a GPU."""
from __future__ import annotations

import statistics
from typing import Callable

from titans_kernels.backends.launch_config import TritonConfig

from .predicted import Candidate

Timer = Callable[[TritonConfig], float]


def cuda_median_seconds(fn: Callable[[], object], reps: int = 10, warmup: int = 1) -> float:
    """Median seconds of fn() measured with CUDA events after `warmup` calls."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def cuda_timer(run_for: Callable[[TritonConfig], Callable[[], object]], reps: int = 10) -> Timer:
    """Timer of run_for(cfg)() by cuda_median_seconds."""
    return lambda cfg: cuda_median_seconds(run_for(cfg), reps)


def tune(configs: list[TritonConfig], timer: Timer, check: Callable[[TritonConfig], bool] | None = None,
         progress=None) -> list[Candidate]:
    """Time every candidate (failures are discarded with their reason), best first; the best one
    that passes `check` (output against the torch backend) is moved to the front."""
    out = []
    for cfg in configs:
        try:
            out.append(Candidate(cfg, None, float(timer(cfg))))
        except Exception as exc:  # noqa: BLE001
            out.append(Candidate(cfg, None, None, f"failed: {type(exc).__name__}: {exc}"))
        if progress is not None:
            progress(out[-1])
    ranked = sorted(out, key=lambda c: (c.time_s is None, c.time_s or 0.0))
    if check is not None:
        for i, cand in enumerate(ranked):
            if cand.time_s is None:
                break
            if check(cand.config):
                ranked.insert(0, ranked.pop(i))
                break
            cand.reason = "wrong result against the torch backend"
    return ranked
