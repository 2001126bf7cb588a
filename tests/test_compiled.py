"""The torch backend's per-chunk steps through torch.compile (torch_backend/compiled.py): when
each mode compiles, a failing compile falls back to eager with one warning, and (slow: a compile
per shape) the compiled steps match the eager ones, forward and every gradient."""
from __future__ import annotations

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.torch_backend import compiled
from titans_kernels.errors import BackendError

from conftest import make_case


@pytest.fixture
def fresh(monkeypatch):
    compiled.reset()
    yield monkeypatch
    compiled.reset()


def test_modes_decide_per_walk(fresh):
    """off: never; on: always (CPU float32 only); auto: once the eager walks of a shape have taken
    AUTO_BUDGET_S seconds in this process, each shape on its own."""
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    cpu, f32 = torch.device("cpu"), torch.float32
    fresh.setenv("TITANS_TORCH_COMPILE", "off")
    assert not compiled.decide(ir, 8, 64, 64, cpu, f32)
    fresh.setenv("TITANS_TORCH_COMPILE", "on")
    assert compiled.decide(ir, 8, 64, 64, cpu, f32)
    assert not compiled.decide(ir, 8, 64, 64, cpu, torch.float64)
    assert not compiled.decide(ir, 8, 64, 64, torch.device("meta"), f32)
    fresh.setenv("TITANS_TORCH_COMPILE", "auto")
    budget = compiled.AUTO_BUDGET_S
    decisions = []
    for _ in range(4):
        decisions.append(compiled.decide(ir, 8, 64, 64, cpu, f32))
        compiled.spent(ir, 8, 64, 64, budget / 3)
    assert decisions == [False, False, False, True]
    assert not compiled.decide(ir, 4, 64, 64, cpu, f32)          # another shape has its own budget
    fresh.setenv("TITANS_TORCH_COMPILE", "sometimes")
    with pytest.raises(BackendError, match="TITANS_TORCH_COMPILE='sometimes' is not a mode; set it to one of auto"):
        compiled.decide(ir, 8, 64, 64, cpu, f32)


def test_auto_counts_eager_walks_and_compiles_no_short_call(fresh):
    """Through the rule: an eager forward and backward add their time to the shape's budget; a
    short call stays eager (a compile it could not earn back)."""
    fresh.setenv("TITANS_TORCH_COMPILE", "auto")
    inputs, state = make_case("titans_mlp2", 1, 2, 40, 16, 16, seed=3, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="torch")
    leaves = [t.requires_grad_() for t in inputs.tensors()]
    out, _ = rule(*inputs.args(), state=state, chunk_size=16)
    torch.autograd.grad(out.sum(), leaves)
    assert rule.last_step == "eager"
    (key, seconds), = compiled._spent.items()
    assert key[1:] == (2, 16, 16, False) and 0 < seconds < compiled.AUTO_BUDGET_S


def test_auto_budgets_a_forward_that_keeps_nothing_apart(fresh):
    """A forward under no_grad compiles graphs of its own: training walks that have earned their
    compile do not make an evaluation compile; its own eager walks do."""
    fresh.setenv("TITANS_TORCH_COMPILE", "auto")
    fresh.setattr(compiled, "_compiled", lambda kind, options=(): compiled._EAGER[kind])
    inputs, state = make_case("titans_mlp2", 1, 2, 40, 16, 16, seed=3, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="torch")
    ir = rule.ir
    compiled.spent(ir, 2, 16, 16, compiled.AUTO_BUDGET_S)       # training walks of this shape
    leaves = [t.requires_grad_() for t in inputs.tensors()]
    out, _ = rule(*inputs.args(), state=state, chunk_size=16)
    assert rule.last_step == "compiled"
    torch.autograd.grad(out.sum(), leaves)
    with torch.no_grad():
        rule(*inputs.args(), state=state, chunk_size=16)
    assert rule.last_step == "eager" and compiled._spent[(ir, 2, 16, 16, True)] > 0
    compiled.spent(ir, 2, 16, 16, compiled.AUTO_BUDGET_S, infer=True)
    with torch.no_grad():
        rule(*inputs.args(), state=state, chunk_size=16)
    assert rule.last_step == "compiled"


def test_a_failing_compile_runs_eager_with_one_warning(fresh):
    """The compiler raising (no C++ compiler, an unsupported op) is one warning per step kind, the
    results are the eager ones, and `last_step` says eager."""
    class Broken:
        def __call__(self, *args, **kwargs):
            raise RuntimeError("inductor: no working C++ compiler")
    fresh.setattr(compiled, "_compiled", lambda kind, options=(): Broken())
    fresh.setenv("TITANS_TORCH_COMPILE", "on")
    inputs, state = make_case("titans_mlp2", 1, 2, 40, 16, 16, seed=3, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="torch")
    with pytest.warns(RuntimeWarning, match="compiling the chunk forward failed .*no working C\\+\\+ compiler"):
        out, _ = rule(*inputs.args(), state=state, chunk_size=16)
    assert rule.last_step == "eager"
    fresh.setenv("TITANS_TORCH_COMPILE", "off")
    want, _ = tk.compile("titans_mlp2", backend="torch")(*inputs.args(), state=state, chunk_size=16)
    assert torch.equal(out, want)


def test_options_that_fail_fall_back_to_inductors_defaults_with_one_warning(fresh):
    """The step built with OPTIONS (the C++ wrapper) raising: one warning, that step kind is
    built with Inductor's defaults from then on and still runs compiled; other kinds keep OPTIONS."""
    built = []

    def build(kind, options=()):
        built.append((kind, options))
        if options:
            def broken(*args, **kwargs):
                raise RuntimeError("cpp wrapper: unsupported")
            return broken
        return compiled._EAGER[kind]
    fresh.setattr(compiled, "_compiled", build)
    fresh.setenv("TITANS_TORCH_COMPILE", "on")
    inputs, state = make_case("titans_mlp2", 1, 2, 40, 16, 16, seed=3, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="torch")
    with pytest.warns(RuntimeWarning, match="with Inductor options .*cpp_wrapper.* failed .*unsupported.*defaults") as rec:
        with torch.no_grad():
            out, _ = rule(*inputs.args(), state=state, chunk_size=16)
    assert len(rec) == 1 and rule.last_step == "compiled"
    assert built == [("chunks", (("cpp_wrapper", True),))] + [("chunks", ())] * 3   # 3 chunks, one call each
    fresh.setenv("TITANS_TORCH_COMPILE", "off")
    with torch.no_grad():
        want, _ = rule(*inputs.args(), state=state, chunk_size=16)
    assert torch.equal(out, want)


def test_a_forward_compiles_unroll_chunks_per_call(fresh, capsys):
    """A forward that keeps nothing runs UNROLL chunks per compiled call and the rest one per call
    (two graphs per shape at most), in order, each chunk's real tokens passed along for
    update.shrink; the results are the eager loop's."""
    calls = []

    def recording(kind, options=()):
        def run(ir, WS, k, *args, tokens=None, **kwargs):
            calls.append((kind, k.shape[0], tokens))
            return compiled._EAGER[kind](ir, WS, k, *args, tokens=tokens, **kwargs)
        return run
    fresh.setattr(compiled, "_compiled", recording)
    fresh.setattr(compiled, "_announced", set())
    inputs, state = make_case("elastic_net", 1, 2, 88, 16, 16, seed=4, dtype=torch.float32)   # 6 chunks, the last 8 tokens
    rule = tk.compile("elastic_net", backend="torch")
    fresh.setenv("TITANS_TORCH_COMPILE", "on")
    out, end = rule(*inputs.args(), state=state, chunk_size=16)
    assert rule.last_step == "compiled"
    said = capsys.readouterr().err
    assert f"chunk forward for elastic_net at {compiled.UNROLL} chunk(s) of (2, 16, 16) per call" in said
    unroll, tokens = compiled.UNROLL, (16,) * 5 + (8,)
    sizes = [unroll] * (6 // unroll) + [1] * (6 % unroll)
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    assert unroll > 1 and calls == [("chunks", n, tokens[lo:lo + n]) for lo, n in zip(starts, sizes)]
    fresh.setenv("TITANS_TORCH_COMPILE", "off")
    want, want_end = rule(*inputs.args(), state=state, chunk_size=16)
    assert torch.equal(out, want)
    assert all(torch.equal(a, b) for a, b in zip(end.tensors(), want_end.tensors(), strict=True))


@pytest.mark.parametrize("name", ["titans_mlp2", "titans_linear", "titans_mlp2_nomomentum"])
def test_chunks_picked_from_a_batch_agree(name):
    """Coeffs.chunks() (the eager loops), Coeffs.at / part and Layer1Prep.at / part (the compiled
    runs) pick the same chunks out of a batch, absent gates staying None."""
    from dataclasses import fields
    from titans_kernels.backends.torch_backend import function as F
    inputs, _ = make_case(name, 1, 2, 64, 16, 16, seed=5, dtype=torch.float32)
    ir = tk.lower(tk.load_spec(name))
    lay = F.Layout(*inputs.args(), 16, torch.float32)
    _, co, _, _, _, _, prep = F._group_operands(ir, lay, 0, lay.N)
    names = [f.name for f in fields(co)]
    every = co.chunks()
    assert len(every) == lay.N == 4
    for i, one in enumerate(every):
        for f in names:
            got, by_index, by_part = getattr(one, f), getattr(co.at(i), f), getattr(co.part(i, i + 1), f)
            assert (got is None) == (by_index is None) == (getattr(co, f) is None), f
            if got is not None:
                assert torch.equal(got, by_index) and torch.equal(got, by_part[0]), f
        for f in ("xs", "qk", "qkC", "y"):
            whole, one_p, part_p = getattr(prep, f), getattr(prep.at(i), f), getattr(prep.part(i, 4), f)
            assert (whole is None) == (one_p is None) == (part_p is None), f
            if whole is not None:
                assert torch.equal(one_p, whole[i]) and torch.equal(part_p, whole[i:]), f


def test_scaled_halves_written_in_place_equal_the_concatenation():
    """chunk._scaled_cat's eager path (both halves written into one buffer) gives exactly
    cat([first*x, second*x]): broadcast batch dims, a wider scale dtype, first absent, strided x,
    and the autograd form where an input requires grad."""
    from titans_kernels.backends.torch_backend.chunk import _scaled_cat
    g = torch.Generator().manual_seed(6)
    r = lambda *s, dt=torch.float32: torch.rand(*s, generator=g).to(dt)  # noqa: E731
    cases = [(r(3, 5, 4), r(3, 5), r(3, 5)), (r(1, 5, 4), r(3, 5), r(3, 5)),
             (r(3, 5, 4, dt=torch.bfloat16), r(3, 5), r(3, 5)), (r(3, 5, 4), None, r(3, 5)),
             (r(3, 4, 5).transpose(1, 2), r(3, 5), r(3, 5)), (r(3, 5, 4).requires_grad_(), r(3, 5), r(3, 5))]
    for x, first, second in cases:
        head = x if first is None else first.unsqueeze(-1) * x
        want = torch.cat([head, second.unsqueeze(-1) * x], dim=-1)
        got = _scaled_cat(x, first, second)
        assert got.dtype == want.dtype and torch.equal(got, want)
        assert got.requires_grad == x.requires_grad


def test_steps_run_eager_under_a_dispatch_mode(fresh):
    """A call that a user's torch dispatch mode sees (a FLOP counter) runs the eager steps, which
    the mode sees op by op; the next call without it runs compiled again."""
    from torch.utils.flop_counter import FlopCounterMode
    from titans_kernels.testing import rel_error
    compiles = []
    fresh.setattr(compiled, "_compiled", lambda kind, options=(): compiles.append(kind) or compiled._EAGER[kind])
    fresh.setenv("TITANS_TORCH_COMPILE", "on")
    inputs, state = make_case("titans_mlp2", 1, 2, 40, 16, 16, seed=3, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="torch")
    with FlopCounterMode(display=False) as counter:
        out, _ = rule(*inputs.args(), state=state, chunk_size=16)
    assert rule.last_step == "eager" and not compiles and counter.get_total_flops() > 0
    again, _ = rule(*inputs.args(), state=state, chunk_size=16)
    assert rule.last_step == "compiled" and compiles and rel_error(again, out) < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("name", ["elastic_net", "titans_mlp2_anchored"])
def test_compiled_forward_runs_match_the_oracles(name, fresh):
    """The compiled forward that keeps nothing (UNROLL chunks per call, then single chunks; the
    last chunk ragged): out and end state against the reference backend's exact recurrence."""
    from conftest import compare_backends
    fresh.setenv("TITANS_TORCH_COMPILE", "on")
    compare_backends(name, "torch", 1, 2, 88, 16, 16, seed=7, other="reference", tol=1e-4)
    assert compiled.last_path() == "compiled"


def _gradients(name: str, monkeypatch, setting: str):
    """out and every gradient (inputs and initial state) of a random projection of out and the
    end state, with TITANS_TORCH_COMPILE=setting; and which path the forward took."""
    from conftest import call_with_leaves, flat_inputs
    monkeypatch.setenv("TITANS_TORCH_COMPILE", setting)
    inputs, state = make_case(name, 1, 2, 56, 16, 16, seed=6, dtype=torch.float32)
    leaves, mask = flat_inputs(inputs, state)
    rule = tk.compile(name, backend="torch")
    xs = [x.clone().requires_grad_() for x in leaves]
    out, st = call_with_leaves(rule, xs, mask, len(state.weights), 16)
    g = torch.Generator().manual_seed(0)
    loss = (out * torch.randn(out.shape, generator=g)).sum() + \
        sum((t * torch.randn(t.shape, generator=g)).sum() for t in st.tensors())
    return out, torch.autograd.grad(loss, xs), rule.last_step


@pytest.mark.slow
@pytest.mark.parametrize("name", ["titans_mlp2", "titans_mlp2_normalized", "yaad_huber", "titans_linear"])
def test_compiled_steps_match_the_oracles(name, fresh):
    """With the compiled steps: out and end state against the reference backend's exact
    recurrence, and every gradient against the eager steps' (a random projection of out and the
    end state; four chunks, the last ragged)."""
    from conftest import compare_backends
    from titans_kernels.testing import rel_error
    fresh.setenv("TITANS_TORCH_COMPILE", "on")
    compare_backends(name, "torch", 1, 2, 56, 16, 16, seed=5, other="reference", tol=1e-4)
    out, grads, path = _gradients(name, fresh, "on")
    want, want_grads, eager = _gradients(name, fresh, "off")
    assert (path, eager) == ("compiled", "eager")
    assert rel_error(out, want) < 1e-5
    for got, exp in zip(grads, want_grads, strict=True):
        assert torch.isfinite(got).all() and rel_error(got, exp) < 1e-5


def test_the_unroll_sweep_interleaves_and_writes_each_values_figures(tmp_path, monkeypatch, capsys):
    """benchmarks/unroll_sweep.py: one compile per value, then every round runs each value in
    turn (interleaved, every other round reversed) with a 1024^3 product; the best, the median,
    the fraction of the product's rate and the paired ratio to the default value go to the JSON
    with the fingerprint; bad --unroll is one line."""
    import importlib
    import json
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    bench = importlib.import_module("unroll_sweep")
    order = []

    def fake_forward_rule(*args, **kwargs):
        order.append(compiled.UNROLL)
        return None, None
    rule = tk.compile("titans_mlp2", backend="torch")
    monkeypatch.setattr(type(rule), "__call__", fake_forward_rule)
    default = compiled.UNROLL
    monkeypatch.setattr(compiled, "UNROLL", default)
    monkeypatch.setenv("TITANS_TORCH_COMPILE", "off")   # main sets "on"; restored after the test
    out = tmp_path / "sweep.json"
    assert bench.main(["--unroll", "1,4", "--rounds", "3", "--out", str(out)]) == 0
    assert order == [1, 4] + [1, 4, 4, 1, 1, 4] and compiled.UNROLL == default
    doc = json.loads(out.read_text())
    assert set(doc["unroll"]) == {"1", "4"} and doc["rounds"] == 3 and doc["fingerprint"]["device"]
    assert doc["reference_unroll"] == (default if default in (1, 4) else 1)
    for u, row in doc["unroll"].items():
        assert 0 < row["best_ms"] <= row["median_ms"] and row["fraction_of_matmul"] > 0
        paired = row["paired_vs_reference"]
        assert paired["rounds"] == 3 and paired["ci95"][0] <= paired["median_ratio"] <= paired["ci95"][1]
        if int(u) == doc["reference_unroll"]:
            assert paired["median_ratio"] == 1.0
    assert "chunks/call" in capsys.readouterr().out
    for bad in ("1,x", "0,2"):
        with pytest.raises(SystemExit, match="--unroll"):
            bench.main(["--unroll", bad])


def test_the_ab_benchmark_keeps_each_modes_best_round(tmp_path, monkeypatch):
    """benchmarks/compiled_steps.py with its runs replaced: rounds interleaved off/on, per mode
    the best fraction of the matmul rate, the first-call times, the JSON written."""
    import importlib
    import json
    import sys
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    bench = importlib.import_module("compiled_steps")
    calls = []

    def fake_run(mode, threads):
        calls.append(mode)
        f = {"off": 0.5, "on": 0.6}[mode] - 0.01 * len(calls)
        return {"test_rule_forward": {"fraction_of_matmul": f, "tokens_per_s": 1.0},
                "test_rule_forward_backward": {"fraction_of_matmul": f / 2, "tokens_per_s": 1.0}}
    monkeypatch.setattr(bench, "one_run", fake_run)
    monkeypatch.setattr(bench, "first_call_seconds",
                        lambda mode, threads, grad=True: {"off": 1.0, "on": 30.0}[mode] / (1 if grad else 2))
    out = tmp_path / "c.json"
    monkeypatch.setattr(sys, "argv", ["compiled_steps.py", "--rounds", "2", "--out", str(out)])
    assert bench.main() == 0
    doc = json.loads(out.read_text())
    assert calls == ["off", "on", "off", "on"]
    assert doc["best_fraction_of_matmul"]["off"]["test_rule_forward"] == pytest.approx(0.49)
    assert doc["best_fraction_of_matmul"]["on"]["test_rule_forward_backward"] == pytest.approx(0.29)
    assert doc["first_call_fwd_bwd_s"] == {"off": 1.0, "on": 30.0} and len(doc["rounds"]) == 4
    assert doc["first_call_fwd_s"] == {"off": 0.5, "on": 15.0}


def test_silu_derivatives_from_the_kept_sigmoid():
    """A compiled training step keeps silu's sigmoid s for its backward: phi = z s, phi' and the
    Hessian-vector product rebuilt from s match the activation's own (fresh random inputs, wide
    range of z), and an eager step (or a forward that saves nothing) keeps nothing."""
    from titans_kernels.backends.torch_backend import chunk
    from titans_kernels.ir import ACTIVATIONS
    from titans_kernels.testing import rel_error
    act = ACTIVATIONS["silu"]
    g = torch.Generator().manual_seed(11)
    z, dy, dG, gw = (torch.randn(3, 16, 40, generator=g) * 4 for _ in range(4))
    y, s = act.fn_keep(z, keep=True)
    assert rel_error(s, torch.sigmoid(z)) < 1e-6 and rel_error(y, act.fn(z)) < 1e-6
    assert rel_error(act.grad_from(dy, z, s), act.grad(dy, z)) < 1e-5
    assert rel_error(act.jvp(dy, z, s), act.jvp(dy, z)) < 1e-5
    assert rel_error(act.hvp(dG, gw, z, s), act.hvp(dG, gw, z)) < 1e-5
    assert act.fn_keep(z, keep=False)[1] is None
    assert ACTIVATIONS["gelu"].fn_keep(z, keep=True)[1] is None   # no aux: nothing kept
    assert not chunk._keeps_aux(act, save=True)            # eager: torch's fused silu kernels
    assert not chunk._keeps_aux(ACTIVATIONS["gelu"], save=True)


def test_the_step_graphs_outlast_dynamos_default_limit():
    """Dynamo runs a function eagerly, silently, once it has 8 graphs of it; every rule x shape x
    flag set is one graph of the step, so building the compiled step raises that limit."""
    import torch._dynamo.config as dynamo_config
    compiled._compiled("forward")
    assert dynamo_config.recompile_limit >= compiled.RECOMPILE_LIMIT >= 32


@pytest.mark.slow
def test_a_compiled_training_step_keeps_the_sigmoid(fresh):
    """Compiled forward with save: the chunk's saved intermediates carry silu's sigmoid of the key
    path and of the read (and none without save); the compiled backward from them matches the
    eager backward of an eager forward's intermediates."""
    from titans_kernels.backends.torch_backend import chunk, function as F
    from titans_kernels.testing import rel_error
    inputs, state = make_case("titans_mlp2", 1, 2, 32, 16, 16, seed=8, dtype=torch.float32)
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    lay = F.Layout(*inputs.args(), 16, torch.float32)
    WS = F.pack_state(ir, list(state.weights), list(state.momentum), lay.n, torch.float32)
    co, cok, _, q, k, v, prep = F._group_operands(ir, lay, 0, lay.N)
    c0 = cok.at(0)
    fresh.setenv("TITANS_TORCH_COMPILE", "on")
    _, _, saved_c = compiled.forward(True, ir, WS, k[0], v[0], q[0], c0, prep.at(0), save=True)
    _, _, unsaved = compiled.forward(True, ir, WS, k[0], v[0], q[0], c0, prep.at(0), save=False)
    _, _, saved_e = chunk.forward(ir, WS, k[0], v[0], q[0], c0, prep.at(0), save=True)
    assert unsaved is None and saved_e.aux is None and saved_e.kept(0) is None
    assert len(saved_c.aux) == len(saved_c.aux_q) == ir.depth - 1
    assert rel_error(saved_c.kept(0), torch.sigmoid(saved_e.Z[0])) < 1e-6
    assert rel_error(saved_c.kept(0, read=True), torch.sigmoid(saved_e.Zq[0])) < 1e-6
    g = torch.Generator().manual_seed(1)
    d_out = torch.randn(q[0].shape, generator=g)
    d_end = [torch.randn(w.shape, generator=g) for w in WS]
    got = compiled.backward(True, ir, WS, c0, saved_c, lay.last[0], d_out, d_end)
    assert compiled.last_path() == "compiled"
    want = chunk.backward(ir, WS, c0, saved_e, lay.last[0], d_out, d_end)
    for a, b in zip([*got[0], *got[1:4]], [*want[0], *want[1:4]], strict=True):
        assert torch.isfinite(a).all() and rel_error(a, b) < 1e-5


def test_the_options_benchmark_pairs_the_package_options_with_the_changed_ones(tmp_path, monkeypatch, capsys):
    """benchmarks/inductor_options.py with the rule call replaced: each side's options are in
    force during its calls, rounds alternate the order, the paired ratio and the cold first calls
    go to the JSON, the package's options are restored; a bad --set is one line."""
    import importlib
    import json
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    bench = importlib.import_module("inductor_options")
    seen = []

    def fake_call(spec, backward):
        def call():
            seen.append(compiled.OPTIONS.get("cpp_wrapper"))
            return 0.010 if compiled.OPTIONS.get("cpp_wrapper") else 0.012
        return call
    monkeypatch.setattr(bench, "_call", fake_call)
    monkeypatch.setattr(bench, "cold_first_call", lambda spec, options, backward, threads: 30.0 + len(options))
    monkeypatch.setattr(compiled, "OPTIONS", {"cpp_wrapper": True})
    monkeypatch.setenv("TITANS_TORCH_COMPILE", "off")   # main sets "on"; restored after the test
    out = tmp_path / "opts.json"
    assert bench.main(["--rounds", "3", "--cold", "--out", str(out)]) == 0
    assert seen == [True, False] + [True, False, False, True, True, False]
    assert compiled.OPTIONS == {"cpp_wrapper": True}
    doc = json.loads(out.read_text())
    assert doc["sides"]["changed"]["options"] == {"cpp_wrapper": False} and doc["fingerprint"]["device"]
    ratio = doc["changed_over_package"]
    assert abs(ratio["median_ratio"] - 1.2) < 1e-9 and ratio["verdict"] == "slower"
    assert doc["sides"]["package"]["cold_first_call_s"] == 31.0
    assert "paired over 3 rounds: 1.200" in capsys.readouterr().out
    for bad in ("cpp_wrapper", "x=not a literal"):
        with pytest.raises(SystemExit, match="--set"):
            bench.main(["--set", bad])
