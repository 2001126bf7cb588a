"""Compile the TileLang kernels the GPU session times, many at once, into TileLang's disk cache.

    python benchmarks/gpu/tilelang_warm.py [--spec titans_mlp2] [--dim 64 --chunk 64] [--jobs 8]
                                           [--backward generic,resident]

Lowering and nvcc take tens of seconds per forward kernel and minutes per backward kernel on one
core; one process compiles one kernel at a time. This runs a tiny call of each row's rule
(`gpu_case.tilelang_rows`, plus forward+backward for the rows named by --backward) in its own
process, `--jobs` at a time, so that the benchmark that follows finds every kernel in the cache
(the cache keys on the kernel source and target, not on batch, heads or sequence length). One
line per kernel: compiled, refused (with the rule's one-line reason) or failed.
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _compile_one(spec: str, row: str, D: int, chunk: int, backward: bool, device: str) -> str:
    import tilelang
    import torch

    tilelang.set_log_level("WARNING")   # not its two INFO lines per kernel

    import titans_kernels as tk
    from gpu_case import rule_call, tilelang_rows
    from titans_kernels.testing import random_inputs

    t0 = time.perf_counter()
    ir = tk.lower(tk.load_spec(spec))
    g = torch.Generator().manual_seed(0)
    inputs = random_inputs(ir, 1, 1, 2 * chunk, D, chunk, dtype=torch.bfloat16 if device == "cuda" else torch.float32,
                           generator=g)
    inputs = type(inputs)(*(x.to(device) if x is not None else None for x in inputs.args()))
    rule = tk.compile(spec, backend="tilelang", config=tilelang_rows(ir)[row])
    state = rule.init_state(1, 1, D, generator=g).to(device)
    try:
        rule_call(rule, inputs, state, chunk, backward)()
        if device == "cuda":
            torch.cuda.synchronize()
    except tk.InputError as exc:
        return f"refused  {row}{' +backward' if backward else ''}: {exc}"
    return f"compiled {row}{' +backward' if backward else ''} in {time.perf_counter() - t0:.0f} s"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default="titans_mlp2")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--jobs", type=int, default=8)
    p.add_argument("--device", default="cuda", help="cuda, or cpu (TileLang's C target: a check of this script)")
    p.add_argument("--backward", default="tilelang,tilelang (resident),tilelang (resident, tf32 wgmma)",
                   help="comma-separated rows whose backward kernel is compiled too")
    args = p.parse_args()
    import titans_kernels as tk
    from gpu_case import row_names, tilelang_rows

    rows = list(tilelang_rows(tk.lower(tk.load_spec(args.spec))))
    backward = row_names(args.backward)
    jobs = [(row, row in backward) for row in rows]
    # backward kernels first: they take longest
    jobs.sort(key=lambda j: not j[1])
    status = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(_compile_one, args.spec, row, args.dim, args.chunk, bwd, args.device): (row, bwd) for row, bwd in jobs}
        for fut in as_completed(futures):
            try:
                print(fut.result(), flush=True)
            except Exception as exc:  # noqa: BLE001 (one line per kernel; the rest go on)
                status = 1
                row, bwd = futures[fut]
                print(f"failed   {row}{' +backward' if bwd else ''}: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
