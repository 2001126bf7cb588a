"""Triton source generation from the IR.

The generated kernel is a straight-line sequence of calls into `device.py`, one per step of the
dual form (see backends/torch_dual/chunk.py for the same steps in torch), unrolled over the
layers of the IR. Only integers and names derived from the IR's whitelisted fields are written
into the source; nothing from the YAML text is.
"""
from __future__ import annotations

import re

from ...ir import MemoryIR, ReadMode
from .plan import plan_scratch

ACT_CODES = {"silu": 0, "gelu": 1, "relu": 2, "identity": 3}
LOSS_CODES = {"l2": 0, "huber": 1}
_HEX = re.compile(r"[0-9a-f]{16}\Z")


def kernel_name(ir: MemoryIR) -> str:
    if not _HEX.match(ir.spec_hash):
        raise ValueError("spec hash is not a 16-digit hex string")
    return f"titans_fwd_{ir.spec_hash}"


def offset_names(ir: MemoryIR) -> list[str]:
    """Names of the constexpr offset parameters, in signature order."""
    plan = plan_scratch(ir, 16, 16)  # names do not depend on sizes
    return [f"OFF_{k}" for k in plan.offsets] + [f"SO_{k}" for k in plan.state_offsets]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.indent = 1

    def __call__(self, line: str = "") -> None:
        self.lines.append("    " * self.indent + line if line else "")

    def barrier(self) -> None:
        self("tl.debug_barrier()")


def _mm(w: _Writer, a: str, sa: str, b: str, sb: str, c: str, sc: str, M: str, N: str, K: str,
        mode: int = 0, ms: str | None = None, ks: str | None = None, ns: str | None = None,
        mul: str | None = None,
        e0: tuple[str, str, str] | None = None, e1: tuple[str, str, str] | None = None,
        mask_c: bool = False) -> None:
    """Emit one `mm` call. sa/sb/sc are 'stride_row, stride_col' strings."""
    e0p, e0s, e0k = e0 if e0 else ("scr", "0, 0", "0.0")
    e1p, e1s, e1k = e1 if e1 else ("scr", "0, 0", "0.0")
    w(f"mm({a}, {sa}, {b}, {sb}, {c}, {sc},")
    w(f"   {ms or 'scr'}, {ks or 'scr'}, {ns or 'scr'}, {mul or 'scr'}, {'BC, 1' if mul else '0, 0'},")
    w(f"   {e0p}, {e0s}, {e0k}, {e1p}, {e1s}, {e1k}, rows,")
    w(f"   {M}, {N}, {K}, {mode}, {ms is not None}, {ks is not None}, {ns is not None}, {mul is not None},")
    w(f"   {e0 is not None}, {e1 is not None}, False, {mask_c}, TILE, TILE, TILE, PREC)")
    w.barrier()


def generate_forward(ir: MemoryIR) -> str:
    """Source of a module defining the forward kernel for `ir`."""
    name = kernel_name(ir)
    L = ir.depth
    mom = ir.gates.has_momentum
    dec = ir.gates.has_decay
    after = ir.read is ReadMode.AFTER_UPDATE
    act = ACT_CODES[ir.activation]
    loss = LOSS_CODES[ir.loss]
    dims = [(f"{lay.out_mult} * D", f"{lay.in_mult} * D") for lay in ir.layers]
    offs = offset_names(ir)

    w = _Writer()
    w.indent = 0
    w('"""Generated forward kernel (do not edit): see titans_kernels/backends/triton_backend/codegen.py."""')
    w("import triton")
    w("import triton.language as tl")
    w("from titans_kernels.backends.triton_backend.device import (")
    w("    coeff_vectors, copy_block, copy_row, ew_act, ew_grad_act, ew_load, ew_loss_grad, ew_store_out,")
    w("    mm, row_dot, scale_cols, segment_exp)")
    w("")
    w("")
    w("@triton.jit")
    w(f"def {name}(q_ptr, k_ptr, v_ptr, th_ptr, et_ptr, al_ptr, out_ptr, scr_ptr, ckpt_ptr,")
    w("        T, n_chunks, first_group, group, n_groups, delta,")
    w("        D: tl.constexpr, BC: tl.constexpr, SN: tl.constexpr, SCR: tl.constexpr,")
    w("        " + ", ".join(f"{o}: tl.constexpr" for o in offs) + ",")
    w("        SAVE_CKPT: tl.constexpr, TILE: tl.constexpr, PREC: tl.constexpr):")
    w.indent = 1
    w("pid = tl.program_id(0).to(tl.int64)")
    w("q_row = q_ptr + pid * T * D")
    w("k_row = k_ptr + pid * T * D")
    w("v_row = v_ptr + pid * T * D")
    w("o_row = out_ptr + pid * T * D")
    w("g_off = pid * T")
    w("scr = scr_ptr + pid * SCR")
    w("for c in range(0, n_chunks):")
    w.indent = 2
    w("t0 = c * BC")
    w("rows = tl.minimum(T - t0, BC)")
    w("cur = scr + OFF_ST + (c % 2) * SN")
    w("nxt = scr + OFF_ST + ((c + 1) % 2) * SN")
    w("if SAVE_CKPT:")
    w("    is_start = (c == 0) | ((c >= first_group) & ((c - first_group) % group == 0))")
    w("    if is_start:")
    w("        g_idx = tl.where(c == 0, 0, (c - first_group) // group + 1)")
    w("        copy_block(cur, ckpt_ptr + (pid * n_groups + g_idx) * SN, SN, 256)")
    w("for_t = t0 * D")
    w("ew_load(q_row + for_t, scr + OFF_QS, rows, BC, D, TILE)")
    w("ew_load(k_row + for_t, scr + OFF_KS, rows, BC, D, TILE)")
    w("ew_load(v_row + for_t, scr + OFF_VS, rows, BC, D, TILE)")
    w("# coefficients of the chunk")
    w("coeff_vectors(th_ptr + g_off + t0, et_ptr + g_off + t0, al_ptr + g_off + t0, rows, scr + OFF_TH,")
    w(f"              scr + OFF_ACUM, scr + OFF_NCUM, scr + OFF_A, scr + OFF_PV, scr + OFF_W, BC, {mom}, {dec})")
    w.barrier()
    w(f"segment_exp(scr + OFF_ACUM, scr + OFF_LB, BC, TILE, {not dec})")
    if mom:
        w("segment_exp(scr + OFF_NCUM, scr + OFF_LP, BC, TILE, False)")
    w.barrier()
    if mom:  # C = (L_B @ L_P) diag(theta), m = L_B @ P_{s->.}
        _mm(w, "scr + OFF_LB", "BC, 1", "scr + OFF_LP", "BC, 1", "scr + OFF_C", "BC, 1", "BC", "BC", "BC",
            ns="scr + OFF_TH")
        w("row_dot(scr + OFF_LB, scr + OFF_PV, scr + OFF_M, BC, BC, TILE)")
    else:
        w("scale_cols(scr + OFF_LB, scr + OFF_TH, scr + OFF_C, BC, BC, TILE)")
    w.barrier()
    w("copy_row(scr + OFF_C, rows - 1, scr + OFF_CV, BC, TILE)")
    w(f"a_e = {'tl.load(scr + OFF_A + rows - 1)' if dec else '1.0'}")
    w(f"m_e = {'tl.load(scr + OFF_M + rows - 1)' if mom else '0.0'}")
    w(f"p_e = {'tl.load(scr + OFF_PV + rows - 1)' if mom else '0.0'}")
    w.barrier()

    def X(l: int) -> str:
        return "scr + OFF_KS" if l == 0 else f"scr + OFF_X{l}"

    def XQ(l: int) -> str:
        return "scr + OFF_QS" if l == 0 else f"scr + OFF_XQ{l}"

    w("# key path at the chunk-start weights")
    for l, (o, i) in enumerate(dims):
        _mm(w, X(l), f"{i}, 1", f"cur + SO_W{l}", f"1, {i}", f"scr + OFF_Z{l}", f"{o}, 1", "BC", o, i)
        if l < L - 1:
            w(f"ew_act(scr + OFF_Z{l}, scr + OFF_X{l + 1}, BC, {o}, {act}, TILE, TILE)")
            w.barrier()
    oL = dims[-1][0]
    w(f"ew_loss_grad(scr + OFF_Z{L - 1}, scr + OFF_KS, scr + OFF_VS, D, scr + OFF_G{L - 1}, BC, delta,")
    w(f"             BC, {oL}, {ir.residual}, {loss}, TILE, TILE)")
    w.barrier()
    for l in range(L - 1, 0, -1):
        o, i = dims[l]
        _mm(w, f"scr + OFF_G{l}", f"{o}, 1", f"cur + SO_W{l}", f"{i}, 1", "scr + OFF_GW", f"{i}, 1", "BC", i, o)
        w(f"ew_grad_act(scr + OFF_GW, scr + OFF_Z{l - 1}, scr + OFF_G{l - 1}, BC, {i}, {act}, TILE, TILE)")
        w.barrier()

    w("# read")
    for l, (o, i) in enumerate(dims):
        zq = f"scr + OFF_ZQ{l}"
        if after:
            _mm(w, XQ(l), f"{i}, 1", X(l), f"1, {i}", "scr + OFF_QK", "BC, 1", "BC", "BC", i,
                mul="scr + OFF_C")
            _mm(w, XQ(l), f"{i}, 1", f"cur + SO_W{l}", f"1, {i}", zq, f"{o}, 1", "BC", o, i,
                ms="scr + OFF_A" if dec else None)
            if mom:
                _mm(w, XQ(l), f"{i}, 1", f"cur + SO_S{l}", f"1, {i}", zq, f"{o}, 1", "BC", o, i,
                    mode=1, ms="scr + OFF_M")
            _mm(w, "scr + OFF_QK", "BC, 1", f"scr + OFF_G{l}", f"{o}, 1", zq, f"{o}, 1", "BC", o, "BC", mode=2)
        else:
            _mm(w, XQ(l), f"{i}, 1", f"cur + SO_W{l}", f"1, {i}", zq, f"{o}, 1", "BC", o, i)
        if l < L - 1:
            w(f"ew_act({zq}, scr + OFF_XQ{l + 1}, BC, {o}, {act}, TILE, TILE)")
            w.barrier()
    w(f"ew_store_out(scr + OFF_ZQ{L - 1}, scr + OFF_QS, o_row + for_t, rows, BC, D, {ir.residual}, TILE)")

    w("# state update into the other buffer")
    for l, (o, i) in enumerate(dims):
        e1 = (f"cur + SO_S{l}", f"{i}, 1", "m_e") if mom else None
        _mm(w, f"scr + OFF_G{l}", f"1, {o}", X(l), f"{i}, 1", f"nxt + SO_W{l}", f"{i}, 1", o, i, "BC",
            mode=3, ks="scr + OFF_CV", e0=(f"cur + SO_W{l}", f"{i}, 1", "a_e"), e1=e1)
        if mom:
            _mm(w, f"scr + OFF_G{l}", f"1, {o}", X(l), f"{i}, 1", f"nxt + SO_S{l}", f"{i}, 1", o, i, "BC",
                mode=3, ks="scr + OFF_W", e0=(f"cur + SO_S{l}", f"{i}, 1", "p_e"))
    return "\n".join(w.lines) + "\n"
