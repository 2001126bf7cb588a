"""The torch backend's hand-derived backward: gradcheck, and agreement with autograd through oracle 2."""
from __future__ import annotations

import pytest
import torch

import titans_kernels as tk
from titans_kernels.testing import rel_error

from conftest import SHIPPED, call_with_leaves, flat_inputs, make_case, representative


def _grads(rule, leaves, mask, depth, chunk, seed=0):
    xs = [x.detach().clone().requires_grad_() for x in leaves]
    out, st = call_with_leaves(rule, xs, mask, depth, chunk)
    g = torch.Generator().manual_seed(seed)
    probe = lambda t: torch.randn(t.shape, generator=g, dtype=torch.float64).to(t.dtype)  # noqa: E731
    loss = (out * probe(out)).sum() + sum((t * probe(t)).sum() for t in st.tensors())
    return torch.autograd.grad(loss, xs)


@pytest.mark.parametrize("name", representative(SHIPPED, ("titans_linear", "titans_mlp2_normalized", "titans_mlp3",
                                                         "yaad_huber")))
def test_gradcheck_every_input(name):
    """torch.autograd.gradcheck (float64) w.r.t. q, k, v, every gate and the initial state. The
    normalized step's factor is a constant of the backward by definition, so for those rules keys
    and values are kept small enough that it is 1 (checked at the initial weights), and gradcheck checks
    the dual form itself."""
    chunk = 4
    inputs, state = make_case(name, 1, 1, 7, 4, chunk, seed=21)
    ir = tk.lower(tk.load_spec(name))
    if ir.normalized_step:
        inputs.k, inputs.v = 0.5 * inputs.k, 0.5 * inputs.v
        from titans_kernels.backends.reference import memory_apply, token_step_scale
        for t in range(inputs.k.shape[2]):
            k_t = inputs.k[:, :, t]
            err = memory_apply(ir, state.weights, k_t) - inputs.v[:, :, t]
            assert float(token_step_scale(ir, state.weights, k_t, err).min()) == 1.0
    leaves, mask = flat_inputs(inputs, state)
    leaves = [x.detach().clone().requires_grad_() for x in leaves]
    rule = tk.compile(name, backend="torch", checkpoint_group=1)
    depth = len(state.weights)

    def fn(*xs):
        out, st = call_with_leaves(rule, list(xs), mask, depth, chunk)
        return (out, *st.tensors())

    assert torch.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("name", SHIPPED)
def test_manual_backward_matches_autograd_through_oracle(name):
    chunk = 8
    inputs, state = make_case(name, 2, 2, 29, 8, chunk, seed=13)
    leaves, mask = flat_inputs(inputs, state)
    depth = len(state.weights)
    ref = _grads(tk.compile(name, backend="reference"), leaves, mask, depth, chunk)
    fast = _grads(tk.compile(name, backend="torch", checkpoint_group=2), leaves, mask, depth, chunk)
    auto = _grads(tk.compile(name, backend="torch", backward="autograd"), leaves, mask, depth, chunk)
    assert len(ref) == len(fast) == len(leaves)
    for i, (r, f, a) in enumerate(zip(ref, fast, auto)):
        assert torch.isfinite(f).all(), i
        assert float(r.norm()) > 0, i
        assert rel_error(f, r) < 1e-10, (i, rel_error(f, r))
        assert rel_error(a, r) < 1e-10, (i, rel_error(a, r))


def test_backward_float32_and_bf16_inputs():
    name, chunk = "titans_mlp2", 16
    inputs, state = make_case(name, 1, 2, 50, 16, chunk, seed=8)
    leaves, mask = flat_inputs(inputs, state)
    ref = _grads(tk.compile(name, backend="reference"), leaves, mask, 2, chunk)
    rule = tk.compile(name, backend="torch")
    for dtype, tol in ((torch.float32, 1e-4), (torch.bfloat16, 3e-2)):
        n_in = len(leaves) - len(state.tensors())
        cast = [x.to(dtype) if i < n_in else x.float() for i, x in enumerate(leaves)]
        got = _grads(rule, cast, mask, 2, chunk)
        for i, (g, r) in enumerate(zip(got, ref)):
            assert g.dtype == cast[i].dtype
            assert rel_error(g, r) < tol, (dtype, i, rel_error(g, r))


def test_only_output_grad_needed_and_state_grad_none():
    """Backward works when only `out` is used (final-state gradients arrive as None)."""
    inputs, state = make_case("titans_mlp2_nomomentum", 1, 1, 20, 8, 8, seed=1)
    q = inputs.q.clone().requires_grad_()
    out, _ = tk.compile("titans_mlp2_nomomentum", backend="torch")(
        q, inputs.k, inputs.v, inputs.lr, inputs.momentum, inputs.decay, state=state, chunk_size=8)
    out.sum().backward()
    assert q.grad is not None and torch.isfinite(q.grad).all() and float(q.grad.norm()) > 0
