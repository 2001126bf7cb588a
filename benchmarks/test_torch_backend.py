"""Torch backend speed: forward and forward+backward of titans_mlp2 at B=2, H=4, D=64, T=2048,
chunk 64, fp32, against a 1024^3 fp32 matrix product timed in the same test; and peak memory of
forward+backward at T=65536."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import titans_kernels as tk
from titans_kernels.testing import random_inputs

from conftest import record

B, H, T, D, CHUNK = 2, 4, 2048, 64, 64
SPECS = ["titans_mlp2", "titans_linear", "titans_mlp2_nomomentum", "titans_mlp3"]


def _case(spec: str, T: int = T):
    rule = tk.compile(spec, backend="torch")
    g = torch.Generator().manual_seed(0)
    inputs = random_inputs(rule.ir, B, H, T, D, CHUNK, generator=g)
    state = rule.init_state(B, H, D, generator=g)
    flops = 2 * rule.ir.macs_per_chunk(D, CHUNK) * B * H * (T / CHUNK)
    return rule, inputs, state, flops


@pytest.mark.parametrize("spec", SPECS)
def test_forward(benchmark, spec):
    rule, inputs, state, flops = _case(spec)

    def run():
        with torch.no_grad():
            return rule(*inputs.args(), state=state, chunk_size=CHUNK)

    benchmark.group = "torch forward"
    benchmark.pedantic(run, rounds=12, warmup_rounds=1)
    record(benchmark, flops, B * T)


@pytest.mark.parametrize("spec", SPECS)
def test_forward_backward(benchmark, spec):
    rule, inputs, state, flops = _case(spec)
    leaves = [t.requires_grad_() for t in inputs.tensors()]

    def run():
        out, _ = rule(*inputs.args(), state=state, chunk_size=CHUNK)
        torch.autograd.grad(out.sum(), leaves)

    benchmark.group = "torch forward+backward"
    benchmark.pedantic(run, rounds=8, warmup_rounds=1)
    record(benchmark, 3 * flops, B * T)  # backward counted as twice the forward


def test_matmul_1024_fp32(benchmark):
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    benchmark.group = "reference"
    benchmark.pedantic(lambda: a @ b, rounds=20, warmup_rounds=2)
    record(benchmark, 2 * 1024 ** 3, 0)


_PEAK_SCRIPT = """
import json, resource, torch, titans_kernels as tk
from titans_kernels.testing import random_inputs
T = {T}
rule = tk.compile("titans_mlp2")
inputs = random_inputs(rule.ir, {B}, {H}, T, {D}, {CHUNK})
state = rule.init_state({B}, {H}, {D})
leaves = [t.requires_grad_() for t in inputs.tensors()]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out, _ = rule(*inputs.args(), state=state, chunk_size={CHUNK})
grads = torch.autograd.grad(out, leaves, torch.ones_like(out))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"peak_rss_gb": peak / 1e6, "rss_before_call_gb": before / 1e6}}))
"""


@pytest.mark.parametrize("seq", [8192, 65536])
def test_peak_memory_forward_backward(benchmark, seq):
    """Peak resident memory of one forward+backward in a fresh process (inputs, outputs and
    input gradients included: about 1 GB at T=65536)."""
    script = _PEAK_SCRIPT.format(T=seq, B=B, H=H, D=D, CHUNK=CHUNK)
    result = {}

    def run():
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        result.update(json.loads(proc.stdout.strip().splitlines()[-1]))

    benchmark.group = "peak memory"
    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(f"\nT={seq}: peak RSS {result['peak_rss_gb']:.2f} GB")
