"""The compiled-kernel report both GPU backends give: registers, spill bytes and shared memory
from `ptxas -v`, and where the register spills sit, by loop depth.

`ptxas -v` gives spill bytes, not where the spill instructions are. A reload once per
checkpoint group and one in every iteration of a hot tile loop read alike there. Here the cubin
is disassembled with the nvdisasm that Triton bundles. Loops are found as backward branches (a
`BRA` to a label earlier in the code), and every local-memory store or load (`STL`, `LDL`: a
spill or its reload) is counted at its loop depth: 0 outside every loop, 1 inside the outermost
loop (the chunk loop of a forward kernel, the checkpoint-group loop of the generic backward),
and so on.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_LABEL = re.compile(r"^(\.L_x_\d+):")
_INSTRUCTION = re.compile(r"^\s*/\*[0-9a-f]+\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)(.*)")
_TARGET = re.compile(r"\(\s*(\.L_x_\d+)\s*\)")


@dataclass(frozen=True)
class SpillSites:
    instructions: int        # SASS instructions in the kernel
    by_depth: list[int]      # spill stores and reloads at loop depth 0, 1, 2, ...
    hgmma: list[int] | None = None   # warpgroup tensor-core products (sm_90 HGMMA) by loop depth
    hmma: list[int] | None = None    # warp-level tensor-core products (HMMA) by loop depth

    @property
    def total(self) -> int:
        return sum(self.by_depth)

    def inside(self, depth: int) -> int:
        """Spill instructions at loop depth `depth` or deeper."""
        return sum(self.by_depth[depth:])

    def line(self, loop_names: tuple[str, ...] = ()) -> str:
        """One report line; loop_names[d - 1] names the loops at depth d where the kernel's
        structure is known (else "loop depth d")."""
        return (f"spill instructions: {self.total} of {self.instructions:,}"
                + _where(self.by_depth, loop_names))


def _where(by_depth: list[int], loop_names: tuple[str, ...]) -> str:
    """" (outside loops: 3; chunk loop: 5)" for counts by loop depth, or "" when all are zero."""
    names = ("outside loops", *loop_names)
    where = [f"{names[d] if d < len(names) else f'loop depth {d}'}: {n}" for d, n in enumerate(by_depth) if n]
    return f" ({'; '.join(where)})" if where else ""


def _count_by_depth(opcodes: list[str], loops: list[tuple[int, int]], prefixes: tuple[str, ...]) -> list[int]:
    counts: list[int] = []
    for k, op in enumerate(opcodes):
        if op.startswith(prefixes):
            depth = sum(lo <= k <= hi for lo, hi in loops)
            counts.extend([0] * (depth + 1 - len(counts)))
            counts[depth] += 1
    return counts


def spill_sites(sass: str) -> SpillSites:
    """Count STL/LDL instructions (and the tensor-core products, HGMMA and HMMA) of nvdisasm
    output by how many loops enclose them."""
    opcodes: list[str] = []
    labels: dict[str, int] = {}
    back_edges: dict[str, int] = {}          # label -> index of its last backward branch
    for text in sass.splitlines():
        label = _LABEL.match(text)
        if label:
            labels[label.group(1)] = len(opcodes)
            continue
        ins = _INSTRUCTION.match(text)
        if not ins:
            continue
        if ins.group(1).startswith("BRA"):
            target = _TARGET.search(ins.group(2))
            if target and target.group(1) in labels:
                back_edges[target.group(1)] = len(opcodes)
        opcodes.append(ins.group(1))
    loops = [(labels[name], end) for name, end in back_edges.items()]
    return SpillSites(instructions=len(opcodes), by_depth=_count_by_depth(opcodes, loops, ("STL", "LDL")),
                      hgmma=_count_by_depth(opcodes, loops, ("HGMMA",)),
                      hmma=_count_by_depth(opcodes, loops, ("HMMA",)))


_REGISTERS = re.compile(r"Used (\d+) registers")
_SPILLS = re.compile(r"(\d+) bytes spill (?:stores|loads)")
_SHARED = re.compile(r"(\d+) bytes smem")


def ptxas_figures(text: str) -> tuple[int | None, int, int]:
    """(registers per thread, spill bytes, static shared-memory bytes) from `ptxas -v` output."""
    regs = _REGISTERS.search(text)
    spills = [int(x) for x in _SPILLS.findall(text)]
    smem = _SHARED.search(text)
    return (int(regs.group(1)) if regs else None), (max(spills) if spills else 0), (int(smem.group(1)) if smem else 0)


def ptxas_resources(ptx: str, arch: int) -> tuple[int | None, int]:
    """(registers, spill bytes) of a PTX module compiled by the bundled ptxas for sm_<arch>
    (sm_<arch>a from sm_90 on)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "k.ptx"
        src.write_text(ptx)
        sm = f"sm_{arch}a" if arch >= 90 else f"sm_{arch}"
        proc = subprocess.run([str(bundled_tool("ptxas")), "-v", f"--gpu-name={sm}", str(src), "-o",
                               str(Path(tmp) / "k.o")], capture_output=True, text=True)
    regs, spills, _ = ptxas_figures(proc.stdout + proc.stderr)
    return regs, spills


def bundled_tool(name: str) -> Path:
    """Path of a CUDA tool that Triton ships with its NVIDIA backend (ptxas, nvdisasm)."""
    import triton
    return Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / name


def disassemble(cubin: bytes) -> str | None:
    """The SASS of a cubin (bundled nvdisasm), or None where the tool is missing or fails."""
    tool = bundled_tool("nvdisasm")
    if not tool.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "k.cubin"
        path.write_bytes(cubin)
        proc = subprocess.run([str(tool), "-c", str(path)], capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout:
        return None
    return proc.stdout


def cubin_spill_sites(cubin: bytes) -> SpillSites | None:
    """Spill sites of a cubin, or None where it cannot be disassembled."""
    sass = disassemble(cubin)
    return spill_sites(sass) if sass is not None else None


def report_fields(sites: SpillSites | None) -> dict:
    """A kernel report's `instructions`, `spill_sites` and tensor-core products by loop depth
    (None where not disassembled)."""
    return {"instructions": sites.instructions if sites else None,
            "spill_sites": sites.by_depth if sites else None,
            "hgmma_sites": sites.hgmma if sites else None,
            "hmma_sites": sites.hmma if sites else None}


def report_lines(instructions: int | None, by_depth: list[int] | None,
                 loop_names: tuple[str, ...] = (), hgmma: list[int] | None = None,
                 hmma: list[int] | None = None) -> list[str]:
    """A kernel report's spill-placement and tensor-core lines, or none where the kernel was not
    disassembled."""
    if instructions is None or by_depth is None:
        return []
    lines = [f"  {SpillSites(instructions, by_depth).line(loop_names)}"]
    if hgmma is not None and hmma is not None:
        lines.append(f"  tensor-core products: HGMMA {sum(hgmma)}{_where(hgmma, loop_names)}, "
                     f"HMMA {sum(hmma)}{_where(hmma, loop_names)}")
    return lines
