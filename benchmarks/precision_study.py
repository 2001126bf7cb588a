"""Error of each product-precision choice of the one-pass forward at a long sequence, on CPU.

    TRITON_INTERPRET=1 python benchmarks/precision_study.py [--seq 8192 --seq 256] [--out FILE]

The one-pass forward (titans_kernels/backends/triton_backend/onepass.py) runs under Triton's
interpreter, which rounds each product's operands as tensor cores would (tf32, bf16, or the
bf16 hi/lo split), on fresh random fp32 inputs (titans_mlp2, D=64, chunk 64, one (batch, head)
row); out and every tensor of the end state are compared with the torch backend's fp32
products. The error grows with the number of chunks the state carries it through, so short
sequences understate it. Results: JSON (machine, versions, date, one row per config and length).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

import titans_kernels as tk
from titans_kernels import settings
from titans_kernels.backends.triton_backend.onepass import onepass_call
from titans_kernels.testing import random_inputs, rel_error

# (read products, key path and look-ahead products, state-update products)
CONFIGS = [("ieee", "ieee", "ieee"), ("tf32", "tf32", "tf32"), ("bf16", "tf32", "bf16"), ("bf16", "bf16", "bf16"),
           ("bf16", "tf32", "tf32"), ("bf16", "bf16", "tf32"), ("bf16", "tf32", "bf16x3"),
           ("bf16x3", "bf16x3", "bf16x3")]


def study(seqs: list[int], configs: list[tuple[str, str]], spec: str = "titans_mlp2", seed: int = 0):
    ref = tk.compile(spec, backend="torch")
    rows = []
    for T in seqs:
        g = torch.Generator().manual_seed(seed)
        inputs = random_inputs(ref.ir, 1, 1, T, 64, 64, dtype=torch.float32, generator=g)
        state = ref.init_state(1, 1, 64, generator=g)
        want, want_state = ref(*inputs.args(), state=state, chunk_size=64)
        for prec, kprec, uprec in configs:
            t0 = time.perf_counter()
            out, end = onepass_call(ref.ir, *inputs.args(), state, chunk_size=64, hb=64, num_warps=4,
                                    precision=prec, key_precision=kprec, update_precision=uprec)
            rows.append(dict(T=T, precision=prec, key_precision=kprec, update_precision=uprec,
                             rel_error_out=rel_error(out, want),
                             rel_error_state=max(rel_error(a, b) for a, b in zip(end.tensors(), want_state.tensors())),
                             seconds=time.perf_counter() - t0))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seq", type=int, action="append", help="sequence lengths (default 256 and 8192)")
    p.add_argument("--config", action="append", help="READ/KEY/UPDATE precisions, e.g. bf16/tf32/tf32 "
                   "(default: a fixed list)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "precision-onepass.json"))
    args = p.parse_args()
    if not settings.triton_interpret():
        print("set TRITON_INTERPRET=1: the study reads the roundings the interpreter emulates")
        return 2
    configs = [tuple(c.split("/")) for c in args.config] if args.config else CONFIGS
    rows = study(args.seq or [256, 8192], configs)
    doc = {"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
           "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"), "spec": "titans_mlp2",
           "shape": dict(B=1, H=1, D=64, chunk=64, dtype="float32"), "rows": rows}
    try:
        import triton
        doc["triton"] = triton.__version__
    except ImportError:
        pass
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
