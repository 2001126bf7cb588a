"""Peak memory of one rule forward+backward against sequence length (titans_mlp2, torch backend
on CPU, B=2, H=4, D=64, chunk 64), each in a fresh process: resident set size on CPU,
max_memory_allocated on a GPU. Growth should be linear in T (checkpoints every ~sqrt(N) chunks
plus one group of intermediates); T=65536 is the long case."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import device, run

DEV = device()
_SCRIPT = """
import json, resource, torch, titans_kernels as tk
from titans_kernels.testing import random_inputs
dev = torch.device({dev!r})
rule = tk.compile("titans_mlp2")
inputs = random_inputs(rule.ir, 2, 4, {T}, 64, 64)
inputs = type(inputs)(*(x.to(dev) if x is not None else None for x in inputs.args()))
state = rule.init_state(2, 4, 64).to(dev)
leaves = [t.requires_grad_() for t in inputs.tensors()]
out, _ = rule(*inputs.args(), state=state, chunk_size=64)
torch.autograd.grad(out, leaves, torch.ones_like(out))
if dev.type == "cuda":
    peak = torch.cuda.max_memory_allocated() / 1e9
else:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print(json.dumps({{"peak_gb": peak}}))
"""
_PEAKS: dict[int, float] = {}


@pytest.mark.parametrize("seq", [4096, 16384, 65536])
def test_peak_memory_forward_backward(benchmark, seq):
    result = {}

    def once():
        proc = subprocess.run([sys.executable, "-c", _SCRIPT.format(T=seq, dev=DEV.type)], capture_output=True,
                              text=True, check=True)
        result.update(json.loads(proc.stdout.strip().splitlines()[-1]))

    run(benchmark, once, group="peak memory (forward+backward)", flops=0.0, tokens=2 * seq, rounds=1, warmup=0,
        seq=seq, memory="rss" if DEV.type == "cpu" else "max_memory_allocated", gated=False)
    benchmark.extra_info["peak_gb"] = result["peak_gb"]
    _PEAKS[seq] = result["peak_gb"]
    print(f"\nT={seq}: peak {result['peak_gb']:.2f} GB")
    if len(_PEAKS) > 1:
        lo, hi = min(_PEAKS), max(_PEAKS)
        print(f"growth {lo} -> {hi} tokens: {_PEAKS[hi] / _PEAKS[lo]:.1f}x memory for {hi / lo:.0f}x tokens")
