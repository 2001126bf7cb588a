"""The resident forward for few heads: a thread-block cluster per head, each block one slice of
the hidden units.

When batch x heads is well under the SM count, one block per head leaves most SMs idle. Here
`cluster` (2 or 4) blocks share a head (`T.Kernel(BH * cluster, cluster_dims=cluster)`). Block `cr`
owns hidden units [cr * hs, (cr + 1) * hs), hs = hidden / cluster: the rows of W0 / S0 and the
columns of W1 / S1, held in its shared memory for the whole kernel (the whole state is on chip
across the cluster). Per chunk, for a depth-2 memory:

  Z0, X1, G0, the layer-0 read and every state update involve only the block's own slice;
  Z1 = X1 W1^T and the read's output are sums over the hidden units: each block writes its
  partial product, the cluster synchronises (`T.cluster_sync()`), and each block adds the
  partials: all of Z1 (every block needs G1 = loss'(Z1 - v)), its 1/cluster of the output rows.
  The read's sum waits for the next chunk's barrier (after the loop: one more), off the chain of
  dependent steps: one cluster barrier per chunk.

For a read after the update, the layer-1 term (-C o Xq1 X1^T) G1 is a sum over hidden units too and
enters each block's partial through its own slice. Partials are double-buffered by chunk parity:
a block writes chunk n+2's only after chunk n+2's barrier (key path) or n+1's (read), which no
block reaches before it has read chunk n's.

The CPU flavour (TileLang's C target, which has no clusters) runs the same program with each
stretch between two cluster barriers wrapped in `for cr in T.serial(cluster)`: every block runs the
stretch before any runs the next, which is what the barriers guarantee on the GPU. Per-block
scratch is indexed by `blk = bh * cluster + cr` in both flavours.
"""
from __future__ import annotations

import re
from ...errors import InputError
from ...ir import MemoryIR
from .codegen import Emitter, TileConfig, forward_name

CLUSTERS = (1, 2, 4)
SYNC = "#cluster_sync"
DEFERRED = "#previous_read_sum"


def cluster_problem(ir: MemoryIR, cfg: TileConfig) -> str | None:
    """Why the cluster forward does not cover `ir` at this config, in one line (None when it does)."""
    if cfg.cluster not in CLUSTERS:
        return f"cluster={cfg.cluster} not supported; use one of {', '.join(map(str, CLUSTERS))}"
    if ir.depth != 2:
        return f"the cluster kernel splits the hidden units of a depth-2 memory; spec '{ir.name}' has depth {ir.depth}"
    if ir.normalized_step or ir.decay_to_init:
        what = "a normalized step" if ir.normalized_step else "an anchor (decay_to: init)"
        return f"the cluster kernel does not cover {what} (spec '{ir.name}'); use cluster=1"
    hidden = ir.layer_shapes(cfg.D)[0][0]
    if hidden % (16 * cfg.cluster):
        return f"{hidden} hidden units do not split into {cfg.cluster} slices of a multiple of 16; use cluster=1 or 2"
    return None


class ClusterEmitter(Emitter):
    """Writes the cluster forward of one depth-2 IR for one TileConfig (cluster > 1)."""

    def __init__(self, ir: MemoryIR, cfg: TileConfig):
        problem = cluster_problem(ir, cfg)
        if problem:
            raise InputError(problem)
        super().__init__(ir, cfg)
        self.CS = cfg.cluster
        self.full = self.shapes
        self.hs = self.full[0][0] // self.CS
        self.shapes = [(self.hs, cfg.D), (cfg.D, self.hs)]   # what each block computes
        self.state = [f"{x}{l}" for l in range(2) for x in ("W", "S")[: 1 + self.mom]]

    # -- arguments ----------------------------------------------------------------------
    def params(self) -> list[tuple[str, tuple]]:
        """The single-block kernel's arguments with the state at full size and per-block scratch
        (leading size NB = BH * cluster), plus the partial products PART (key path) and OPART (read)."""
        out = []
        for name, shape in super().params():
            base = re.sub(r"^(CK)?([WS])(\d)$", r"\2\3", name)
            if base in self.state:
                l = int(base[1])
                out.append((name, shape[:-2] + self.full[l]))
            elif len(shape) == 3 and shape[0] == "BH" and all(isinstance(d, int) for d in shape[1:]):
                out.append((name, ("NB",) + shape[1:]))
            else:
                out.append((name, shape))
        part = ("BH", 2, self.CS, self.cfg.b, self.cfg.D)
        return out + [("PART", part), ("OPART", part)]

    DYNAMIC = Emitter.DYNAMIC + ("NB",)

    # -- the pieces that differ ---------------------------------------------------------
    def offset(self, l: int, i: str, j: str) -> tuple[str, str]:
        """(row, column) of a slice element (i, j) of layer l in the full state."""
        return (f"cr * {self.hs} + {i}", j) if l == 0 else (i, f"cr * {self.hs} + {j}")

    def copy_state(self, dst: str, src: str, index: str = "") -> None:
        """Checkpoints: the block's slice of the state into its place in the full-size copy."""
        if not dst.startswith("CK"):
            raise ValueError("the cluster forward copies the state only to checkpoints")
        for l, (o, i) in enumerate(self.shapes):
            r, c = self.offset(l, "{i}", "{j}")
            stores = [(f"{dst}{l}[bh, {index}{r}, {c}]", f"W{l}[bh, {{i}}, {{j}}]")]
            if self.mom:
                stores.append((f"CKS{l}[bh, {index}{r}, {c}]", f"S{l}[bh, {{i}}, {{j}}]"))
            self.elementwise(o, i, stores)

    def layer_out(self, M: int, N: int, terms, stores, read: bool = False) -> None:
        """Partial product into PART (key path) or OPART (read). The key path's partials are summed
        right after a cluster barrier (every block needs all of Z1 for G1); the read's wait for the
        next chunk's barrier (or the one after the chunk loop), so each chunk has one barrier."""
        buf = "OPART" if read else "PART"
        self.gemm(M, N, terms, [(f"{buf}[bh, n % 2, cr, {{i}}, {{j}}]", "{acc}")])
        if read:
            self.read_out = (M, N, stores)
            return
        self.src(SYNC)
        self.reduce(buf, M, N, stores, "n % 2", split=False)
        self.src(DEFERRED)   # the previous chunk's read output goes here (module)

    def reduce(self, buf: str, M: int, N: int, stores, parity: str, split: bool) -> None:
        """The stores with {acc} the sum of the cluster's partials of chunk parity `parity`: all M
        rows, or (split) this block's 1/cluster of them."""
        rows = M // self.CS if split else M
        row = f"(cr * {rows} + {{i}})" if split else "{i}"
        total = "(" + " + ".join(f"{buf}[bh, {parity}, {c}, {row}, {{j}}]" for c in range(self.CS)) + ")"
        self.elementwise(rows, N, [(d.replace("{i}", row), e.replace("{i}", row).replace("{acc}", total))
                                   for d, e in stores])

    def _read_sum(self, n: str, indent: int) -> list[str]:
        """Lines that sum chunk `n`'s read partials into its output rows (t0 and parity of chunk n)."""
        M, N, stores = self.read_out
        t0 = f"({n}) * {self.cfg.b}"
        stores = [(re.sub(r"\bt0\b", t0, d), re.sub(r"\bt0\b", t0, e)) for d, e in stores]
        lines, self.src.lines = self.src.lines, []
        indent, self.src.indent = self.src.indent, indent
        self.reduce("OPART", M, N, stores, f"({n}) % 2", split=True)
        out, self.src.lines, self.src.indent = self.src.lines, lines, indent
        return out

    # -- the module ---------------------------------------------------------------------
    def module(self) -> str:
        self.chunk()
        at = next(k for k, ln in enumerate(self.src.lines) if ln.strip() == DEFERRED)
        depth = (len(self.src.lines[at]) - len(self.src.lines[at].lstrip())) // 4
        self.src.lines[at:at + 1] = ["    " * depth + "if n > 0:"] + self._read_sum("n - 1", depth + 1)
        self.epilogue = self._read_sum("NC - 1", 2)   # the last chunk's, after one more barrier
        return self.render(forward_name(self.ir, self.cfg), "cluster forward chunk loop",
                           ["        for n in T.serial(NC):", f"            t0 = n * {self.cfg.b}"])

    def onchip_bytes(self) -> int:
        return sum(4 * o * i for o, i in self.shapes) * (1 + self.mom)

    def onchip_problem(self) -> str | None:
        need = self.onchip_bytes()
        if need + self.staging_reserve() <= self.cfg.onchip:
            return None
        kb = lambda x: f"{x / 1024:.0f} KB"  # noqa: E731
        return (f"the cluster kernel holds each block's slice of the state in shared memory: spec '{self.ir.name}' "
                f"at D={self.cfg.D} with cluster={self.CS} needs {kb(need)} per block next to "
                f"{kb(self.staging_reserve())} of product tiles, and a block has {kb(self.cfg.onchip)}; "
                f"use a larger cluster or cluster=1")

    def _place_onchip(self, loop_head: list[str]) -> list[str]:
        """Every state slice on chip; per-block scratch by `blk`; cluster barriers (GPU) or the
        stretches between them run block by block (CPU)."""
        problem = self.onchip_problem()
        if problem:
            raise InputError(problem)
        self.placed = list(self.state)
        scratch = [n for n, shape in self.params() if shape[0] == "NB"]
        body = loop_head + self.src.lines
        on_chip = "_r[" if self.gpu else "_r[cr, "
        body = [re.sub(r"\b(" + "|".join(self.state) + r")\[bh, ", r"\1" + on_chip, line) for line in body]
        body = [re.sub(r"\b(" + "|".join(scratch) + r")\[bh, ", r"\1[blk, ", line) for line in body]
        scope = "T.alloc_shared" if self.gpu else "T.alloc_local"
        lead = "" if self.gpu else f"{self.CS}, "
        for name in self.state:
            o, i = self.shapes[int(name[1])]
            self.src.allocs.append(f"{name}_r = {scope}(({lead}{o}, {i}), \"float32\")")
        pad = "        "
        moves = []   # (load, store) lines per state slice: the full-size argument <-> the slice
        for name in self.state:
            l = int(name[1])
            o, i = self.shapes[l]
            r, c = self.offset(l, "i", "j")
            mine = f"{name}_r[{'' if self.gpu else 'cr, '}i, j]"
            loop = f"for i, j in {self._par(o, i)}:"
            moves.append(([loop, f"    {mine} = {name}[bh, {r}, {c}]"], [loop, f"    {name}[bh, {r}, {c}] = {mine}"]))
        if self.gpu:
            head = [f"{pad}bh = bid // {self.CS}", f"{pad}cr = bid % {self.CS}", f"{pad}blk = bid"]
            load = [pad + x for ld, _ in moves for x in ld] + [f"{pad}T.sync_threads()"]
            store = [f"{pad}T.sync_threads()"] + [pad + x for _, st in moves for x in st]
            body = [ln.replace(SYNC, "T.cluster_sync()") for ln in body]
            return head + load + body + [f"{pad}T.cluster_sync()"] + self.epilogue + store
        per_block = f"{pad}for cr in T.serial({self.CS}):"
        load = [per_block] + [pad + "    " + x for ld, _ in moves for x in ld]
        store = [per_block] + [pad + "    " + x for _, st in moves for x in st]
        last = [per_block] + ["    " + x for x in self.epilogue]
        return load + self._stretches(body) + last + store

    def _stretches(self, body: list[str]) -> list[str]:
        """CPU flavour: the chunk loop's body split at the cluster barriers, each stretch run for
        every block in turn."""
        head, lines = body[:2], body[2:]
        inner = "            "
        out, stretch = list(head), []

        def flush():
            if stretch:
                out.extend([f"{inner}for cr in T.serial({self.CS}):", f"{inner}    blk = bh * {self.CS} + cr"])
                out.extend("    " + ln for ln in stretch)
                stretch.clear()
        for ln in lines:
            if ln.strip() == SYNC:
                flush()
            else:
                stretch.append(ln)
        flush()
        return out

    def render(self, name: str, title: str, loop_head: list[str]) -> str:
        text = super().render(name, title, loop_head)
        if self.gpu:
            text = text.replace(f"T.Kernel(BH, threads={self.cfg.threads}) as bh:",
                                f"T.Kernel(BH * {self.CS}, threads={self.cfg.threads}, cluster_dims={self.CS}) as bid:")
        return text

