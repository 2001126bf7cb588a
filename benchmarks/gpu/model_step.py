"""Tokens/s of a MAC training step at a 125M-parameter-class config, compiled memory backend against
the torch backend, on a GPU.

    python benchmarks/gpu/model_step.py [--backends triton,torch] [--out DIR]

Config (defaults): dim 768, 12 layers, 12 heads, segment 512, memory heads of 64 (12 x 64),
titans_mlp2_normalized, chunk 64, batch 4 x 2048 tokens, bf16 autocast, AdamW. Each backend's
step: forward, next-token loss, backward, optimizer step; median of CUDA-event times after a
warm-up step (which compiles). Writes one JSON with device, versions, date; a backend that
fails is recorded with its error and the others still run.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from titans_models import TitansConfig
from titans_models.lm import MODELS


def step_fn(model, opt, x, device):
    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits, _ = model(x[:, :-1])
        loss = F.cross_entropy(logits.float().flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def median_seconds(fn, reps: int, device) -> float:
    if device.type != "cuda":
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return sorted(times)[len(times) // 2]
    from autotune.measured import cuda_median_seconds
    return cuda_median_seconds(fn, reps, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mac")
    p.add_argument("--backends", default="triton,torch")
    p.add_argument("--dim", type=int, default=768)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--mem-dim-head", type=int, default=64)
    p.add_argument("--segment", type=int, default=512)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "results" / "gpu"))
    args = p.parse_args(argv)
    device = torch.device(args.device)
    rows = []
    for backend in args.backends.split(","):
        cfg = TitansConfig(vocab_size=256, dim=args.dim, layers=args.layers, heads=args.heads,
                           mem_heads=args.dim // args.mem_dim_head, mem_dim_head=args.mem_dim_head,
                           chunk_size=args.chunk, segment_len=args.segment, window=args.segment, backend=backend)
        row = {"backend": backend}
        try:
            torch.manual_seed(0)
            model = MODELS[args.model](cfg).to(device)
            row["parameters"] = sum(q.numel() for q in model.parameters())
            opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
            x = torch.randint(0, 256, (args.batch, args.seq + 1), device=device)
            step = step_fn(model, opt, x, device)
            t = time.perf_counter()
            step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            row["first_step_s"] = time.perf_counter() - t
            s = median_seconds(step, args.reps, device)
            row.update(step_s=s, tokens_per_s=args.batch * args.seq / s)
        except Exception as exc:   # noqa: BLE001 - record the failure, measure the other backends
            row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        rows.append(row)
        print(json.dumps(row), flush=True)
        del row
        if device.type == "cuda":
            torch.cuda.empty_cache()
    import triton
    result = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "triton": triton.__version__, "python": platform.python_version(),
              "date": time.strftime("%Y-%m-%d"), "config": vars(args), "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"model-step-{result['device'].replace(' ', '_')}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    ok = [r for r in rows if "tokens_per_s" in r]
    print("  ".join(f"{r['backend']}: {r['tokens_per_s']:,.0f} tokens/s" for r in ok) + f"  -> {path}")
    return 0 if len(ok) == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
