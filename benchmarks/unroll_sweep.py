"""Chunks per compiled call of a forward that keeps nothing (`compiled.UNROLL`), on this CPU.

    python benchmarks/unroll_sweep.py [--unroll 1,2,4] [--rounds 30] [--threads 2] [--spec titans_mlp2]
        [--out FILE]

Runs the torch backend's no_grad forward of one rule (B=2, H=4, D=64, T=2048, chunk 64, float32,
steps compiled) with each number of chunks per compiled call in turn, in one process, interleaved
round by round (so a drifting machine moves them alike), after one warm-up call each that pays its
compile (every other round runs them in reverse order). Each value's
best and median time, its fraction of a 1024^3 product's rate timed in the same rounds (the rule's
dual-form FLOP count), and its paired ratio to the reference value (the default `compiled.UNROLL`
when swept, else the first): the median over the rounds of its time over the reference's in the
same round, with a bootstrap 95% interval (`titans_kernels.perf.stats`), which resolves changes of a
few percent that this machine's drift hides from the best and median alone. All go to a JSON file
with the machine's fingerprint: benchmarks/results/torch-compile-unroll-<isa>.json by default.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import product_floor  # noqa: E402

SHAPE = dict(B=2, H=4, D=64, T=2048, chunk=64)


def parse_unrolls(text: str) -> list[int]:
    """'1,2,4' -> [1, 2, 4]; one clear error for anything else."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise SystemExit(f"error: --unroll {text!r}: expected whole numbers separated by commas, e.g. 1,2,4") from None
    if not values or min(values) < 1:
        raise SystemExit(f"error: --unroll {text!r}: every value must be at least 1")
    return values


def sweep(spec: str, unrolls: list[int], rounds: int) -> dict:
    """{unroll: [seconds per forward]} and the 1024^3 product's times, interleaved."""
    import torch

    import titans_kernels as tk
    from titans_kernels.backends.torch_backend import compiled
    from titans_kernels.perf.stats import round_order
    ir = tk.lower(tk.load_spec(spec))
    cpu = torch.device("cpu")
    run = product_floor.rule_call(spec, SHAPE["B"], SHAPE["H"], SHAPE["D"], SHAPE["T"], SHAPE["chunk"], False, cpu)
    product = product_floor.matmul_fn(cpu)
    saved = compiled.UNROLL

    def forward(u: int) -> float:
        compiled.UNROLL = u
        t0 = time.perf_counter()
        run()
        return time.perf_counter() - t0
    times: dict[int, list[float]] = {u: [] for u in unrolls}
    mm: list[float] = []
    try:
        for u in unrolls:
            print(f"unroll {u}: compiling (first call) ...", file=sys.stderr, flush=True)
            forward(u)
        for r in range(rounds):
            for u in round_order(unrolls, r):
                times[u].append(forward(u))
            mm.append(product_floor._timed_ms(product, cpu) / 1e3)
    finally:
        compiled.UNROLL = saved
    return {"times": times, "matmul": mm, "flops": 2 * ir.macs_per_chunk(SHAPE["D"], SHAPE["chunk"])
            * SHAPE["B"] * SHAPE["H"] * SHAPE["T"] / SHAPE["chunk"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--unroll", default="1,2,4", help="chunks per compiled call to compare (default 1,2,4)")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--spec", default="titans_mlp2")
    p.add_argument("--out", help="default: benchmarks/results/torch-compile-unroll-<isa>.json")
    args = p.parse_args(argv)
    unrolls = parse_unrolls(args.unroll)
    if args.rounds < 1:
        raise SystemExit(f"error: --rounds {args.rounds}: expected at least 1")
    os.environ["TITANS_TORCH_COMPILE"] = "on"
    import torch

    import titans_kernels as tk
    from titans_kernels.backends.torch_backend import compiled
    from titans_kernels.perf.fingerprint import fingerprint, results_file
    from titans_kernels.perf.stats import paired_ratio
    tk.keep_heap()
    torch.set_num_threads(args.threads)
    fp = fingerprint()
    out = args.out or str(ROOT / "benchmarks" / "results" / results_file("torch-compile-unroll", fp))
    try:
        res = sweep(args.spec, unrolls, args.rounds)
    except tk.TitansError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rate = product_floor.MATMUL_FLOPS / min(res["matmul"])
    ref = compiled.UNROLL if compiled.UNROLL in unrolls else unrolls[0]
    rows = {str(u): {"best_ms": min(t) * 1e3, "median_ms": statistics.median(t) * 1e3,
                     "fraction_of_matmul": res["flops"] / min(t) / rate,
                     "paired_vs_reference": paired_ratio(t, res["times"][ref]).to_dict()}
            for u, t in res["times"].items()}
    doc = {"fingerprint": fp, "threads": args.threads, "date": time.strftime("%Y-%m-%d"), "spec": args.spec,
           "shape": {**SHAPE, "dtype": "float32"}, "rounds": args.rounds, "matmul_gflops": rate / 1e9,
           "reference_unroll": ref,
           "unroll": rows, "times_s": {str(u): t for u, t in res["times"].items()}}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(doc, indent=1))
    print(f"{'chunks/call':>11s} {'best ms':>8s} {'median ms':>9s} {'of matmul':>9s}  time / time at {ref} (95% CI)")
    for u, r in rows.items():
        pr = r["paired_vs_reference"]
        paired = ("(reference)" if int(u) == ref else
                  f"{pr['median_ratio']:.3f} [{pr['ci95'][0]:.3f}, {pr['ci95'][1]:.3f}] {pr['verdict']}")
        print(f"{u:>11s} {r['best_ms']:8.1f} {r['median_ms']:9.1f} {r['fraction_of_matmul']:9.1%}  {paired}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
