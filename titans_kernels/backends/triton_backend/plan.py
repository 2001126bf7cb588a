"""Scratch and state layout of one program of the generated Triton kernels (in float32 words).

Per program: two state buffers (double-buffered across chunks), each holding every layer's
W_l then S_l (row-major (out, in)); the chunk's q, k, v copied as float32 (zero-padded); the
coefficients C (b x b), a, m, c, w; and per layer the key-path and read-path intermediates.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...ir import MemoryIR


@dataclass(frozen=True)
class ScratchPlan:
    offsets: dict[str, int]
    state_numel: int           # floats of one state buffer
    total: int                 # floats per program
    state_offsets: dict[str, int]  # W{l} / S{l} -> offset inside a state buffer


def plan_scratch(ir: MemoryIR, D: int, b: int) -> ScratchPlan:
    shapes = ir.layer_shapes(D)
    state_offsets, pos = {}, 0
    for l, (o, i) in enumerate(shapes):
        state_offsets[f"W{l}"] = pos
        pos += o * i
        if ir.gates.has_momentum:
            state_offsets[f"S{l}"] = pos
            pos += o * i
    state_numel = pos
    sizes: list[tuple[str, int]] = [("ST", 2 * state_numel), ("QS", b * D), ("KS", b * D), ("VS", b * D),
                                    ("C", b * b), ("QK", b * b), ("LB", b * b), ("LP", b * b),
                                    ("TH", b), ("ACUM", b), ("NCUM", b), ("PV", b),
                                    ("A", b), ("M", b), ("CV", b), ("W", b)]
    widest = max(max(o, i) for o, i in shapes)
    sizes.append(("GW", b * widest))
    for l, (o, i) in enumerate(shapes):
        if l > 0:
            sizes += [(f"X{l}", b * i), (f"XQ{l}", b * i)]
        sizes += [(f"Z{l}", b * o), (f"G{l}", b * o), (f"ZQ{l}", b * o)]
    offsets, pos = {}, 0
    for name, size in sizes:
        offsets[name] = pos
        pos += size
    return ScratchPlan(offsets, state_numel, pos, state_offsets)
