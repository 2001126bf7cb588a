"""Forward numerics of the fast backend against the oracles of the math page."""
from __future__ import annotations

import pytest
import torch

import titans_kernels as tk
from titans_kernels.ir import ACTIVATIONS, LOSSES
from titans_kernels.testing import rel_error

from conftest import SHIPPED, make_case


def exact_recurrence(ir, inputs, state):
    """Oracle 1, written independently: per-token gradient via torch.func, no chunks at all."""
    act, loss = ACTIVATIONS[ir.activation], LOSSES[ir.loss]
    T = inputs.q.shape[2]

    def f(weights, x):
        h = x
        for l, w in enumerate(weights):
            h = w @ h
            if l < len(weights) - 1:
                h = act.fn(h)
        if ir.out_norm:   # layer norm without affine parameters, written out
            h = (h - h.mean()) / torch.sqrt(h.var(unbiased=False) + 1e-6)
        return h + x if ir.residual else h

    def curvature(weights, x):
        """kappa, with each layer Jacobian factor's norm bounded by the smaller of its Frobenius
        norm and ||(W W^T)^16||_F^(1/16) max|phi'|, the Gram power taken directly."""
        terms, h = [], x
        for l, w in enumerate(weights):
            terms.append(h.pow(2).sum())
            if l < len(weights) - 1:
                z = w @ h
                slope = torch.func.vmap(torch.func.grad(act.fn))(z)  # phi'(z), elementwise
                nxt = weights[l + 1]
                frobenius = torch.linalg.matrix_norm(nxt * slope[None, :]) ** 2   # W_{l+1} diag(phi'(z))
                gram = nxt @ nxt.T if nxt.shape[0] <= nxt.shape[1] else nxt.T @ nxt
                spectral = torch.linalg.matrix_norm(torch.linalg.matrix_power(gram, 16)) ** (1 / 16)
                bound = torch.minimum(frobenius, spectral * slope.pow(2).max())
                terms = [t * bound for t in terms]
                h = act.fn(z)
        return sum(terms)

    def token_loss(weights, k, v):
        value = loss.value(f(weights, k) - v, v, ir.loss_param)
        if ir.normalized_step:
            kappa = curvature(weights, k)
            if ir.loss == "lp" and ir.loss_p > 2:   # times the loss's curvature bound along the error
                kappa = kappa * (ir.loss_p - 1) * (f(weights, k) - v).abs().max() ** (ir.loss_p - 2)
            value = value / torch.clamp(kappa, min=1.0).detach()
        return value

    grad_fn = torch.func.vmap(torch.func.vmap(torch.func.grad(token_loss)))
    W = [w.clone() for w in state.weights]
    S = [s.clone() for s in state.momentum] if state.momentum else [torch.zeros_like(w) for w in W]
    per_tok = lambda g, t: g[:, :, t, None, None] if g is not None else None  # noqa: E731
    outs = []
    for t in range(T):
        u = grad_fn(W, inputs.k[:, :, t], inputs.v[:, :, t])
        for i in range(max(0, t - ir.window + 1), t):   # Omega: the window's earlier tokens at W_{t-1}
            u = [a + b for a, b in zip(u, grad_fn(W, inputs.k[:, :, i], inputs.v[:, :, i]))]
        theta, eta, alpha = (per_tok(g, t) for g in (inputs.lr, inputs.momentum, inputs.decay))
        A = state.anchor or [torch.zeros_like(w) for w in W]   # decay_to: init pulls toward the anchor
        if ir.muon:   # momentum of the gradients; the step is its orthogonalization
            S = [(eta * s if eta is not None else 0) + g for s, g in zip(S, u)]
            step = [-theta * newton_schulz_written_out(s) for s in S]
        else:
            S = [(eta * s if eta is not None else 0) - theta * g for s, g in zip(S, u)]
            step = S
        W = [(1 - alpha) * (w - a) + a + s if alpha is not None else w + s for w, a, s in zip(W, A, step)]
        outs.append(torch.func.vmap(torch.func.vmap(f, in_dims=(0, 0)), in_dims=(0, 0))(W, inputs.q[:, :, t]))
        if ir.shrink:   # elastic-net retention: soft threshold after the read (chunk size 1)
            W = [a + torch.sign(w - a) * torch.clamp((w - a).abs() - ir.shrink, min=0) for w, a in zip(W, A)]
    return torch.stack(outs, 2), W


def newton_schulz_written_out(M, steps=5, coeffs=(3.4445, -4.7750, 2.0315)):
    """Muon's quintic Newton-Schulz iteration on (..., out, in), on its wide orientation, scaled
    by sqrt(max(1, out/in))."""
    tall = M.shape[-2] > M.shape[-1]
    X = M.transpose(-1, -2) if tall else M
    X = X / (torch.linalg.matrix_norm(X)[..., None, None] + 1e-7)
    for _ in range(steps):
        A = X @ X.transpose(-1, -2)
        X = coeffs[0] * X + (coeffs[1] * A + coeffs[2] * A @ A) @ X
    X = X.transpose(-1, -2) if tall else X
    return X * max(1.0, M.shape[-2] / M.shape[-1]) ** 0.5


def per_token_gates(name, inputs, chunk):
    """Expand per-chunk gates to per token (the oracles take per-token gates)."""
    T = inputs.q.shape[2]
    for g in ("lr", "momentum", "decay"):
        val = getattr(inputs, g)
        if val is not None and val.shape[-1] != T:
            setattr(inputs, g, val.repeat_interleave(chunk, -1)[..., :T])
    return inputs


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("T, chunk", [(37, 8), (64, 16), (23, 64)])
def test_torch_matches_chunked_loop(name, T, chunk):
    """Oracle 2 (token loop, gradients at chunk-start weights) vs the dual form, float64."""
    inputs, state = make_case(name, 2, 3, T, 8, chunk, seed=T * 7 + chunk)
    ref = tk.compile(name, backend="reference")
    fast = tk.compile(name, backend="torch")
    o_ref, s_ref = ref(*inputs.args(), state=state, chunk_size=chunk)
    o_fast, s_fast = fast(*inputs.args(), state=state, chunk_size=chunk)
    assert o_fast.shape == inputs.q.shape and o_fast.dtype == inputs.q.dtype
    assert torch.isfinite(o_fast).all()
    per_token = (o_fast - o_ref).norm(dim=-1) / o_ref.norm(dim=-1).clamp_min(1e-12)
    assert per_token.max() < 1e-9, per_token.max()  # every token written and right
    assert rel_error(o_fast, o_ref) < 1e-11
    for a, b in zip(s_fast.tensors(), s_ref.tensors()):
        assert rel_error(a, b) < 1e-11


@pytest.mark.parametrize("name", SHIPPED)
def test_chunk_one_is_exact_recurrence(name):
    """Oracle 1: with chunk size 1 both backends equal the exact per-token recurrence."""
    T = 13
    inputs, state = make_case(name, 2, 2, T, 6, 1, seed=3)
    expect, W_expect = exact_recurrence(tk.lower(tk.load_spec(name)), per_token_gates(name, inputs, 1), state)
    if tk.load_spec(name).update.read == "chunk_start":
        # with chunk 1, "chunk start" is the state before the token: read with W_{t-1}
        ref = tk.compile(name, backend="reference")
        expect, _ = ref(*inputs.args(), state=state, chunk_size=1)
    for backend in ("reference", "torch"):
        out, st = tk.compile(name, backend=backend)(*inputs.args(), state=state, chunk_size=1)
        assert rel_error(out, expect) < 1e-11, backend
        for a, b in zip(st.weights, W_expect):
            assert rel_error(a, b) < 1e-11, backend


@pytest.mark.parametrize("name", SHIPPED)
def test_two_calls_with_carried_state_equal_one(name):
    chunk, T, split = 8, 40, 24  # split on a chunk boundary
    inputs, state = make_case(name, 1, 2, T, 8, chunk, seed=11)
    rule = tk.compile(name, backend="torch")
    whole, s_whole = rule(*inputs.args(), state=state, chunk_size=chunk)

    def part(x, lo, hi):
        if x is None:
            return None
        if x.dim() == 3 and x.shape[-1] != T:
            return x[..., lo // chunk: -(-hi // chunk)]
        return x[:, :, lo:hi]

    o1, s1 = rule(*(part(x, 0, split) for x in inputs.args()), state=state, chunk_size=chunk)
    o2, s2 = rule(*(part(x, split, T) for x in inputs.args()), state=s1, chunk_size=chunk)
    assert rel_error(torch.cat([o1, o2], 2), whole) < 1e-12
    for a, b in zip(s2.tensors(), s_whole.tensors()):
        assert rel_error(a, b) < 1e-12


@pytest.mark.parametrize("name", ["titans_mlp2", "titans_linear", "yaad_huber"])
def test_float32_close_to_float64_reference(name):
    inputs, state = make_case(name, 2, 2, 96, 16, 32, seed=5)
    ref, _ = tk.compile(name, backend="reference")(*inputs.args(), state=state, chunk_size=32)
    args32 = [x.float() if x is not None else None for x in inputs.args()]
    out, st = tk.compile(name, backend="torch")(*args32, state=state.to(torch.float32), chunk_size=32)
    assert out.dtype == torch.float32 and st.weights[0].dtype == torch.float32
    assert rel_error(out, ref) < 1e-4


@pytest.mark.parametrize("name", ["titans_mlp2", "titans_mlp2_chunkgates", "titans_mlp2_residual"])
def test_bf16_inputs_within_bf16_tolerance(name):
    inputs, state = make_case(name, 2, 2, 100, 32, 32, seed=9)
    args16 = [x.bfloat16() if x is not None else None for x in inputs.args()]
    ref, _ = tk.compile(name, backend="reference")(  # same (rounded) inputs, computed in float64
        *(x.double() if x is not None else None for x in args16), state=state, chunk_size=32)
    out, st = tk.compile(name, backend="torch")(*args16, state=state.to(torch.float32), chunk_size=32)
    assert out.dtype == torch.bfloat16
    assert st.weights[0].dtype == torch.float32  # state stays float32
    assert torch.isfinite(out.float()).all()
    assert rel_error(out, ref) < 1e-2


def test_zero_state_default_and_chunk_larger_than_sequence():
    inputs, state = make_case("titans_linear", 1, 2, 10, 8, 64, seed=2)
    rule = tk.compile("titans_linear", backend="torch")
    out, st = rule(*inputs.args())  # state=None: zero weights and momentum; chunk 64 > T
    ref, _ = tk.compile("titans_linear", backend="reference")(
        *inputs.args(), state=rule.zero_state(1, 2, 8, dtype=torch.float64))
    assert rel_error(out, ref) < 1e-12
    assert float(out.norm()) > 0  # a matrix memory learns from zero


@pytest.mark.parametrize("group", [1, 3, None])
def test_checkpoint_group_does_not_change_results(group):
    inputs, state = make_case("titans_mlp2", 1, 2, 75, 8, 8, seed=4)
    base = tk.compile("titans_mlp2", backend="torch", checkpoint_group=1)
    rule = tk.compile("titans_mlp2", backend="torch", checkpoint_group=group)
    a, _ = base(*inputs.args(), state=state, chunk_size=8)
    b, _ = rule(*inputs.args(), state=state, chunk_size=8)
    assert torch.equal(a, b)


def test_a_forward_without_grad_keeps_nothing(monkeypatch):
    """Under torch.no_grad no backward can follow, so inputs that require grad (a layer's
    parameters) do not make the forward keep its intermediates; the result is the same."""
    from titans_kernels.backends.torch_backend import function as F
    walks = []
    run_forward = F.run_forward
    monkeypatch.setattr(F, "run_forward", lambda *a, for_backward, **kw: walks.append(for_backward)
                        or run_forward(*a, for_backward=for_backward, **kw))
    inputs, state = make_case("titans_mlp2", 1, 2, 40, 8, 8, seed=9)
    rule = tk.compile("titans_mlp2", backend="torch")
    leaves = [t.requires_grad_() for t in [*inputs.tensors(), *state.tensors()]]
    with torch.no_grad():
        out, end = rule(*inputs.args(), state=state, chunk_size=8)
    want, want_end = rule(*inputs.args(), state=state, chunk_size=8)
    assert walks == [False, True] and leaves
    assert not out.requires_grad and torch.equal(out, want.detach())
    assert all(torch.equal(a, b.detach()) for a, b in zip(end.tensors(), want_end.tensors(), strict=True))


def test_checkpoint_policy_keeps_all_within_budget_and_regroups_beyond():
    """Calls whose intermediates fit the budget keep them all (one group, no re-run in the
    backward); larger ones fall back to ~sqrt(N) checkpoint groups. The per-chunk size is
    measured, so it grows with the state."""
    from titans_kernels.backends.torch_backend.function import Layout, choose_group, saved_bytes_per_row
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    small = saved_bytes_per_row(ir, 16, 16, False, torch.float32)
    assert saved_bytes_per_row(ir, 16, 32, False, torch.float32) > 2 * small > 0
    x = torch.randn(2, 4, 100 * 16, 16)
    g = torch.rand(2, 4, 100 * 16)
    lay = Layout(x, x, x, g, g, g, 16, torch.float32)
    need_mb = small * lay.n * lay.N / 2**20
    assert choose_group(ir, lay, False, budget_mb=need_mb * 1.01) == lay.N == 100
    assert choose_group(ir, lay, False, budget_mb=need_mb * 0.99) == 10


@pytest.mark.parametrize("kind, param", [("l2", 0.0), ("huber", 0.7), ("lp", 1.5), ("lp", 2.0), ("lp", 3.0),
                                          ("lp", 4.0), ("dot", 0.0)])
def test_loss_derivatives_are_autograds(kind, param):
    """Every attentional bias l(f, v), written in r = f - v and v: G is autograd's dl/df, grad_d1
    and grad_dv autograd's derivatives of G along f and along v, on fresh random f, v (errors
    spread over Huber's threshold, none at 0); lp with p = 2 is the l2 loss."""
    from titans_kernels.ir.ops import LOSSES
    loss = LOSSES[kind]
    g = torch.Generator().manual_seed(int(param * 10) + len(kind))
    f, v = (torch.randn(5, 7, 3, dtype=torch.float64, generator=g).requires_grad_() for _ in range(2))
    (G,) = torch.autograd.grad(loss.value(f - v, v, param).sum(), f, create_graph=True)
    r = (f - v).detach()
    assert rel_error(loss.grad(r, v.detach(), param), G) < 1e-12
    d_f, d_v = torch.autograd.grad(G.sum(), (f, v), allow_unused=True, materialize_grads=True)
    assert rel_error(loss.grad_d1(r, v.detach(), param), d_f) < 1e-12
    assert rel_error(loss.grad_dv(r, v.detach(), param), d_v) < 1e-12
    assert loss.of_error == (kind != "dot")
    if (kind, param) == ("lp", 2.0):
        l2 = LOSSES["l2"]
        assert rel_error(loss.value(r, v, param), l2.value(r, v, 0.0)) < 1e-15 and rel_error(loss.grad(r, v, param), r) < 1e-15


def test_layer_norm_and_its_double_backward_are_autograds():
    """memory.norm's pieces against torch's layer_norm (float64, fresh inputs): the normalized
    output, J^T g, and the backward of J^T g to g and to z (the second derivative the dual form's
    backward needs)."""
    from titans_kernels.ir.ops import LN_EPS, layer_norm, layer_norm_vjp, layer_norm_vjp_backward
    gen = torch.Generator().manual_seed(4)
    z, g = (torch.randn(3, 5, 11, dtype=torch.float64, generator=gen).requires_grad_() for _ in range(2))
    expect = torch.nn.functional.layer_norm(z, (11,), eps=LN_EPS)
    zhat, inv_sigma = layer_norm(z)
    assert rel_error(zhat, expect) < 1e-13
    (G,) = torch.autograd.grad(expect, z, g, create_graph=True)
    h = layer_norm_vjp(zhat, inv_sigma, g)
    assert rel_error(h, G) < 1e-13
    dh = torch.randn(h.shape, dtype=torch.float64, generator=gen)
    dz_auto, dg_auto = torch.autograd.grad(G, (z, g), dh)
    dg, dz = layer_norm_vjp_backward(zhat.detach(), inv_sigma.detach(), g.detach(), h.detach(), dh)
    assert rel_error(dg, dg_auto) < 1e-13 and rel_error(dz, dz_auto) < 1e-13


@pytest.mark.parametrize("name", ["silu", "gelu", "swiglu"])
def test_activation_products_are_autograds(name):
    """Each activation's vector-Jacobian product (grad), Jacobian-vector product (jvp) and the
    gradient in z of <dG, grad(g, z)> (hvp), against autograd on fresh random inputs; SwiGLU
    maps 2h inputs to h outputs."""
    act = ACTIVATIONS[name]
    gen = torch.Generator().manual_seed(len(name))
    width = 2 * 6 if act.gated else 6
    z = torch.randn(4, width, dtype=torch.float64, generator=gen).requires_grad_()
    y = act.fn(z)
    g = torch.randn(y.shape, dtype=torch.float64, generator=gen).requires_grad_()
    (vjp,) = torch.autograd.grad(y, z, g, create_graph=True)
    assert rel_error(act.grad(g.detach(), z.detach()), vjp) < 1e-13
    t = torch.randn(z.shape, dtype=torch.float64, generator=gen)
    (jvp,) = torch.autograd.grad(vjp, g, t, retain_graph=True)     # J t, as the adjoint of the vjp
    assert rel_error(act.jvp(t, z.detach()), jvp) < 1e-13
    (hvp,) = torch.autograd.grad(vjp, z, t)
    assert rel_error(act.hvp(t, g.detach(), z.detach()), hvp) < 1e-12


@pytest.mark.parametrize("shape", [(3, 12, 5), (2, 5, 12), (2, 7, 7)])
def test_newton_schulz_and_its_backward(shape):
    """The Muon step's orthogonalization: singular values pulled into about [0.7, 1.2] (times
    sqrt(out/in) for tall matrices) from a spread of 100x, the written-out iteration's result, and
    the hand-derived backward against autograd (float64, fresh inputs)."""
    from titans_kernels.ir.ops import newton_schulz, newton_schulz_vjp
    gen = torch.Generator().manual_seed(shape[1])
    U, _, V = torch.linalg.svd(torch.randn(*shape, dtype=torch.float64, generator=gen), full_matrices=False)
    spread = torch.logspace(0, -2, U.shape[-1], dtype=torch.float64)
    M = ((U * spread[None, None]) @ V).requires_grad_()
    out, saved = newton_schulz(M, keep=True)
    assert rel_error(out, newton_schulz_written_out(M)) < 1e-13
    sv = torch.linalg.svdvals(out.detach()) / max(1.0, shape[1] / shape[2]) ** 0.5
    assert 0.6 < float(sv.min()) and float(sv.max()) < 1.25
    d = torch.randn(out.shape, dtype=torch.float64, generator=gen)
    (expect,) = torch.autograd.grad(out, M, d)
    assert rel_error(newton_schulz_vjp(M.detach(), saved, d), expect) < 1e-12


def test_moneta_is_lp_and_the_gpu_kernels_refuse_it_in_one_line():
    """The shipped Moneta rule: an lp loss with p = 3 in the IR; the Triton and TileLang backends
    refuse it when compiled (one line naming the field), the auto backend runs it on torch."""
    ir = tk.lower(tk.load_spec("moneta"))
    assert (ir.loss, ir.loss_p, ir.loss_param) == ("lp", 3.0, 3.0)
    assert tk.lower(tk.load_spec("yaad_huber")).loss_param == 1.0
    with pytest.raises(tk.InputError, match="backend 'triton' does not cover spec 'moneta': loss.kind 'lp'"):
        tk.compile("moneta", backend="triton")
    inputs, state = make_case("moneta", 1, 2, 20, 8, 8, seed=1, dtype=torch.float32)
    rule = tk.compile("moneta", backend="auto")
    out, _ = rule(*inputs.args(), state=state, chunk_size=8)
    assert rule.last_backend == "torch" and torch.isfinite(out).all()
