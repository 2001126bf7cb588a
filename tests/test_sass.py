"""Spill placement by loop depth, read from disassembled kernels (triton_backend/sass.py)."""
from __future__ import annotations

import pytest

from titans_kernels.backends.kernel_report import SpillSites, spill_sites

# The shape of nvdisasm's output: an outer loop (.L_x_0) holding an inner loop (.L_x_1) that has
# two back edges, a forward branch (.L_x_2, not a loop) and spills at every depth.
SASS = """
        /*0000*/                   MOV R1, c[0x0][0x28] ;
        /*0010*/                   STL [R1], R13 ;
.L_x_0:
        /*0020*/                   LDL R13, [R1] ;
        /*0030*/              @!P0 BRA `(.L_x_2) ;
        /*0040*/                   STL.64 [R1+0x8], R8 ;
.L_x_2:
.L_x_1:
        /*0050*/                   LDL.LU R14, [R1+0x4] ;
        /*0060*/                   HMMA.1688.F32.TF32 R4, R8, R12, R4 ;
        /*0070*/               @P1 BRA `(.L_x_1) ;
        /*0080*/                   FFMA R4, R4, R5, R6 ;
        /*0090*/               @P2 BRA P1, `(.L_x_1) ;
        /*00a0*/                   STG.E desc[UR4][R2.64], R4 ;
        /*00b0*/               @P0 BRA `(.L_x_0) ;
        /*00c0*/                   LDL R2, [R1+0x10] ;
        /*00d0*/                   EXIT ;
"""


def test_spills_counted_by_loop_depth():
    sites = spill_sites(SASS)
    assert sites.instructions == 14
    assert sites.by_depth == [2, 2, 1]          # before/after the loops; outer loop; inner loop
    assert sites.total == 5 and sites.inside(1) == 3 and sites.inside(2) == 1 and sites.inside(3) == 0
    assert sites.line() == "spill instructions: 5 of 14 (outside loops: 2; loop depth 1: 2; loop depth 2: 1)"
    assert sites.line(("chunk loop",)) == "spill instructions: 5 of 14 (outside loops: 2; chunk loop: 2; loop depth 2: 1)"


def test_no_spills_and_no_loops():
    sites = spill_sites("        /*0000*/                   MOV R1, c[0x0][0x28] ;\n"
                        "        /*0010*/                   EXIT ;\n")
    assert sites == SpillSites(instructions=2, by_depth=[], hgmma=[], hmma=[])
    assert sites.line() == "spill instructions: 0 of 2"


@pytest.mark.parametrize("text", ["", "not a disassembly at all\n.L_x_9:\n"])
def test_unreadable_text_counts_nothing(text):
    assert spill_sites(text) == SpillSites(instructions=0, by_depth=[], hgmma=[], hmma=[])


def test_tensor_core_products_counted_by_loop_depth():
    """HMMA (warp-level) and HGMMA (warpgroup) instructions by loop depth, and the report's line."""
    from titans_kernels.backends.kernel_report import report_lines
    sites = spill_sites(SASS)
    assert sites.hmma == [0, 0, 1] and sites.hgmma == []
    hopper = SASS.replace("HMMA.1688.F32.TF32 R4, R8, R12, R4", "HGMMA.64x64x8.F32.TF32 R24, gdesc[UR4], R24")
    sites = spill_sites(hopper)
    assert sites.hgmma == [0, 0, 1] and sites.hmma == []
    lines = report_lines(sites.instructions, sites.by_depth, ("chunk loop", "tile loop"), sites.hgmma, sites.hmma)
    assert lines[-1] == "  tensor-core products: HGMMA 1 (tile loop: 1), HMMA 0"
