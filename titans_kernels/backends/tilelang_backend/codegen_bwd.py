"""TileLang source of the backward kernel: the forward's reverse walk, generated from the IR.

One program per (batch, head). Groups of chunks are walked in reverse; for each group the state
is re-run forward from its checkpoint (CKW/CKS, written by the forward kernel), storing every
chunk-start state of the group (GSTW/GSTS); then each chunk, last first, re-runs its forward
intermediates from its start state (no update) and applies the hand-derived gradient of every
step, the same algebra as torch_backend/chunk.py `backward`, unpacked per layer:

  A  state update  W' = a_e W + m_e S + G^T Y,  S' = p_e S + G^T Yw  (Y = -c X, Yw = -w X)
  B  read          Zq = a (Xq W^T) + m (Xq S^T) + (-C o Xq X^T) G (+ Xq A^T), top layer down
  C  gradient recursion G_{j} = (G_{j+1} W_{j+1}) o phi'(Z_j), and the loss gradient
  D  key forward   Z_l = X_l W_l^T, X_{l+1} = phi(Z_l)

It writes dq, dk, dv, the gradient of the initial state (DW/DS, which enter holding the gradient
of the final state), of the anchor (DA), and per chunk the gradients of the coefficients (C, a,
m, c, w, a_e, m_e, p_e), which torch_backend/coeffs.py turns into gate gradients.
"""
from __future__ import annotations

import re

from ...ir import MemoryIR, ReadMode
from .codegen import Emitter, Operand, Term, TileConfig

# phi'' as an expression of {z}
ACT_D2 = {
    "silu": "(T.sigmoid({z}) * (1.0 - T.sigmoid({z})) * ({z} + 2.0 - 2.0 * {z} * T.sigmoid({z})))",
    "gelu": "(T.exp(-0.5 * {z} * {z}) * 0.3989422804014327 * (2.0 - {z} * {z}))",
    "relu": "0.0",
    "identity": "0.0",
}


def kernel_name_bwd(ir: MemoryIR) -> str:
    from .codegen import kernel_name
    return kernel_name(ir).replace("_fwd_", "_bwd_")


class BackwardEmitter(Emitter):
    """Writes the backward kernel of one IR for one TileConfig."""

    # -- arguments ----------------------------------------------------------------------
    def params(self) -> list[tuple[str, tuple]]:
        D, b = self.cfg.D, self.cfg.b
        p: list[tuple[str, tuple]] = [(x, ("BH", "TP", D)) for x in ("Q", "K", "V", "DO", "DQ", "DK", "DV")]
        p += [("CM", ("BH", "NC", b, b)), ("CC", ("BH", "NC", b))]
        if self.dec:
            p.append(("CA", ("BH", "NC", b)))
        if self.mom:
            p += [("CMO", ("BH", "NC", b)), ("CW", ("BH", "NC", b))]
        p += [("SC", ("BH", "NC", 3)), ("GLO", ("NG",)), ("GHI", ("NG",))]
        p += [("DCM", ("BH", "NC", b, b)), ("DCC", ("BH", "NC", b)), ("DSC", ("BH", "NC", 3))]
        if self.dec:
            p.append(("DCA", ("BH", "NC", b)))
        if self.mom:
            p += [("DCMO", ("BH", "NC", b)), ("DCW", ("BH", "NC", b))]
        for l, (o, i) in enumerate(self.shapes):
            p += [(f"W{l}", ("BH", o, i)), (f"CKW{l}", ("BH", "NG", o, i)), (f"GSTW{l}", ("BH", "GM", o, i)),
                  (f"DW{l}", ("BH", o, i)), (f"DWN{l}", ("BH", o, i)), (f"DKEY{l}", ("BH", o, i))]
            if self.mom:
                p += [(f"S{l}", ("BH", o, i)), (f"CKS{l}", ("BH", "NG", o, i)), (f"GSTS{l}", ("BH", "GM", o, i)),
                      (f"DS{l}", ("BH", o, i)), (f"DSN{l}", ("BH", o, i))]
            if self.anc:
                p += [(f"A{l}", ("BH", o, i)), (f"WE{l}", ("BH", o, i)), (f"DA{l}", ("BH", o, i))]
        widest = max(max(o, i) for o, i in self.shapes)
        for l, (o, i) in enumerate(self.shapes):  # scratch
            if l < self.L - 1:
                p += [(f"Z{l}", ("BH", b, o)), (f"X{l + 1}", ("BH", b, o)), (f"XQ{l + 1}", ("BH", b, o)),
                      (f"ZQ{l}", ("BH", b, o)), (f"DP{l}", ("BH", b, o))]
            if l >= 1:
                p.append((f"GWK{l}", ("BH", b, i)))
            p += [(f"G{l}", ("BH", b, o)), (f"Y{l}", ("BH", b, i)), (f"DG{l}", ("BH", b, o)),
                  (f"DX{l}", ("BH", b, i)), (f"DZQ{l}", ("BH", b, o)), (f"DXQ{l}", ("BH", b, i)),
                  (f"DZK{l}", ("BH", b, o)), (f"XA{l}", ("BH", b, i))]
            if self.mom:
                p += [(f"YW{l}", ("BH", b, i)), (f"XM{l}", ("BH", b, i))]
            if self.ir.read is ReadMode.AFTER_UPDATE:
                p.append((f"QKR{l}", ("BH", b, b)))
        p += [("NDU", ("BH", b, widest)), ("NDUS", ("BH", b, widest)), ("RD", ("BH", widest))]
        if self.ir.read is ReadMode.AFTER_UPDATE:
            p += [("QK", ("BH", b, b)), ("QKN", ("BH", b, b)), ("DMIX", ("BH", b, b)), ("DQK", ("BH", b, b))]
        if self.ir.loss != "l2":
            p.append(("R", ("BH", b, D)))
        return p + self.step_params()

    # -- reductions ---------------------------------------------------------------------
    # -- the chunk's backward -----------------------------------------------------------
    def chunk_backward(self) -> None:
        ir, L, b = self.ir, self.L, self.cfg.b
        after = ir.read is ReadMode.AFTER_UPDATE
        act1 = lambda z: self.act(1, z)  # noqa: E731
        ij = "[bh, {i}, {j}]"
        # zero the per-chunk accumulators
        zeros = [("DCC[bh, n, {j}]", "0.0")]
        if self.dec:
            zeros.append(("DCA[bh, n, {j}]", "0.0"))
        if self.mom:
            zeros += [("DCMO[bh, n, {j}]", "0.0"), ("DCW[bh, n, {j}]", "0.0")]
        self.elementwise(1, b, zeros)
        self.elementwise(b, b, [("DCM[bh, n, {i}, {j}]", "0.0")])
        self.elementwise(1, 3, [("DSC[bh, n, {j}]", "0.0")])
        for l, (o, i) in enumerate(self.shapes):
            self.elementwise(o, i, [(f"DKEY{l}{ij}", "0.0")])
        # A: state update
        for l, (o, i) in enumerate(self.shapes):
            if self.dec:
                self.fulldot("DSC[bh, n, 0]", f"DW{l}[bh, {{i}}, {{j}}]", f"W{l}[bh, {{i}}, {{j}}]", o, i)
            if self.mom:
                self.fulldot("DSC[bh, n, 1]", f"DW{l}[bh, {{i}}, {{j}}]", f"S{l}[bh, {{i}}, {{j}}]", o, i)
                self.fulldot("DSC[bh, n, 2]", f"DS{l}[bh, {{i}}, {{j}}]", f"S{l}[bh, {{i}}, {{j}}]", o, i)
            stores = [(f"DWN{l}{ij}", f"DW{l}{ij}" + (" * SC[bh, n, 0]" if self.dec else ""))]
            if self.mom:
                stores.append((f"DSN{l}{ij}", f"SC[bh, n, 1] * DW{l}{ij} + SC[bh, n, 2] * DS{l}{ij}"))
            self.elementwise(o, i, stores)
            terms = [Term(Operand(f"Y{l}"), Operand(f"DW{l}"), K=i, tb=True)]
            if self.mom:
                terms.append(Term(Operand(f"YW{l}"), Operand(f"DS{l}"), K=i, tb=True))
            self.gemm(b, o, terms, [(f"DG{l}{ij}", "{acc}")])
            self.gemm(b, i, [Term(Operand(f"G{l}"), Operand(f"DW{l}"), K=o)], [("NDU" + ij, "{acc}")])
            x = self.X(l)
            xs = f"{x.buf}[bh, {x.row0} + {{i}}, {{j}}]"
            self.rowdot("DCC[bh, n, {i}]", "NDU[bh, {i}, {j}]", xs, b, i, sign="-")
            dx = "-CC[bh, n, {i}] * NDU" + ij
            if self.mom:
                self.gemm(b, i, [Term(Operand(f"G{l}"), Operand(f"DS{l}"), K=o)], [("NDUS" + ij, "{acc}")])
                self.rowdot("DCW[bh, n, {i}]", "NDUS[bh, {i}, {j}]", xs, b, i, sign="-")
                dx += " - CW[bh, n, {i}] * NDUS" + ij
            self.elementwise(b, i, [(f"DX{l}{ij}", dx)])
        # B: read, top layer down
        self.elementwise(b, self.cfg.D, [(f"DZQ{L - 1}{ij}", "DO[bh, t0 + {i}, {j}]")])
        for l in range(L - 1, -1, -1):
            o, i = self.shapes[l]
            xq = self.XQ(l)
            xqs = f"{xq.buf}[bh, {xq.row0} + {{i}}, {{j}}]"
            if after:
                self.elementwise(b, i, [(f"XA{l}{ij}", ("CA[bh, n, {i}] * " if self.dec else "") + xqs)]
                                 + ([(f"XM{l}{ij}", "CMO[bh, n, {i}] * " + xqs)] if self.mom else []))
                self.gemm(b, i, [Term(Operand(f"DZQ{l}"), Operand(f"W{l}"), K=o)], [("NDU" + ij, "{acc}")])
                self.gemm(o, i, [Term(Operand(f"DZQ{l}"), Operand(f"XA{l}"), K=b, ta=True)],
                          [(f"DWN{l}{ij}", "{acc}")], init=f"DWN{l}{ij}")
                if self.dec:
                    self.rowdot("DCA[bh, n, {i}]", "NDU[bh, {i}, {j}]", xqs, b, i)
                dxq = ("CA[bh, n, {i}] * " if self.dec else "") + "NDU" + ij
                if self.mom:
                    self.gemm(b, i, [Term(Operand(f"DZQ{l}"), Operand(f"S{l}"), K=o)], [("NDUS" + ij, "{acc}")])
                    self.gemm(o, i, [Term(Operand(f"DZQ{l}"), Operand(f"XM{l}"), K=b, ta=True)],
                              [(f"DSN{l}{ij}", "{acc}")], init=f"DSN{l}{ij}")
                    self.rowdot("DCMO[bh, n, {i}]", "NDUS[bh, {i}, {j}]", xqs, b, i)
                    dxq += " + CMO[bh, n, {i}] * NDUS" + ij
                self.elementwise(b, i, [(f"DXQ{l}{ij}", dxq)])
                if self.anc:
                    self.gemm(o, i, [Term(Operand(f"DZQ{l}"), xq, K=b, ta=True)], [(f"DA{l}{ij}", "{acc}")],
                              init=f"DA{l}{ij}")
                    self.gemm(b, i, [Term(Operand(f"DZQ{l}"), Operand(f"A{l}"), K=o)], [(f"DXQ{l}{ij}", "{acc}")],
                              init=f"DXQ{l}{ij}")
                # the mixing term (-C o Xq X^T) G
                self.gemm(b, b, [Term(Operand(f"DZQ{l}"), Operand(f"G{l}"), K=o, tb=True)], [("DMIX" + ij, "{acc}")])
                self.elementwise(b, b, [("QKN" + ij, f"-CM[bh, n, {{i}}, {{j}}] * QKR{l}{ij}"),
                                        ("DCM[bh, n, {i}, {j}]", f"DCM[bh, n, {{i}}, {{j}}] - DMIX{ij} * QKR{l}{ij}"),
                                        ("DQK" + ij, "-CM[bh, n, {i}, {j}] * DMIX" + ij)])
                self.gemm(b, o, [Term(Operand("QKN"), Operand(f"DZQ{l}"), K=b, ta=True)], [(f"DG{l}{ij}", "{acc}")],
                          init=f"DG{l}{ij}")
                self.gemm(b, i, [Term(Operand("DQK"), self.X(l), K=b)], [(f"DXQ{l}{ij}", "{acc}")],
                          init=f"DXQ{l}{ij}")
                self.gemm(b, i, [Term(Operand("DQK"), xq, K=b, ta=True)], [(f"DX{l}{ij}", "{acc}")],
                          init=f"DX{l}{ij}")
            else:
                self.gemm(o, i, [Term(Operand(f"DZQ{l}"), xq, K=b, ta=True)], [(f"DKEY{l}{ij}", "{acc}")],
                          init=f"DKEY{l}{ij}")
                self.gemm(b, i, [Term(Operand(f"DZQ{l}"), Operand(self.W(l)), K=o)], [(f"DXQ{l}{ij}", "{acc}")])
            if l > 0:
                self.elementwise(b, i, [(f"DZQ{l - 1}{ij}", f"DXQ{l}{ij} * " + act1(f"ZQ{l - 1}{ij}"))])
            else:
                dq = f"DXQ0{ij}" + (" + DO[bh, t0 + {i}, {j}]" if ir.residual else "")
                self.elementwise(b, i, [("DQ[bh, t0 + {i}, {j}]", dq)])
        # C: gradient recursion, layer 0 upwards, then the loss
        for j in range(L - 1):
            o, i = self.shapes[j]
            self.elementwise(b, o, [(f"DP{j}{ij}", f"DG{j}{ij} * " + act1(f"Z{j}{ij}")),
                                    (f"DZK{j}{ij}", f"DG{j}{ij} * GWK{j + 1}{ij} * "
                                     + ACT_D2[ir.activation].format(z=f"Z{j}{ij}"))])
            o1, i1 = self.shapes[j + 1]
            self.gemm(b, o1, [Term(Operand(f"DP{j}"), Operand(self.W(j + 1)), K=i1, tb=True)],
                      [(f"DG{j + 1}{ij}", "{acc}")], init=f"DG{j + 1}{ij}")
            self.gemm(o1, i1, [Term(Operand(f"G{j + 1}"), Operand(f"DP{j}"), K=b, ta=True)],
                      [(f"DKEY{j + 1}{ij}", "{acc}")], init=f"DKEY{j + 1}{ij}")
        dr = f"DG{L - 1}{ij}" + (" * KAP[bh, {i}]" if ir.normalized_step else "")
        if ir.loss != "l2":
            d = float(ir.huber_delta)
            dr = f"T.if_then_else(R{ij} > {d!r}, 0.0, T.if_then_else(R{ij} < {-d!r}, 0.0, {dr}))"
        self.elementwise(b, self.cfg.D, [(f"DZK{L - 1}{ij}", dr)])
        self.elementwise(b, self.cfg.D, [("DV[bh, t0 + {i}, {j}]", f"-DZK{L - 1}{ij}")])
        # D: key forward, top layer down
        for l in range(L - 1, -1, -1):
            o, i = self.shapes[l]
            self.gemm(o, i, [Term(Operand(f"DZK{l}"), self.X(l), K=b, ta=True)], [(f"DKEY{l}{ij}", "{acc}")],
                      init=f"DKEY{l}{ij}")
            self.gemm(b, i, [Term(Operand(f"DZK{l}"), Operand(self.W(l)), K=o)], [(f"DX{l}{ij}", "{acc}")],
                      init=f"DX{l}{ij}")
            stores = [(f"DWN{l}{ij}", f"DWN{l}{ij} + DKEY{l}{ij}")]
            if self.anc:
                stores.append((f"DA{l}{ij}", f"DA{l}{ij} + DKEY{l}{ij}"))
            self.elementwise(o, i, stores)
            if l > 0:
                self.elementwise(b, i, [(f"DZK{l - 1}{ij}", f"DZK{l - 1}{ij} + DX{l}{ij} * " + act1(f"Z{l - 1}{ij}"))])
            else:
                dk = f"DX0{ij}" + (f" + DZK{L - 1}{ij}" if ir.residual else "")
                self.elementwise(b, i, [("DK[bh, t0 + {i}, {j}]", dk)])
        # the start-state gradient becomes the end-state gradient of the previous chunk
        for l, (o, i) in enumerate(self.shapes):
            self.elementwise(o, i, [(f"DW{l}{ij}", f"DWN{l}{ij}")] + ([(f"DS{l}{ij}", f"DSN{l}{ij}")] if self.mom else []))

    # -- whole kernel -------------------------------------------------------------------
    def _rename(self, start: int, n: str, t0: str) -> None:
        """Give the chunk index / first token of lines emitted since `start` their own names."""
        lines = self.src.lines
        for k in range(start, len(lines)):
            lines[k] = re.sub(r"\bt0\b", t0, re.sub(r"\bn\b", n, lines[k]))

    def body(self) -> None:
        s, b = self.src, self.cfg.b
        s.indent = 2
        s("for gi in T.serial(NG):")
        s("    g = NG - 1 - gi")
        s.indent = 3
        # re-run the group's chunk-start states from its checkpoint
        self.copy_state("W", "CKW", "g, ")
        s("for m1 in T.serial(NC):")
        s("    if m1 >= GLO[g] and m1 < GHI[g]:")
        s.indent = 5
        s(f"t1 = m1 * {b}")
        start = len(s.lines)
        self.copy_state("GSTW", "W", "m1 - GLO[g], ")
        self.chunk(save=False, update=True, checkpoint=False, read=False)
        self._rename(start, "m1", "t1")
        s.indent = 3
        # each chunk of the group, last first
        s("for m2 in T.serial(NC):")
        s("    n2 = NC - 1 - m2")
        s("    if n2 >= GLO[g] and n2 < GHI[g]:")
        s.indent = 5
        s(f"t2 = n2 * {b}")
        start = len(s.lines)
        self.copy_state("W", "GSTW", "n2 - GLO[g], ")
        self.chunk(save=True, update=False, checkpoint=False)
        self.chunk_backward()
        self._rename(start, "n2", "t2")

    INT_PARAMS = ("GLO", "GHI")
    DYNAMIC = ("BH", "NC", "TP", "NG", "GM")

    def module(self) -> str:
        """The backward kernel's module."""
        self.body()
        return self.render(kernel_name_bwd(self.ir), "backward", [])


def generate_backward(ir: MemoryIR, cfg: TileConfig) -> str:
    return BackwardEmitter(ir, cfg).module()
