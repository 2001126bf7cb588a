"""The first questions of a GPU session, most decisive first (run on a machine with a CUDA GPU).

    python benchmarks/gpu/probe.py [--out DIR] [--batch 8 --heads 16 --seq 8192]

1. ceilings: device-to-device copy (bytes read + written), dense bf16 and tf32 matmul rates;
2. the L2 read-modify-write rate: P programs each sweeping its own state in place, tile by tile
   (64 x 64 float32), once per chunk for 128 chunks; 32 MB in all (the one-pass design's state
   at B*H = 128) against 64 MB (a double buffer) and 256 MB (HBM);
3. the one-pass forward prototype (titans_kernels/backends/triton_backend/onepass.py) at the
   issue shape: error of out and of the end state against the torch backend on the same GPU,
   every output element written, then median times per launch config, as a fraction of the
   forward's tensor-core floor; the best config again at B=1 (B*H = 16, the inference case).
Each result is printed and written to OUT/probe-<device>-<date>.json as soon as it is measured.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
import triton
import triton.language as tl

from bench_gpu import copy_bandwidth, matmul_rate
from gpu_case import cuda_case

from autotune.measured import cuda_median_seconds
from titans_kernels.backends.triton_backend.onepass import onepass_call, onepass_cost
from titans_kernels.testing import rel_error

# product precision of the read / the key path / the state update, warps, hidden tile, [tma]
CONFIGS = ["tf32/tf32/tf32,8,64", "tf32/tf32/tf32,8,64,stage", "bf16/tf32/tf32,8,64,stage", "bf16/bf16/bf16,8,64",
           "bf16/tf32/tf32,4,64"]
PARTS = ("ceilings", "rmw", "onepass", "bh16")


def parse_config(text: str) -> dict:
    """"READ/KEY[/UPDATE],warps,hb[,tma][,stage]" (e.g. "bf16/tf32/tf32,8,64") -> onepass_call's
    keyword arguments; the update's precision defaults to the read's."""
    precs, warps, hb, *flags = text.split(",")
    prec, kprec, *uprec = precs.split("/")
    return dict(precision=prec, key_precision=kprec, update_precision=uprec[0] if uprec else prec,
                num_warps=int(warps), hb=int(hb), tma="tma" in flags, stage="stage" in flags)


@triton.jit
def _rmw(st_ptr, n_chunks, SN: tl.constexpr, TILE: tl.constexpr):
    """Each program sweeps its SN floats in place, TILE x TILE at a time, n_chunks times."""
    base = st_ptr + tl.program_id(0).to(tl.int64) * SN
    offs = tl.arange(0, TILE)[:, None] * TILE + tl.arange(0, TILE)[None, :]
    for _ in range(n_chunks):
        for o in range(0, SN, TILE * TILE):
            x = tl.load(base + o + offs)
            tl.store(base + o + offs, x * 0.999 + 0.001)


def l2_rmw(programs: int, state_bytes: int, n_chunks: int = 128, warps: int = 8) -> dict:
    sn = state_bytes // 4
    st = torch.randn(programs, sn, device="cuda")
    run = lambda: _rmw[(programs,)](st, n_chunks, SN=sn, TILE=64, num_warps=warps)  # noqa: E731
    s = cuda_median_seconds(run, reps=5, warmup=1)
    moved = 2 * state_bytes * programs * n_chunks
    return dict(programs=programs, state_kb=state_bytes // 1024, total_mb=state_bytes * programs / 2**20,
                seconds=s, tb_per_s=moved / s / 1e12, us_per_sweep=s / n_chunks * 1e6)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default="titans_mlp2")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--seq", type=int, default=8192)
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "results" / "gpu"))
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--config", action="append", help="onepass config, e.g. bf16/tf32,8,64[,tma][,stage] "
                   "(repeatable; default: a fixed list)")
    p.add_argument("--reps", type=int, default=10, help="timed calls per onepass config (0: check only)")
    args = p.parse_args()
    parts = set(args.parts.split(","))
    configs = [parse_config(c) for c in (args.config or CONFIGS)]
    if not torch.cuda.is_available():
        print("no CUDA GPU here: this script needs one")
        return 0
    dev = torch.cuda.get_device_name()
    res = {"device": dev, "torch": torch.__version__, "triton": triton.__version__,
           "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"), "spec": args.spec}
    path = Path(args.out) / f"probe-{dev.replace(' ', '_')}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)

    def save(key, value):
        res[key] = value
        print(key, json.dumps(value), flush=True)
        path.write_text(json.dumps(res, indent=2))

    bf16 = 783e12   # measured on an H200 (benchmarks/results/gpu/h200-20261204), unless measured here
    if "ceilings" in parts:
        bf16 = ceilings(save)
    if "rmw" in parts:
        save("l2_rmw", [l2_rmw(P, kb * 1024) for P, kb in ((128, 256), (128, 512), (128, 2048), (16, 256))])
    if "onepass" in parts:
        onepass_rows(args, configs, bf16, save, "bh16" in parts)
    print(f"\nwrote {path}")
    summary(res)
    return 0


def ceilings(save) -> float:
    """Dense bf16 and tf32 matmul rates and copy bandwidth; returns the bf16 rate (FLOP/s)."""
    bf16 = matmul_rate(torch.bfloat16)
    torch.backends.cuda.matmul.allow_tf32 = True
    tf32 = matmul_rate(torch.float32)
    torch.backends.cuda.matmul.allow_tf32 = False
    copy = copy_bandwidth()
    save("ceilings", dict(bf16_tflops=bf16 / 1e12, tf32_tflops=tf32 / 1e12, copy_tb_per_s=copy / 1e12))
    return bf16


def onepass_rows(args, configs, bf16, save, bh16: bool) -> None:
    """Error against the torch backend and median time of each config at the issue shape."""
    B, H, T, D, c = args.batch, args.heads, args.seq, 64, 64
    ref_rule, inputs, state = cuda_case(args.spec, B, H, T, D, c, torch.bfloat16)
    ir = ref_rule.ir
    flops = 2 * ir.macs_per_chunk(D, c) * B * H * (T / c)
    floor_s = flops / bf16
    with torch.no_grad():
        ref_out, ref_state = ref_rule(*inputs.args(), state=state, chunk_size=c)
        torch_s = cuda_median_seconds(lambda: ref_rule(*inputs.args(), state=state, chunk_size=c), reps=3, warmup=1)
    save("shape", dict(B=B, H=H, T=T, D=D, chunk=c, dtype="bfloat16", forward_gflop=flops / 1e9,
                       forward_floor_s=floor_s, torch_forward_s=torch_s))
    rows = []
    for cfg in configs:
        row = dict(cfg)
        try:
            out, end = onepass_call(ir, *inputs.args(), state, chunk_size=c, **cfg)
            row["all_written"] = bool(torch.isfinite(out).all())
            row["rel_error_out"] = rel_error(out, ref_out)
            row["rel_error_state"] = max(rel_error(x, y) for x, y in zip(end.tensors(), ref_state.tensors()))
            if args.reps == 0:
                rows.append(row)
                save("onepass", rows)
                continue
            s = cuda_median_seconds(lambda: onepass_call(ir, *inputs.args(), state, chunk_size=c, **cfg),
                                    reps=args.reps, warmup=1)
            cost = onepass_cost(ir, D, c, cfg["hb"], cfg["precision"], cfg["key_precision"], cfg["update_precision"])
            state_moved = (cost["l2_state_read_bytes"] + cost["l2_state_write_bytes"]) * B * H * (T / c)
            row.update(forward_s=s, fraction_of_floor=floor_s / s, speedup_vs_torch=torch_s / s,
                       us_per_chunk=s / (T / c) * 1e6, cost=cost, state_tb_per_s=state_moved / s / 1e12)
        except Exception as exc:  # noqa: BLE001
            row["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        rows.append(row)
        save("onepass", rows)
    timed = [r for r in rows if "forward_s" in r]
    if timed and bh16:
        best = min(timed, key=lambda r: r["forward_s"])
        cfg = {k: best[k] for k in configs[0]}
        _, inp1, st1 = cuda_case(args.spec, 1, H, T, D, c, torch.bfloat16)
        s = cuda_median_seconds(lambda: onepass_call(ir, *inp1.args(), st1, chunk_size=c, **cfg), reps=10, warmup=1)
        f1 = 2 * ir.macs_per_chunk(D, c) * H * (T / c)
        save("onepass_bh16", dict(cfg, B=1, H=H, forward_s=s, fraction_of_floor=f1 / bf16 / s,
                                  us_per_chunk=s / (T / c) * 1e6))


def summary(res: dict) -> None:
    """The short table printed last."""
    if "ceilings" in res:
        c = res["ceilings"]
        print(f"ceilings: bf16 {c['bf16_tflops']:.0f} TFLOP/s, tf32 {c['tf32_tflops']:.0f}, copy {c['copy_tb_per_s']:.2f} TB/s")
    for r in res.get("l2_rmw", []):
        print(f"rmw {r['programs']:4d} x {r['state_kb']:5d} KB: {r['tb_per_s']:.2f} TB/s, {r['us_per_sweep']:.2f} us/sweep")
    if "shape" in res:
        sh = res["shape"]
        print(f"torch forward {sh['torch_forward_s'] * 1e3:.2f} ms; floor {sh['forward_floor_s'] * 1e3:.3f} ms")
    for r in res.get("onepass", []):
        name = f"{r['precision']}/{r['key_precision']}/{r['update_precision']} w{r['num_warps']} hb{r['hb']}"
        name += "".join(f" {f}" for f in ("tma", "stage") if r.get(f))
        if "forward_s" in r:
            tail = (f"{r['forward_s'] * 1e3:.2f} ms, {100 * r['fraction_of_floor']:.1f}% of floor, "
                    f"err {r['rel_error_out']:.1e}/{r['rel_error_state']:.1e}")
        else:
            tail = r.get("error") or f"err {r.get('rel_error_out', float('nan')):.1e}"
        print(f"onepass {name}: {tail}")


if __name__ == "__main__":
    sys.exit(main())
