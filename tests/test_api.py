"""Public API contract and one-line errors for bad calls."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.torch_backend import coeffs
from titans_kernels.ir import ACTIVATIONS, GateMode, ReadMode
from titans_kernels.testing import rel_error

from conftest import make_case


def test_public_names():
    for name in ("compile", "load_spec", "MemoryState", "SpecError", "InputError", "list_specs"):
        assert hasattr(tk, name)
    rule = tk.compile(tk.load_spec("titans_mlp2"), backend="torch")
    assert isinstance(rule.ir, tk.MemoryIR) and rule.ir.name == "titans_mlp2"
    assert tk.compile("titans_mlp2").backend == "torch"


def test_init_state_shapes_like_linear():
    rule = tk.compile("titans_mlp3")
    st = rule.init_state(2, 3, 16, dtype=torch.float64)
    assert [tuple(w.shape) for w in st.weights] == [(2, 3, 32, 16), (2, 3, 32, 32), (2, 3, 16, 32)]
    assert all(w.dtype == torch.float64 for w in st.weights)
    assert all(float(s.abs().max()) == 0 for s in st.momentum)
    bound = 1 / 16 ** 0.5
    assert 0 < float(st.weights[0].abs().max()) <= bound
    assert tk.compile("titans_mlp2_nomomentum").init_state(1, 1, 8).momentum is None


def test_ir_is_immutable_and_specialised():
    ir = tk.lower(tk.load_spec("titans_mlp2_nomomentum"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ir.chunk_size = 3
    assert not ir.gates.has_momentum and ir.gates.has_decay
    assert [l.shape(64) for l in ir.layers] == [(256, 64), (64, 256)]
    assert ir.layers[0].activation == "silu" and ir.layers[-1].activation is None
    assert tk.lower(tk.load_spec("yaad_huber")).read is ReadMode.CHUNK_START
    assert tk.lower(tk.load_spec("titans_mlp2_chunkgates")).gates.lr is GateMode.PER_CHUNK
    full = tk.lower(tk.load_spec("titans_mlp2"))
    b, d, h = 64, 64, 256
    assert full.macs_per_chunk(d, b) == 11 * b * d * h + b * b * (2 * d + 2 * h)
    normalized = tk.lower(tk.load_spec("titans_mlp2_normalized"))   # plus W2 W2^T and 4 squarings
    assert normalized.macs_per_chunk(d, b) == full.macs_per_chunk(d, b) + d * h * d + 4 * d ** 3


def test_absent_gates_give_simpler_coefficients_without_log_zero():
    theta = torch.rand(2, 3, 8, dtype=torch.float64)
    last = torch.full((2, 3), 7)
    co = coeffs.compute(theta, None, None, last)
    assert co.a is None and co.m is None and co.w is None and co.L_B is None and co.L_P is None
    expect = torch.tril(torch.ones(8, 8, dtype=torch.float64)) * theta.unsqueeze(-2)
    assert torch.equal(co.C, expect)
    eta = torch.rand(2, 3, 8, dtype=torch.float64)
    co_m = coeffs.compute(theta, eta, None, last)
    assert co_m.a is None and co_m.m is not None and torch.isfinite(co_m.C).all()


@pytest.mark.parametrize("eta_scale", [1.0, 1e-14])
def test_momentum_carry_follows_its_definition(eta_scale):
    """m_t = sum_{j<=t} B_{j->t} P_{s->j} (read off the first column of F = L_B L_P), checked
    against the sum written out in float64, with ordinary and vanishing momentum gates."""
    g = torch.Generator().manual_seed(3)
    theta, alpha = (torch.rand(2, 3, 8, dtype=torch.float64, generator=g) for _ in range(2))
    eta = torch.rand(2, 3, 8, dtype=torch.float64, generator=g) * eta_scale
    co = coeffs.compute(theta, eta, alpha, torch.full((2, 3), 7))
    keep, mom = 1 - alpha, eta.clamp_min(math.exp(coeffs.LOG_FLOOR))
    want = torch.zeros_like(theta)
    for t in range(8):
        for j in range(t + 1):
            want[..., t] += keep[..., j + 1:t + 1].prod(-1) * mom[..., :j + 1].prod(-1)
    assert rel_error(co.m, want) < 1e-12 and torch.isfinite(co.m).all()


def test_gates_at_extremes_stay_finite():
    """decay = 1 (forget everything) and momentum = 0 are clamped, never log(0) -> nan."""
    inputs, state = make_case("titans_mlp2", 1, 1, 16, 8, 8, seed=0)
    inputs.decay = torch.ones_like(inputs.decay)
    inputs.momentum = torch.zeros_like(inputs.momentum)
    out, st = tk.compile("titans_mlp2")(*inputs.args(), state=state, chunk_size=8)
    ref, _ = tk.compile("titans_mlp2", backend="reference")(*inputs.args(), state=state, chunk_size=8)
    assert torch.isfinite(out).all()
    assert rel_error(out, ref) < 1e-9


def _base():
    inputs, state = make_case("titans_mlp2", 2, 2, 16, 8, 8, seed=0)
    return tk.compile("titans_mlp2"), inputs, state


@pytest.mark.parametrize("mutate, match", [
    (lambda a: a.__setitem__(0, a[0][0]), r"q: expected shape \(B, H, T, D\)"),
    (lambda a: a.__setitem__(1, a[1][:, :, :8]), r"k: shape \(2, 2, 8, 8\) differs from q's"),
    (lambda a: a.__setitem__(2, a[2].long()), r"v: dtype torch.int64 not supported"),
    (lambda a: a.__setitem__(3, a[3][..., :4]), r"lr: expected shape \(2, 2, 16\) \(per_token"),
    (lambda a: a.__setitem__(4, None), r"momentum: spec 'titans_mlp2' needs the momentum eta gate"),
    (lambda a: [a.__setitem__(i, a[i][:, :, :0]) for i in range(6)], r"T is 0"),
])
def test_bad_inputs_one_line(mutate, match):
    rule, inputs, state = _base()
    args = list(inputs.args())
    mutate(args)
    with pytest.raises(tk.InputError, match=match) as info:
        rule(*args, state=state, chunk_size=8)
    assert "\n" not in str(info.value)


def test_bad_state_and_chunk():
    rule, inputs, state = _base()
    with pytest.raises(tk.InputError, match=r"state.weights\[1\]: expected shape \(2, 2, 8, 32\)"):
        rule(*inputs.args(), state=tk.MemoryState([state.weights[0], state.weights[0]], state.momentum))
    with pytest.raises(tk.InputError, match="state.momentum"):
        rule(*inputs.args(), state=tk.MemoryState(state.weights, None))
    with pytest.raises(tk.InputError, match="chunk_size"):
        rule(*inputs.args(), state=state, chunk_size=0)
    nm = tk.compile("titans_mlp2_nomomentum")
    with pytest.raises(tk.InputError, match="declares momentum: none; pass None"):
        nm(*inputs.args(), state=None)


def test_per_chunk_gate_shape_error_names_chunks():
    inputs, state = make_case("titans_mlp2_chunkgates", 1, 1, 20, 8, 8, seed=0)
    rule = tk.compile("titans_mlp2_chunkgates")
    rule(*inputs.args(), state=state, chunk_size=8)
    with pytest.raises(tk.InputError, match=r"expected shape \(1, 1, 3\) \(per_chunk: one value per chunk of 8\)"):
        rule(inputs.q, inputs.k, inputs.v, inputs.lr.repeat_interleave(8, -1)[..., :20], inputs.momentum,
             inputs.decay, state=state, chunk_size=8)


def test_unknown_backend():
    with pytest.raises(tk.BackendError, match="unknown backend 'cuda'; available: auto, reference, tilelang, torch, triton"):
        tk.compile("titans_mlp2", backend="cuda")


def test_auto_backend_uses_torch_for_cpu_inputs():
    inputs, state = make_case("titans_mlp2", 1, 2, 20, 8, 8, seed=0)
    rule = tk.compile("titans_mlp2", backend="auto")
    out, _ = rule(*inputs.args(), state=state, chunk_size=8)
    ref, _ = tk.compile("titans_mlp2", backend="torch")(*inputs.args(), state=state, chunk_size=8)
    assert rule.last_backend == "torch" and torch.equal(out, ref)


@pytest.mark.parametrize("name", ["silu", "gelu", "relu", "identity"])
def test_activation_derivatives_match_autograd_tracked_or_not(name):
    """phi' and phi'' (the backward's building blocks) against autograd, both in the in-place
    form used without autograd and in the form autograd differentiates."""
    act = ACTIVATIONS[name]
    x = torch.randn(500, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3
    leaf = x.clone().requires_grad_()
    d1, = torch.autograd.grad(act.fn(leaf).sum(), leaf, create_graph=True)
    d2, = torch.autograd.grad(d1.sum(), leaf) if d1.requires_grad else (torch.zeros_like(x),)
    assert torch.allclose(act.d1(x), d1, rtol=1e-12, atol=1e-12)
    assert torch.allclose(act.d2(x), d2, rtol=1e-12, atol=1e-12)
    assert torch.allclose(act.d1(leaf), d1, rtol=1e-12, atol=1e-12)
    if name in ("silu", "gelu"):
        assert torch.autograd.gradcheck(act.d1, (leaf[:20].detach().requires_grad_(),))


# -- calls a careless user makes: one line, or it works -----------------------------------------

def _rule_case(name="titans_mlp2", T=40, dtype=torch.float32):
    rule = tk.compile(name, backend="torch")
    g = torch.Generator().manual_seed(7)
    from titans_kernels.testing import random_inputs
    inputs = random_inputs(rule.ir, 1, 2, T, 16, 16, dtype=dtype, generator=g)
    return rule, inputs, rule.init_state(1, 2, 16, generator=g)


@pytest.mark.parametrize("gate, value, match", [
    ("lr", -0.01, r"lr: values from -0.01 to .*must lie in \[0, inf\), finite"),
    ("momentum", 1.5, r"momentum: values from .* to 1.5; the momentum eta must lie in \[0, 1\]"),
    ("decay", -0.5, r"decay: values from -0.5"),
    ("decay", float("nan"), r"decay: values from nan"),
    ("lr", float("inf"), r"lr: values from .* to inf"),
])
def test_gates_out_of_range_are_one_line(gate, value, match):
    rule, inputs, state = _rule_case()
    args = dict(zip(("lr", "momentum", "decay"), (inputs.lr, inputs.momentum, inputs.decay)))
    args[gate] = args[gate].clone()
    args[gate][0, 1, 5] = value
    with pytest.raises(tk.InputError, match=match):
        rule(inputs.q, inputs.k, inputs.v, args["lr"], args["momentum"], args["decay"], state=state, chunk_size=16)
    rule.check_gate_ranges = False   # the opt-out: no check, the call runs
    rule(inputs.q, inputs.k, inputs.v, args["lr"], args["momentum"], args["decay"], state=state, chunk_size=16)


def test_chunk_size_integer_like_and_bounded():
    import numpy as np
    rule, inputs, state = _rule_case()
    want, _ = rule(*inputs.args(), state=state, chunk_size=16)
    for chunk in (np.int64(16), torch.tensor(16)):
        got, _ = rule(*inputs.args(), state=state, chunk_size=chunk)
        assert torch.equal(got, want)
    for bad in (2048, 0, 16.0, True, "16"):
        with pytest.raises(tk.InputError, match="chunk_size=.*: expected an integer from 1 to 1024"):
            rule(*inputs.args(), state=state, chunk_size=bad)


def test_rule_under_autocast_keeps_its_precision():
    """Under torch.autocast the rule computes as without it (state and accumulation float32),
    and gradients flow."""
    rule, inputs, state = _rule_case()
    want, want_state = rule(*inputs.args(), state=state, chunk_size=16)
    leaves = [t.clone().requires_grad_(True) for t in inputs.tensors()]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, got_state = rule(*leaves, state=state, chunk_size=16)
    assert got.dtype == torch.float32 and rel_error(got, want) < 1e-6
    assert all(t.dtype == torch.float32 for t in got_state.tensors())
    torch.autograd.grad(got.sum(), leaves)


def test_gpu_backends_refuse_float64_and_check_config_at_compile(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    rule = tk.compile("titans_mlp2", backend="triton", config={"tile": 16, "num_warps": 2})
    assert rule.config == tk.backends.launch_config.LaunchConfig(tile=16, num_warps=2)
    _, inputs, state = _rule_case(dtype=torch.float64)
    with pytest.raises(tk.InputError, match="backend 'triton' computes in float32.*backend='torch' for float64"):
        rule(*inputs.args(), state=state.to(torch.float64), chunk_size=16)
    with pytest.raises(tk.InputError, match="config: unknown field.*tiles"):
        tk.compile("titans_mlp2", backend="triton", config={"tiles": 16})
    with pytest.raises(tk.InputError, match="config: expected a LaunchConfig .* got str"):
        tk.compile("titans_mlp2", backend="triton", config="fast")
