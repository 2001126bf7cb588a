"""How much of a call is its matrix products: records every product one call issues (a rule, or
the NeuralMemory layer; forward, or forward+backward), replays them alone on random operands of
the same shapes, and prints both times.

The torch profiler's per-operator times do not answer this on a small CPU: it adds a fixed cost
per operator, and the many small elementwise operators of a chunk loop take a larger share under
it than without it. The replay runs the same products in the same order on the same engine
(`tk.matmul_engine`), so "products" is what the call would cost with every other operator free.

Two more replays say what the products' own speed depends on: "warm" runs them in the same order
on one set of operands per distinct shape signature (operands recently used, in cache), "grouped"
the same with the products sorted by shape (each product's operands and output were touched by
the one before it). Cold-in-order against warm-in-order is the cost of operands that come from
memory; warm-in-order against grouped is the cost of switching shapes and operands from one
product to the next. A 1024^3 product timed in the same rounds gives each its fraction of the
machine's matmul rate; `--json FILE` writes every figure with the machine's fingerprint.

  python benchmarks/product_floor.py [--spec titans_mlp2_normalized] [--layer [--peer]] [--backward]
      [--batch 2] [--heads 4] [--dim 64] [--seq 2048] [--chunk 64] [--repeats 5] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

import titans_kernels as tk

# aten products and where their two factors sit among the tensor arguments
PRODUCTS = {"mm": (0, 1), "bmm": (0, 1), "addmm": (1, 2), "baddbmm": (1, 2), "baddbmm_": (1, 2)}


@dataclass(frozen=True)
class Product:
    """One recorded product: the aten op and its tensor arguments' shapes."""

    op: str
    shapes: tuple[tuple[int, ...], ...]

    @property
    def flops(self) -> int:
        i, j = PRODUCTS[self.op]
        a, b = self.shapes[i], self.shapes[j]
        return 2 * (a[0] if len(a) == 3 else 1) * a[-2] * a[-1] * b[-1]


class _Recorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.products: list[Product] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in PRODUCTS:
            self.products.append(Product(name, tuple(tuple(a.shape) for a in args if isinstance(a, torch.Tensor))))
        return func(*args, **(kwargs or {}))


def record(fn: Callable[[], object]) -> list[Product]:
    """The matrix products one call of fn issues, in order (its backward too, if fn runs one),
    after a first call that does any one-time work (the CPU engine's probe runs products too)."""
    fn()
    with _Recorder() as rec:
        fn()
    return rec.products


def replay_fn(products: list[Product], device: torch.device, dtype: torch.dtype = torch.float32,
              warm: bool = False, grouped: bool = False) -> Callable[[], None]:
    """A function that runs `products` alone, on random operands allocated once: each product its
    own (the call's footprint), or with `warm` one set per distinct (op, shapes), so operands are
    reused while in cache; `grouped` also sorts the products by shape (same-shape runs back to back)."""
    calls, shared = [], {}
    for p in products:
        key = (p.op, p.shapes)
        if not warm or key not in shared:
            shared[key] = [torch.randn(s, device=device, dtype=dtype) for s in p.shapes]
        calls.append((getattr(torch.ops.aten, p.op).default, shared[key], key))
    if grouped:
        calls.sort(key=lambda c: (c[2][1], c[2][0]))
    calls = [(op, args) for op, args, _ in calls]

    def run() -> None:
        with tk.matmul_engine(device):
            for op, args in calls:
                op(*args)
    return run


def _timed_ms(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3


def paired_medians_ms(fns: list[Callable[[], object]], repeats: int, device: torch.device,
                      warmup: int = 2) -> list[float]:
    """Median time of each fn, the fns taking turns in every round (so a drifting machine moves
    them alike)."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, t in zip(fns, times):
            t.append(_timed_ms(fn, device))
    return [statistics.median(t) for t in times]


def rule_call(spec: str, B: int, H: int, D: int, T: int, chunk_size: int, backward: bool,
              device: torch.device) -> Callable[[], object]:
    """One call of the torch backend's rule on well-conditioned random inputs."""
    from titans_kernels.testing import random_inputs
    rule = tk.compile(spec, backend="torch")
    g = torch.Generator().manual_seed(0)
    inputs = random_inputs(rule.ir, B, H, T, D, chunk_size, generator=g)
    state = rule.init_state(B, H, D, generator=g, device=device)
    args = [a.to(device).requires_grad_(backward) if a is not None else None for a in inputs.args()]

    def call():
        with torch.set_grad_enabled(backward):
            out, _ = rule(*args, state=state, chunk_size=chunk_size)
            if backward:
                out.square().mean().backward()
    return call


def layer_call(spec: str, B: int, H: int, D: int, T: int, chunk_size: int, backward: bool,
               device: torch.device) -> Callable[[], object]:
    """One call of NeuralMemory(dim=H*D) on random tokens."""
    from titans_models import NeuralMemory
    torch.manual_seed(0)
    layer = NeuralMemory(H * D, heads=H, dim_head=D, spec=spec, chunk_size=chunk_size, backend="torch").to(device)
    x = torch.randn(B, T, H * D, device=device, requires_grad=backward)

    def call():
        with torch.set_grad_enabled(backward):
            y, _ = layer(x)
            if backward:
                y.square().mean().backward()
    return call


def peer_call(B: int, H: int, D: int, T: int, chunk_size: int, backward: bool,
              device: torch.device) -> Callable[[], object]:
    """One call of titans-pytorch's NeuralMemory in the configuration benchmarks/test_layer.py
    compares with (weights updated once per 64 tokens)."""
    import titans_pytorch
    torch.manual_seed(0)
    peer = titans_pytorch.NeuralMemory(dim=H * D, heads=H, dim_head=D, chunk_size=chunk_size, batch_size=64).to(device)
    x = torch.randn(B, T, H * D, device=device, requires_grad=backward)

    def call():
        with torch.set_grad_enabled(backward):
            y = peer(x)[0]
            if backward:
                y.square().mean().backward()
    return call


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", default="titans_mlp2_normalized")
    ap.add_argument("--layer", action="store_true", help="the NeuralMemory layer instead of the rule alone")
    ap.add_argument("--backward", action="store_true", help="forward+backward (default: forward)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", help="write every figure, with the machine's fingerprint, to this file")
    ap.add_argument("--peer", action="store_true",
                    help="with --layer: time titans-pytorch's NeuralMemory in the same rounds, and the "
                         "ratio ours could reach if everything but the products were free")
    args = ap.parse_args(argv)
    if args.peer and not args.layer:
        print("error: --peer compares the NeuralMemory layer; add --layer", file=sys.stderr)
        return 2
    tk.keep_heap()   # as the benchmark harness and the command line do (titans_kernels/allocator.py)
    device = torch.device(args.device)
    make = layer_call if args.layer else rule_call
    try:
        call = make(args.spec, args.batch, args.heads, args.dim, args.seq, args.chunk, args.backward, device)
    except (tk.TitansError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    fns = [call]
    if args.peer:
        try:
            fns.append(peer_call(args.batch, args.heads, args.dim, args.seq, args.chunk, args.backward, device))
        except ImportError:
            print("error: --peer needs titans-pytorch (pip install titans-pytorch)", file=sys.stderr)
            return 2
    products = record(call)
    flops = sum(p.flops for p in products)
    replays = [replay_fn(products, device), replay_fn(products, device, warm=True),
               replay_fn(products, device, warm=True, grouped=True)]
    total, *peer, alone, warm, grouped, mm = paired_medians_ms(fns + replays + [matmul_fn(device)], args.repeats,
                                                               device)
    rate = MATMUL_FLOPS / mm   # FLOP per ms
    what = f"{'NeuralMemory' if args.layer else 'rule'} {args.spec}, {'forward+backward' if args.backward else 'forward'}"
    print(f"{what}: B={args.batch} H={args.heads} D={args.dim} T={args.seq} chunk={args.chunk} on {device}")
    print(f"  products: {len(products)}, {flops / 1e9:.2f} GFLOP")
    print(f"  call: {total:.1f} ms; products alone: {alone:.1f} ms ({alone / total:.0%} of the call, "
          f"{flops / alone / 1e6:.0f} GFLOP/s); everything else: {total - alone:.1f} ms")
    print(f"  products at the 1024^3 product's rate ({rate / 1e6:.0f} GFLOP/s): call {flops / total / rate:.0%}, "
          f"alone {flops / alone / rate:.0%}, warm {flops / warm / rate:.0%}, grouped by shape {flops / grouped / rate:.0%}")
    if peer:
        print(f"  titans-pytorch: {peer[0]:.1f} ms; ours is {peer[0] / total:.2f}x its speed, and would be "
              f"{peer[0] / alone:.2f}x with everything but the products free")
    if args.json:
        from titans_kernels import settings
        from titans_kernels.perf.fingerprint import fingerprint
        doc = {"what": what, "fingerprint": fingerprint(), "threads": torch.get_num_threads(),
               "compile": settings.torch_compile(), "date": time.strftime("%Y-%m-%d"),
               "shape": dict(B=args.batch, H=args.heads, D=args.dim, T=args.seq, chunk=args.chunk),
               "repeats": args.repeats, "products": len(products), "gflop": flops / 1e9,
               "median_ms": {"call": total, "products cold, in order": alone, "products warm, in order": warm,
                             "products warm, grouped by shape": grouped, "matmul 1024^3": mm,
                             **({"titans-pytorch": peer[0]} if peer else {})}}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(doc, indent=1))
        print(f"wrote {args.json}")
    return 0


MATMUL_FLOPS = 2 * 1024 ** 3


def matmul_fn(device: torch.device) -> Callable[[], None]:
    """One 1024^3 float32 product on the engine the call's products use."""
    a, b = (torch.randn(1024, 1024, device=device) for _ in range(2))

    def run() -> None:
        with tk.matmul_engine(device):
            a @ b
    return run


if __name__ == "__main__":
    sys.exit(main())
