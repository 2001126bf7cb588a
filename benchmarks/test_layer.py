"""NeuralMemory layer, side by side with titans-pytorch's NeuralMemory (an optional peer, skipped
when not installed): B=2, T=2048, dim=256, 4 heads of 64, chunk 64, forward and forward+backward.

Ours computes per-token gates and the read after the update (the default rule,
titans_mlp2_normalized); the peer's configuration (batch_size=64) updates its weights once per
64 tokens.
"""
from __future__ import annotations

import pytest
import torch

from titans_models import NeuralMemory

from conftest import count_flops, device, run

DEV = device()
B, T, DIM, HEADS, DH, CHUNK = 2, 2048, 256, 4, 64, 64
_TOKENS_PER_S: dict[str, float] = {}


def _layer(who: str):
    torch.manual_seed(0)
    if who == "ours":
        return NeuralMemory(DIM, heads=HEADS, dim_head=DH, chunk_size=CHUNK).to(DEV)
    tp = pytest.importorskip("titans_pytorch")
    return tp.NeuralMemory(dim=DIM, heads=HEADS, dim_head=DH, chunk_size=CHUNK, batch_size=64).to(DEV)


def _compare(kind: str) -> None:
    ours, peer = _TOKENS_PER_S.get(f"{kind} ours"), _TOKENS_PER_S.get(f"{kind} titans-pytorch")
    if ours and peer:
        print(f"\nNeuralMemory {kind}: ours / titans-pytorch tokens/s = {ours / peer:.2f}x")


@pytest.mark.parametrize("who", ["ours", pytest.param("titans-pytorch", marks=pytest.mark.peer)])
def test_layer_forward(benchmark, who):
    layer = _layer(who)
    x = torch.randn(B, T, DIM, device=DEV)

    def fwd():
        with torch.no_grad():
            return layer(x)

    run(benchmark, fwd, group="NeuralMemory forward (B=2, T=2048)", flops=count_flops(fwd), tokens=B * T,
        rounds=5, who=who, seq=T)
    _TOKENS_PER_S[f"fwd {who}"] = benchmark.extra_info["tokens_per_s"]
    _compare("fwd")


@pytest.mark.parametrize("who", ["ours", pytest.param("titans-pytorch", marks=pytest.mark.peer)])
def test_layer_forward_backward(benchmark, who):
    layer = _layer(who)
    x = torch.randn(B, T, DIM, device=DEV, requires_grad=True)

    def fwd_bwd():
        layer(x)[0].square().mean().backward()

    run(benchmark, fwd_bwd, group="NeuralMemory forward+backward (B=2, T=2048)", flops=count_flops(fwd_bwd),
        tokens=B * T, rounds=3, who=who, seq=T)
    _TOKENS_PER_S[f"fwd+bwd {who}"] = benchmark.extra_info["tokens_per_s"]
    _compare("fwd+bwd")
