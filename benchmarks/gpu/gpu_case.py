"""What the GPU scripts share: the dtype names, row-name lists, one random case on the GPU, and the
call that they time (forward, or forward and the gradients of every input)."""
from __future__ import annotations

from collections.abc import Callable

import torch

import titans_kernels as tk
from titans_kernels.testing import random_inputs

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def row_names(text: str) -> set[str]:
    """The row names of a comma-separated list (--only, --skip, --backward): commas inside a name's
    parentheses, as in "tilelang (resident, cluster 2)", do not separate names."""
    names, depth, start = set(), 0, 0
    for i, ch in enumerate(text + ","):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            names.add(text[start:i].strip())
            start = i + 1
    return names - {""}


def cuda_case(spec: str, B: int, H: int, T: int, D: int, chunk_size: int, dtype: torch.dtype, seed: int = 0):
    """(torch-backend rule, random inputs (B, H, T, D) on the GPU, random initial state on the GPU)."""
    ref_rule = tk.compile(spec, backend="torch")
    g = torch.Generator().manual_seed(seed)
    inputs = random_inputs(ref_rule.ir, B, H, T, D, chunk_size, dtype=dtype, generator=g)
    inputs = type(inputs)(*(x.cuda() if x is not None else None for x in inputs.args()))
    state = ref_rule.init_state(B, H, D, generator=g).to("cuda")
    return ref_rule, inputs, state


def rule_call(rule, inputs, state, chunk_size: int, grad: bool) -> Callable[[], torch.Tensor]:
    """fn() -> out of `rule` on leaves made from `inputs`; with grad, also the gradients of
    out.sum() with respect to every input."""
    leaves = [t.detach().requires_grad_(grad) for t in inputs.tensors()]
    it = iter(leaves)
    q, k, v = next(it), next(it), next(it)
    gates = [next(it) if x is not None else None for x in (inputs.lr, inputs.momentum, inputs.decay)]

    def call():
        out, _ = rule(q, k, v, *gates, state=state, chunk_size=chunk_size)
        if grad:
            torch.autograd.grad(out.float().sum(), leaves)
        return out
    return call


def tilelang_rows(ir) -> dict:
    """The TileLang launch configs the GPU scripts time, by row name: the generic kernel, the resident
    one (weights in shared memory, forward and backward), its cluster forwards (2 and 4 blocks per
    head), its bf16 products, and its tf32 products as warpgroup products (K-major tiles)."""
    from dataclasses import replace

    from titans_kernels.backends.tilelang_backend import default_config
    base = default_config(ir)
    resident = replace(base, kernel="resident", backward="resident")
    return {"tilelang": base, "tilelang (resident)": resident,
            "tilelang (resident, cluster 2)": replace(resident, cluster=2),
            "tilelang (resident, cluster 4)": replace(resident, cluster=4),
            "tilelang (resident, bf16 products)": replace(resident, precision="bf16"),
            "tilelang (resident, tf32 wgmma)": replace(resident, precision="tf32")}
