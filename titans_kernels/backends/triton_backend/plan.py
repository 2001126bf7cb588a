"""Scratch and state layout of one program of the generated Triton kernels (in float32 words).

Per program: two state buffers (double-buffered across chunks), each holding every layer's
W_l then S_l (row-major (out, in)); the chunk's q, k, v (and the output gradient) copied as
float32 (zero-padded); the coefficients; per layer the key-path and read-path intermediates;
and, for the backward kernel, the gradient buffers.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...ir import MemoryIR


@dataclass(frozen=True)
class ScratchPlan:
    offsets: dict[str, int]
    state_numel: int               # floats of one state buffer
    total: int                     # floats per program
    state_offsets: dict[str, int]  # W{l} / S{l} -> offset inside a state buffer, A{l} -> inside ANC


def buffer_sizes(ir: MemoryIR, D: int, b: int, backward: bool) -> list[tuple[str, int]]:
    shapes = ir.layer_shapes(D)
    sn = sum(o * i for o, i in shapes) * (2 if ir.gates.has_momentum else 1)
    widest = max(max(o, i) for o, i in shapes)
    wn = sum(o * i for o, i in shapes)  # floats of all layers' W (anchor layout: W blocks only)
    sizes = [("ST", 2 * sn), ("QS", b * D), ("KS", b * D), ("VS", b * D),
             ("C", b * b), ("F", b * b), ("LB", b * b), ("LP", b * b)]
    sizes += [(name, b) for name in ("TH", "ACUM", "NCUM", "PV", "PE", "A", "M", "CV", "W")]
    if ir.normalized_step:  # per-row step factors, and two Gram matrices for the norm bound
        gram = max((layer.gram_side(D) for layer in ir.layers[1:]), default=0)
        sizes += [("SC", b), ("GR0", gram * gram), ("GR1", gram * gram)]
    if ir.decay_to_init:  # anchor W0 and the per-chunk effective weights U + W0
        sizes += [("ANC", wn)] + [(f"WE{l}", o * i) for l, (o, i) in enumerate(shapes)]
    for l, (o, i) in enumerate(shapes):
        if l > 0:
            sizes += [(f"X{l}", b * i), (f"XQ{l}", b * i), (f"GW{l}", b * i)]
        sizes += [(f"Z{l}", b * o), (f"G{l}", b * o), (f"ZQ{l}", b * o),
                  (f"QKR{l}", b * b), (f"QK{l}", b * b)]
    if backward:
        sizes += [("DST", 2 * sn), ("DO", b * D), ("DZQ", b * widest), ("DXQ", b * widest),
                  ("T1", b * widest), ("DP", b * widest), ("DMIX", b * b), ("DQK", b * b),
                  ("DC", b * b), ("DF", b * b), ("DLB", b * b), ("DLP", b * b)]
        sizes += [(name, b) for name in ("DA", "DM", "DCV", "DWV", "DTH", "DAV", "DNV", "TV")]
        for l, (o, i) in enumerate(shapes):
            sizes += [(f"NDG{l}", b * o), (f"NDX{l}", b * i), (f"DZ{l}", b * o)]
        if ir.decay_to_init:
            sizes += [("DANC", wn)] + [(f"DKEY{l}", o * i) for l, (o, i) in enumerate(shapes)]
    return sizes


def plan_scratch(ir: MemoryIR, D: int, b: int, backward: bool = False) -> ScratchPlan:
    shapes = ir.layer_shapes(D)
    state_offsets, pos, apos = {}, 0, 0
    for l, (o, i) in enumerate(shapes):
        state_offsets[f"W{l}"] = pos
        pos += o * i
        if ir.gates.has_momentum:
            state_offsets[f"S{l}"] = pos
            pos += o * i
    if ir.decay_to_init:
        for l, (o, i) in enumerate(shapes):
            state_offsets[f"A{l}"] = apos
            apos += o * i
    offsets, total = {}, 0
    for name, size in buffer_sizes(ir, D, b, backward):
        offsets[name] = total
        total += size
    return ScratchPlan(offsets, pos, total, state_offsets)
