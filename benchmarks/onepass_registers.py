"""Registers, spills and tensor-core instructions of the one-pass forward's variants, ahead of time.

    python benchmarks/onepass_registers.py [--target sm_90] [--out FILE]

Compiles the one-pass forward (titans_kernels/backends/triton_backend/onepass.py) for titans_mlp2
(and its no-momentum variant) at D=64, chunk 64, bf16 inputs through the package's AOT report
(`titans-kernels compile --report`) with the bundled ptxas, without a GPU, and counts in its SASS the
spill stores and reloads by loop depth (0: outside loops, 1: chunk loop, 2: hidden-tile loop),
the warpgroup products (HGMMA) and the warp-level ones (HMMA). A spill-free tile loop is the
first condition for the kernel to run near the tensor-core floor (docs/design.md). Results: JSON
(machine, versions, date, one row per variant).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import triton

import titans_kernels as tk
from titans_kernels.backends.launch_config import onepass_config
from titans_kernels.backends.triton_backend.aot import compile_report

# (name, spec, precision of read/key/update products, warps, hidden tile, staged operands)
VARIANTS = [
    ("tf32 pointers", "titans_mlp2", "tf32", 8, 64, False),
    ("tf32 staged", "titans_mlp2", "tf32", 8, 64, True),
    ("tf32 staged, 16 warps", "titans_mlp2", "tf32", 16, 64, True),
    ("tf32 staged, tile 32", "titans_mlp2", "tf32", 8, 32, True),
    ("tf32 staged, no momentum", "titans_mlp2_nomomentum", "tf32", 8, 64, True),
    ("tf32 pointers, no momentum", "titans_mlp2_nomomentum", "tf32", 8, 64, False),
    ("bf16 staged", "titans_mlp2", "bf16", 8, 64, True),
    ("bf16 staged, 16 warps", "titans_mlp2", "bf16", 16, 64, True),
]
TARGETS = ("sm_80", "sm_90", "sm_100")


def compile_variant(spec: str, prec: str, warps: int, hb: int, stage: bool, target: str) -> dict:
    """The one-pass forward's resources under one config, through the package's AOT report
    (`titans-kernels compile --report`'s path), with every product group at `prec`."""
    cfg = onepass_config(precision=prec, key_precision=prec, update_precision=prec, num_warps=warps, tile=hb,
                         stage=stage)
    rep = compile_report(tk.lower(tk.load_spec(spec)), target, D=64, chunk_size=64, dtype="bfloat16", cfg=cfg)
    return {"registers": rep.registers, "spill_bytes": rep.spill_bytes, "shared_bytes": rep.shared_bytes,
            "spills_by_loop_depth": rep.spill_sites, "hgmma": sum(rep.hgmma_sites or []),
            "hmma": sum(rep.hmma_sites or [])}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", default="sm_90", choices=TARGETS)
    p.add_argument("--out", default="benchmarks/results/onepass-registers.json")
    args = p.parse_args()
    rows = []
    for name, spec, prec, warps, hb, stage in VARIANTS:
        t = time.perf_counter()
        row = dict(variant=name, spec=spec, precision=prec, num_warps=warps, hb=hb, stage=stage,
                   **compile_variant(spec, prec, warps, hb, stage, args.target))
        rows.append(row)
        print(f"{name:28s} regs {row['registers']:>4} spill {row['spill_bytes']:>5} B  by depth "
              f"{row['spills_by_loop_depth']}  HGMMA {row['hgmma']} HMMA {row['hmma']}  "
              f"({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
    result = {"target": args.target, "shape": {"D": 64, "chunk": 64, "dtype": "bfloat16"},
              "machine": platform.machine(), "python": platform.python_version(), "triton": triton.__version__,
              "date": time.strftime("%Y-%m-%d"), "rows": rows}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
