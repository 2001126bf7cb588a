"""Registers, spills and tensor-core instructions of the one-pass forward's variants, ahead of time.

    python benchmarks/onepass_registers.py [--target sm_90] [--out FILE]

Compiles the one-pass forward (titans_kernels/backends/triton_backend/onepass.py) for titans_mlp2
at D=64, chunk 64, bf16 inputs with the bundled ptxas, without a GPU, and counts in its SASS the
spill stores and reloads by loop depth (0: outside loops, 1: chunk loop, 2: hidden-tile loop),
the warpgroup products (HGMMA) and the warp-level ones (HMMA). A spill-free tile loop is the
first condition for the kernel to run near the tensor-core floor (docs/design.md). Results: JSON
(machine, versions, date, one row per variant).
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from titans_kernels.backends.kernel_report import disassemble, ptxas_resources, spill_sites
from titans_kernels.backends.triton_backend.onepass import onepass_forward

# (name, precision of read/key/update products, warps, hidden tile, momentum, TMA, staged operands)
VARIANTS = [
    ("tf32 pointers", "tf32", 8, 64, True, False, False),
    ("tf32 staged", "tf32", 8, 64, True, False, True),
    ("tf32 TMA", "tf32", 8, 64, True, True, False),
    ("tf32 staged, no momentum", "tf32", 8, 64, False, False, True),
    ("tf32 pointers, no momentum", "tf32", 8, 64, False, False, False),
    ("bf16 staged", "bf16", 8, 64, True, False, True),
]
ARCHS = {"sm_80": 80, "sm_90": 90, "sm_100": 100}


def compile_variant(prec: str, warps: int, hb: int, momentum: bool, tma: bool, stage: bool, arch: int) -> dict:
    io = "*bf16"
    signature = {"q_ptr": io, "k_ptr": io, "v_ptr": io, "theta_ptr": io, "eta_ptr": io, "alpha_ptr": io,
                 "out_ptr": io, "st_ptr": "*fp32", "scr_ptr": "*fp32", "ckpt_ptr": "*fp32", "T": "i32", "n_chunks": "i32",
                 "first_group": "i32", "group": "i32", "n_groups": "i32", "delta": "fp32"}
    consts = dict(D=64, HID=256, BC=64, HB=hb, SN=(4 if momentum else 2) * 256 * 64, ACT=0, LOSS=0,
                  HAS_M=momentum, HAS_D=True, PREC=prec, KPREC=prec, UPREC=prec, TMA=tma, STAGE=stage)
    signature.update({name: "constexpr" for name in consts})
    compiled = triton.compile(ASTSource(fn=onepass_forward, signature=signature, constexprs=consts),
                              target=GPUTarget("cuda", arch, 32), options={"num_warps": warps, "num_stages": 1})
    regs, spill_bytes = ptxas_resources(compiled.asm["ptx"], arch)
    sass = disassemble(compiled.asm["cubin"])
    if sass is None:
        raise SystemExit("the nvdisasm bundled with Triton is missing or failed; reinstall triton")
    return {"registers": regs, "spill_bytes": spill_bytes, "shared_bytes": int(compiled.metadata.shared),
            "spills_by_loop_depth": spill_sites(sass).by_depth,
            "hgmma": len(re.findall(r"\bHGMMA\b", sass)), "hmma": len(re.findall(r"\bHMMA\b", sass))}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", default="sm_90", choices=sorted(ARCHS))
    p.add_argument("--out", default="benchmarks/results/onepass-registers.json")
    args = p.parse_args()
    rows = []
    for name, prec, warps, hb, momentum, tma, stage in VARIANTS:
        t = time.perf_counter()
        row = dict(variant=name, precision=prec, num_warps=warps, hb=hb, momentum=momentum, tma=tma, stage=stage,
                   **compile_variant(prec, warps, hb, momentum, tma, stage, ARCHS[args.target]))
        rows.append(row)
        print(f"{name:28s} regs {row['registers']:>4} spill {row['spill_bytes']:>5} B  by depth "
              f"{row['spills_by_loop_depth']}  HGMMA {row['hgmma']} HMMA {row['hmma']}  "
              f"({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
    result = {"target": args.target, "spec": "titans_mlp2", "shape": {"D": 64, "chunk": 64, "dtype": "bfloat16"},
              "machine": platform.machine(), "python": platform.python_version(), "triton": triton.__version__,
              "date": time.strftime("%Y-%m-%d"), "rows": rows}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
