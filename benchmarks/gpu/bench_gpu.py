"""GPU check and timing of the rule backends (run on a machine with a CUDA GPU).

    python benchmarks/gpu/bench_gpu.py [--spec titans_mlp2] [--batch 8 --heads 16 --dim 64
                                        --seq 8192 --chunk 64 --dtype bfloat16] [--out DIR]

1. correctness: every backend's output and gradients against the torch backend on the GPU;
2. timing (CUDA events, median): forward and forward+backward of the torch backend (eager),
   torch.compile of it, the triton and tilelang backends (tilelang's generic and resident kernels),
   and titans-pytorch's NeuralMemory where installed (the tilelang target: within 1.2x of triton);
3. the same run's dense bf16 matmul rate, so each forward is also reported as a fraction of the
   tensor-core rate implied by the dual form's FLOPs.
Results (device name, versions, timings) are written as JSON under benchmarks/results/.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from gpu_case import DTYPES, cuda_case, row_names, rule_call, tilelang_rows

import titans_kernels as tk
from autotune.measured import cuda_median_seconds
from titans_kernels.backends.launch_config import TritonConfig, onepass_config, onepass_problem, tiled_supported
from titans_kernels.testing import rel_error


# fewest ptxas spills for the tiled forward on sm_90 at D=64, chunk 64 (tests/test_triton_tiled.py)
TILED_CONFIG = TritonConfig(tile=16, num_warps=8, num_stages=1, precision="tf32", kernel="tiled")
# the tiled backward (tiled_bwd.py) too, at 4 warps: tile 16 with 8 warps faults under Triton 3.6
# at D=64 (config.known_fault)
TILED_BOTH_CONFIG = replace(TILED_CONFIG, backward="tiled", num_warps=4)


def cuda_time(fn, reps: int = 10, warmup: int = 2) -> float:
    """Median seconds of fn() measured with CUDA events."""
    return cuda_median_seconds(fn, reps, warmup)


def matmul_rate(dtype: torch.dtype, n: int = 8192) -> float:
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    return 2 * n ** 3 / cuda_time(lambda: a @ b, reps=10)


def copy_bandwidth(n_bytes: int = 2 << 30) -> float:
    """Device-to-device copy rate in bytes/s, counting bytes read plus bytes written."""
    src = torch.empty(n_bytes // 4, device="cuda", dtype=torch.float32).uniform_()
    dst = torch.empty_like(src)
    return 2 * n_bytes / cuda_time(lambda: dst.copy_(src), reps=10)


def tensor_bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


def write(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default="titans_mlp2")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--seq", type=int, default=8192)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--dtype", choices=list(DTYPES), default="bfloat16")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "results"))
    p.add_argument("--skip", default="", help="comma-separated backends to leave out "
                   "(torch, triton, triton (tiled forward), triton (tiled forward, three passes), "
                   "triton (tiled forward, in place), "
                   "triton (tiled forward + backward), triton (one-pass forward), "
                   "triton (one-pass forward, staged), tilelang, tilelang (resident), "
                   "tilelang (resident, cluster 2), tilelang (resident, cluster 4), "
                   "tilelang (resident, bf16 products), tilelang (resident, tf32 wgmma), "
                   "torch.compile(torch))")
    p.add_argument("--forward-only", action="store_true", help="time the forward only (no backward kernels "
                   "compiled)")
    p.add_argument("--only", default="", help="comma-separated backends to run, by the names --skip takes "
                   "(default: all)")
    args = p.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU here: this script needs one (CPU benchmarks: make bench)")
        return 0
    B, H, T, D, c = args.batch, args.heads, args.seq, args.dim, args.chunk
    dtype = DTYPES[args.dtype]
    ref_rule, inputs, state = cuda_case(args.spec, B, H, T, D, c, dtype)
    ir = ref_rule.ir
    flops = 2 * ir.macs_per_chunk(D, c) * B * H * (T / c)

    skip = row_names(args.skip)
    rules = {"torch": ref_rule, "triton": tk.compile(args.spec, backend="triton")}
    if tiled_supported(ir):   # the tiled forward at its AOT-chosen config (tiled.py); same backward
        rules["triton (tiled forward)"] = tk.compile(args.spec, backend="triton", config=TILED_CONFIG)
        rules["triton (tiled forward, three passes)"] = tk.compile(args.spec, backend="triton",
                                                                   config=replace(TILED_CONFIG, fuse=False))
        rules["triton (tiled forward, in place)"] = tk.compile(args.spec, backend="triton",
                                                               config=replace(TILED_CONFIG, in_place=True))
        rules["triton (tiled forward + backward)"] = tk.compile(args.spec, backend="triton", config=TILED_BOTH_CONFIG)
    if onepass_problem(ir) is None:   # the one-pass forward as a launch config; the generic backward after it
        rules["triton (one-pass forward)"] = tk.compile(args.spec, backend="triton", config=onepass_config())
        rules["triton (one-pass forward + backward)"] = tk.compile(args.spec, backend="triton",
                                                                   config=onepass_config(backward="onepass"))
        if c == D and ir.depth == 2:
            rules["triton (one-pass forward, staged)"] = tk.compile(args.spec, backend="triton",
                                                                    config=onepass_config(stage=True))
    try:   # the generic kernel, the resident ones (a row's error where they do not fit or cover the rule)
        for name, cfg in tilelang_rows(ir).items():
            rules[name] = tk.compile(args.spec, backend="tilelang", config=cfg)
    except tk.BackendError as exc:
        print(f"tilelang unavailable: {exc}")
    try:   # last: compiling the unrolled chunk loop takes longest
        rules["torch.compile(torch)"] = torch.compile(ref_rule.__call__)
    except Exception as exc:  # noqa: BLE001
        print(f"torch.compile unavailable: {exc}")
    only = row_names(args.only)
    rules = {name: rule for name, rule in rules.items() if name not in skip and (not only or name in only)}

    def run(rule, grad: bool):
        return rule_call(rule, inputs, state, c, grad)

    with torch.no_grad():
        ref_out = run(ref_rule, False)()
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
               "python": platform.python_version(), "spec": args.spec,
               "shape": dict(B=B, H=H, T=T, D=D, chunk=c, dtype=args.dtype), "backends": {}}
    try:
        import triton
        results["triton"] = triton.__version__
    except ImportError:
        pass
    rate = matmul_rate(torch.bfloat16)
    bandwidth = copy_bandwidth()
    # the fewest bytes a forward moves: every input read once, out and the end state written once
    io_bytes = tensor_bytes(inputs.tensors()) + tensor_bytes(state.tensors()) * 2 + B * H * T * D * dtype.itemsize
    floor_s = max(flops / rate, io_bytes / bandwidth)
    results.update(bf16_matmul_tflops=rate / 1e12, copy_tb_per_s=bandwidth / 1e12, forward_gflop=flops / 1e9,
                   forward_min_bytes=io_bytes, forward_floor_s=floor_s,
                   forward_floor_binds="matmul" if flops / rate >= io_bytes / bandwidth else "bandwidth")
    out_dir = Path(args.out)
    path = out_dir / f"{results['device'].replace(' ', '_')}-{args.spec}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    print(f"dual-form forward: {flops / 1e9:.1f} GFLOP, {io_bytes / 1e6:.1f} MB; bf16 matmul "
          f"{rate / 1e12:.0f} TFLOP/s, copy {bandwidth / 1e12:.2f} TB/s -> floor {floor_s * 1e3:.3f} ms")
    for name, rule in rules.items():
        entry = {}
        try:
            with torch.no_grad():
                out = run(rule, False)()
            entry["rel_error_vs_torch"] = rel_error(out, ref_out)
            entry["forward_s"] = cuda_time(run(rule, False))
            if not args.forward_only:
                entry["forward_backward_s"] = cuda_time(run(rule, True), reps=5)
            entry["forward_tokens_per_s"] = B * T / entry["forward_s"]
            entry["forward_fraction_of_bf16_matmul"] = flops / entry["forward_s"] / rate
            entry["forward_fraction_of_floor"] = floor_s / entry["forward_s"]
        except Exception as exc:  # noqa: BLE001
            entry["error"] = f"{type(exc).__name__}: {exc}"
        results["backends"][name] = entry
        print(name, json.dumps(entry), flush=True)
        write(results, path)   # after each backend: a run cut short keeps what it measured
    try:
        if only and "titans-pytorch NeuralMemory" not in only:
            raise RuntimeError("not in --only")
        from titans_pytorch import NeuralMemory  # optional peer
        mem = NeuralMemory(dim=H * D, heads=H, dim_head=D, chunk_size=c).to("cuda")
        x = torch.randn(B, T, H * D, device="cuda")
        results["backends"]["titans-pytorch NeuralMemory"] = {"forward_s": cuda_time(lambda: mem(x), reps=5)}
    except Exception as exc:  # noqa: BLE001
        results["backends"]["titans-pytorch NeuralMemory"] = {"skipped": f"{type(exc).__name__}: {exc}"}
    if "forward_s" in results["backends"].get("triton", {}):
        results["triton_speedup_vs_torch_forward"] = (results["backends"]["torch"]["forward_s"]
                                                     / results["backends"]["triton"]["forward_s"])
    if "forward_s" in results["backends"].get("tilelang", {}) and "forward_s" in results["backends"].get("triton", {}):
        results["tilelang_time_over_triton_forward"] = (results["backends"]["tilelang"]["forward_s"]
                                                       / results["backends"]["triton"]["forward_s"])
    write(results, path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
