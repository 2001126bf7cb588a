"""The normalized step (`update.step: normalized`) where it matters: curvature bounds far above 1."""
from __future__ import annotations

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.reference import token_step_scale
from titans_kernels.testing import rel_error

from conftest import compare_backends, compare_gradients, flat_inputs, make_case
from test_gradients import _grads
from test_oracles import exact_recurrence

NAME = "titans_mlp2_normalized"


def steep_case(T: int, chunk: int, seed: int, B: int = 2, H: int = 2, D: int = 8):
    return make_case(NAME, B, H, T, D, chunk, seed=seed, steep=True)


def test_case_is_steep():
    inputs, state = steep_case(16, 4, seed=0)
    ir = tk.compile(NAME, backend="reference").ir
    scale = torch.stack([token_step_scale(ir, state.weights, inputs.k[:, :, t]) for t in range(16)])
    assert float(scale.min()) < 0.1 and float(scale.max()) == 1.0


def test_exact_recurrence_at_large_curvature():
    inputs, state = steep_case(11, 1, seed=1)
    expect, W_expect = exact_recurrence(tk.compile(NAME, backend="reference").ir, inputs, state)
    for backend in ("reference", "torch"):
        out, st = tk.compile(NAME, backend=backend)(*inputs.args(), state=state, chunk_size=1)
        assert rel_error(out, expect) < 1e-11, backend
        for a, b in zip(st.weights, W_expect):
            assert rel_error(a, b) < 1e-11, backend


def test_chunked_forward_and_backward_at_large_curvature():
    chunk = 8
    inputs, state = steep_case(29, chunk, seed=2)
    ref_out, ref_state = tk.compile(NAME, backend="reference")(*inputs.args(), state=state, chunk_size=chunk)
    out, st = tk.compile(NAME, backend="torch")(*inputs.args(), state=state, chunk_size=chunk)
    assert rel_error(out, ref_out) < 1e-11
    for a, b in zip(st.tensors(), ref_state.tensors()):
        assert rel_error(a, b) < 1e-11
    leaves, mask = flat_inputs(inputs, state)
    ref = _grads(tk.compile(NAME, backend="reference"), leaves, mask, 2, chunk)
    fast = _grads(tk.compile(NAME, backend="torch", checkpoint_group=2), leaves, mask, 2, chunk)
    for i, (r, f) in enumerate(zip(ref, fast)):
        assert float(r.norm()) > 0, i
        assert rel_error(f, r) < 1e-10, (i, rel_error(f, r))


def test_normalized_step_stays_bounded_where_the_gradient_step_diverges():
    """Rates of 1 per token on a steep memory: the plain gradient step blows up, the normalized
    step stays at the scale of its start."""
    chunk, T = 4, 64
    inputs, state = steep_case(T, chunk, seed=3)
    inputs.lr = torch.full_like(inputs.lr, 1.0 / chunk)   # a chunk's rates sum to 1
    sizes = {}
    for name in ("titans_mlp2_anchored", NAME):
        _, st = tk.compile(name, backend="torch")(*inputs.args(), state=state, chunk_size=chunk)
        sizes[name] = max(float(w.abs().max()) for w in st.weights)
    start = max(float(w.abs().max()) for w in state.weights)
    assert sizes[NAME] < 10 * start
    assert not sizes["titans_mlp2_anchored"] < 100 * start   # inf or NaN also fail "<"


@pytest.mark.parametrize("backend, T", [("tilelang", 40), ("tilelang", 64),   # Triton's: test_triton.py
                                        pytest.param("triton", 40, marks=pytest.mark.slow),
                                        pytest.param("triton", 64, marks=pytest.mark.slow)])
def test_kernels_forward_and_backward_at_large_curvature(backend, T):
    """The generated kernels on CPU (Triton's interpreter, TileLang's C target); 40 leaves a
    ragged last chunk."""
    compare_backends(NAME, backend, 1, 2, T, 16, 16, seed=T, steep=True)
    compare_gradients(NAME, backend, T=T, chunk=16, steep=True, checkpoint_group=2)
