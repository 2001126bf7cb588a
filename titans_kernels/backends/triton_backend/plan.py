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


def buffer_sizes(ir: MemoryIR, D: int, chunk_size: int, backward: bool) -> list[tuple[str, int]]:
    shapes = ir.layer_shapes(D)
    sn = sum(o * i for o, i in shapes) * (2 if ir.gates.has_momentum else 1)
    widest = max(max(o, i) for o, i in shapes)
    wn = sum(o * i for o, i in shapes)  # floats of all layers' W (anchor layout: W blocks only)
    sizes = [("ST", 2 * sn), ("QS", chunk_size * D), ("KS", chunk_size * D), ("VS", chunk_size * D),
             ("C", chunk_size * chunk_size), ("F", chunk_size * chunk_size), ("LB", chunk_size * chunk_size), ("LP", chunk_size * chunk_size)]
    sizes += [(name, chunk_size) for name in ("THETA", "ACUM", "NCUM", "PV", "PE", "A", "M", "CV", "W")]
    if ir.normalized_step:  # per-row step factors, and two Gram matrices for the norm bound
        gram = max((layer.gram_side(D) for layer in ir.layers[1:]), default=0)
        sizes += [("SC", chunk_size), ("GR0", gram * gram), ("GR1", gram * gram)]
    if ir.decay_to_init:  # anchor W0 and the per-chunk effective weights U + W0
        sizes += [("ANC", wn)] + [(f"WE{l}", o * i) for l, (o, i) in enumerate(shapes)]
    for l, (o, i) in enumerate(shapes):
        if l > 0:
            sizes += [(f"X{l}", chunk_size * i), (f"XQ{l}", chunk_size * i), (f"GW{l}", chunk_size * i)]
        sizes += [(f"Z{l}", chunk_size * o), (f"G{l}", chunk_size * o), (f"ZQ{l}", chunk_size * o),
                  (f"QKR{l}", chunk_size * chunk_size), (f"QK{l}", chunk_size * chunk_size)]
    if backward:
        sizes += [("DST", 2 * sn), ("DO", chunk_size * D), ("DZQ", chunk_size * widest), ("DXQ", chunk_size * widest),
                  ("T1", chunk_size * widest), ("DP", chunk_size * widest), ("DMIX", chunk_size * chunk_size), ("DQK", chunk_size * chunk_size),
                  ("DC", chunk_size * chunk_size), ("DF", chunk_size * chunk_size), ("DLB", chunk_size * chunk_size), ("DLP", chunk_size * chunk_size)]
        sizes += [(name, chunk_size) for name in ("DA", "DM", "DCV", "DWV", "DTHETA", "DAV", "DNV", "TV")]
        for l, (o, i) in enumerate(shapes):
            sizes += [(f"NDG{l}", chunk_size * o), (f"NDX{l}", chunk_size * i), (f"DZ{l}", chunk_size * o)]
        if ir.decay_to_init:
            sizes += [("DANC", wn)] + [(f"DKEY{l}", o * i) for l, (o, i) in enumerate(shapes)]
    return sizes


def plan_scratch(ir: MemoryIR, D: int, chunk_size: int, backward: bool = False) -> ScratchPlan:
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
    for name, size in buffer_sizes(ir, D, chunk_size, backward):
        offsets[name] = total
        total += size
    return ScratchPlan(offsets, pos, total, state_offsets)
