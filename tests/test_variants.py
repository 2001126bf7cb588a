"""Rules the shipped specs do not name but the spec language allows, each written from a shipped
spec with a few fields changed: oracle 1 (chunk size 1 is the exact recurrence) and the torch
backend's hand-derived backward against autograd through oracle 2."""
from __future__ import annotations

import copy

import pytest
import torch
import yaml

import titans_kernels as tk
from titans_kernels.testing import rel_error

from conftest import flat_inputs, make_case
from test_gradients import _grads
from test_oracles import exact_recurrence, per_token_gates

# name: (shipped spec it starts from, fields changed per section)
VARIANTS = {
    "dot_mlp2_residual": ("titans_mlp2_residual", {"loss": {"kind": "dot"}}),
    "dot_mlp2_normalized": ("titans_mlp2_normalized", {"loss": {"kind": "dot"}}),
    "lp_linear_anchored": ("titans_linear", {"loss": {"kind": "lp", "p": 1.5}, "update": {"decay_to": "init"}}),
    "norm_mlp2_residual": ("titans_mlp2_residual", {"memory": {"norm": "layer"}}),
    "norm_linear_huber_chunk_start": ("yaad_huber", {"memory": {"depth": 1, "norm": "layer"},
                                                     "update": {"read": "chunk_start"}}),
    "norm_dot_mlp2": ("titans_mlp2", {"memory": {"norm": "layer"}, "loss": {"kind": "dot"}}),
    "swiglu_mlp2": ("titans_mlp2", {"memory": {"activation": "swiglu", "expansion": 2}}),
    "swiglu_mlp3_residual_norm": ("titans_mlp3", {"memory": {"activation": "swiglu", "residual": True,
                                                             "norm": "layer"}}),
    "omega3_mlp2": ("titans_mlp2", {"loss": {"window": 3}}),
    "omega4_linear_huber_normalized": ("titans_linear", {"loss": {"kind": "huber", "window": 4},
                                                         "update": {"step": "normalized"}}),
    "omega12_mlp2_chunk_start_anchored": ("titans_mlp2_anchored", {"loss": {"window": 12},
                                                                     "update": {"read": "chunk_start"}}),
    "muon_mlp2": ("titans_mlp2", {"update": {"step": "muon", "read": "chunk_start", "lr": "per_chunk",
                                             "momentum": "per_chunk", "decay": "per_chunk"}}),
    "muon_linear_anchored_omega": ("titans_linear", {"loss": {"window": 3}, "update": {
        "step": "muon", "read": "chunk_start", "lr": "per_chunk", "momentum": "none", "decay": "per_chunk",
        "decay_to": "init"}}),
    "muon_mlp2_residual_shrink": ("titans_mlp2_residual", {"update": {
        "step": "muon", "read": "chunk_start", "lr": "per_chunk", "momentum": "per_chunk", "decay": "none",
        "shrink": 0.004}}),
    "lp4_mlp2_normalized": ("titans_mlp2_normalized", {"loss": {"kind": "lp", "p": 4.0}}),
    "shrink_mlp2": ("titans_mlp2", {"update": {"shrink": 0.004}}),
    "shrink_linear_anchored": ("titans_linear", {"update": {"decay_to": "init", "shrink": 0.002}}),
    "shrink_mlp2_chunk_start": ("titans_mlp2_chunkgates", {"update": {"read": "chunk_start", "shrink": 0.003}}),
}


def variant_spec(tmp_path, name: str) -> str:
    base, changes = VARIANTS[name]
    data = copy.deepcopy(yaml.safe_load(open(tk.list_specs()[base])))
    data["name"] = name
    for section, fields in changes.items():
        data.setdefault(section, {}).update(fields)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_chunk_one_is_exact_recurrence(tmp_path, name):
    spec = variant_spec(tmp_path, name)
    inputs, state = make_case(spec, 2, 2, 11, 6, 1, seed=5)
    expect, W_expect = exact_recurrence(tk.lower(tk.load_spec(spec)), per_token_gates(spec, inputs, 1), state)
    if tk.load_spec(spec).update.read == "chunk_start":   # the oracle reads after the update: W_t
        expect, _ = tk.compile(spec, backend="reference")(*inputs.args(), state=state, chunk_size=1)
    for backend in ("reference", "torch"):
        out, st = tk.compile(spec, backend=backend)(*inputs.args(), state=state, chunk_size=1)
        assert rel_error(out, expect) < 1e-11, backend
        for a, b in zip(st.weights, W_expect):
            assert rel_error(a, b) < 1e-11, backend


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_backward_matches_autograd_through_oracle(tmp_path, name):
    spec, chunk = variant_spec(tmp_path, name), 8
    inputs, state = make_case(spec, 2, 2, 21, 8, chunk, seed=17)
    leaves, mask = flat_inputs(inputs, state)
    depth = len(state.weights)
    ref = _grads(tk.compile(spec, backend="reference"), leaves, mask, depth, chunk)
    fast = _grads(tk.compile(spec, backend="torch", checkpoint_group=2), leaves, mask, depth, chunk)
    assert len(ref) == len(fast) == len(leaves)
    if VARIANTS[name][1].get("update", {}).get("shrink"):   # the threshold is active, not everywhere
        _, st = tk.compile(spec, backend="torch")(*inputs.args(), state=state, chunk_size=chunk)
        anchors = state.anchor or [torch.zeros_like(w) for w in st.weights]
        zeros = [float((w == a).double().mean()) for w, a in zip(st.weights, anchors)]
        assert all(0.01 < z < 0.9 for z in zeros), zeros
    for i, (r, f) in enumerate(zip(ref, fast)):
        assert torch.isfinite(f).all() and float(r.norm()) > 0, i
        assert rel_error(f, r) < 1e-10, (i, rel_error(f, r))


def test_new_fields_are_checked_and_the_gpu_kernels_refuse_them(tmp_path):
    """update.shrink: a negative value is one line naming the field, a spec without it keeps its
    hash; memory.norm or swiglu with the normalized step, swiglu at depth 1, muon with a read or
    gates the dual form cannot carry: one line each; rules with a threshold, a norm, swiglu, an
    Omega window or muon are refused by the GPU backends in one line."""
    from titans_kernels.spec.schema import validate
    base = yaml.safe_load(open(tk.list_specs()["titans_mlp2"]))
    with pytest.raises(tk.SpecError, match=r"update.shrink: -0.1 is out of range; expected a number >= 0"):
        validate({**base, "update": {**base["update"], "shrink": -0.1}})
    assert validate({**base, "update": {**base["update"], "shrink": 0.0}}).hash == tk.load_spec("titans_mlp2").hash
    for name, field in (("shrink_mlp2", "update.shrink"), ("norm_mlp2_residual", "memory.norm 'layer'"),
                        ("swiglu_mlp2", "memory.activation 'swiglu'"), ("omega3_mlp2", "loss.window"),
                        ("muon_mlp2", "update.step 'muon'")):
        spec = variant_spec(tmp_path, name)
        for backend in ("triton", "tilelang"):
            with pytest.raises(tk.InputError, match=f"backend '{backend}' does not cover spec '{name}': {field}"):
                tk.compile(spec, backend=backend)
    normalized = yaml.safe_load(open(tk.list_specs()["titans_mlp2_normalized"]))
    with pytest.raises(tk.SpecError, match="memory.norm: the normalized step's curvature bound does not cover"):
        validate({**normalized, "memory": {**normalized["memory"], "norm": "layer"}})
    with pytest.raises(tk.SpecError, match="memory.activation: the normalized step's curvature bound covers"):
        validate({**normalized, "memory": {**normalized["memory"], "activation": "swiglu"}})
    with pytest.raises(tk.SpecError, match="memory.activation: swiglu gates a hidden layer; set memory.depth >= 2"):
        validate({**base, "memory": {**base["memory"], "activation": "swiglu", "depth": 1}})
    with pytest.raises(tk.SpecError, match="update.step: muon orthogonalizes each chunk's whole update, which the "
                       "dual form carries only with read: chunk_start and per-chunk .or no. gates; change "
                       "update.read: after_update, update.lr: per_token, update.momentum: per_token"):
        validate({**base, "update": {**base["update"], "step": "muon", "decay": "per_chunk"}})


@pytest.mark.parametrize("backend", ["torch", "reference"])
def test_omega_window_streams_exactly_with_gradients(tmp_path, backend):
    """An Omega window reaches back across calls through state.history: two calls (split on a
    chunk boundary, the second shorter than the window) give the one call's output, end state
    and gradients of q, k, v, gates and initial weights (float64)."""
    spec, chunk, T, split = variant_spec(tmp_path, "omega12_mlp2_chunk_start_anchored"), 8, 30, 24
    inputs, state = make_case(spec, 1, 2, T, 8, chunk, seed=23)
    leaves, mask = flat_inputs(inputs, state)
    rule = tk.compile(spec, backend=backend)

    def run(xs, pieces):
        q, k, v, *rest = xs
        gates = iter(rest[:sum(mask)])
        lr, mom, dec = (next(gates) if m else None for m in mask)
        st = tk.MemoryState(rest[sum(mask):sum(mask) + 2], rest[sum(mask) + 2:sum(mask) + 4],
                            rest[sum(mask) + 4:])
        outs = []
        for lo, hi in pieces:
            cut = lambda x: x[:, :, lo:hi] if x is not None else None  # noqa: E731
            out, st = rule(cut(q), cut(k), cut(v), cut(lr), cut(mom), cut(dec), state=st, chunk_size=chunk)
            outs.append(out)
        return torch.cat(outs, 2), st

    results = []
    for pieces in ([(0, T)], [(0, split), (split, T)]):
        xs = [x.detach().clone().requires_grad_() for x in leaves]
        out, st = run(xs, pieces)
        probe = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(1))
        loss = (out * probe).sum() + sum(w.square().sum() for w in st.weights)
        results.append((out, st, torch.autograd.grad(loss, xs)))
    (whole, s1, g1), (parts, s2, g2) = results
    assert s2.history is not None and s2.history[0].shape == (1, 2, 11, 8)
    assert rel_error(parts, whole) < 1e-12
    for a, b in zip(s2.tensors() + s2.history, s1.tensors() + s1.history):
        assert rel_error(a, b) < 1e-12
    for i, (a, b) in enumerate(zip(g2, g1)):
        assert float(b.norm()) > 0 and rel_error(a, b) < 1e-11, i
