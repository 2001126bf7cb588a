"""Triton source generation from the IR.

A generated kernel is a straight-line sequence of calls into `device.py`, one per step of the
dual form (backends/torch_backend/chunk.py holds the same steps in torch), unrolled over the layers
of the IR. Only integers and names derived from the IR's whitelisted fields are written into the
source; nothing from the YAML text is.

Two kernels per IR: the forward (whole chunk loop; writes the state at every checkpoint-group
start) and the backward (groups in reverse: re-run a group's states from its checkpoint, then
for each chunk in reverse re-run its forward intermediates and emit its backward).
"""
from __future__ import annotations

import re

from ...ir import MemoryIR, ReadMode
from ...ir.ops import GRAM_SQUARINGS
from .plan import plan_scratch

ACT_CODES = {"silu": 0, "gelu": 1, "relu": 2, "identity": 3}
LOSS_CODES = {"l2": 0, "huber": 1}
_HEX = re.compile(r"[0-9a-f]{16}\Z")
IMPORTS = ("coeff_vectors, col_dot, colsum_prod, copy_block, copy_row, dot_sum, ew_act, ew_grad_act, frob_norm, "
           "ew_load, ew_loss_grad, ew_store_out, fill, gate_grads, grad2_acc, kappa_rows, lin2, loss_back, mm, "
           "mul_acc, outer_acc, row_add_at, row_dot, rowdot_acc, rowscale, scale_cols, segment_exp, "
           "store_rows, tri_rowcol, vec_add_at, vec_axpy")


def kernel_name(ir: MemoryIR, kind: str = "fwd") -> str:
    if not _HEX.match(ir.spec_hash) or kind not in ("fwd", "bwd"):
        raise ValueError("bad kernel name request")
    return f"titans_{kind}_{ir.spec_hash}"


def offset_names(ir: MemoryIR, backward: bool = False) -> list[str]:
    """Names of the constexpr offset parameters, in signature order."""
    plan = plan_scratch(ir, 16, 16, backward)  # names do not depend on sizes
    return [f"OFF_{k}" for k in plan.offsets] + [f"SO_{k}" for k in plan.state_offsets]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.indent = 0

    def __call__(self, line: str = "") -> None:
        self.lines.append("    " * self.indent + line if line else "")

    def barrier(self) -> None:
        self("tl.debug_barrier()")


def supported(ir: MemoryIR) -> str | None:
    """None when the generated kernels cover `ir`, else why not (launch_config.gpu_problem)."""
    from ..launch_config import gpu_problem
    return gpu_problem(ir)


class Emitter:
    """Emits the steps of one chunk for an IR. State pointers are source expressions."""

    def __init__(self, ir: MemoryIR, w: _Writer):
        reason = supported(ir)
        if reason:
            raise ValueError(reason)
        self.ir, self.w = ir, w
        self.L = ir.depth
        self.mom = ir.gates.has_momentum
        self.dec = ir.gates.has_decay
        self.after = ir.read is ReadMode.AFTER_UPDATE
        self.act = ACT_CODES[ir.activation]
        self.loss = LOSS_CODES[ir.loss]
        self.dims = [(f"{lay.out_mult} * D", f"{lay.in_mult} * D") for lay in ir.layers]
        self.anc = ir.decay_to_init  # state holds U = W - W0; W0 lives in scratch at OFF_ANC
        self.nstep = ir.normalized_step  # per-row step factors live in scratch at OFF_SC

    def W(self, st: str, l: int) -> str:
        """The weights the key path (and a chunk-start read) use: W_l, or U_l + W0_l."""
        return f"scr + OFF_WE{l}" if self.anc else f"{st} + SO_W{l}"

    def A(self, l: int) -> str:
        return f"scr + OFF_ANC + SO_A{l}"

    def effective_weights(self, st: str) -> None:
        if self.anc:
            for l, (o, i) in enumerate(self.dims):
                self.w(f"lin2(scr + OFF_WE{l}, {st} + SO_W{l}, 1.0, {self.A(l)}, 1.0, {o} * {i}, True, 256)")
            self.w.barrier()

    # -- helpers ------------------------------------------------------------------------
    def mm(self, a, sa, b, sb, c, sc, M, N, K, mode=0, ms=None, ks=None, ns=None, mul=None,
           e0=None, e1=None):
        """One `mm` call, every argument by keyword; sa/sb/sc are 'stride_row, stride_col'
        strings; an absent operand passes the scratch base and zero strides (unread)."""
        w = self.w
        e0p, e0s, e0k = e0 if e0 else ("scr", "0, 0", "0.0")
        e1p, e1s, e1k = e1 if e1 else ("scr", "0, 0", "0.0")

        def strides(names: str, value: str) -> str:
            return ", ".join(f"{n}={v.strip()}" for n, v in zip(names.split(), value.split(",")))
        w(f"mm(a_ptr={a}, {strides('s_am s_ak', sa)}, b_ptr={b}, {strides('s_bk s_bn', sb)},")
        w(f"   c_ptr={c}, {strides('s_cm s_cn', sc)}, M={M}, N={N}, K={K}, MODE={mode},")
        w(f"   ms_ptr={ms or 'scr'}, HAS_MS={ms is not None}, ks_ptr={ks or 'scr'}, HAS_KS={ks is not None},")
        w(f"   ns_ptr={ns or 'scr'}, HAS_NS={ns is not None}, mul_ptr={mul or 'scr'}, "
          f"{strides('s_mulm s_muln', 'BC, 1' if mul else '0, 0')}, HAS_MUL={mul is not None},")
        w(f"   e0_ptr={e0p}, {strides('s_e0m s_e0n', e0s)}, e0_scale={e0k}, HAS_E0={e0 is not None},")
        w(f"   e1_ptr={e1p}, {strides('s_e1m s_e1n', e1s)}, e1_scale={e1k}, HAS_E1={e1 is not None},")
        w("   rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)")
        w.barrier()

    def call(self, text: str) -> None:
        self.w(text)
        self.w.barrier()

    @staticmethod
    def X(l: int) -> str:
        return "scr + OFF_KS" if l == 0 else f"scr + OFF_X{l}"

    @staticmethod
    def XQ(l: int) -> str:
        return "scr + OFF_QS" if l == 0 else f"scr + OFF_XQ{l}"

    def F(self) -> str:
        return "scr + OFF_F" if self.mom else "scr + OFF_LB"

    # -- forward steps ------------------------------------------------------------------
    def load_inputs(self, with_q: bool = True) -> None:
        w = self.w
        if with_q:
            w("ew_load(q_row + t0 * D, scr + OFF_QS, rows, BC, D, TILE)")
        w("ew_load(k_row + t0 * D, scr + OFF_KS, rows, BC, D, TILE)")
        w("ew_load(v_row + t0 * D, scr + OFF_VS, rows, BC, D, TILE)")

    def coefficients(self) -> None:
        w, mom, dec = self.w, self.mom, self.dec
        w("coeff_vectors(theta_ptr + g_off + t0, eta_ptr + g_off + t0, alpha_ptr + g_off + t0, rows, scr + OFF_THETA,")
        w("              scr + OFF_ACUM, scr + OFF_NCUM, scr + OFF_A, scr + OFF_PV, scr + OFF_PE, scr + OFF_W,")
        w(f"              BC, {mom}, {dec})")
        w.barrier()
        w(f"segment_exp(scr + OFF_ACUM, scr + OFF_LB, BC, TILE, {not dec})")
        if mom:
            w("segment_exp(scr + OFF_NCUM, scr + OFF_LP, BC, TILE, False)")
        w.barrier()
        if mom:  # F = L_B @ L_P, m = L_B @ P_{s->.}
            self.mm("scr + OFF_LB", "BC, 1", "scr + OFF_LP", "BC, 1", "scr + OFF_F", "BC, 1", "BC", "BC", "BC")
            w("row_dot(scr + OFF_LB, scr + OFF_PV, scr + OFF_M, BC, BC, TILE)")
        self.call(f"scale_cols({self.F()}, scr + OFF_THETA, scr + OFF_C, BC, BC, TILE)")
        w("copy_row(scr + OFF_C, rows - 1, scr + OFF_CV, BC, TILE)")
        w(f"a_e = {'tl.load(scr + OFF_A + rows - 1)' if dec else '1.0'}")
        w(f"m_e = {'tl.load(scr + OFF_M + rows - 1)' if mom else '0.0'}")
        w(f"p_e = {'tl.load(scr + OFF_PV + rows - 1)' if mom else '0.0'}")
        w.barrier()

    def key_path(self, st: str) -> None:
        w, L = self.w, self.L
        self.effective_weights(st)
        for l, (o, i) in enumerate(self.dims):
            self.mm(self.X(l), f"{i}, 1", self.W(st, l), f"1, {i}", f"scr + OFF_Z{l}", f"{o}, 1", "BC", o, i)
            if l < L - 1:
                self.call(f"ew_act(scr + OFF_Z{l}, scr + OFF_X{l + 1}, BC, {o}, {self.act}, TILE, TILE)")
        if self.nstep:
            self.step_scale(st)
        w(f"ew_loss_grad(scr + OFF_Z{L - 1}, scr + OFF_KS, scr + OFF_VS, D, scr + OFF_G{L - 1}, {self.SC()}, "
          "rows, delta,")
        self.call(f"             BC, {self.dims[-1][0]}, {self.ir.residual}, {self.loss}, {self.nstep}, TILE, TILE)")
        for l in range(L - 1, 0, -1):
            o, i = self.dims[l]
            self.mm(f"scr + OFF_G{l}", f"{o}, 1", self.W(st, l), f"{i}, 1", f"scr + OFF_GW{l}", f"{i}, 1",
                    "BC", i, o)
            self.call(f"ew_grad_act(scr + OFF_GW{l}, scr + OFF_Z{l - 1}, scr + OFF_G{l - 1}, BC, {i}, "
                      f"{self.act}, TILE, TILE)")

    def SC(self) -> str:
        return "scr + OFF_SC" if self.nstep else "scr"

    def step_scale(self, st: str) -> None:
        """Per-row factors 1 / max(1, kappa) of the normalized step into OFF_SC (Horner over layers)."""
        L, last = self.L, self.L - 1
        self.call(f"kappa_rows(scr + OFF_SC, {self.X(0)}, scr, scr, 0.0, BC, D, 1, True, {last == 0}, {self.act}, "
                  "TILE)")
        for m in range(1, L):
            o, i = self.dims[m]
            self.op_norm_bound(st, m)
            self.call(f"kappa_rows(scr + OFF_SC, {self.X(m)}, scr + OFF_Z{m - 1}, {self.W(st, m)}, lam{m}, BC, {i}, "
                      f"{o}, False, {m == last}, {self.act}, TILE)")

    def op_norm_bound(self, st: str, m: int) -> None:
        """lam{m} = ||G^(2^s)||_F^(1/2^s) for the Gram matrix G of W_m (ir/ops.py op_norm_sq_bound),
        squared in scratch OFF_GR0 / OFF_GR1, each square normalised by its Frobenius norm."""
        w, lay = self.w, self.ir.layers[m]
        o, i = self.dims[m]
        rows, cols = f"{i}, 1", f"1, {i}"      # strides of W and of W^T
        if lay.out_mult <= lay.in_mult:        # G = W W^T (o x o)
            n, a, b, K = o, rows, cols, i
        else:                                  # G = W^T W (i x i)
            n, a, b, K = i, cols, rows, o
        self.mm(self.W(st, m), a, self.W(st, m), b, "scr + OFF_GR0", f"{n}, 1", n, n, K)
        bufs = ["scr + OFF_GR0", "scr + OFF_GR1"]
        for s in range(GRAM_SQUARINGS + 1):
            g = bufs[s % 2]
            w(f"gnorm = frob_norm({g}, {n} * {n}, 256)")
            w(f"lam{m} = tl.log(gnorm)" if s == 0 else f"lam{m} += tl.log(gnorm) / {2 ** s}")
            if s < GRAM_SQUARINGS:
                self.call(f"lin2({g}, {g}, 1.0 / gnorm, scr, 0.0, {n} * {n}, False, 256)")
                self.mm(g, f"{n}, 1", g, f"{n}, 1", bufs[(s + 1) % 2], f"{n}, 1", n, n, n)
        w(f"lam{m} = tl.exp(lam{m})")

    def read(self, st: str, write_out: bool) -> None:
        L = self.L
        for l, (o, i) in enumerate(self.dims):
            zq = f"scr + OFF_ZQ{l}"
            if self.after:
                self.mm(self.XQ(l), f"{i}, 1", self.X(l), f"1, {i}", f"scr + OFF_QKR{l}", "BC, 1", "BC", "BC", i)
                self.call(f"mul_acc(scr + OFF_QK{l}, scr + OFF_QKR{l}, scr + OFF_C, 1.0, BC, BC, False, False, TILE)")
                self.mm(self.XQ(l), f"{i}, 1", f"{st} + SO_W{l}", f"1, {i}", zq, f"{o}, 1", "BC", o, i,
                        ms="scr + OFF_A" if self.dec else None)
                if self.mom:
                    self.mm(self.XQ(l), f"{i}, 1", f"{st} + SO_S{l}", f"1, {i}", zq, f"{o}, 1", "BC", o, i,
                            mode=1, ms="scr + OFF_M")
                self.mm(f"scr + OFF_QK{l}", "BC, 1", f"scr + OFF_G{l}", f"{o}, 1", zq, f"{o}, 1", "BC", o, "BC",
                        mode=2)
                if self.anc:
                    self.mm(self.XQ(l), f"{i}, 1", self.A(l), f"1, {i}", zq, f"{o}, 1", "BC", o, i, mode=1)
            else:
                self.mm(self.XQ(l), f"{i}, 1", self.W(st, l), f"1, {i}", zq, f"{o}, 1", "BC", o, i)
            if l < L - 1:
                self.call(f"ew_act({zq}, scr + OFF_XQ{l + 1}, BC, {o}, {self.act}, TILE, TILE)")
        if write_out:
            self.call(f"ew_store_out(scr + OFF_ZQ{L - 1}, scr + OFF_QS, o_row + t0 * D, rows, BC, D, "
                      f"{self.ir.residual}, TILE)")

    def update(self, st: str, nx: str) -> None:
        for l, (o, i) in enumerate(self.dims):
            e1 = (f"{st} + SO_S{l}", f"{i}, 1", "m_e") if self.mom else None
            self.mm(f"scr + OFF_G{l}", f"1, {o}", self.X(l), f"{i}, 1", f"{nx} + SO_W{l}", f"{i}, 1", o, i, "BC",
                    mode=3, ks="scr + OFF_CV", e0=(f"{st} + SO_W{l}", f"{i}, 1", "a_e"), e1=e1)
            if self.mom:
                self.mm(f"scr + OFF_G{l}", f"1, {o}", self.X(l), f"{i}, 1", f"{nx} + SO_S{l}", f"{i}, 1", o, i,
                        "BC", mode=3, ks="scr + OFF_W", e0=(f"{st} + SO_S{l}", f"{i}, 1", "p_e"))

    # -- backward of one chunk (its forward intermediates are in scratch) --------------------
    def backward(self, st: str, dn: str, dc: str) -> None:
        """dn: gradient of the chunk-end state (read); dc: gradient of the chunk-start state (written)."""
        w, L, mom, dec = self.w, self.L, self.mom, self.dec
        for name in ("DA", "DM", "DCV", "DWV"):
            w(f"fill(scr + OFF_{name}, 0.0, BC, BC)")
        self.call("fill(scr + OFF_DC, 0.0, BC * BC, BC)")
        if self.anc:
            for l, (o, i) in enumerate(self.dims):
                w(f"fill(scr + OFF_DKEY{l}, 0.0, {o} * {i}, 256)")
            w.barrier()
        w("da_e = 0.0")
        w("dm_e = 0.0")
        w("dp_e = 0.0")
        # state update: W' = a_e W + m_e S - (c G)^T X ; S' = p_e S - (w G)^T X
        for l, (o, i) in enumerate(self.dims):
            gW, gS = f"{dn} + SO_W{l}", f"{dn} + SO_S{l}"
            n = f"{o} * {i}"
            if dec:
                w(f"da_e += dot_sum({gW}, {st} + SO_W{l}, {n}, 256)")
            if mom:
                w(f"dm_e += dot_sum({gW}, {st} + SO_S{l}, {n}, 256)")
                w(f"dp_e += dot_sum({gS}, {st} + SO_S{l}, {n}, 256)")
            self.mm(self.X(l), f"{i}, 1", gW, f"1, {i}", "scr + OFF_T1", f"{o}, 1", "BC", o, i)
            w(f"rowdot_acc(scr + OFF_G{l}, scr + OFF_T1, scr + OFF_DCV, -1.0, BC, {o}, TILE)")
            self.call(f"rowscale(scr + OFF_T1, scr + OFF_CV, scr + OFF_NDG{l}, BC, {o}, False, TILE)")
            self.mm(f"scr + OFF_G{l}", f"{o}, 1", gW, f"{i}, 1", f"scr + OFF_NDX{l}", f"{i}, 1", "BC", i, o,
                    ms="scr + OFF_CV")
            if mom:
                self.mm(self.X(l), f"{i}, 1", gS, f"1, {i}", "scr + OFF_T1", f"{o}, 1", "BC", o, i)
                w(f"rowdot_acc(scr + OFF_G{l}, scr + OFF_T1, scr + OFF_DWV, -1.0, BC, {o}, TILE)")
                self.call(f"rowscale(scr + OFF_T1, scr + OFF_W, scr + OFF_NDG{l}, BC, {o}, True, TILE)")
                self.mm(f"scr + OFF_G{l}", f"{o}, 1", gS, f"{i}, 1", f"scr + OFF_NDX{l}", f"{i}, 1", "BC", i, o,
                        mode=1, ms="scr + OFF_W")
            w(f"lin2({dc} + SO_W{l}, {gW}, a_e, {gW}, 0.0, {n}, False, 256)")
            if mom:
                w(f"lin2({dc} + SO_S{l}, {gW}, m_e, {gS}, p_e, {n}, True, 256)")
            w.barrier()
        # read path, top layer down
        for l in range(L - 1, -1, -1):
            o, i = self.dims[l]
            dz = "scr + OFF_DO" if l == L - 1 else "scr + OFF_DZQ"
            x = self.XQ(l)
            gW, gS = f"{dc} + SO_W{l}", f"{dc} + SO_S{l}"
            self.mm(dz, f"{o}, 1", self.W(st, l) if not self.after else f"{st} + SO_W{l}", f"{i}, 1",
                    "scr + OFF_DXQ", f"{i}, 1", "BC", i, o)
            if self.after:
                if dec:
                    self.call(f"rowdot_acc(scr + OFF_DXQ, {x}, scr + OFF_DA, 1.0, BC, {i}, TILE)")
                    self.call(f"rowscale(scr + OFF_DXQ, scr + OFF_A, scr + OFF_DXQ, BC, {i}, False, TILE)")
                if mom:
                    self.mm(dz, f"{o}, 1", f"{st} + SO_S{l}", f"{i}, 1", "scr + OFF_T1", f"{i}, 1", "BC", i, o)
                    w(f"rowdot_acc(scr + OFF_T1, {x}, scr + OFF_DM, 1.0, BC, {i}, TILE)")
                    self.call(f"rowscale(scr + OFF_T1, scr + OFF_M, scr + OFF_DXQ, BC, {i}, True, TILE)")
                self.mm(dz, f"1, {o}", x, f"{i}, 1", gW, f"{i}, 1", o, i, "BC", mode=1,
                        ks="scr + OFF_A" if dec else None)
                if mom:
                    self.mm(dz, f"1, {o}", x, f"{i}, 1", gS, f"{i}, 1", o, i, "BC", mode=1, ks="scr + OFF_M")
                if self.anc:  # read term X' W0^T
                    self.mm(dz, f"1, {o}", x, f"{i}, 1", "scr + OFF_DANC + SO_A" + str(l), f"{i}, 1", o, i, "BC",
                            mode=1)
                    self.mm(dz, f"{o}, 1", self.A(l), f"{i}, 1", "scr + OFF_DXQ", f"{i}, 1", "BC", i, o, mode=1)
                self.mm(dz, f"{o}, 1", f"scr + OFF_G{l}", f"1, {o}", "scr + OFF_DMIX", "BC, 1", "BC", "BC", o)
                self.mm(f"scr + OFF_QK{l}", "1, BC", dz, f"{o}, 1", f"scr + OFF_NDG{l}", f"{o}, 1", "BC", o, "BC",
                        mode=1)
                w(f"mul_acc(scr + OFF_DC, scr + OFF_DMIX, scr + OFF_QKR{l}, -1.0, BC, BC, True, False, TILE)")
                self.call("mul_acc(scr + OFF_DQK, scr + OFF_DMIX, scr + OFF_C, 1.0, BC, BC, False, False, TILE)")
                self.mm("scr + OFF_DQK", "BC, 1", self.X(l), f"{i}, 1", "scr + OFF_DXQ", f"{i}, 1", "BC", i, "BC",
                        mode=2)
                self.mm("scr + OFF_DQK", "1, BC", x, f"{i}, 1", f"scr + OFF_NDX{l}", f"{i}, 1", "BC", i, "BC",
                        mode=1)
            else:
                self.mm(dz, f"1, {o}", x, f"{i}, 1", self.key_grad(dc, l), f"{i}, 1", o, i, "BC", mode=1)
            if l > 0:
                self.call(f"ew_grad_act(scr + OFF_DXQ, scr + OFF_ZQ{l - 1}, scr + OFF_DZQ, BC, {i}, "
                          f"{self.act}, TILE, TILE)")
            else:
                self.call(f"store_rows(scr + OFF_DXQ, 1.0, scr + OFF_DO, 1.0, dq_row + t0 * D, rows, BC, D, "
                          f"{self.ir.residual}, TILE)")
        for l, (o, i) in enumerate(self.dims):  # the buffers held -dG, -dX
            w(f"lin2(scr + OFF_NDG{l}, scr + OFF_NDG{l}, -1.0, scr, 0.0, BC * {o}, False, 256)")
            w(f"lin2(scr + OFF_NDX{l}, scr + OFF_NDX{l}, -1.0, scr, 0.0, BC * {i}, False, 256)")
        w.barrier()
        # gradient recursion G[j] = (G[j+1] W_{j+1}) * act'(Z[j])
        for j in range(L - 1):
            o, i = self.dims[j + 1]
            self.call(f"ew_grad_act(scr + OFF_NDG{j}, scr + OFF_Z{j}, scr + OFF_DP, BC, {i}, {self.act}, TILE, TILE)")
            self.mm("scr + OFF_DP", f"{i}, 1", self.W(st, j + 1), f"1, {i}", f"scr + OFF_NDG{j + 1}", f"{o}, 1",
                    "BC", o, i, mode=1)
            self.mm(f"scr + OFF_G{j + 1}", f"1, {o}", "scr + OFF_DP", f"{i}, 1", self.key_grad(dc, j + 1),
                    f"{i}, 1", o, i, "BC", mode=1)
        oL = self.dims[-1][0]
        self.call(f"loss_back(scr + OFF_NDG{L - 1}, scr + OFF_Z{L - 1}, scr + OFF_KS, scr + OFF_VS, "
                  f"scr + OFF_DZ{L - 1}, {self.SC()}, delta, BC, {oL}, {self.ir.residual}, {self.loss}, "
                  f"{self.nstep}, TILE)")
        self.call(f"store_rows(scr + OFF_DZ{L - 1}, -1.0, scr, 0.0, dv_row + t0 * D, rows, BC, D, False, TILE)")
        # key forward Z[l] = X[l] W_l^T, X[l+1] = act(Z[l])
        for l in range(L - 1, -1, -1):
            o, i = self.dims[l]
            self.mm(f"scr + OFF_DZ{l}", f"1, {o}", self.X(l), f"{i}, 1", self.key_grad(dc, l), f"{i}, 1", o, i,
                    "BC", mode=1)
            self.mm(f"scr + OFF_DZ{l}", f"{o}, 1", self.W(st, l), f"{i}, 1", f"scr + OFF_NDX{l}", f"{i}, 1",
                    "BC", i, o, mode=1)
            if l > 0:
                self.call(f"grad2_acc(scr + OFF_DZ{l - 1}, scr + OFF_NDG{l - 1}, scr + OFF_GW{l}, scr + OFF_Z{l - 1}, "
                          f"scr + OFF_NDX{l}, BC, {i}, {self.act}, TILE)")
        self.call(f"store_rows(scr + OFF_NDX0, 1.0, scr + OFF_DZ{L - 1}, 1.0, dk_row + t0 * D, rows, BC, D, "
                  f"{self.ir.residual}, TILE)")
        if self.anc:  # key-path weight gradients reach both U and W0
            for l, (o, i) in enumerate(self.dims):
                w(f"lin2({dc} + SO_W{l}, {dc} + SO_W{l}, 1.0, scr + OFF_DKEY{l}, 1.0, {o} * {i}, True, 256)")
                w(f"lin2(scr + OFF_DANC + SO_A{l}, scr + OFF_DANC + SO_A{l}, 1.0, scr + OFF_DKEY{l}, 1.0, "
                  f"{o} * {i}, True, 256)")
            w.barrier()
        self.coefficient_backward()

    def key_grad(self, dc: str, l: int) -> str:
        """Where gradients w.r.t. the key-path weights of layer l accumulate."""
        return f"scr + OFF_DKEY{l}" if self.anc else f"{dc} + SO_W{l}"

    def coefficient_backward(self) -> None:
        w, mom, dec = self.w, self.mom, self.dec
        w("row_add_at(scr + OFF_DC, rows - 1, scr + OFF_DCV, BC)")
        if dec:
            w("vec_add_at(scr + OFF_DA, rows - 1, da_e, BC)")
        if mom:
            w("vec_add_at(scr + OFF_DM, rows - 1, dm_e, BC)")
        w.barrier()
        w(f"colsum_prod(scr + OFF_DC, {self.F()}, scr + OFF_DTHETA, BC, TILE)")
        self.call("scale_cols(scr + OFF_DC, scr + OFF_THETA, scr + OFF_DF, BC, BC, TILE, True)")
        if mom:
            self.call("vec_axpy(scr + OFF_DTHETA, scr + OFF_DWV, 1.0, scr + OFF_PE, BC, True, True)")
        if dec:
            dlb = "scr + OFF_DLB"
            if mom:
                self.mm("scr + OFF_DF", "BC, 1", "scr + OFF_LP", "1, BC", dlb, "BC, 1", "BC", "BC", "BC")
                self.call(f"outer_acc({dlb}, scr + OFF_DM, scr + OFF_PV, BC, TILE)")
            else:
                dlb = "scr + OFF_DF"
            self.call(f"tri_rowcol({dlb}, scr + OFF_LB, scr + OFF_DAV, BC, False, TILE)")
            self.call("vec_axpy(scr + OFF_DAV, scr + OFF_DA, 1.0, scr + OFF_A, BC, True, True)")
        if mom:
            self.mm("scr + OFF_LB", "1, BC", "scr + OFF_DF", "BC, 1", "scr + OFF_DLP", "BC, 1", "BC", "BC", "BC")
            w("tri_rowcol(scr + OFF_DLP, scr + OFF_LP, scr + OFF_DNV, BC, False, TILE)")
            self.call("col_dot(scr + OFF_LB, scr + OFF_DM, scr + OFF_TV, BC, TILE)")
            w("vec_axpy(scr + OFF_DNV, scr + OFF_TV, 1.0, scr + OFF_PV, BC, True, True)")
            w("ww = dot_sum(scr + OFF_DWV, scr + OFF_W, BC, BC)")
            self.call("vec_axpy(scr + OFF_DNV, scr + OFF_DWV, -1.0, scr + OFF_W, BC, True, True)")
            self.call("vec_add_at(scr + OFF_DNV, rows - 1, ww + dp_e * p_e, BC)")
        self.call("gate_grads(scr + OFF_DTHETA, scr + OFF_DAV, scr + OFF_DNV, theta_ptr + g_off + t0, eta_ptr + g_off + t0, "
                  "alpha_ptr + g_off + t0, dtheta_ptr + g_off + t0, deta_ptr + g_off + t0, dalpha_ptr + g_off + t0, rows, "
                  f"BC, {mom}, {dec})")


def _header(w: _Writer, ir: MemoryIR, kind: str, params: str, backward: bool) -> None:
    w(f'"""Generated {kind} kernel (do not edit): see titans_kernels/backends/triton_backend/codegen.py."""')
    w("import triton")
    w("import triton.language as tl")
    w(f"from titans_kernels.backends.triton_backend.device import ({IMPORTS})")
    w("")
    w("")
    w("@triton.jit")
    w(f"def {kernel_name(ir, 'bwd' if backward else 'fwd')}({params}")
    w("        T, n_chunks, first_group, group, n_groups, delta,")
    w("        D: tl.constexpr, BC: tl.constexpr, SN: tl.constexpr, SCR: tl.constexpr,")
    w("        " + ", ".join(f"{o}: tl.constexpr" for o in offset_names(ir, backward)) + ",")
    w("        SAVE_CKPT: tl.constexpr, TILE: tl.constexpr, PREC: tl.constexpr):")
    w.indent = 1
    w("pid = tl.program_id(0).to(tl.int64)")
    rows = {"q": "q_ptr", "k": "k_ptr", "v": "v_ptr"}
    rows.update({"dq": "dq_ptr", "dk": "dk_ptr", "dv": "dv_ptr", "do": "do_ptr"} if backward else {"o": "out_ptr"})
    for name, ptr in rows.items():
        w(f"{name}_row = {ptr} + pid * T * D")
    w("g_off = pid * T")
    w("scr = scr_ptr + pid * SCR")


FWD_PARAMS = "q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, out_ptr, scr_ptr, ckpt_ptr,"
BWD_PARAMS = ("q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, do_ptr, dq_ptr, dk_ptr, dv_ptr, dtheta_ptr, deta_ptr,\n"
              "        dalpha_ptr, ckpt_ptr, gs_ptr, scr_ptr,")


def generate_forward(ir: MemoryIR) -> str:
    """Source of a module defining the forward kernel for `ir`."""
    w = _Writer()
    em = Emitter(ir, w)
    _header(w, ir, "forward", FWD_PARAMS, backward=False)
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
    em.load_inputs()
    em.coefficients()
    em.key_path("cur")
    em.read("cur", write_out=True)
    em.update("cur", "nxt")
    return "\n".join(w.lines) + "\n"


def generate_backward(ir: MemoryIR) -> str:
    """Source of a module defining the backward kernel for `ir`."""
    w = _Writer()
    em = Emitter(ir, w)
    _header(w, ir, "backward", BWD_PARAMS, backward=True)
    w("gsp = gs_ptr + pid * group * SN")
    w("for gg in range(0, n_groups):")
    w.indent = 2
    w("g = n_groups - 1 - gg")
    w("lo = tl.where(g == 0, 0, first_group + (g - 1) * group)")
    w("hi = tl.where(g == 0, first_group, lo + group)")
    w("copy_block(ckpt_ptr + (pid * n_groups + g) * SN, gsp, SN, 256)")
    w.barrier()
    w("for c in range(lo, hi - 1):  # chunk-start states of the group")
    w.indent = 3
    w("t0 = c * BC")
    w("rows = tl.minimum(T - t0, BC)")
    w("st = gsp + (c - lo) * SN")
    em.load_inputs(with_q=False)
    em.coefficients()
    em.key_path("st")
    em.update("st", "st + SN")
    w.indent = 2
    w("for jj in range(0, hi - lo):  # chunks in reverse")
    w.indent = 3
    w("c = hi - 1 - jj")
    w("t0 = c * BC")
    w("rows = tl.minimum(T - t0, BC)")
    w("st = gsp + (c - lo) * SN")
    w("p = n_chunks - 1 - c")
    w("dn = scr + OFF_DST + (p % 2) * SN")
    w("dc = scr + OFF_DST + ((p + 1) % 2) * SN")
    em.load_inputs()
    w("ew_load(do_row + t0 * D, scr + OFF_DO, rows, BC, D, TILE)")
    em.coefficients()
    em.key_path("st")
    em.read("st", write_out=False)
    em.backward("st", "dn", "dc")
    return "\n".join(w.lines) + "\n"
