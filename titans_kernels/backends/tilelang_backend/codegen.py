"""TileLang source generation from the IR: the forward chunk loop as one `T.prim_func`.

One program per (batch, head) (`T.Kernel(BH)`) walks the chunks in order. The memory state
(W_l, S_l, float32) lives in the state buffers, which the kernel updates in place; per-chunk
intermediates live in a per-program global scratch region (L2-resident on a GPU). Each step of
the dual form, the same steps as torch_backend/chunk.py but unpacked per layer, is a tiled GEMM:
operand tiles copied (`T.copy`) into shared memory, `T.gemm` into a register fragment,
`T.Pipelined` over the reduction, then an elementwise epilogue that writes global memory.

The same program is written in two flavours:
  gpu: shared / fragment buffers, `T.Parallel` epilogues, `T.sync_threads()` between steps;
  cpu: local buffers and serial loops, for TileLang's C target, which runs it on the CPU
       (its layout inference has no fragments or shared memory, and it cannot fill them).
Only integers, floats and names derived from the IR's whitelisted fields reach the source.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...errors import InputError
from ...ir import MemoryIR, ReadMode
from ...ir.ops import GRAM_SQUARINGS

# activation value and derivative as expressions of {z}; every name is whitelisted by the IR
ACT = {
    "silu": ("{z} * T.sigmoid({z})", "T.sigmoid({z}) * (1.0 + {z} * (1.0 - T.sigmoid({z})))"),
    "gelu": ("0.5 * {z} * (1.0 + T.erf({z} * 0.7071067811865476))",
             "0.5 * (1.0 + T.erf({z} * 0.7071067811865476)) + {z} * T.exp(-0.5 * {z} * {z}) * 0.3989422804014327"),
    "relu": ("T.max({z}, 0.0)", "T.if_then_else({z} > 0.0, 1.0, 0.0)"),
    "identity": ("{z}", "1.0"),
}
FLAVOURS = ("gpu", "cpu")
# Shared memory the products' tiles take after TileLang's lifetime merge, as a multiple of the
# largest product's tiles (all stages): 2.0x to 4.0x measured on sm_90a at D=64 (tile 32 or 64,
# 1 or 2 stages; benchmarks/results/tilelang-resident.json). The resident kernel plans its placement around this bound.
STAGING_FACTOR = 4
# The same multiple when every product is a warpgroup product (bfloat16 or tf32 tiles, 64 rows):
# the merge left exactly 1.0x for every forward lowered at D=64 (tile 32, 2 stages); 2 keeps a margin.
STAGING_FACTOR_WIDE = 2
# TileLang's dtype of tf32 operand tiles: tensor cores round float32 to it; on sm_90a its products
# are warpgroup products (wgmma) when both tiles are K-major (Emitter._kloop lays them out so)
TF32 = "custom[tfloat32]"
WGMMA_ROWS = 64
_HEX = re.compile(r"[0-9a-f]{16}\Z")


def kernel_name(ir: MemoryIR) -> str:
    if not _HEX.match(ir.spec_hash):
        raise ValueError("bad kernel name request")
    return f"titans_tl_fwd_{ir.spec_hash}"


@dataclass(frozen=True)
class TileConfig:
    """What the source depends on besides the IR: head dim, chunk, tile edge, threads, stages."""

    D: int
    b: int
    tile: int = 32
    threads: int = 128
    stages: int = 2
    flavour: str = "gpu"
    onchip: int = 0     # shared memory per block (bytes) of the target, when the kernel holds
                        # state on chip for its whole run (the "resident" kernel); 0: streamed
    cluster: int = 1    # blocks per head (a thread-block cluster), each holding a slice of the hidden units
    # the products' operand tiles per group (read, key path with its gradient chain, state update;
    # the backward's own products take the read's): float32 (tensor cores run them as tf32), TF32
    # or bfloat16 (float32 accumulation either way)
    operands: tuple[str, str, str] = ("float32", "float32", "float32")
    k_major: bool = False   # every product's operand tiles K-major (always for tf32 tiles; the C target can take it)

    def edge(self, n: int) -> int:
        """Largest tile edge <= `tile` that divides n (every dim is a multiple of 16)."""
        for t in (self.tile, 64, 32, 16):
            if t <= self.tile and n % t == 0:
                return t
        raise ValueError(f"dimension {n} is not a multiple of 16")


@dataclass(frozen=True)
class Operand:
    """A 2-D view buf[bh, row0 + r, c] of a (BH, rows, cols) global buffer."""

    buf: str
    row0: str = "0"


@dataclass(frozen=True)
class Term:
    """acc += scale[row] * (A @ B) with A (M x K), B (K x N) after the optional transposes."""

    a: Operand
    b: Operand
    K: int
    ta: bool = False
    tb: bool = False
    scale: str | None = None   # per-row coefficient vector name (indexed [bh, n, row])
    neg: bool = False          # subtract the product


@dataclass
class _Source:
    lines: list[str] = field(default_factory=list)
    allocs: list[str] = field(default_factory=list)
    indent: int = 3
    counter: int = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def uid(self) -> int:
        self.counter += 1
        return self.counter


class Emitter:
    """Writes the forward of one IR for one TileConfig."""

    def __init__(self, ir: MemoryIR, cfg: TileConfig):
        if cfg.flavour not in FLAVOURS:
            raise ValueError(f"unknown flavour {cfg.flavour!r}")
        self.ir, self.cfg = ir, cfg
        self.gpu = cfg.flavour == "gpu"
        self.L = ir.depth
        self.mom = ir.gates.has_momentum
        self.dec = ir.gates.has_decay
        self.anc = ir.decay_to_init
        self.shapes = ir.layer_shapes(cfg.D)      # (out, in) per layer
        self.src = _Source()
        self.placed: list[str] = []               # state buffers held on chip (render: plan_onchip)
        self.staging = 0                          # the largest product's shared tiles, all stages
        self.narrow = False                       # some product is not a warpgroup product (STAGING_FACTOR)
        self.group: str | None = None             # the product group being written (TileConfig.operands)

    # -- buffers ------------------------------------------------------------------------
    def W(self, l: int) -> str:
        """Weights the key path uses: W_l, or U_l + A_l (anchored)."""
        return f"WE{l}" if self.anc else f"W{l}"

    def X(self, l: int) -> Operand:
        return Operand("K", "t0") if l == 0 else Operand(f"X{l}")

    def XQ(self, l: int) -> Operand:
        return Operand("Q", "t0") if l == 0 else Operand(f"XQ{l}")

    def params(self) -> list[tuple[str, tuple]]:
        """(name, shape) of every kernel argument, in order; all float32 but SLOT (int32).
        Shapes hold ints and the symbolic sizes "BH", "NC" (chunks), "TP" (padded tokens), "NG"
        (checkpoint slots)."""
        D, b = self.cfg.D, self.cfg.b
        p: list[tuple[str, tuple]] = [(x, ("BH", "TP", D)) for x in ("Q", "K", "V", "O")]
        p += [("CM", ("BH", "NC", b, b)), ("CC", ("BH", "NC", b))]
        if self.dec:
            p.append(("CA", ("BH", "NC", b)))
        if self.mom:
            p += [("CMO", ("BH", "NC", b)), ("CW", ("BH", "NC", b))]
        p += [("SC", ("BH", "NC", 3)), ("SLOT", ("NC",))]
        for l, (o, i) in enumerate(self.shapes):
            p += [(f"W{l}", ("BH", o, i)), (f"CKW{l}", ("BH", "NG", o, i))]
            if self.mom:
                p += [(f"S{l}", ("BH", o, i)), (f"CKS{l}", ("BH", "NG", o, i))]
            if self.anc:
                p += [(f"A{l}", ("BH", o, i)), (f"WE{l}", ("BH", o, i))]
        for l, (o, i) in enumerate(self.shapes):  # scratch
            if l < self.L - 1:
                p += [(f"Z{l}", ("BH", b, o)), (f"X{l + 1}", ("BH", b, o)), (f"XQ{l + 1}", ("BH", b, o))]
            p += [(f"G{l}", ("BH", b, o)), (f"Y{l}", ("BH", b, i))]
            if self.mom:
                p.append((f"YW{l}", ("BH", b, i)))
        if self.ir.read is ReadMode.AFTER_UPDATE:
            p.append(("QK", ("BH", b, b)))
        return p + self.step_params()

    def step_params(self) -> list[tuple[str, tuple]]:
        """Scratch of the normalized step: per-row factors KAP, row sums RR and maxima RM, column
        norms CSQ, the Gram matrices GR0 / GR1 with their row sums RDN, and LAM (a Frobenius norm
        squared, then the log of the operator-norm bound)."""
        if not self.ir.normalized_step:
            return []
        b, hidden = self.cfg.b, max(i for _, i in self.shapes)
        n = max((lay.gram_side(self.cfg.D) for lay in self.ir.layers[1:]), default=1)
        return [("KAP", ("BH", b)), ("RR", ("BH", b)), ("RM", ("BH", b)), ("CSQ", ("BH", hidden)),
                ("GR0", ("BH", n, n)), ("GR1", ("BH", n, n)), ("RDN", ("BH", n)), ("LAM", ("BH", 2))]

    # -- loop helpers -------------------------------------------------------------------
    def _par(self, *extents: int) -> str:
        ext = ", ".join(str(e) for e in extents)
        return f"T.Parallel({ext})" if self.gpu else f"T.grid({ext})"

    def _alloc(self, shape: tuple[int, int], kind: str, dtype: str = "float32") -> str:
        name = f"{kind}{self.src.uid()}"
        scope = {"shared": "T.alloc_shared", "frag": "T.alloc_fragment"}[kind] if self.gpu else "T.alloc_local"
        self.src.allocs.append(f"{name} = {scope}(({shape[0]}, {shape[1]}), \"{dtype}\")")
        return name

    def operand_dtype(self) -> str:
        """The operand tiles' dtype of the product group being written; outside the groups (the
        backward's own products), the read's."""
        groups = ("read", "key", "update")
        return self.cfg.operands[groups.index(self.group) if self.group in groups else 0]

    def sync(self) -> None:
        if self.gpu:
            self.src("T.sync_threads()")

    def elementwise(self, rows: int, cols: int, stores: list[tuple[str, str]]) -> None:
        """for (i, j) < (rows, cols): dst[...] = expr, with {i}, {j} in both."""
        s = self.src
        u = s.uid()
        i, j = f"i{u}", f"j{u}"
        s(f"for {i}, {j} in {self._par(rows, cols)}:")
        for dst, expr in stores:
            s(f"    {dst.format(i=i, j=j)} = {expr.format(i=i, j=j)}")
        self.sync()

    def gemm(self, M: int, N: int, terms: list[Term], stores: list[tuple[str, str]],
             init: str | None = None) -> None:
        """out (M x N) = init + sum of terms; `stores` are (dst, expr) with {i}, {j} (global row and
        column) and {acc} (the accumulated value) in them; `init` may use {i}, {j}."""
        s, cfg = self.src, self.cfg
        # a warpgroup product (wgmma) writes 64 rows: bfloat16 and tf32 tiles take it when M allows
        wide = self.gpu and self.operand_dtype() != "float32" and M % WGMMA_ROWS == 0
        self.narrow = self.narrow or not wide
        bm, bn = (WGMMA_ROWS if wide else cfg.edge(M)), cfg.edge(N)
        acc = self._alloc((bm, bn), "frag")
        part = self._alloc((bm, bn), "frag") if any(t.scale or t.neg for t in terms) else None
        u = s.uid()
        mi, ni, ii, jj = f"mi{u}", f"ni{u}", f"ii{u}", f"jj{u}"
        gi, gj = f"({mi} * {bm} + {ii})", f"({ni} * {bn} + {jj})"
        s(f"for {mi} in T.serial({M // bm}):")
        s(f"    for {ni} in T.serial({N // bn}):")
        s.indent += 2
        if init is None:
            s(f"T.clear({acc})")
        else:
            s(f"for {ii}, {jj} in {self._par(bm, bn)}:")
            s(f"    {acc}[{ii}, {jj}] = {init.format(i=gi, j=gj)}")
        for t in terms:
            split = bool(t.scale or t.neg)
            if split:
                s(f"T.clear({part})")
            self._kloop(t, part if split else acc, bm, bn, mi, ni)
            if split:
                factor = (f"{t.scale}[bh, n, {gi}] * " if t.scale else "")
                s(f"for {ii}, {jj} in {self._par(bm, bn)}:")
                s(f"    {acc}[{ii}, {jj}] {'-' if t.neg else '+'}= {factor}{part}[{ii}, {jj}]")
        s(f"for {ii}, {jj} in {self._par(bm, bn)}:")
        for dst, expr in stores:
            value = f"{acc}[{ii}, {jj}]"
            s(f"    {dst.format(i=gi, j=gj, acc=value)} = {expr.format(i=gi, j=gj, acc=value)}")
        s.indent -= 2
        self.sync()

    def layer_out(self, M: int, N: int, terms: list[Term], stores: list[tuple[str, str]], read: bool = False) -> None:
        """The last layer's product of the key path (read=False) or of the read: a plain GEMM here;
        the cluster kernel (codegen_cluster.py) sums its blocks' partial products."""
        self.gemm(M, N, terms, stores)

    def _kloop(self, t: Term, acc: str, bm: int, bn: int, mi: str, ni: str) -> None:
        s, cfg = self.src, self.cfg
        bk = cfg.edge(t.K)
        a_shape = (bk, bm) if t.ta else (bm, bk)
        b_shape = (bn, bk) if t.tb else (bk, bn)
        dtype = self.operand_dtype()
        k_major = dtype == TF32 or cfg.k_major
        if k_major:   # tf32 tensor-core products (wgmma) take both operands K-major: A (m, k), B (n, k)
            a_shape, b_shape = (bm, bk), (bn, bk)
        As, Bs = self._alloc(a_shape, "shared", dtype), self._alloc(b_shape, "shared", dtype)
        size = 2 if dtype == "bfloat16" else 4
        self.staging = max(self.staging, size * cfg.stages * (a_shape[0] * a_shape[1] + b_shape[0] * b_shape[1]))
        ki = f"ki{s.uid()}"
        a_idx = (f"{t.a.row0} + {ki} * {bk}, {mi} * {bm}" if t.ta else f"{t.a.row0} + {mi} * {bm}, {ki} * {bk}")
        b_idx = (f"{t.b.row0} + {ni} * {bn}, {ki} * {bk}" if t.tb else f"{t.b.row0} + {ki} * {bk}, {ni} * {bn}")
        s(f"for {ki} in T.Pipelined({t.K // bk}, num_stages={cfg.stages}):")
        s.indent += 1
        if k_major and t.ta:
            self._copy_t(t.a, As, ki, bk, mi, bm)
        else:
            s(f"T.copy({t.a.buf}[bh, {a_idx}], {As})")
        if k_major and not t.tb:
            self._copy_t(t.b, Bs, ki, bk, ni, bn)
        else:
            s(f"T.copy({t.b.buf}[bh, {b_idx}], {Bs})")
        ta, tb = (False, True) if k_major else (t.ta, t.tb)
        s(f"T.gemm({As}, {Bs}, {acc}, transpose_A={ta}, transpose_B={tb})")
        s.indent -= 1

    def _copy_t(self, x: Operand, dst: str, ki: str, bk: int, oi: str, bo: int) -> None:
        """dst (bo, bk) = the transpose of the (bk, bo) block of x at rows ki * bk, columns oi * bo
        (threads along the block's rows of x, so that the global reads are contiguous)."""
        s = self.src
        u = s.uid()
        kk, oo = f"kk{u}", f"oo{u}"
        s(f"for {kk}, {oo} in {self._par(bk, bo)}:")
        s(f"    {dst}[{oo}, {kk}] = {x.buf}[bh, {x.row0} + {ki} * {bk} + {kk}, {oi} * {bo} + {oo}]")

    def _row_loop(self, statement: str, rows: int, cols: int) -> None:
        """for i < rows (parallel on the GPU), for j < cols (serial): `statement` with {i}, {j}."""
        s = self.src
        u = s.uid()
        i, j = f"r{u}", f"c{u}"
        loop = f"T.Parallel({rows})" if self.gpu else f"T.serial({rows})"
        s(f"for {i} in {loop}:")
        s(f"    for {j} in T.serial({cols}):")
        s(f"        {statement.format(i=i, j=j)}")
        self.sync()

    def rowdot(self, dst: str, a: str, b_: str, rows: int, cols: int, sign: str = "+") -> None:
        """dst[i] (+|-)= sum_j a[i, j] b[i, j]; dst, a, b are templates with {i} (and {j})."""
        self._row_loop(f"{dst} {sign}= {a} * {b_}", rows, cols)

    def fulldot(self, dst: str, a: str, b_: str, rows: int, cols: int, scratch: str = "RD") -> None:
        """dst += sum_ij a[i, j] b[i, j]: row sums into `scratch` (`rowdot`), then one thread adds them."""
        self.elementwise(1, rows, [(f"{scratch}[bh, {{j}}]", "0.0")])
        self.rowdot(f"{scratch}[bh, {{i}}]", a, b_, rows, cols)
        s = self.src
        u = s.uid()
        one = "T.Parallel(1)" if self.gpu else "T.serial(1)"
        s(f"for z{u} in {one}:")
        s(f"    for r{u} in T.serial({rows}):")
        s(f"        {dst} += {scratch}[bh, r{u}]")
        self.sync()

    def rowmax(self, dst: str, a: str, rows: int, cols: int) -> None:
        """dst[i] = max(dst[i], max_j a[i, j]); dst, a are templates with {i} (and {j})."""
        self._row_loop(f"{dst} = T.max({dst}, {a})", rows, cols)

    # -- the chunk ----------------------------------------------------------------------
    def act(self, which: int, z: str) -> str:
        return "(" + ACT[self.ir.activation][which].format(z=z) + ")"

    def loss_grad(self, r: str) -> str:
        if self.ir.loss == "l2":
            return r
        d = float(self.ir.huber_delta)
        return f"T.max(T.min({r}, {d!r}), {-d!r})"

    def step_scale(self) -> None:
        """KAP[row] = 1 / max(1, kappa) of the normalized step (ir/ops.py step_scale), by Horner's
        rule over the layers: kappa = kappa * min(sum_j phi'(Z_{m-1})_j^2 ||W_m[:, j]||^2,
        lam_m max_j phi'(Z_{m-1})_j^2) + ||X_m||^2."""
        b = self.cfg.b
        self.elementwise(1, b, [("KAP[bh, {j}]", "0.0")])
        k = "K[bh, t0 + {i}, {j}]"
        self.rowdot("KAP[bh, {i}]", k, k, b, self.cfg.D)
        for m in range(1, self.L):
            o, i = self.shapes[m]
            self.op_norm_bound(m)
            self.elementwise(1, i, [("CSQ[bh, {j}]", "0.0")])
            w = f"{self.W(m)}[bh, {{j}}, {{i}}]"
            self.rowdot("CSQ[bh, {i}]", w, w, i, o)
            self.elementwise(1, b, [("RR[bh, {j}]", "0.0"), ("RM[bh, {j}]", "0.0")])
            d1 = self.act(1, f"Z{m - 1}[bh, {{i}}, {{j}}]")
            self.rowdot("RR[bh, {i}]", f"{d1} * {d1}", "CSQ[bh, {j}]", b, i)
            self.rowmax("RM[bh, {i}]", f"{d1} * {d1}", b, i)
            self.elementwise(1, b, [("KAP[bh, {j}]", "KAP[bh, {j}] * T.min(RR[bh, {j}], LAM[bh, 1] * RM[bh, {j}])")])
            x = f"X{m}[bh, {{i}}, {{j}}]"
            self.rowdot("KAP[bh, {i}]", x, x, b, i)
        self.elementwise(1, b, [("KAP[bh, {j}]", "1.0 / T.max(KAP[bh, {j}], 1.0)")])

    def op_norm_bound(self, m: int) -> None:
        """LAM[bh, 1] = ||G^(2^s)||_F^(1/2^s) for the Gram matrix G of W_m (ir/ops.py
        op_norm_sq_bound), squared in GR0 / GR1, each square normalised by its Frobenius norm."""
        o, i = self.shapes[m]
        n, W = self.ir.layers[m].gram_side(self.cfg.D), self.W(m)
        gram = Term(Operand(W), Operand(W), K=i, tb=True) if o <= i else Term(Operand(W), Operand(W), K=o, ta=True)
        self.gemm(n, n, [gram], [("GR0[bh, {i}, {j}]", "{acc}")])
        bufs = ("GR0", "GR1")
        norm = "T.max(T.sqrt(LAM[bh, 0]), 1e-30)"
        for s in range(GRAM_SQUARINGS + 1):
            g = f"{bufs[s % 2]}[bh, {{i}}, {{j}}]"
            self.elementwise(1, 1, [("LAM[bh, 0]", "0.0")])
            self.fulldot("LAM[bh, 0]", g, g, n, n, scratch="RDN")
            log = f"T.log({norm})" if s == 0 else f"LAM[bh, 1] + T.log({norm}) / {2.0 ** s!r}"
            self.elementwise(1, 1, [("LAM[bh, 1]", log)])
            if s < GRAM_SQUARINGS:
                self.elementwise(n, n, [(g, f"{g} / {norm}")])
                self.gemm(n, n, [Term(Operand(bufs[s % 2]), Operand(bufs[s % 2]), K=n)],
                          [(f"{bufs[(s + 1) % 2]}[bh, {{i}}, {{j}}]", "{acc}")])
        self.elementwise(1, 1, [("LAM[bh, 1]", "T.exp(LAM[bh, 1])")])

    def copy_state(self, dst: str, src: str, index: str = "") -> None:
        """W / S between the working state and a stored copy: dst, src are "W" / "CKW" ... prefixes;
        `index` is the extra leading index of the stored copy (e.g. "SLOT[n], ")."""
        for l, (o, i) in enumerate(self.shapes):
            pairs = [(dst, src)] + ([(dst.replace("W", "S", 1), src.replace("W", "S", 1))] if self.mom else [])
            stores = []
            for d, sname in pairs:
                di = index if d.startswith(("CK", "GST")) else ""
                si = index if sname.startswith(("CK", "GST")) else ""
                stores.append((f"{d}{l}[bh, {di}{{i}}, {{j}}]", f"{sname}{l}[bh, {si}{{i}}, {{j}}]"))
            self.elementwise(o, i, stores)

    def chunk(self, save: bool = False, update: bool = True, checkpoint: bool = True, read: bool = True) -> None:
        """One chunk's forward. save: also keep what the backward needs (G W, read
        pre-activations, raw Q K^T, the error) and skip the last layer's read; update: write the
        end-of-chunk state; checkpoint: store the chunk-start state where SLOT says so; read:
        compute the read path at all (a re-run of states does not need it)."""
        ir, L, b = self.ir, self.L, self.cfg.b
        s = self.src
        if checkpoint:  # the backward re-runs groups from these
            s("if SLOT[n] >= 0:")
            s.indent += 1
            self.copy_state("CKW", "W", "SLOT[n], ")
            s.indent -= 1
        if self.anc:
            for l, (o, i) in enumerate(self.shapes):
                self.elementwise(o, i, [(f"WE{l}[bh, {{i}}, {{j}}]", f"W{l}[bh, {{i}}, {{j}}] + A{l}[bh, {{i}}, {{j}}]")])
        self.group = "key"
        # key path: Z_l = X_l W_l^T, X_{l+1} = phi(Z_l); last layer: G = loss'(Z (+k) - v)
        for l, (o, i) in enumerate(self.shapes):
            term = [Term(self.X(l), Operand(self.W(l)), K=i, tb=True)]
            if l < L - 1:
                stores = [(f"Z{l}[bh, {{i}}, {{j}}]", "{acc}"), (f"X{l + 1}[bh, {{i}}, {{j}}]", self.act(0, "{acc}"))]
            else:
                r = "{acc} - V[bh, t0 + {i}, {j}]" + (" + K[bh, t0 + {i}, {j}]" if ir.residual else "")
                grad = self.loss_grad(f"({r})")
                if ir.normalized_step:
                    self.step_scale()
                    grad += " * KAP[bh, {i}]"
                stores = [(f"G{l}[bh, {{i}}, {{j}}]", grad)]
                if save and ir.loss != "l2":
                    stores.append(("R[bh, {i}, {j}]", f"({r})"))
            (self.layer_out if l == L - 1 else self.gemm)(b, o, term, stores)
        # gradient recursion: G_{l-1} = (G_l W_l) * phi'(Z_{l-1})
        for l in range(L - 1, 0, -1):
            o, i = self.shapes[l]
            stores = [(f"G{l - 1}[bh, {{i}}, {{j}}]", "{acc} * " + self.act(1, f"Z{l - 1}[bh, {{i}}, {{j}}]"))]
            if save:
                stores.append((f"GWK{l}[bh, {{i}}, {{j}}]", "{acc}"))
            self.gemm(b, i, [Term(Operand(f"G{l}"), Operand(self.W(l)), K=o)], stores)
        self.group = "read"
        # read (state at chunk start; after_update adds this chunk's updates through C)
        for l, (o, i) in enumerate(self.shapes if read else []):
            last = l == L - 1
            if ir.read is ReadMode.AFTER_UPDATE:
                qk = [("QK[bh, {i}, {j}]", "-CM[bh, n, {i}, {j}] * {acc}")]
                if save:
                    qk.append((f"QKR{l}[bh, {{i}}, {{j}}]", "{acc}"))
                self.gemm(b, b, [Term(self.XQ(l), self.X(l), K=i, tb=True)], qk)
                terms = [Term(self.XQ(l), Operand(f"W{l}"), K=i, tb=True, scale="CA" if self.dec else None)]
                if self.mom:
                    terms.append(Term(self.XQ(l), Operand(f"S{l}"), K=i, tb=True, scale="CMO"))
                terms.append(Term(Operand("QK"), Operand(f"G{l}"), K=b))
                if self.anc:
                    terms.append(Term(self.XQ(l), Operand(f"A{l}"), K=i, tb=True))
            else:
                terms = [Term(self.XQ(l), Operand(self.W(l)), K=i, tb=True)]
            if last and save:
                continue  # the backward does not need the read output
            if last:
                res = " + Q[bh, t0 + {i}, {j}]" if ir.residual else ""
                stores = [("O[bh, t0 + {i}, {j}]", "{acc}" + res)]
            else:
                stores = [(f"XQ{l + 1}[bh, {{i}}, {{j}}]", self.act(0, "{acc}"))]
                if save:
                    stores.append((f"ZQ{l}[bh, {{i}}, {{j}}]", "{acc}"))
            if last:
                self.layer_out(b, o, terms, stores, read=True)
            else:
                self.gemm(b, o, terms, stores)
        self.group = "update"
        # state update: W' = a_e W + m_e S - G^T (c X),  S' = p_e S - G^T (w X)
        for l, (o, i) in enumerate(self.shapes):
            x = self.X(l)
            src = f"{x.buf}[bh, {x.row0} + {{i}}, {{j}}]"
            stores = [(f"Y{l}[bh, {{i}}, {{j}}]", f"-CC[bh, n, {{i}}] * {src}")]
            if self.mom:
                stores.append((f"YW{l}[bh, {{i}}, {{j}}]", f"-CW[bh, n, {{i}}] * {src}"))
            self.elementwise(b, i, stores)
            if not update:
                continue
            w_init = f"W{l}[bh, {{i}}, {{j}}]" + (" * SC[bh, n, 0]" if self.dec else "")
            if self.mom:
                w_init += f" + SC[bh, n, 1] * S{l}[bh, {{i}}, {{j}}]"
            self.gemm(o, i, [Term(Operand(f"G{l}"), Operand(f"Y{l}"), K=b, ta=True)],
                      [(f"W{l}[bh, {{i}}, {{j}}]", "{acc}")], init=w_init)
            if self.mom:
                self.gemm(o, i, [Term(Operand(f"G{l}"), Operand(f"YW{l}"), K=b, ta=True)],
                          [(f"S{l}[bh, {{i}}, {{j}}]", "{acc}")], init=f"SC[bh, n, 2] * S{l}[bh, {{i}}, {{j}}]")
        self.group = None

    INT_PARAMS: tuple[str, ...] = ("SLOT",)
    DYNAMIC: tuple[str, ...] = ("BH", "NC", "TP", "NG")

    # -- state held on chip -------------------------------------------------------------
    def state_buffers(self) -> dict[str, tuple[int, int]]:
        """The per-program matrices, (BH, rows, cols) parameters of constant size (state, anchor
        and per-chunk scratch; not the token streams or per-chunk coefficients): the candidates
        for on-chip placement, with their (rows, cols)."""
        return {pname: tuple(shape[1:]) for pname, shape in self.params()
                if len(shape) == 3 and shape[0] == "BH" and all(isinstance(d, int) for d in shape[1:])}

    def staging_reserve(self) -> int:
        """Shared memory left to the products' tiles next to the on-chip state: STAGING_FACTOR
        (STAGING_FACTOR_WIDE when every product is a warpgroup product) times the largest
        product's tiles (TileLang merges the per-step tiles by lifetime; the factor bounds what the
        merge leaves, checked against lowered kernels in the slow tests)."""
        return (STAGING_FACTOR if self.narrow else STAGING_FACTOR_WIDE) * self.staging

    def plan_onchip(self) -> list[str]:
        """The buffers the kernel keeps in shared memory: every layer's weights first (what
        defines the resident kernel; `onchip_problem` says when they do not fit), then the
        other per-program matrices most referenced per chunk first (references in the emitted body,
        a proxy for the L2 traffic each saves; ties in parameter order) while they fit within
        `cfg.onchip` less `staging_reserve()`. A buffer that does not fit is skipped, not split."""
        body = "\n".join(self.src.lines)
        shapes = self.state_buffers()
        refs = {n: len(re.findall(rf"\b{n}\[bh, ", body)) for n in shapes}
        weights = [f"W{l}" for l in range(self.L)]
        left = self.cfg.onchip - self.staging_reserve() - self.bytes_of(weights)
        placed = list(weights)
        for name in sorted((n for n in refs if refs[n] and n not in weights), key=lambda n: -refs[n]):
            if self.bytes_of([name]) <= left:
                placed.append(name)
                left -= self.bytes_of([name])
        order = list(shapes)
        return sorted(placed, key=order.index)

    def bytes_of(self, names: list[str]) -> int:
        """float32 bytes of the named per-program matrices."""
        shapes = self.state_buffers()
        return sum(4 * shapes[n][0] * shapes[n][1] for n in names)

    def onchip_problem(self) -> str | None:
        """Why the weights of every layer do not fit in `cfg.onchip` bytes next to the product
        tiles, in one line; None when they do."""
        shapes = self.state_buffers()
        sizes = [self.bytes_of([f"W{l}"]) for l in range(self.L)]
        reserve = self.staging_reserve()
        if sum(sizes) + reserve <= self.cfg.onchip:
            return None
        kb = lambda x: f"{x / 1024:.0f} KB"  # noqa: E731
        widest = max(range(self.L), key=sizes.__getitem__)
        return (f"the resident kernel holds every layer's weights in shared memory: spec '{self.ir.name}' at "
                f"D={self.cfg.D} has {kb(sum(sizes))} of them in float32 (layer {widest}: "
                f"{'x'.join(map(str, shapes[f'W{widest}']))}), next to {kb(reserve)} of product tiles "
                f"(tile {self.cfg.tile}, {self.cfg.stages} stages), and a block has {kb(self.cfg.onchip)}; "
                f"use kernel='generic' (the state through L2), a smaller head dim or fewer stages")

    def _place_onchip(self, loop_head: list[str]) -> list[str]:
        """Rewrite every access of a placed buffer, `NAME[bh, ...]`, to its on-chip copy
        `NAME_r[...]`; the copy is loaded before the loop and written back after it (so the kernel's
        parameters and their meaning do not change). Returns the loop head and body."""
        if self.cfg.onchip and (problem := self.onchip_problem()):
            raise InputError(problem)
        self.placed = self.plan_onchip() if self.cfg.onchip else []
        body = loop_head + self.src.lines
        if not self.placed:
            return body
        pattern = re.compile(r"\b(" + "|".join(self.placed) + r")\[bh, ")
        body = [pattern.sub(r"\1_r[", line) for line in body]
        scope = "T.alloc_shared" if self.gpu else "T.alloc_local"
        shapes = self.state_buffers()
        for name in self.placed:
            self.src.allocs.append(f"{name}_r = {scope}(({shapes[name][0]}, {shapes[name][1]}), \"float32\")")
        pad = "        "
        load = [f"{pad}T.copy({n}[bh, 0, 0], {n}_r)" for n in self.placed]
        store = [f"{pad}T.copy({n}_r, {n}[bh, 0, 0])" for n in self.placed]
        barrier = [f"{pad}T.sync_threads()"] if self.gpu else []
        return load + barrier + body + barrier + store

    def onchip_bytes(self) -> int:
        return self.bytes_of(self.placed)

    def render(self, name: str, title: str, loop_head: list[str]) -> str:
        """The generated module: imports, dynamic sizes, signature, allocations, then `loop_head`
        and the emitted body (with the on-chip placement of TileConfig.onchip)."""
        def tensor(pname: str, shape: tuple) -> str:
            dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
            return f"{pname}: T.Tensor(({dims}), \"{'int32' if pname in self.INT_PARAMS else 'float32'}\")"
        sig = ",\n        ".join(tensor(pname, shape) for pname, shape in self.params())
        launch = f"T.Kernel(BH, threads={self.cfg.threads})" if self.gpu else "T.Kernel(BH)"
        head = [f'"""Generated from rule {self.ir.spec_hash}: TileLang {title} '
                f'({self.cfg.flavour}, D={self.cfg.D}, chunk={self.cfg.b}). Do not edit."""',
                "import tilelang.language as T", ""]
        head += [f'{d} = T.dynamic("{d}")' for d in self.DYNAMIC]
        head += ["", "", "@T.prim_func", f"def {name}(", f"        {sig}):", f"    with {launch} as bh:"]
        body = self._place_onchip(loop_head)
        head += ["        " + a for a in self.src.allocs]
        return "\n".join(head + body) + "\n"

    def module(self) -> str:
        """The forward kernel's module."""
        self.chunk()
        return self.render(kernel_name(self.ir), "forward chunk loop",
                           ["        for n in T.serial(NC):", f"            t0 = n * {self.cfg.b}"])


def forward_emitter(ir: MemoryIR, cfg: TileConfig) -> Emitter:
    """The forward's emitter: one block per head, or a cluster per head (codegen_cluster.py)."""
    if cfg.cluster > 1:
        from .codegen_cluster import ClusterEmitter
        return ClusterEmitter(ir, cfg)
    return Emitter(ir, cfg)


def forward_problem(ir: MemoryIR, cfg: TileConfig) -> str | None:
    """Why the forward of `ir` cannot be written for `cfg`, in one line: a cluster kernel that does
    not cover the rule, or a resident one whose state does not fit `cfg.onchip`; None when it can.
    Writes the chunk only (the products' tiles set the reserve), nothing is compiled."""
    if cfg.cluster > 1:
        from .codegen_cluster import cluster_problem
        if problem := cluster_problem(ir, cfg):
            return problem
    em = forward_emitter(ir, cfg)
    em.chunk()
    return em.onchip_problem() if cfg.onchip else None


def forward_name(ir: MemoryIR, cfg: TileConfig) -> str:
    return kernel_name(ir) if cfg.cluster == 1 else kernel_name(ir).replace("_fwd_", f"_fwdc{cfg.cluster}_")


def generate_forward(ir: MemoryIR, cfg: TileConfig) -> str:
    return forward_emitter(ir, cfg).module()
