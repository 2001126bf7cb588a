"""Rule kernels: every backend with a speed path on this device x shipped specs x shapes x dtypes,
forward and forward+backward. CPU: the torch backend (and torch.compile of it as a peer); CUDA:
torch, triton and tilelang. Scaling group: titans_mlp2 forward over sequence lengths (the
report plots tokens/s against T)."""
from __future__ import annotations

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.launch_config import gpu_problem
from titans_kernels.testing import random_inputs

from conftest import device, run

DEV = device()
B, H, D, CHUNK = 2, 4, 64, 64
BACKENDS = ["torch"] + (["triton", "tilelang"] if DEV.type == "cuda" else [])
DTYPES = [torch.float32] + ([torch.bfloat16] if DEV.type == "cuda" else [])
SPECS = sorted(tk.list_specs())
SCALING_T = [512, 2048, 8192] + ([32768] if DEV.type == "cuda" else [])


def _case(spec: str, backend: str, T: int, dtype: torch.dtype, grad: bool):
    if backend != "torch" and gpu_problem(tk.lower(tk.load_spec(spec))):
        pytest.skip(f"{spec} on {backend}: {gpu_problem(tk.lower(tk.load_spec(spec)))}")
    rule = tk.compile(spec, backend=backend)
    g = torch.Generator().manual_seed(0)
    inputs = random_inputs(rule.ir, B, H, T, D, CHUNK, dtype=dtype, generator=g)
    inputs = type(inputs)(*(x.to(DEV) if x is not None else None for x in inputs.args()))
    state = rule.init_state(B, H, D, generator=g).to(DEV)
    leaves = [t.requires_grad_() for t in inputs.tensors()] if grad else []
    flops = 2 * rule.ir.macs_per_chunk(D, CHUNK) * B * H * (T / CHUNK) * (3 if grad else 1)  # bwd ~ 2x fwd

    def fwd():
        with torch.no_grad():
            return rule(*inputs.args(), state=state, chunk_size=CHUNK)

    def fwd_bwd():
        out, _ = rule(*inputs.args(), state=state, chunk_size=CHUNK)
        return torch.autograd.grad(out.float().square().mean(), leaves)

    return (fwd_bwd if grad else fwd), flops


def _id(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


@pytest.mark.parametrize("dtype", DTYPES, ids=_id)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", SPECS)
def test_rule_forward(benchmark, spec, backend, dtype):
    fn, flops = _case(spec, backend, 2048, dtype, grad=False)
    run(benchmark, fn, group=f"rule forward T=2048 ({DEV.type})", flops=flops, tokens=B * 2048, dtype=dtype,
        rounds=10, backend=backend, spec=spec, seq=2048)


@pytest.mark.parametrize("dtype", DTYPES, ids=_id)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", SPECS)
def test_rule_forward_backward(benchmark, spec, backend, dtype):
    fn, flops = _case(spec, backend, 2048, dtype, grad=True)
    run(benchmark, fn, group=f"rule forward+backward T=2048 ({DEV.type})", flops=flops, tokens=B * 2048,
        dtype=dtype, rounds=6, backend=backend, spec=spec, seq=2048)


@pytest.mark.skipif(DEV.type != "cpu", reason="the torch backend's steps compile on CPU only")
@pytest.mark.parametrize("grad", [False, True], ids=["forward", "forward+backward"])
def test_rule_compiled_steps(benchmark, grad, monkeypatch):
    """The torch backend with its chunk steps compiled from the first call (TITANS_TORCH_COMPILE=on;
    the warm-up call pays the compile), titans_mlp2 at T=2048, next to the eager rows above."""
    monkeypatch.setenv("TITANS_TORCH_COMPILE", "on")
    fn, flops = _case("titans_mlp2", "torch", 2048, torch.float32, grad=grad)
    what = "forward+backward" if grad else "forward"
    run(benchmark, fn, group=f"rule {what} T=2048 ({DEV.type})", flops=flops, tokens=B * 2048,
        rounds=6 if grad else 10, warmup=1, backend="torch (compiled steps)", spec="titans_mlp2", seq=2048)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seq", SCALING_T)
def test_rule_scaling(benchmark, seq, backend):
    fn, flops = _case("titans_mlp2", backend, seq, torch.float32, grad=False)
    run(benchmark, fn, group=f"rule forward scaling ({DEV.type})", flops=flops, tokens=B * seq,
        rounds=max(3, 16384 // seq), backend=backend, spec="titans_mlp2", seq=seq)


@pytest.mark.peer
def test_peer_torch_compile(benchmark):
    """torch.compile of the torch backend's forward (titans_mlp2, T=2048), next to eager."""
    rule = tk.compile("titans_mlp2", backend="torch")
    g = torch.Generator().manual_seed(0)
    inputs = random_inputs(rule.ir, B, H, 2048, D, CHUNK, generator=g)
    inputs = type(inputs)(*(x.to(DEV) if x is not None else None for x in inputs.args()))
    state = rule.init_state(B, H, D, generator=g).to(DEV)
    compiled = torch.compile(rule.__call__, dynamic=False)

    def fwd():
        with torch.no_grad():
            return compiled(*inputs.args(), state=state, chunk_size=CHUNK)

    flops = 2 * rule.ir.macs_per_chunk(D, CHUNK) * B * H * 2048 / CHUNK
    run(benchmark, fwd, group=f"rule forward T=2048 ({DEV.type})", flops=flops, tokens=B * 2048, rounds=10,
        warmup=2, backend="torch.compile(torch)", spec="titans_mlp2", seq=2048)


def test_matmul_reference(benchmark):
    a, b = torch.randn(1024, 1024, device=DEV), torch.randn(1024, 1024, device=DEV)
    # the yardstick itself: its ratio is the machine's noise between two timings of one product,
    # so it is recorded but never gated
    run(benchmark, lambda: a @ b, group="reference", flops=2 * 1024 ** 3, tokens=0, rounds=20, warmup=2,
        gated=False)
