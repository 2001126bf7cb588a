"""Forward time of the Triton kernel over a grid of launch configurations on the local GPU, with
each one's error against the torch backend; then forward+backward of the best per precision, with
the generic backward and (depth-2 specs) the tiled one. The tiled forward runs fused (read and
state update in one pass over the hidden tiles; with --fuse 1,0 also in three passes, "tiled-3p"),
with a double-buffered state (with --in-place 0,1 also updated in place, "-ip").

    python benchmarks/gpu/sweep_configs.py [--spec titans_mlp2] [--batch-heads 128 --seq 8192
                                            --dim 64 --chunk 64 --dtype bfloat16]
                                           [--kernels generic,tiled] [--fuse 1,0] [--in-place 0,1]
                                           [--out DIR]

Prints a table (fastest first) and writes it as JSON to DIR.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from gpu_case import DTYPES, cuda_case, rule_call

from autotune.measured import cuda_median_seconds
from titans_kernels.backends.triton_backend import TritonRule
from titans_kernels.backends.launch_config import PRECISIONS, TritonConfig, tiled_supported
from titans_kernels.testing import rel_error


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default="titans_mlp2")
    p.add_argument("--batch-heads", type=int, default=128)
    p.add_argument("--seq", type=int, default=8192)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--dtype", choices=list(DTYPES), default="bfloat16")
    p.add_argument("--tiles", default="16,32,64")
    p.add_argument("--warps", default="4,8")
    p.add_argument("--stages", default="1,2")
    p.add_argument("--precisions", default="ieee,tf32,bf16", help="bf16: tiled forward only")
    p.add_argument("--kernels", default="generic,tiled", help="forward kernels (tiled: depth-2 specs)")
    p.add_argument("--fuse", default="1", help="tiled forward: read and state update in one pass (1), "
                                               "in two (0), or both (1,0)")
    p.add_argument("--in-place", default="0", help="tiled forward: double-buffered state (0), updated "
                                                   "in place (1), or both (0,1)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "results"))
    args = p.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU here: this script needs one")
        return 0
    ints = lambda s: [int(x) for x in s.split(",")]  # noqa: E731
    BH, T, D, c, dtype = args.batch_heads, args.seq, args.dim, args.chunk, DTYPES[args.dtype]
    ref_rule, inputs, state = cuda_case(args.spec, 1, BH, T, D, c, dtype)
    ir = ref_rule.ir
    with torch.no_grad():
        ref = rule_call(ref_rule, inputs, state, c, grad=False)()
        torch_s = cuda_median_seconds(rule_call(ref_rule, inputs, state, c, grad=False), 5)

    kernels = [k for k in args.kernels.split(",") if k != "tiled" or tiled_supported(ir)]
    # (forward kernel, fuse, in_place): both options apply to the tiled forward only
    variants = [(k, bool(f), bool(p)) for k in kernels
                for f in (ints(args.fuse) if k == "tiled" else [1]) for p in (ints(args.in_place) if k == "tiled" else [0])]
    rows = []
    for (kernel, fuse, in_place), tile, warps, stages, prec in itertools.product(
            variants, ints(args.tiles), ints(args.warps), ints(args.stages), args.precisions.split(",")):
        if tile > min(D, c) or prec not in PRECISIONS[kernel]:
            continue
        cfg = TritonConfig(tile=tile, num_warps=warps, num_stages=stages, precision=prec, kernel=kernel, fuse=fuse,
                           in_place=in_place)
        rule = TritonRule(ir, config=cfg)
        row = {"kernel": kernel, "fuse": fuse, "in_place": in_place, "tile": tile, "warps": warps, "stages": stages,
               "precision": prec}
        try:
            t0 = time.perf_counter()
            forward = rule_call(rule, inputs, state, c, grad=False)
            with torch.no_grad():
                out = forward()
                torch.cuda.synchronize()
                row["first_call_s"] = time.perf_counter() - t0
                row["rel_error"] = rel_error(out, ref)
                row["forward_s"] = cuda_median_seconds(forward, 5)
        except Exception as exc:  # noqa: BLE001
            row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    timed = sorted((r for r in rows if "forward_s" in r), key=lambda r: r["forward_s"])
    for kernel, prec in itertools.product(kernels, args.precisions.split(",")):
        best = next((r for r in timed if r["precision"] == prec and r["kernel"] == kernel), None)
        if best is None:
            continue
        cfg = TritonConfig(tile=best["tile"], num_warps=best["warps"], num_stages=best["stages"], precision=prec,
                           kernel=kernel, fuse=best["fuse"], in_place=best["in_place"])
        # each backward after the best forward: the generic one and, for depth-2 specs, the tiled one
        # (launched with the forward's tile, warps and stages)
        for backward in ["generic"] + (["tiled"] if tiled_supported(ir) else []):
            key = "forward_backward_s" if backward == "generic" else "forward_tiled_backward_s"
            fwd_bwd = rule_call(TritonRule(ir, config=replace(cfg, backward=backward)), inputs, state, c, grad=True)
            try:
                best[key] = cuda_median_seconds(fwd_bwd, 3)
            except Exception as exc:  # noqa: BLE001
                best[f"{backward}_backward_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "triton": __import__("triton").__version__, "spec": args.spec,
              "shape": {"BH": BH, "T": T, "D": D, "chunk": c, "dtype": args.dtype},
              "torch_backend_forward_s": torch_s, "configs": timed + [r for r in rows if "forward_s" not in r]}
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"sweep-{result['device'].replace(' ', '_')}-{args.spec}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"\ntorch backend forward {torch_s * 1e3:.1f} ms; {len(timed)} configs timed, fastest first:")
    print(f"{'kernel':>11} {'tile':>4} {'warps':>5} {'stages':>6} {'prec':>5} {'fwd ms':>8} {'x torch':>7} {'rel err':>8} "
          f"{'fwd+bwd ms':>10} {'tiled bwd':>10}")
    ms = lambda r, key: f"{r[key] * 1e3:10.1f}" if key in r else " " * 10  # noqa: E731
    for r in timed:
        name = r["kernel"] + ("" if r["fuse"] else "-3p") + ("-ip" if r["in_place"] else "")  # 3 passes, in place
        print(f"{name:>11} {r['tile']:4d} {r['warps']:5d} {r['stages']:6d} {r['precision']:>5} {r['forward_s'] * 1e3:8.1f} "
              f"{torch_s / r['forward_s']:7.2f} {r['rel_error']:8.1e} {ms(r, 'forward_backward_s')} "
              f"{ms(r, 'forward_tiled_backward_s')}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
