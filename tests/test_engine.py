"""The CPU matmul engine: chosen by an exactness-and-speed probe, scoped, overridable."""
from __future__ import annotations

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.torch_backend import engine
from titans_kernels.testing import rel_error

from conftest import make_case


@pytest.fixture
def fresh_choice(monkeypatch):
    """Forget the per-process choice before and after a test."""
    engine.cpu_engine.cache_clear()
    yield monkeypatch
    engine.cpu_engine.cache_clear()


@pytest.mark.parametrize("probe_result, expected", [
    ((True, 1.8, 2e-7), "onednn"),      # exact and faster
    ((True, 1.02, 2e-7), "default"),    # exact, not faster
    ((False, 3.0, 3e-3), "default"),    # faster because it rounds to bfloat16: refused
])
def test_probe_decides(fresh_choice, probe_result, expected):
    if engine._precision_flag() is None:
        pytest.fail("this torch build has no oneDNN matmul precision setting")
    fresh_choice.delenv("TITANS_CPU_MATMUL", raising=False)
    fresh_choice.setattr(engine, "probe", lambda flag: probe_result)
    assert engine.cpu_engine() == expected


@pytest.mark.parametrize("value", ["default", "onednn"])
def test_environment_overrides_the_probe(fresh_choice, value):
    fresh_choice.setenv("TITANS_CPU_MATMUL", value)
    fresh_choice.setattr(engine, "probe", lambda flag: pytest.fail("probe ran despite the override"))
    assert engine.cpu_engine() == value


def test_unknown_engine_is_one_clear_line(fresh_choice):
    fresh_choice.setenv("TITANS_CPU_MATMUL", "mkl")
    with pytest.raises(tk.BackendError) as err:
        engine.cpu_engine()
    msg = str(err.value)
    assert "\n" not in msg and "TITANS_CPU_MATMUL='mkl'" in msg and "onednn" in msg


def test_probe_measures_float32_rounding_only():
    """On this CPU the probe's relative difference is float32-sized when it reports exact, and
    bfloat16-sized (>= 1e-5) when it does not: the threshold separates the two."""
    exact, speedup, worst = engine.probe(engine._precision_flag())
    assert speedup > 0
    assert exact == (worst < engine.EXACT_REL_TOL)
    bf16 = [torch.randn(8, 64, 256) for _ in range(2)]
    ref = bf16[0] @ bf16[1].transpose(1, 2)
    rounded = bf16[0].bfloat16().float() @ bf16[1].bfloat16().float().transpose(1, 2)
    assert float((rounded - ref).norm() / ref.norm()) > 10 * engine.EXACT_REL_TOL


def test_engine_scope_restores_the_setting(fresh_choice):
    fresh_choice.setenv("TITANS_CPU_MATMUL", "onednn")
    flag = engine._precision_flag()
    before = flag.fp32_precision
    with tk.matmul_engine(torch.device("cpu")):
        assert flag.fp32_precision == "bf16"
    assert flag.fp32_precision == before
    with pytest.raises(RuntimeError):
        with tk.matmul_engine(torch.device("cpu")):
            raise RuntimeError("inside")
    assert flag.fp32_precision == before
    fresh_choice.setenv("TITANS_CPU_MATMUL", "default")
    engine.cpu_engine.cache_clear()
    with tk.matmul_engine(torch.device("cpu")):
        assert flag.fp32_precision == before


def _to(inputs, state, dtype, grad: bool):
    """Copies of a case's tensors in `dtype` (leaves requiring grad when asked)."""
    conv = lambda t: None if t is None else t.detach().to(dtype).requires_grad_(grad)  # noqa: E731
    args = [conv(t) for t in inputs.args()]
    st = tk.MemoryState([conv(w) for w in state.weights], [conv(s) for s in state.momentum or []] or None,
                        [conv(a) for a in state.anchor or []] or None)
    return args, st


@pytest.mark.parametrize("forced", ["default", "onednn"])
def test_rule_matches_oracle_on_either_engine(fresh_choice, forced):
    """Forward and backward of the default rule, float32 on the chosen route, against oracle 2
    (reference backend, float64) and the float64 torch backend."""
    if forced == "onednn" and not engine.probe(engine._precision_flag())[0]:
        forced = "default"   # this CPU's oneDNN rounds to bfloat16: the probe would never pick it
    fresh_choice.setenv("TITANS_CPU_MATMUL", forced)
    name = "titans_mlp2_normalized"
    inputs, state = make_case(name, B=1, H=2, T=100, D=32, chunk=32, seed=3, steep=True)
    ref_args, ref_state = _to(inputs, state, torch.float64, grad=False)
    oracle, _ = tk.compile(name, backend="reference")(*ref_args, state=ref_state, chunk_size=32)
    g64_args, g64_state = _to(inputs, state, torch.float64, grad=True)
    rule = tk.compile(name, backend="torch")
    weight = torch.randn(oracle.shape, dtype=torch.float64)
    (rule(*g64_args, state=g64_state, chunk_size=32)[0] * weight).sum().backward()
    args, st = _to(inputs, state, torch.float32, grad=True)
    out = torch.full_like(oracle, float("nan"), dtype=torch.float32)
    out.copy_(rule(*args, state=st, chunk_size=32)[0])
    assert out.isfinite().all()
    assert rel_error(out, oracle) < 1e-4
    (out * weight.float()).sum().backward()
    for mine, ref in zip(args + st.weights, g64_args + g64_state.weights):
        if ref is not None:
            assert rel_error(mine.grad, ref.grad) < 1e-3


def test_probe_is_invisible_to_a_flop_counter(fresh_choice):
    """The first call on a process runs the probe; its products must not be counted as the
    caller's work."""
    from torch.utils.flop_counter import FlopCounterMode
    fresh_choice.delenv("TITANS_CPU_MATMUL", raising=False)
    a, b = torch.randn(4, 8, 16), torch.randn(4, 16, 8)
    with FlopCounterMode(display=False) as counter:
        with tk.matmul_engine(torch.device("cpu")):   # triggers the probe
            torch.bmm(a, b)
    assert engine.cpu_engine.cache_info().currsize == 1
    assert counter.get_total_flops() == 2 * 4 * 8 * 16 * 8
