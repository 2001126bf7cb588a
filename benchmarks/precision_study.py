"""Error of each product-precision choice of the one-pass forward at a long sequence, on CPU.

    TRITON_INTERPRET=1 python benchmarks/precision_study.py [--seq 8192 --seq 256] [--out FILE]
    TRITON_INTERPRET=1 python benchmarks/precision_study.py --gradients [--seq 8192] [--out FILE]

The one-pass forward (titans_kernels/backends/triton_backend/onepass.py) runs under Triton's
interpreter, which rounds each product's operands as tensor cores would (tf32, bf16, or the
bf16 hi/lo split), on fresh random fp32 inputs (titans_mlp2, D=64, chunk 64, one (batch, head)
row); out and every tensor of the end state are compared with the torch backend's fp32
products. The error grows with the number of chunks the state carries it through, so short
sequences understate it. Results: JSON (machine, versions, date, one row per config and length).

--gradients: the one-pass forward and backward (backward="onepass") on fp32 or bf16 q, k, v;
every gradient (q, k, v, the gates, the initial state) of a random projection of out and the
end state, against the torch backend's fp32 autograd on the same input values. One row per
(input dtype, forward precisions, backward precision) and length, the largest error over the
gradients and each gradient's.
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


# (input dtype, forward READ/KEY/UPDATE); the backward's products follow the read's
# (launch_config.backward_config: bf16 becomes tf32)
GRAD_CONFIGS = [("float32", "ieee/ieee/ieee"), ("float32", "tf32/tf32/tf32"), ("float32", "bf16x3/tf32/tf32"),
                ("bfloat16", "bf16/tf32/tf32")]
GRAD_NAMES = ("q", "k", "v", "lr", "momentum", "decay", "W0", "W1", "S0", "S1")


def gradient_study(seqs: list[int], configs: list[tuple[str, str]], spec: str = "titans_mlp2", seed: int = 0):
    from titans_kernels.backends.launch_config import backward_config, onepass_config

    ref = tk.compile(spec, backend="torch")
    rows = []
    for T in seqs:
        for dtype, forward in configs:
            g = torch.Generator().manual_seed(seed)
            inputs = random_inputs(ref.ir, 1, 1, T, 64, 64, dtype=torch.float32, generator=g)
            state = ref.init_state(1, 1, 64, generator=g)
            dt = getattr(torch, dtype)
            leaves = [x.to(dt) for x in (inputs.q, inputs.k, inputs.v)] + \
                [x for x in (inputs.lr, inputs.momentum, inputs.decay)] + list(state.weights) + list(state.momentum)
            prec, kprec, uprec = forward.split("/")
            cfg = onepass_config(precision=prec, key_precision=kprec, update_precision=uprec, backward="onepass")
            backward = backward_config(ref.ir, cfg).precision
            rule = tk.compile(spec, backend="triton", config=cfg)
            t0 = time.perf_counter()
            got = _gradients(rule, leaves, upcast=False)
            want = _gradients(ref, leaves, upcast=True)
            errors = {name: rel_error(a, b) for name, a, b in zip(GRAD_NAMES, got, want)}
            rows.append(dict(T=T, dtype=dtype, forward=forward, backward=backward,
                             rel_error_max=max(errors.values()), rel_error=errors,
                             seconds=time.perf_counter() - t0))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def _gradients(rule, leaves, upcast: bool):
    """Gradients of a fixed random projection of out and the end state with respect to `leaves`
    (q, k, v, lr, momentum, decay, W0, W1, S0, S1); with `upcast`, q, k, v enter as float32."""
    xs = [x.clone().requires_grad_() for x in leaves]
    ins = [x.float() if upcast else x for x in xs]
    out, end = rule(*ins[:6], state=tk.MemoryState(ins[6:8], ins[8:10]), chunk_size=64)
    g = torch.Generator().manual_seed(1)
    probe = lambda t: torch.randn(t.shape, generator=g)  # noqa: E731
    loss = (out.float() * probe(out)).sum() + sum((t * probe(t)).sum() for t in end.tensors())
    return torch.autograd.grad(loss, xs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seq", type=int, action="append", help="sequence lengths (default 256 and 8192)")
    p.add_argument("--config", action="append", help="READ/KEY/UPDATE precisions, e.g. bf16/tf32/tf32 "
                   "(default: a fixed list)")
    p.add_argument("--gradients", action="store_true", help="the one-pass backward's gradients instead (configs: "
                   "DTYPE:READ/KEY/UPDATE, e.g. bfloat16:bf16/tf32/tf32)")
    p.add_argument("--out", default=None, help="JSON file (default benchmarks/results/precision-onepass.json, "
                   "or precision-onepass-gradients.json with --gradients)")
    args = p.parse_args()
    results = Path(__file__).resolve().parent / "results"
    args.out = args.out or str(results / ("precision-onepass-gradients.json" if args.gradients
                                          else "precision-onepass.json"))
    if not settings.triton_interpret():
        print("set TRITON_INTERPRET=1: the study reads the roundings the interpreter emulates")
        return 2
    if args.gradients:
        configs = [tuple(c.split(":")) for c in args.config] if args.config else GRAD_CONFIGS
        rows = gradient_study(args.seq or [8192], configs)
    else:
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
