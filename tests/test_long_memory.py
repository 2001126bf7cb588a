"""Long streams: forgetting toward zero collapses a bias-free MLP memory; forgetting toward the
initial weights (update.decay_to: init, in the NeuralMemory default) keeps storing and recalling."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import titans_kernels as tk

B, H, D, CHUNK = 1, 2, 32, 64


def _stream(rule, T, state, k=None, v=None, g=None):
    k = F.normalize(torch.randn(B, H, T, D, generator=g), dim=-1) if k is None else k
    v = torch.randn(B, H, T, D, generator=g) if v is None else v
    gate = lambda x: torch.full((B, H, T), x)  # noqa: E731
    with torch.no_grad():
        return rule(k, k, v, gate(0.02), gate(0.5), gate(0.001), state=state, chunk_size=CHUNK)


def _recall_after_distractors(spec: str, distractors: int = 65536) -> tuple[float, list[float]]:
    g = torch.Generator().manual_seed(0)
    rule = tk.compile(spec, backend="torch")
    state = rule.init_state(B, H, D, generator=g)
    _, state = _stream(rule, distractors, state, g=g)
    norms = [float(w.norm()) for w in state.weights]
    keys = F.normalize(torch.randn(B, H, 16, D, generator=g), dim=-1)
    values = torch.randn(B, H, 16, D, generator=g)
    _, state = _stream(rule, 16 * 20, state, keys.repeat(1, 1, 20, 1), values.repeat(1, 1, 20, 1))
    read = tk.memory_apply(rule.ir, state.weights, keys)
    sims = torch.einsum("bhid,bhjd->bhij", F.normalize(read, dim=-1), F.normalize(values, dim=-1))
    return float((sims.argmax(-1) == torch.arange(16)).float().mean()), norms


def test_decay_to_zero_collapses():
    plain, plain_norms = _recall_after_distractors("titans_mlp2")
    assert min(plain_norms) < 1e-6          # the zero fixed point absorbed the memory ...
    assert plain < 0.5                       # ... and it no longer learns new pairs


@pytest.mark.parametrize("spec", ["titans_mlp2_anchored", "titans_mlp2_normalized"])
def test_decay_to_init_keeps_recalling(spec):
    anchored, anchored_norms = _recall_after_distractors(spec)
    assert min(anchored_norms) > 1.0
    assert anchored >= 0.9                   # 16 pairs written after 64k distractors are recalled
