"""Ahead-of-time compilation of the generated kernels for a GPU that need not be present.

`compile_report(ir, "sm_90")` compiles the forward kernel for the target with Triton
(`triton.compile(ASTSource(...), target=GPUTarget(...))`) and reads the resources back:
registers, spill bytes and shared memory from the bundled `ptxas -v` (NVIDIA) or the code-object
metadata (AMD), and on NVIDIA targets where the spill instructions sit by loop depth (sass.py).
Runs in a subprocess when Triton's interpreter is switched on in this process.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass

from ... import settings
from ...errors import InputError
from ...ir import MemoryIR, ReadMode
from ...ir.ops import GRAM_SQUARINGS
from ..kernel_report import (
    cubin_spill_sites,
    ptxas_resources,
    report_fields,
    report_lines,
)
from ..launch_config import TritonConfig, backward_config, default_config, forward_label

TARGETS = {"sm_80": ("cuda", 80, 32), "sm_90": ("cuda", 90, 32), "sm_90a": ("cuda", 90, 32),
           "sm_100": ("cuda", 100, 32), "gfx942": ("hip", "gfx942", 64)}
_DTYPES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}


@dataclass
class KernelReport:
    spec: str
    target: str
    kernel: str
    head_dim: int
    chunk: int
    dtype: str
    config: dict
    registers: int | None
    spill_bytes: int
    shared_bytes: int
    binary_bytes: int
    instructions: int | None = None        # SASS instructions (NVIDIA targets)
    spill_sites: list[int] | None = None   # spill stores/reloads by loop depth (kernel_report.py)
    hgmma_sites: list[int] | None = None   # tensor-core products by loop depth: warpgroup (sm_90)
    hmma_sites: list[int] | None = None    # and warp-level
    cost: dict | None = None               # the one-pass forward's cost model (onepass.onepass_cost)

    def lines(self) -> list[str]:
        c = self.config
        kernel = c.get("kernel")
        what = [f"D={self.head_dim}", f"chunk={self.chunk}", self.dtype, f"tile={c['tile']}", f"warps={c['num_warps']}",
                f"stages={c['num_stages']}"]
        if kernel == "onepass":
            what.append(forward_label(c))
        else:
            what.append(c.get("precision", "ieee"))
            if kernel == "tiled":
                what.append("tiled")
        if self.kernel == "tiled_forward":
            what += (["three passes"] if not c.get("fuse", True) else []) + (["in place"] if c.get("in_place") else [])
        return [f"{self.kernel} for {self.target} ({', '.join(what)})",
                f"  registers/thread: {self.registers if self.registers is not None else 'n/a'}",
                f"  spills: {self.spill_bytes} bytes",
                *report_lines(self.instructions, self.spill_sites, _loop_names(self.kernel), self.hgmma_sites,
                              self.hmma_sites),
                f"  shared memory: {self.shared_bytes} bytes",
                f"  binary: {self.binary_bytes} bytes",
                *(cost_lines(self.cost) if self.cost else [])]


def cost_lines(cost: dict) -> list[str]:
    """The cost model's figures per chunk and program, as report lines."""
    mm = cost["macs"]
    groups = ", ".join(f"{g} {m / 1e6:.2f}M" for g, m in cost["macs_by_group"].items())
    precisions = ", ".join(f"{p} {m / mm:.0%}" for p, m in cost["macs_by_precision"].items())
    kb = lambda b: f"{b / 1024:.0f} KB"  # noqa: E731
    return ["  cost model, per chunk and program:",
            f"    multiply-adds: {mm / 1e6:.2f}M ({groups}; recomputed {cost['recomputed_macs'] / 1e6:.2f}M)",
            f"    by precision: {precisions}",
            f"    products: {cost['products']}, activations (sigmoids): {cost['activations']:,}",
            f"    L2 state: read {kb(cost['l2_state_read_bytes'])}, written {kb(cost['l2_state_write_bytes'])} "
            f"(state {kb(cost['state_bytes'])}"
            + (f", anchor read {kb(cost['l2_anchor_read_bytes'])}" if cost.get("l2_anchor_read_bytes") else "")
            + ")"
            + (f"; state gradient: read {kb(cost['l2_grad_read_bytes'])}, written {kb(cost['l2_grad_write_bytes'])}; "
               f"scratch {kb(cost['l2_scratch_bytes'])}" if "l2_grad_read_bytes" in cost else "")
            + (f"; scratch: read {kb(cost['l2_scratch_read_bytes'])}, written {kb(cost['l2_scratch_write_bytes'])}"
               if "l2_scratch_read_bytes" in cost else "")
            + f"; tokens: read {kb(cost['l2_token_read_bytes'])}, "
            f"written {kb(cost['l2_token_write_bytes'])}; checkpoint: {kb(cost['l2_checkpoint_bytes'])} "
            f"read and written per checkpoint group"]


def _loop_names(kernel: str) -> tuple[str, ...]:
    """What the loops at depth 1, 2, ... of each kernel walk."""
    if kernel.startswith("titans_bwd_"):
        return ("checkpoint-group loop", "chunk loops")
    if kernel.startswith("titans_fwd_"):
        return ("chunk loop",)
    if kernel in ("tiled_forward", "tiled_backward", "onepass_forward", "onepass_backward"):
        return ("chunk loop", "hidden-tile loops")
    if kernel in ("deep_forward", "deep_backward"):
        return ("chunk loop", "hidden-tile loops", "inner hidden-tile loops")
    if kernel in ("linear_forward", "linear_backward"):
        return ("chunk loop",)
    return ()


def check_target(target: str) -> None:
    if target not in TARGETS:
        raise InputError(f"unknown target '{target}'; known: {', '.join(TARGETS)}")


def _amd_resources(asm: str) -> tuple[int | None, int]:
    vgpr = re.search(r"\.vgpr_count:\s+(\d+)", asm)
    spill = sum(int(x) for x in re.findall(r"\.(?:v|s)gpr_spill_count:\s+(\d+)", asm))
    return (int(vgpr.group(1)) if vgpr else None), spill * 4


def kernel_parts(ir: MemoryIR, D: int, chunk_size: int, dtype: str, cfg: TritonConfig, kind: str = "fwd"):
    """(kernel, constexprs, signature, cost model or None) of the forward ("fwd") or backward
    ("bwd") kernel that `cfg` launches: what triton.compile needs, one entry per kernel argument."""
    from .launch import kernel_args, load_kernel, tiled_constants
    from .plan import plan_scratch
    from .tiled import tiled_forward
    from .tiled_bwd import tiled_backward

    backward = kind == "bwd"
    cost = None
    io = "*" + _DTYPES[dtype]
    f32 = "*fp32"
    inputs = {"q_ptr": io, "k_ptr": io, "v_ptr": io, "theta_ptr": io, "eta_ptr": io, "alpha_ptr": io}
    grads = {"do_ptr": io, "dq_ptr": io, "dk_ptr": io, "dv_ptr": io, "dtheta_ptr": f32, "deta_ptr": f32, "dalpha_ptr": f32}
    scalars = {"T": "i32", "n_chunks": "i32", "first_group": "i32", "group": "i32", "n_groups": "i32",
               "delta": "fp32"}
    if backward and cfg.backward == "tiled":
        kernel = tiled_backward
        consts = tiled_constants(ir, D, chunk_size, cfg, anchored=ir.decay_to_init)
        signature = {**inputs, **grads, "st_ptr": f32, "anc_ptr": f32, "dst_ptr": f32, "dan_ptr": f32,
                     "part_ptr": f32, "T": "i32", "c_lo": "i32", "c_hi": "i32", "n_chunks": "i32", "delta": "fp32"}
    elif not backward and cfg.kernel == "tiled":
        kernel = tiled_forward
        consts = dict(tiled_constants(ir, D, chunk_size, cfg, anchored=ir.decay_to_init), SAVE_CKPT=True, FUSE=cfg.fuse,
                      IN_PLACE=cfg.in_place, READ=True)
        signature = {**inputs, "out_ptr": io, "st_ptr": f32, "anc_ptr": f32, "ckpt_ptr": f32, "T": "i32",
                     "c_lo": "i32", **scalars}
    elif not backward and cfg.kernel == "onepass":
        kernel, consts, signature, cost = _onepass_parts(ir, D, chunk_size, cfg, io)
    elif backward and cfg.backward == "onepass":
        kernel, consts, signature, cost = _onepass_backward_parts(ir, D, chunk_size, cfg, io)
    else:
        kernel = load_kernel(ir, "bwd" if backward else "fwd")
        consts = kernel_args(ir, plan_scratch(ir, D, chunk_size, backward), D, chunk_size, cfg, backward)
        consts["SAVE_CKPT"] = not backward
        if backward:
            signature = {**inputs, **grads, "ckpt_ptr": f32, "gs_ptr": f32, "scr_ptr": f32, **scalars}
        else:
            signature = {**inputs, "out_ptr": io, "scr_ptr": f32, "ckpt_ptr": f32, **scalars}
    signature.update({name: "constexpr" for name in consts})
    return kernel, consts, signature, cost


def _compile_in_process(ir: MemoryIR, target: str, D: int, chunk_size: int, dtype: str, cfg: TritonConfig,
                        kind: str = "fwd") -> KernelReport:
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    kernel, consts, signature, cost = kernel_parts(ir, D, chunk_size, dtype, cfg, kind)
    backend, arch, warp = TARGETS[target]
    compiled = triton.compile(ASTSource(fn=kernel, signature=signature, constexprs=consts),
                              target=GPUTarget(backend, arch, warp),
                              options={"num_warps": cfg.num_warps, "num_stages": cfg.num_stages})
    sites = None
    if backend == "cuda":
        regs, spills = ptxas_resources(compiled.asm["ptx"], arch)
        binary = compiled.asm["cubin"]
        sites = cubin_spill_sites(binary)
    else:
        regs, spills = _amd_resources(compiled.asm["amdgcn"])
        binary = compiled.asm["hsaco"]
    return KernelReport(spec=ir.name, target=target, kernel=kernel.__name__ if hasattr(kernel, "__name__") else "?",
                        head_dim=D, chunk=chunk_size, dtype=dtype, config=asdict(cfg), registers=regs, spill_bytes=spills,
                        shared_bytes=int(compiled.metadata.shared), binary_bytes=len(binary),
                        cost=cost, **report_fields(sites))


def _onepass_parts(ir: MemoryIR, D: int, chunk_size: int, cfg: TritonConfig, io: str):
    """(kernel, constexprs, signature, cost model) of the one-pass forward under `cfg`."""
    from .onepass import ACTIVATIONS, LOSSES, check_onepass, onepass_cost, onepass_forward

    hidden, kprec, uprec = check_onepass(ir, D, chunk_size, cfg.tile, cfg.precision, cfg.key_precision,
                                         cfg.update_precision, cfg.stage)
    in_bytes = {"*fp32": 4}.get(io, 2)
    if ir.depth == 1:
        return _linear_parts(ir, D, chunk_size, cfg, io, kprec, uprec, in_bytes)
    if ir.depth == 3:
        return _deep_parts(ir, D, chunk_size, cfg, io, kprec, uprec, in_bytes)
    mom = ir.gates.has_momentum
    consts = dict(D=D, HID=hidden, BC=chunk_size, HB=cfg.tile, SN=ir.state_numel(D), ACT=ACTIVATIONS[ir.activation],
                  LOSS=LOSSES[ir.loss], HAS_M=mom, HAS_D=ir.gates.has_decay, PREC=cfg.precision, KPREC=kprec,
                  UPREC=uprec, TMA=False, STAGE=cfg.stage, SAVE_CKPT=True, READ=True, SAVE_R=False, RESIDUAL=ir.residual,
                  ANCHOR=ir.decay_to_init, AFTER=ir.read is ReadMode.AFTER_UPDATE, NORMALIZED=ir.normalized_step,
                  SQUARINGS=GRAM_SQUARINGS)
    f32 = "*fp32"
    signature = {"q_ptr": io, "k_ptr": io, "v_ptr": io, "theta_ptr": io, "eta_ptr": io, "alpha_ptr": io,
                 "out_ptr": io, "st_ptr": f32, "anc_ptr": f32, "scr_ptr": f32, "ckpt_ptr": f32, "r_ptr": f32, "sc_ptr": f32, "T": "i32",
                 "c_lo": "i32", "c_hi": "i32", "first_group": "i32", "group": "i32", "n_groups": "i32", "delta": "fp32"}
    cost = onepass_cost(ir, D, chunk_size, cfg.tile, cfg.precision, kprec, uprec, in_bytes=in_bytes)
    return onepass_forward, consts, signature, cost


def _linear_parts(ir: MemoryIR, D: int, chunk_size: int, cfg: TritonConfig, io: str, kprec: str, uprec: str,
                  in_bytes: int, backward: bool = False):
    """(kernel, constexprs, signature, cost model) of the depth-1 one-pass forward or backward."""
    from .onepass_linear import _constants, linear_backward, linear_cost, linear_forward

    f32 = "*fp32"
    consts = _constants(ir, D, chunk_size, ir.state_numel(D), ir.decay_to_init, ir.gates.has_momentum,
                        ir.gates.has_decay)
    inputs = {"q_ptr": io, "k_ptr": io, "v_ptr": io, "theta_ptr": io, "eta_ptr": io, "alpha_ptr": io}
    if backward:
        signature = {**inputs, "do_ptr": io, "dq_ptr": io, "dk_ptr": io, "dv_ptr": io, "dtheta_ptr": f32,
                     "deta_ptr": f32, "dalpha_ptr": f32, "st_ptr": f32, "r_ptr": f32, "sc_ptr": f32, "anc_ptr": f32,
                     "dst_ptr": f32, "dan_ptr": f32, "T": "i32", "c_lo": "i32", "c_hi": "i32", "delta": "fp32"}
        return linear_backward, dict(consts, PREC=cfg.precision), signature, None
    signature = {**inputs, "out_ptr": io, "st_ptr": f32, "anc_ptr": f32, "ckpt_ptr": f32, "r_ptr": f32, "sc_ptr": f32,
                 "T": "i32", "c_lo": "i32", "c_hi": "i32", "first_group": "i32", "group": "i32", "n_groups": "i32",
                 "delta": "fp32"}
    consts.update(PREC=cfg.precision, KPREC=kprec, UPREC=uprec, SAVE_CKPT=True, READ=True, SAVE_R=False)
    return linear_forward, consts, signature, linear_cost(ir, D, chunk_size, cfg.precision, kprec, uprec, in_bytes)


def _deep_parts(ir: MemoryIR, D: int, chunk_size: int, cfg: TritonConfig, io: str, kprec: str, uprec: str,
                in_bytes: int):
    """(kernel, constexprs, signature, cost model) of the depth-3 one-pass forward."""
    from .onepass_deep import deep_constants, deep_cost, deep_forward

    f32 = "*fp32"
    consts = dict(deep_constants(ir, D, chunk_size, cfg.tile, ir.state_numel(D), ir.gates.has_momentum,
                                 ir.gates.has_decay), PREC=cfg.precision, KPREC=kprec, UPREC=uprec, SAVE_CKPT=True,
                  READ=True)
    signature = {"q_ptr": io, "k_ptr": io, "v_ptr": io, "theta_ptr": io, "eta_ptr": io, "alpha_ptr": io,
                 "out_ptr": io, "st_ptr": f32, "scr_ptr": f32, "ckpt_ptr": f32, "T": "i32", "c_lo": "i32", "c_hi": "i32",
                 "first_group": "i32", "group": "i32", "n_groups": "i32", "delta": "fp32"}
    return deep_forward, consts, signature, deep_cost(ir, D, chunk_size, cfg.tile, cfg.precision, kprec, uprec,
                                                      in_bytes)


def _onepass_backward_parts(ir: MemoryIR, D: int, chunk_size: int, cfg: TritonConfig, io: str):
    """(kernel, constexprs, signature, cost model) of the one-pass backward under `cfg`."""
    from .onepass import ACTIVATIONS, LOSSES, check_onepass
    from .onepass_bwd import onepass_backward, onepass_backward_cost

    hidden, kprec, uprec = check_onepass(ir, D, chunk_size, cfg.tile, cfg.precision, None, None, False)
    if ir.depth == 1:
        return _linear_parts(ir, D, chunk_size, cfg, io, kprec, uprec, {"*fp32": 4}.get(io, 2), backward=True)
    if ir.depth == 3:
        from .onepass_deep import deep_backward, deep_backward_cost, deep_constants
        f32 = "*fp32"
        consts = dict(deep_constants(ir, D, chunk_size, cfg.tile, ir.state_numel(D), ir.gates.has_momentum,
                                     ir.gates.has_decay), PREC=cfg.precision)
        signature = {"q_ptr": io, "k_ptr": io, "v_ptr": io, "theta_ptr": io, "eta_ptr": io, "alpha_ptr": io,
                     "do_ptr": io, "dq_ptr": io, "dk_ptr": io, "dv_ptr": io, "dtheta_ptr": f32, "deta_ptr": f32,
                     "dalpha_ptr": f32, "st_ptr": f32, "dst_ptr": f32, "scr_ptr": f32, "T": "i32", "c_lo": "i32",
                     "c_hi": "i32", "delta": "fp32"}
        return deep_backward, consts, signature, deep_backward_cost(ir, D, chunk_size, cfg.tile, cfg.precision,
                                                                    {"*fp32": 4}.get(io, 2))
    consts = dict(D=D, HID=hidden, BC=chunk_size, HB=cfg.tile, SN=ir.state_numel(D), ACT=ACTIVATIONS[ir.activation],
                  LOSS=LOSSES[ir.loss], RESIDUAL=ir.residual, HAS_M=ir.gates.has_momentum,
                  HAS_D=ir.gates.has_decay, ANCHOR=ir.decay_to_init, AFTER=ir.read is ReadMode.AFTER_UPDATE,
                  NORMALIZED=ir.normalized_step, PREC=cfg.precision)
    f32 = "*fp32"
    signature = {"q_ptr": io, "k_ptr": io, "v_ptr": io, "theta_ptr": io, "eta_ptr": io, "alpha_ptr": io,
                 "do_ptr": io, "dq_ptr": io, "dk_ptr": io, "dv_ptr": io, "dtheta_ptr": f32, "deta_ptr": f32,
                 "dalpha_ptr": f32, "st_ptr": f32, "r_ptr": f32, "sc_ptr": f32, "anc_ptr": f32, "dst_ptr": f32, "dan_ptr": f32,
                 "e_ptr": f32, "T": "i32", "c_lo": "i32", "c_hi": "i32", "delta": "fp32"}
    in_bytes = {"*fp32": 4}.get(io, 2)
    return onepass_backward, consts, signature, onepass_backward_cost(ir, D, chunk_size, cfg.tile, cfg.precision, in_bytes)


def compile_report(ir: MemoryIR, target: str, D: int = 64, chunk_size: int = 64, dtype: str = "bfloat16",
                   cfg: TritonConfig | None = None, kind: str = "fwd") -> KernelReport:
    """Compile the forward ("fwd") or backward ("bwd") kernel of `ir` for `target` and report its
    resources; cfg defaults to the kernel's own default launch parameters."""
    check_target(target)
    from .codegen import supported
    if supported(ir):
        raise InputError(f"spec '{ir.name}': {supported(ir)}")
    cfg = cfg or (backward_config(ir) if kind == "bwd" else default_config(ir))
    if dtype not in _DTYPES:
        raise InputError(f"dtype '{dtype}' not supported; use one of {', '.join(_DTYPES)}")
    from ..launch_config import check_kernel, check_shape
    check_shape(max(l.out_mult for l in ir.layers), D, chunk_size)
    check_kernel(ir, cfg)
    if not settings.triton_interpret():
        return _compile_in_process(ir, target, D, chunk_size, dtype, cfg, kind)
    payload = json.dumps({"ir": ir.to_dict(), "target": target, "D": D, "chunk_size": chunk_size, "dtype": dtype, "cfg": asdict(cfg),
                          "kind": kind})
    env = settings.environ(drop=(settings.INTERPRET,))
    proc = subprocess.run([sys.executable, "-m", "titans_kernels.backends.triton_backend.aot", payload],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "AOT compile failed")
    return KernelReport(**json.loads(proc.stdout.strip().splitlines()[-1]))


def _main(payload: str) -> None:
    args = json.loads(payload)
    ir = MemoryIR.from_dict(args["ir"])   # the caller's IR itself, whatever file it came from
    report = _compile_in_process(ir, args["target"], args["D"], args["chunk_size"], args["dtype"],
                                 TritonConfig(**args["cfg"]), args["kind"])
    print(json.dumps(asdict(report)))


if __name__ == "__main__":
    _main(sys.argv[1])
