"""Shared memory, registers and spills of the TileLang kernels, generic against resident, ahead of time.

    python benchmarks/tilelang_resident.py [--target sm_90a] [--out FILE] [--kinds fwd,bwd]

Lowers and nvcc-compiles each spec's TileLang forward (and backward) at D=64, chunk 64 and the
backend's default launch config twice, as the generic kernel (state and scratch through L2) and as
the resident one (every layer's weights, then what else fits, in shared memory for the whole
kernel), through the package's report (`titans-kernels compile --backend tilelang --report`), on a
machine without a GPU. Each row holds what the placement put on chip, the planned bytes and the
reserve for the products' tiles next to the lowered kernel's shared memory: the check that the
reserve (STAGING_FACTOR) holds. Results: JSON (machine, versions, date, one row per kernel).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import titans_kernels as tk
from titans_kernels.backends.tilelang_backend import backward_config, default_config, launch, tile_config
from titans_kernels.backends.tilelang_backend.aot import TARGETS, compile_report
from titans_kernels.backends.tilelang_backend.codegen_cluster import cluster_problem

SPECS = ("titans_mlp2", "titans_mlp2_nomomentum", "titans_linear", "titans_mlp3")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", default="sm_90a", choices=sorted(set(TARGETS)))
    p.add_argument("--kinds", default="fwd,bwd", help="fwd, bwd or both (a backward lowering takes minutes)")
    p.add_argument("--specs", default=",".join(SPECS))
    p.add_argument("--tile", type=int, default=None, help="product tile edge (default: the backend's config)")
    p.add_argument("--stages", type=int, default=None, help="pipeline stages (default: the backend's config)")
    p.add_argument("--variants", default="generic,resident",
                   help="generic, resident, cluster2, cluster4 (the cluster forward: depth-2 specs, fwd only); "
                        "generic or resident with -tf32 (tf32 tiles: K-major, warpgroup products) or -bf16 "
                        "(bfloat16 tiles, fwd only)")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "tilelang-resident.json"),
                   help="JSON file; rows already in it for other (spec, kind, variant) are kept")
    args = p.parse_args()
    import tilelang
    out = Path(args.out)
    old = json.loads(out.read_text())["rows"] if out.exists() else []
    rows = []
    results = {"machine": platform.machine(), "python": platform.python_version(), "tilelang": tilelang.__version__,
               "date": time.strftime("%Y-%m-%d"), "target": args.target, "D": 64, "chunk": 64, "rows": rows}
    def save():   # after each row: the file keeps the rows of other (spec, kind, variant, tile, stages)
        key = lambda r: (r["spec"], r["kind"], r["kernel"], r["config"]["tile"], r["config"]["num_stages"])  # noqa: E731
        keys = {key(r) for r in rows}
        out.write_text(json.dumps({**results, "rows": [r for r in old if key(r) not in keys] + rows}, indent=1) + "\n")

    for name in args.specs.split(","):
        ir = tk.lower(tk.load_spec(name))
        for kind in args.kinds.split(","):
            base = default_config(ir) if kind == "fwd" else backward_config(ir)
            base = replace(base, tile=args.tile or base.tile, num_stages=args.stages or base.num_stages)
            for variant in args.variants.split(","):
                kernel, cluster = ("resident", int(variant[7:])) if variant.startswith("cluster") else (variant, 1)
                kernel, _, precision = kernel.partition("-")
                precision = precision or base.precision
                if (cluster > 1 or precision == "bf16") and kind != "fwd":   # backwards: one block, tf32 for bf16
                    continue
                if cluster > 1 and cluster_problem(ir, replace(tile_config(base, 64, 64, True, target=TARGETS[args.target]),
                                                                   cluster=cluster)):
                    continue
                cfg = replace(base, kernel=kernel, backward=kernel, cluster=cluster, precision=precision)
                tc = tile_config(cfg, 64, 64, on_gpu=True, kind=kind, target=TARGETS[args.target])
                try:
                    em = launch.emitter(ir, tc, kind)   # the placement (and, for a cluster, its slices)
                except tk.InputError as exc:   # does not fit: the rule's one line is the row
                    rows.append({"spec": name, "kind": kind, "kernel": variant, "refused": str(exc),
                                 "config": asdict(cfg)})
                    print(json.dumps(rows[-1]), flush=True)
                    save()
                    continue
                t0 = time.perf_counter()
                report = compile_report(ir, args.target, D=64, chunk_size=64, cfg=cfg, kind=kind)
                row = {"spec": name, "kind": kind, "kernel": variant, "shared_bytes": report.shared_bytes,
                       "onchip": em.placed, "onchip_bytes": em.onchip_bytes(), "staging_reserve": em.staging_reserve(),
                       "largest_product_tiles": em.staging, "registers": report.registers,
                       "spill_bytes": report.spill_bytes, "hmma": sum(report.hmma_sites or []),
                       "hgmma": sum(report.hgmma_sites or []), "config": asdict(cfg),
                       "compile_s": round(time.perf_counter() - t0, 1)}
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "config"}), flush=True)
                save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
