"""`titans-kernels run SPEC`: compile, stream random input through the memory, report speed/error."""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, replace

import torch

from ..backends.torch_backend.engine import cpu_engine
from ..backends.launch_config import (KERNELS, ONEPASS_DEFAULTS, TILELANG_KERNELS, default_config, forward_label,
                                      onepass_config, tiled_config)
from ..compiler import compile as compile_rule
from ..errors import InputError
from ..ir import lower
from ..spec import load_spec
from ..testing import random_inputs, rel_error

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16,
          "float64": torch.float64}


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="compile a spec and stream random input through the memory")
    p.add_argument("spec", help="shipped spec name or path to a .yaml file")
    p.add_argument("--backend", default="torch", help="backend (default: torch)")
    p.add_argument("--seq", type=int, default=4096, help="tokens per sequence (default 4096)")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dim", type=int, default=64, help="head dim D (default 64)")
    p.add_argument("--chunk", type=int, default=None, help="chunk size (default: the spec's)")
    p.add_argument("--segment", type=int, default=1024,
                   help="tokens per call; state is carried between calls (default 1024)")
    p.add_argument("--dtype", choices=list(DTYPES), default="float32")
    p.add_argument("--check", type=int, default=128,
                   help="prefix length checked against the reference backend (0: skip)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tuned-for", default=None,
                   help="triton: use the tuning record of this catalogue GPU (e.g. a100)")
    p.add_argument("--forward", choices=KERNELS, default=None,
                   help="this forward kernel at its launch defaults instead of the tuned config: triton: "
                        "generic, tiled or onepass; tilelang: generic or resident (weights in shared memory; "
                        "its backward too)")
    p.set_defaults(func=cmd_run)


def _positive(**values) -> None:
    for name, value in values.items():
        if value is not None and value < 1:
            raise InputError(f"--{name}={value}: expected a positive integer")


def cmd_run(args) -> int:
    _positive(seq=args.seq, batch=args.batch, heads=args.heads, dim=args.dim, chunk=args.chunk,
              segment=args.segment)
    spec = load_spec(args.spec)
    options = {"tuned_for": args.tuned_for} if args.tuned_for else {}
    if args.tuned_for and args.backend != "triton":
        raise InputError("--tuned-for applies to --backend triton")
    if args.forward:
        if args.tuned_for:
            raise InputError("--forward and --tuned-for both choose the launch config; pass one")
        if args.backend not in ("triton", "tilelang"):
            raise InputError("--forward applies to --backend triton or tilelang")
        tilelang = args.backend == "tilelang"
        if tilelang != (args.forward in TILELANG_KERNELS) and args.forward != "generic":
            raise InputError(f"--forward {args.forward} is a {'Triton' if tilelang else 'TileLang'} kernel; "
                             + (f"the tilelang backend has {' and '.join(('generic',) + TILELANG_KERNELS)}"
                                if tilelang else "add --backend tilelang"))
        if tilelang:   # the forward kernel and its own backward, at the backend's launch defaults
            from ..backends.tilelang_backend import default_config as tilelang_default
            options = {"config": replace(tilelang_default(lower(spec)), kernel=args.forward, backward=args.forward,
                                         cluster=0 if args.forward == "resident" else 1)}
        else:
            # the one-pass launch default's hidden tile, narrowed to the hidden width of a small --dim
            hidden = lower(spec).layer_shapes(args.dim)[0][0]
            configs = {"generic": lambda: default_config(lower(spec)), "tiled": tiled_config,
                       "onepass": lambda: onepass_config(tile=min(ONEPASS_DEFAULTS["tile"], max(hidden, 16)))}
            options = {"config": configs[args.forward]()}
    rule = compile_rule(spec, backend=args.backend, **options)
    ir = rule.ir
    chunk = args.chunk or ir.chunk_size
    if args.segment % chunk:
        raise InputError(f"--segment={args.segment} must be a multiple of the chunk size {chunk}")
    gen = torch.Generator().manual_seed(args.seed)
    B, H, T, D = args.batch, args.heads, args.seq, args.dim
    dtype = DTYPES[args.dtype]
    inputs = random_inputs(ir, B, H, T, D, chunk, dtype=dtype, device=args.device, generator=gen)
    state0 = rule.init_state(B, H, D, device=args.device, generator=gen)
    print(f"{ir.name} on backend '{rule.backend}': B={B} H={H} T={T} D={D} chunk={chunk} {args.dtype}")

    state = state0
    pieces = []
    start = time.perf_counter()
    with torch.no_grad():
        for lo in range(0, T, args.segment):
            hi = min(T, lo + args.segment)
            seg = _slice(inputs, lo, hi, chunk)
            out, state = rule(*seg, state=state, chunk_size=chunk)
            pieces.append(out)
            done = time.perf_counter() - start
            if sys.stdout.isatty():
                print(f"\r  streamed {hi}/{T} tokens  {B * hi / done:,.0f} tok/s", end="", flush=True)
    elapsed = time.perf_counter() - start
    if sys.stdout.isatty():
        print()
    if getattr(rule, "last_config", None) is not None:
        c = rule.last_config
        print(f"  launch config: tile={c.tile} warps={c.num_warps} stages={c.num_stages} "
              f"precision={c.precision} forward={forward_label(asdict(c))} backward={c.backward} "
              f"({rule.last_config_source})")
    if torch.device(args.device).type == "cpu" and getattr(rule, "last_backend", rule.backend) == "torch":
        print(f"  CPU matrix products: {cpu_engine()} route (TITANS_CPU_MATMUL=default|onednn|auto overrides)")
        step = getattr(getattr(rule, "torch_rule", rule), "last_step", None)
        if step:
            print(f"  chunk steps: {step} (TITANS_TORCH_COMPILE=off|on|auto chooses)")
    out = torch.cat(pieces, dim=2)
    macs = ir.macs_per_chunk(D, chunk) * B * H * (T / chunk)
    print(f"  throughput: {B * T / elapsed:,.0f} tokens/s, {2 * macs / elapsed / 1e9:.1f} GFLOP/s "
          f"(dual-form count), {elapsed:.2f} s")
    finite = bool(torch.isfinite(out).all())
    norm = lambda st: sum(float(w.float().norm()) for w in st.weights)  # noqa: E731
    print(f"  output finite: {finite}; memory weight norm: {norm(state0):.3f} at start, "
          f"{norm(state):.3f} at the end")
    if args.check:
        n = min(args.check, T)
        ref = compile_rule(spec, backend="reference")
        seg = _slice(inputs, 0, n, chunk)
        with torch.no_grad():
            ref_out, _ = ref(*(x.double() if x is not None else None for x in seg),
                             state=state0.to(torch.float64), chunk_size=chunk)
        err = rel_error(out[:, :, :n], ref_out)
        print(f"  relative error vs reference on the first {n} tokens: {err:.2e}")
    return 0 if finite else 1


def _slice(inputs, lo: int, hi: int, chunk_size: int):
    """Token range [lo, hi) of every input; per-chunk gates are sliced by chunk index."""
    T = inputs.q.shape[2]
    out = []
    for x in inputs.args():
        if x is None:
            out.append(None)
        elif x.dim() == 4 or x.shape[-1] == T and x.shape[-1] != -(-T // chunk_size):
            out.append(x[:, :, lo:hi])
        else:
            out.append(x[:, :, lo // chunk_size: -(-hi // chunk_size)])
    return out
