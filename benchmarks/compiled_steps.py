"""The torch backend's chunk steps eager against compiled (TITANS_TORCH_COMPILE), on this CPU.

    python benchmarks/compiled_steps.py [--rounds 3] [--threads 2] [--out FILE]

Runs the rule benchmarks of titans_mlp2 (B=2, H=4, D=64, T=2048, chunk 64, float32; forward and
forward+backward, benchmarks/test_rules.py) with the steps eager and compiled, each in its own
process, interleaved (off, on, off, on, ...) so both see the machine in the same minutes; each
run's figure is its fraction of the same run's matmul rate (the compiled runs' first call, in the
benchmark's warm-up, pays the compile; it is timed separately here, as the first
forward+backward call and the first forward under no_grad of a fresh process, with the compile
caches of this machine). Per mode the best round is kept (noise
on a shared machine only slows a run). Results: JSON (machine and its fingerprint, versions, date, every round), one file per CPU ISA.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SELECT = "(test_rule_forward and titans_mlp2-torch-float32) or matmul_reference"


def one_run(mode: str, threads: int) -> dict:
    """{benchmark: fraction of matmul, tokens/s} of one process with TITANS_TORCH_COMPILE=mode."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        env = dict(os.environ, TITANS_TORCH_COMPILE=mode, TITANS_BENCH_THREADS=str(threads))
        proc = subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_rules.py", "-q", "-p", "no:cacheprovider",
                               "--benchmark-only", "-k", SELECT, f"--benchmark-json={out}"],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark run ({mode}) failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        data = json.loads(out.read_text())
    return {b["name"].split("[")[0]: {"fraction_of_matmul": b["extra_info"]["fraction_of_matmul"],
                                      "tokens_per_s": b["extra_info"].get("tokens_per_s")}
            for b in data["benchmarks"]}


def first_call_seconds(mode: str, threads: int, grad: bool = True) -> float:
    """Seconds of a fresh process's first forward+backward call, or with grad=False its first
    forward under no_grad (the compile of the graphs that call uses, with caches warm)."""
    call = ("leaves = [t.requires_grad_() for t in x.tensors()]\n"
            "t = time.perf_counter(); o, _ = r(*x.args(), state=s, chunk_size=64)\n"
            "torch.autograd.grad(o.square().mean(), leaves); print(time.perf_counter() - t)\n") if grad else (
            "t = time.perf_counter()\n"
            "with torch.no_grad(): r(*x.args(), state=s, chunk_size=64)\n"
            "print(time.perf_counter() - t)\n")
    code = ("import time, torch, titans_kernels as tk\n"
            "from titans_kernels.testing import random_inputs\n"
            f"torch.set_num_threads({threads})\n"
            "r = tk.compile('titans_mlp2', backend='torch'); g = torch.Generator().manual_seed(0)\n"
            "x = random_inputs(r.ir, 2, 4, 2048, 64, 64, generator=g); s = r.init_state(2, 4, 64, generator=g)\n"
            + call)
    env = dict(os.environ, TITANS_TORCH_COMPILE=mode)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"first call ({mode}) failed:\n{proc.stderr[-2000:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="default: benchmarks/results/torch-compile-steps-<isa>.json, the CPU's "
                                 "vector ISA as in the bench gate's fingerprint (avx2, avx512, ...)")
    args = p.parse_args()
    from titans_kernels.perf.fingerprint import fingerprint, results_file
    fp = fingerprint()
    out_path = args.out or str(ROOT / "benchmarks" / "results" / results_file("torch-compile-steps", fp))
    rounds = []
    for r in range(args.rounds):
        for mode in ("off", "on"):
            row = {"round": r, "mode": mode, **one_run(mode, args.threads)}
            rounds.append(row)
            print(json.dumps(row), flush=True)
    best = {}
    for mode in ("off", "on"):
        mine = [r for r in rounds if r["mode"] == mode]
        best[mode] = {name: max(r[name]["fraction_of_matmul"] for r in mine)
                      for name in ("test_rule_forward", "test_rule_forward_backward")}
    first = {mode: first_call_seconds(mode, args.threads) for mode in ("off", "on")}
    first_fwd = {mode: first_call_seconds(mode, args.threads, grad=False) for mode in ("off", "on")}
    import torch
    doc = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "threads": args.threads,
           "torch": torch.__version__, "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"),
           "fingerprint": fp, "shape": dict(spec="titans_mlp2", B=2, H=4, D=64, T=2048, chunk=64, dtype="float32"),
           "best_fraction_of_matmul": best, "first_call_fwd_bwd_s": first, "first_call_fwd_s": first_fwd,
           "rounds": rounds}
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_text(json.dumps(doc, indent=1))
    print(json.dumps({"best_fraction_of_matmul": best, "first_call_fwd_bwd_s": first, "first_call_fwd_s": first_fwd}))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
