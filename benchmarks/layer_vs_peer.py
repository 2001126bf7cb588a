"""The NeuralMemory layer against titans-pytorch's NeuralMemory on this CPU, interleaved.

    python benchmarks/layer_vs_peer.py [--rounds 12] [--threads 2] [--out FILE]

benchmarks/test_layer.py times its rows one after the other, so a machine whose speed drifts
between rows moves their ratio (the same row pair read 1.4x and 2.1x in two runs here). Here our
layer with eager steps, ours with compiled steps (TITANS_TORCH_COMPILE) and the peer take turns in
every round, in one process: forward under no_grad, then forward+backward. Each ratio is the
peer's time over ours, best against best, median against median, and paired: the median over the
rounds of the peer's time over ours in the same round, with a bootstrap 95% interval
(`titans_kernels.perf.stats`), the figure the drift moves least. The compiled steps' first
calls, which compile, are timed apart from the rounds. Shapes as in test_layer.py: B=2, T=2048,
dim 256, 4 heads of 64, chunk 64, our default rule against the peer updating once per 64 tokens.
Results: JSON (machine and its fingerprint, versions, date, every time), one file per CPU ISA.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import product_floor  # noqa: E402
from titans_kernels.perf.stats import paired_ratio, round_order  # noqa: E402

SHAPE = dict(B=2, H=4, D=64, T=2048, chunk=64)
SPEC = "titans_mlp2_normalized"
SIDES = {"ours (eager steps)": "off", "ours (compiled steps)": "on", "titans-pytorch": None}


def _timed(fn, mode: str | None) -> float:
    if mode is not None:
        os.environ["TITANS_TORCH_COMPILE"] = mode
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(kind: str, rounds: int) -> dict:
    """Times of each side for one kind ("forward" or "forward+backward"), interleaved."""
    grad = kind == "forward+backward"
    dev = torch.device("cpu")
    s = SHAPE
    ours = product_floor.layer_call(SPEC, s["B"], s["H"], s["D"], s["T"], s["chunk"], grad, dev)
    fns = {side: (product_floor.peer_call(s["B"], s["H"], s["D"], s["T"], s["chunk"], grad, dev)
                  if mode is None else ours) for side, mode in SIDES.items()}
    first = {side: _timed(fn, SIDES[side]) for side, fn in fns.items()}
    for side, fn in fns.items():
        _timed(fn, SIDES[side])
    times: dict[str, list[float]] = {side: [] for side in fns}
    for r in range(rounds):
        for side in round_order(list(fns), r):
            times[side].append(_timed(fns[side], SIDES[side]))
    peer = times["titans-pytorch"]
    out = {"first_call_s": first, "times_s": times, "best_s": {k: min(v) for k, v in times.items()},
           "median_s": {k: statistics.median(v) for k, v in times.items()}}
    out["vs_peer"] = {side: _ratios(peer, t) for side, t in times.items() if side != "titans-pytorch"}
    return out


def _ratios(peer: list[float], ours: list[float]) -> dict:
    """The peer's time over ours: best over best, median over median, paired per round."""
    paired = paired_ratio(peer, ours)
    return {"best": min(peer) / min(ours), "median": statistics.median(peer) / statistics.median(ours),
            "paired": paired.median, "paired_ci95": [paired.lo, paired.hi]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="default: benchmarks/results/layer-vs-titans-pytorch-<isa>.json, the CPU's "
                                 "vector ISA as in the bench gate's fingerprint (avx2, avx512, ...)")
    args = p.parse_args(argv)
    try:
        import titans_pytorch  # noqa: F401
    except ImportError:
        print("error: the peer is titans-pytorch: pip install titans-pytorch", file=sys.stderr)
        return 2
    import titans_kernels as tk
    from titans_kernels.perf.fingerprint import fingerprint, results_file
    fp = fingerprint()
    out_path = args.out or str(ROOT / "results" / results_file("layer-vs-titans-pytorch", fp))
    tk.keep_heap()
    torch.set_num_threads(args.threads)
    saved = os.environ.get("TITANS_TORCH_COMPILE")
    results = {}
    try:
        for kind in ("forward", "forward+backward"):
            print(f"{kind}: {args.rounds} rounds ...", file=sys.stderr, flush=True)
            results[kind] = measure(kind, args.rounds)
    finally:
        if saved is None:
            os.environ.pop("TITANS_TORCH_COMPILE", None)
        else:
            os.environ["TITANS_TORCH_COMPILE"] = saved
    doc = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "threads": args.threads,
           "torch": torch.__version__, "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"),
           "fingerprint": fp, "shape": {**SHAPE, "dim": SHAPE["H"] * SHAPE["D"], "spec": SPEC}, "rounds": args.rounds, **results}
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_text(json.dumps(doc, indent=1))
    print(f"{'':24s} {'kind':18s} {'best':>7s} {'median':>7s} {'paired (95% CI)':>22s}  (titans-pytorch time / ours)")
    for kind, res in results.items():
        for side, r in res["vs_peer"].items():
            lo, hi = r["paired_ci95"]
            print(f"{side:24s} {kind:18s} {r['best']:6.2f}x {r['median']:6.2f}x {r['paired']:6.2f}x [{lo:.2f}, {hi:.2f}]")
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
