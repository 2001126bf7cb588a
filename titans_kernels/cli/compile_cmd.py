"""`titans-kernels compile SPEC [--backend triton|tilelang] --target sm_90 [--report]`: ahead-of-time
compilation, no GPU needed."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from ..backends import launch_config as config
from ..backends.launch_config import TUNABLES
from ..errors import BackendError, InputError
from ..ir import lower
from ..spec import load_spec


def add_parser(sub) -> None:
    p = sub.add_parser("compile", help="compile a spec's kernels ahead of time for a GPU target")
    p.add_argument("spec", help="shipped spec name or path to a .yaml file")
    p.add_argument("--backend", default="triton", choices=["triton", "tilelang"])
    p.add_argument("--target", default=None,
                   help="triton: sm_80 | sm_90 | sm_100 | gfx942 (default sm_90); tilelang: sm_80 | sm_90a (default sm_90a)")
    p.add_argument("--dim", type=int, default=64, help="head dim D (default 64)")
    p.add_argument("--chunk", type=int, default=64, help="chunk size (default 64)")
    p.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--tile", type=int, default=None, choices=TUNABLES["tile"].values,
                   help="GEMM tile edge (default: per-spec default; with a tiled kernel, tile 16, 8 warps, "
                        "1 stage, tf32 products)")
    p.add_argument("--warps", type=int, default=None, choices=TUNABLES["num_warps"].values)
    p.add_argument("--stages", type=int, default=None, choices=TUNABLES["num_stages"].values)
    p.add_argument("--kernel", choices=["fwd", "bwd", "both"], default="fwd",
                   help="forward, backward or both kernels (default fwd)")
    p.add_argument("--forward", choices=TUNABLES["kernel"].values, default=TUNABLES["kernel"].default,
                   help="Triton forward kernel: generic (every spec), tiled (depth-2 specs) or onepass (depths 1 "
                        "to 3; hidden tile 64, 8 warps, tf32 products by default; its "
                        "report adds the cost model per chunk); TileLang: generic or resident (every layer's "
                        "weights in shared memory; its report lists what is held on chip)")
    p.add_argument("--backward", choices=TUNABLES["backward"].values, default=TUNABLES["backward"].default,
                   help="Triton backward kernel: generic (every spec), tiled (depth-2 specs; launched "
                        "with the forward's tile, warps and stages) or onepass (the specs the onepass forward "
                        "covers; its report adds the cost model per chunk); TileLang: generic or resident")
    p.add_argument("--fuse", action=argparse.BooleanOptionalAction, default=True,
                   help="tiled forward: the read and the state update in one pass over the hidden tiles "
                        "(default) or, with --no-fuse, in two")
    p.add_argument("--in-place", action="store_true",
                   help="tiled forward: update one copy of the state instead of a double buffer")
    p.add_argument("--precision", choices=TUNABLES["precision"].values, default=None,
                   help="product precision (default: the kernel's default; bf16: tiled forward only)")
    precisions = [x for x in TUNABLES["key_precision"].values if x]
    p.add_argument("--key-precision", choices=precisions, default=None,
                   help="onepass forward: the key path's product precision (default: --precision)")
    p.add_argument("--update-precision", choices=precisions, default=None,
                   help="onepass forward: the state update's product precision (default: --precision)")
    p.add_argument("--stage", action="store_true",
                   help="onepass forward: stage the token-side operands through scratch (chunk == head dim)")
    p.add_argument("--cluster", type=int, default=1, choices=(1, 2, 4),
                   help="TileLang resident forward: blocks per head, each holding a slice of the hidden units "
                        "(sm_90a; default 1)")
    p.add_argument("--report", action="store_true",
                   help="print registers, spills, tensor-core products, shared memory, size (and the onepass "
                        "forward's cost model)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--show-source", action="store_true", help="print the generated kernel source")
    p.set_defaults(func=cmd_compile)


def cmd_compile(args) -> int:
    if args.backend == "tilelang":
        return _compile_tilelang(args)
    args.target = args.target or "sm_90"
    try:
        from ..backends.triton_backend import aot, codegen
    except ImportError as exc:  # triton missing
        raise BackendError(f"the triton backend needs triton: {exc}") from None
    if (not args.fuse or args.in_place) and args.forward != "tiled":
        raise InputError("--no-fuse and --in-place choose variants of the tiled forward; add --forward tiled")
    if (args.key_precision or args.update_precision or args.stage) and args.forward != "onepass":
        raise InputError("--key-precision, --update-precision and --stage choose variants of the one-pass forward; "
                         "add --forward onepass")
    ir = lower(load_spec(args.spec))
    if codegen.supported(ir):
        raise InputError(f"spec '{ir.name}': {codegen.supported(ir)}")
    aot.check_target(args.target)
    if args.forward == "onepass":
        base = config.onepass_config()
    elif "tiled" in (args.forward, args.backward):
        base = config.tiled_config()
    else:
        base = config.default_config(ir)
    fwd = _with_flags(args, base)
    configs = {"fwd": fwd, "bwd": config.backward_config(ir, fwd) if args.backward in ("tiled", "onepass")
               else _with_flags(args, config.backward_config(ir))}
    if args.show_source:
        print(codegen.generate_forward(ir))
    for kind in _kinds(args):
        print(f"compiling the {'forward' if kind == 'fwd' else 'backward'} kernel of {ir.name} "
              f"for {args.target} ...", flush=True)
        report = aot.compile_report(ir, args.target, D=args.dim, chunk_size=args.chunk, dtype=args.dtype, cfg=configs[kind],
                                    kind=kind)
        _show(args, report, f"{report.binary_bytes} bytes")
    return 0


def _kinds(args) -> list[str]:
    return ["fwd", "bwd"] if args.kernel == "both" else [args.kernel]


def _with_flags(args, base):
    """The default config `base` with --tile / --warps / --stages applied."""
    return config.LaunchConfig(tile=args.tile or base.tile, num_warps=args.warps or base.num_warps,
                        num_stages=args.stages or base.num_stages,
                        precision=getattr(args, "precision", None) or base.precision,
                        kernel=getattr(args, "forward", "generic"), backward=getattr(args, "backward", "generic"),
                        fuse=getattr(args, "fuse", True), in_place=getattr(args, "in_place", False),
                        key_precision=getattr(args, "key_precision", None),
                        update_precision=getattr(args, "update_precision", None), stage=getattr(args, "stage", False),
                        cluster=getattr(args, "cluster", 1))


def _show(args, report, size: str) -> None:
    if args.json:
        print(json.dumps(asdict(report)))
    elif args.report:
        print("\n".join(report.lines()))
    else:
        print(f"ok: {report.kernel} ({size})")


def _compile_tilelang(args) -> int:
    from ..backends.tilelang_backend import aot, backward_config, default_config, tile_config
    from ..backends.tilelang_backend.codegen import generate_forward

    target = args.target or "sm_90a"
    aot.check_target(target)
    ir = lower(load_spec(args.spec))
    if config.gpu_problem(ir):
        raise InputError(f"spec '{ir.name}': {config.gpu_problem(ir)}")
    configs = {"fwd": _with_flags(args, default_config(ir)), "bwd": _with_flags(args, backward_config(ir))}
    if args.show_source:
        print(generate_forward(ir, tile_config(configs["fwd"], args.dim, args.chunk, on_gpu=True,
                                               target=aot.TARGETS[target])))
    for kind in _kinds(args):
        print(f"lowering the TileLang {'forward' if kind == 'fwd' else 'backward'} kernel of {ir.name} for "
              f"{target} and compiling it with nvcc ...", flush=True)
        report = aot.compile_report(ir, target, D=args.dim, chunk_size=args.chunk, cfg=configs[kind], kind=kind)
        _show(args, report, f"{report.cuda_source_bytes} bytes of CUDA")
    return 0
