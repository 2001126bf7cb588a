"""Peak memory of one rule forward+backward against sequence length (titans_mlp2, default backend,
B=2, H=4, D=64, chunk 64), each in a fresh process. CPU: the resident set size sampled every
2 ms during the call, minus its level just before the call (inputs already allocated), so the
torch runtime's own footprint does not hide the growth; GPU: max_memory_allocated. Growth
should be linear in T (inputs, outputs, gradients, checkpoints every ~sqrt(N) chunks, one group
of intermediates); T=65536 is the long case."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import device, run

DEV = device()
_SCRIPT = """
import json, os, threading, time, torch, titans_kernels as tk
from titans_kernels.testing import random_inputs
PAGE = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE
peak, done = [0], threading.Event()
def poll():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
dev = torch.device({dev!r})
rule = tk.compile("titans_mlp2")
inputs = random_inputs(rule.ir, 2, 4, {T}, 64, 64)
inputs = type(inputs)(*(x.to(dev) if x is not None else None for x in inputs.args()))
state = rule.init_state(2, 4, 64).to(dev)
leaves = [t.requires_grad_() for t in inputs.tensors()]
before = rss()
sampler = threading.Thread(target=poll, daemon=True)
sampler.start()
out, _ = rule(*inputs.args(), state=state, chunk_size=64)
grads = torch.autograd.grad(out, leaves, torch.ones_like(out))
done.set()
sampler.join()
if dev.type == "cuda":
    result = torch.cuda.max_memory_allocated() / 1e9
else:
    result = max(peak[0] - before, 0) / 1e9
print(json.dumps({{"peak_gb": result}}))
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
        seq=seq, memory="rss above pre-call" if DEV.type == "cpu" else "max_memory_allocated", gated=False)
    benchmark.extra_info["peak_gb"] = result["peak_gb"]
    _PEAKS[seq] = result["peak_gb"]
    print(f"\nT={seq}: peak {result['peak_gb']:.2f} GB")
    if len(_PEAKS) > 1:
        lo, hi = min(_PEAKS), max(_PEAKS)
        print(f"growth {lo} -> {hi} tokens: {_PEAKS[hi] / _PEAKS[lo]:.1f}x memory for {hi / lo:.0f}x tokens")
