"""Inductor options of the torch backend's compiled steps, paired against the package's, on this CPU.

    python benchmarks/inductor_options.py [--set cpp_wrapper=0 ...] [--spec titans_mlp2] [--backward]
        [--rounds 200] [--threads 2] [--cold] [--out FILE]

Runs one rule (B=2, H=4, D=64, T=2048, chunk 64, float32, steps compiled) with the options the
package compiles its steps with (`compiled.OPTIONS`) and with those options changed by `--set`
(default: `cpp_wrapper=0`, Inductor's Python wrapper), in one process, each round running both
back to back (every other round in the other order), after one warm-up call each that pays its
compile. Reports each side's best and median and the paired ratio changed/package: the median
over the rounds of the two times' ratio in the same round, with a bootstrap 95% interval
(`titans_kernels.perf.stats`). `--cold` also times each side's first call in a fresh process with
an empty Inductor cache: the compile a user pays once per shape. Forward under no_grad, or with
`--backward` forward+backward. JSON with the machine's fingerprint:
benchmarks/results/inductor-options-<spec>-<forward|backward>-<isa>.json by default.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAPE = dict(B=2, H=4, D=64, T=2048, chunk=64)


def parse_sets(items: list[str]) -> dict:
    """['cpp_wrapper=0'] -> {'cpp_wrapper': False}; values are Python literals (0/1 read as bools)."""
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"error: --set {item!r}: expected NAME=VALUE, e.g. cpp_wrapper=0")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            raise SystemExit(f"error: --set {item!r}: the value must be a Python literal (0, 1, True, 'text')") from None
        out[name.strip()] = bool(value) if value in (0, 1) and not isinstance(value, float) else value
    return out


def _call(spec: str, backward: bool):
    """One call of the rule at SHAPE (`product_floor.rule_call`): a function returning its seconds."""
    import torch

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import product_floor
    run = product_floor.rule_call(spec, SHAPE["B"], SHAPE["H"], SHAPE["D"], SHAPE["T"], SHAPE["chunk"], backward,
                                  torch.device("cpu"))

    def call() -> float:
        t0 = time.perf_counter()
        run()
        return time.perf_counter() - t0
    return call


def paired_rounds(spec: str, sides: dict[str, dict], rounds: int, backward: bool) -> dict[str, list[float]]:
    """{side: [seconds per call]}, the sides' Inductor options set before each of their calls."""
    from titans_kernels.backends.torch_backend import compiled
    from titans_kernels.perf.stats import round_order
    call = _call(spec, backward)
    saved = compiled.OPTIONS
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    try:
        for name in names:
            print(f"{name} {sides[name]}: compiling (first call) ...", file=sys.stderr, flush=True)
            compiled.OPTIONS = sides[name]
            call()
        for r in range(rounds):
            for name in round_order(names, r):
                compiled.OPTIONS = sides[name]
                times[name].append(call())
    finally:
        compiled.OPTIONS = saved
    return times


def cold_first_call(spec: str, options: dict, backward: bool, threads: int) -> float:
    """Seconds of a first call in a fresh process with an empty Inductor cache."""
    with tempfile.TemporaryDirectory(prefix="titans-inductor-cold-") as cache:
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache, "TITANS_TORCH_COMPILE": "on"}
        cmd = [sys.executable, __file__, "--first-call", json.dumps(options), "--spec", spec,
               "--threads", str(threads)] + (["--backward"] if backward else [])
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        raise SystemExit(f"error: the cold first call with {options} failed:\n{tail}")
    return float(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="an Inductor option changed from the package's (repeatable; default cpp_wrapper=0)")
    p.add_argument("--spec", default="titans_mlp2")
    p.add_argument("--backward", action="store_true", help="forward+backward (default: forward under no_grad)")
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cold", action="store_true", help="also time each side's first call with an empty cache")
    p.add_argument("--out", help="default: benchmarks/results/inductor-options-<spec>-<forward|backward>-<isa>.json")
    p.add_argument("--first-call", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rounds < 1:
        raise SystemExit(f"error: --rounds {args.rounds}: expected at least 1")
    changes = parse_sets(args.set or ["cpp_wrapper=0"])
    os.environ["TITANS_TORCH_COMPILE"] = "on"
    import torch

    import titans_kernels as tk
    from titans_kernels.backends.torch_backend import compiled
    from titans_kernels.perf.fingerprint import fingerprint, results_file
    from titans_kernels.perf.stats import paired_ratio
    tk.keep_heap()
    torch.set_num_threads(args.threads)
    if args.first_call is not None:   # the --cold child: one first call, its seconds on stdout
        compiled.OPTIONS = json.loads(args.first_call)
        print(_call(args.spec, args.backward)())
        return 0
    sides = {"package": dict(compiled.OPTIONS), "changed": {**compiled.OPTIONS, **changes}}
    fp = fingerprint()
    stem = f"inductor-options-{args.spec}-{'backward' if args.backward else 'forward'}"
    out = args.out or str(ROOT / "benchmarks" / "results" / results_file(stem, fp))
    try:
        times = paired_rounds(args.spec, sides, args.rounds, args.backward)
        cold = ({name: cold_first_call(args.spec, opts, args.backward, args.threads) for name, opts in sides.items()}
                if args.cold else None)
    except tk.TitansError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paired = paired_ratio(times["changed"], times["package"])
    rows = {name: {"options": sides[name], "best_ms": min(t) * 1e3, "median_ms": statistics.median(t) * 1e3,
                   **({"cold_first_call_s": cold[name]} if cold else {})} for name, t in times.items()}
    doc = {"fingerprint": fp, "threads": args.threads, "date": time.strftime("%Y-%m-%d"), "spec": args.spec,
           "kind": "forward+backward" if args.backward else "forward", "shape": {**SHAPE, "dtype": "float32"},
           "rounds": args.rounds, "sides": rows, "changed_over_package": paired.to_dict(),
           "times_s": times}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(doc, indent=1))
    print(f"{'side':8s} {'best ms':>8s} {'median ms':>9s} {'cold first call':>15s}  options")
    for name, r in rows.items():
        first = f"{r['cold_first_call_s']:14.1f}s" if cold else f"{'-':>15s}"
        print(f"{name:8s} {r['best_ms']:8.1f} {r['median_ms']:9.1f} {first}  {r['options']}")
    verdict = paired.verdict()
    print(f"changed / package time, paired over {args.rounds} rounds: {paired.median:.3f} "
          f"[{paired.lo:.3f}, {paired.hi:.3f}] ({verdict + ' with the change' if verdict != 'no change resolved' else verdict})")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
