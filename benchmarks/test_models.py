"""NeuralMemory layer speed on CPU, side by side with titans-pytorch's NeuralMemory (an optional
peer, skipped when not installed): B=2, T=2048, dim=256, 4 heads of 64, chunk 64.

Ours computes per-token gates and the read after the update (titans_mlp2_anchored); the peer's
configuration below (batch_size=64) updates its weights once per 64 tokens.
"""
from __future__ import annotations

import pytest
import torch

from titans_models import NeuralMemory

from conftest import record

B, T, DIM, HEADS, DH, CHUNK = 2, 2048, 256, 4, 64, 64
_SUMMARY: dict[str, float] = {}


def _ours():
    torch.manual_seed(0)
    return NeuralMemory(DIM, heads=HEADS, dim_head=DH, chunk_size=CHUNK, backend="torch")


def _peer():
    tp = pytest.importorskip("titans_pytorch")
    torch.manual_seed(0)
    return tp.NeuralMemory(dim=DIM, heads=HEADS, dim_head=DH, chunk_size=CHUNK, batch_size=64)


def _flops(layer) -> float:
    ir = layer.ir
    return 2 * ir.macs_per_chunk(DH, CHUNK) * B * HEADS * T / CHUNK


@pytest.mark.parametrize("who", ["ours", "titans-pytorch"])
def test_neural_memory_forward(benchmark, who):
    layer = _ours() if who == "ours" else _peer()
    x = torch.randn(B, T, DIM)

    def run():
        with torch.no_grad():
            return layer(x)

    benchmark.group = "NeuralMemory forward (B=2, T=2048)"
    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    _SUMMARY[f"fwd {who}"] = B * T / benchmark.stats.stats.median
    if who == "ours":
        record(benchmark, _flops(layer), B * T)
    else:
        benchmark.extra_info["tokens_per_s"] = _SUMMARY[f"fwd {who}"]


@pytest.mark.parametrize("who", ["ours", "titans-pytorch"])
def test_neural_memory_forward_backward(benchmark, who):
    layer = _ours() if who == "ours" else _peer()
    x = torch.randn(B, T, DIM, requires_grad=True)

    def run():
        out = layer(x)[0]
        out.square().mean().backward()

    benchmark.group = "NeuralMemory forward+backward (B=2, T=2048)"
    benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    _SUMMARY[f"fwd+bwd {who}"] = B * T / benchmark.stats.stats.median
    if who == "ours":
        record(benchmark, 3 * _flops(layer), B * T)
    else:
        benchmark.extra_info["tokens_per_s"] = _SUMMARY[f"fwd+bwd {who}"]
    for kind in ("fwd", "fwd+bwd"):
        if f"{kind} ours" in _SUMMARY and f"{kind} titans-pytorch" in _SUMMARY:
            ratio = _SUMMARY[f"{kind} ours"] / _SUMMARY[f"{kind} titans-pytorch"]
            print(f"\nNeuralMemory {kind}: ours / titans-pytorch tokens/s = {ratio:.2f}x")
