"""NeuralMemory layer, side by side with titans-pytorch's NeuralMemory (an optional peer, skipped
when not installed): B=2, T=2048, dim=256, 4 heads of 64, chunk 64, forward and forward+backward.

Ours computes per-token gates and the read after the update (the default rule,
titans_mlp2_normalized); the peer's configuration (batch_size=64) updates its weights once per
64 tokens. "ours (compiled steps)" runs the torch backend's chunk steps compiled
(TITANS_TORCH_COMPILE=on; the warm-up call pays the compile), as a process does by default once a
shape has run for a while (TITANS_TORCH_COMPILE=auto).
"""
from __future__ import annotations

import pytest
import torch

from titans_models import NeuralMemory

from conftest import count_flops, device, run

DEV = device()
B, T, DIM, HEADS, DH, CHUNK = 2, 2048, 256, 4, 64, 64
_TOKENS_PER_S: dict[str, float] = {}


WHO = ["ours", pytest.param("ours (compiled steps)", marks=pytest.mark.skipif(DEV.type != "cpu", reason="CPU steps only")),
       pytest.param("titans-pytorch", marks=pytest.mark.peer)]


def _layer(who: str, monkeypatch):
    torch.manual_seed(0)
    if who == "ours (compiled steps)":
        monkeypatch.setenv("TITANS_TORCH_COMPILE", "on")
    if who.startswith("ours"):
        return NeuralMemory(DIM, heads=HEADS, dim_head=DH, chunk_size=CHUNK).to(DEV)
    tp = pytest.importorskip("titans_pytorch")
    return tp.NeuralMemory(dim=DIM, heads=HEADS, dim_head=DH, chunk_size=CHUNK, batch_size=64).to(DEV)


def _compare(kind: str) -> None:
    peer = _TOKENS_PER_S.get(f"{kind} titans-pytorch")
    for who in ("ours", "ours (compiled steps)"):
        ours = _TOKENS_PER_S.get(f"{kind} {who}")
        if ours and peer:
            print(f"\nNeuralMemory {kind}: {who} / titans-pytorch tokens/s = {ours / peer:.2f}x")


@pytest.mark.parametrize("who", WHO)
def test_layer_forward(benchmark, who, monkeypatch):
    layer = _layer(who, monkeypatch)
    x = torch.randn(B, T, DIM, device=DEV)

    def fwd():
        with torch.no_grad():
            return layer(x)

    run(benchmark, fwd, group="NeuralMemory forward (B=2, T=2048)", flops=count_flops(fwd), tokens=B * T,
        rounds=5, who=who, seq=T)
    _TOKENS_PER_S[f"fwd {who}"] = benchmark.extra_info["tokens_per_s"]
    _compare("fwd")


@pytest.mark.parametrize("who", WHO)
def test_layer_forward_backward(benchmark, who, monkeypatch):
    layer = _layer(who, monkeypatch)
    x = torch.randn(B, T, DIM, device=DEV, requires_grad=True)

    def fwd_bwd():
        layer(x)[0].square().mean().backward()

    run(benchmark, fwd_bwd, group="NeuralMemory forward+backward (B=2, T=2048)", flops=count_flops(fwd_bwd),
        tokens=B * T, rounds=3, who=who, seq=T)
    _TOKENS_PER_S[f"fwd+bwd {who}"] = benchmark.extra_info["tokens_per_s"]
    _compare("fwd+bwd")
