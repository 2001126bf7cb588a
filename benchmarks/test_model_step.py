"""Full model step: MAC / MAG / MAL language models (2 blocks, dim 128) on a batch of 4 x 512
tokens, forward and forward+backward+optimizer step."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from titans_models import TitansConfig
from titans_models.lm import MODELS

from conftest import count_flops, device, run

DEV = device()
BATCH, SEQ = 4, 512
CFG = TitansConfig(vocab_size=256, dim=128, layers=2, heads=4, mem_heads=4, mem_dim_head=32, chunk_size=16,
                   segment_len=64, window=64)


def _model(name: str):
    torch.manual_seed(0)
    model = MODELS[name](CFG).to(DEV)
    x = torch.randint(0, CFG.vocab_size, (BATCH, SEQ), device=DEV)
    return model, x


@pytest.mark.parametrize("name", ["mac", "mag", "mal"])
def test_model_forward(benchmark, name):
    model, x = _model(name)

    def fwd():
        with torch.no_grad():
            return model(x)

    run(benchmark, fwd, group="model forward (4 x 512 tokens)", flops=count_flops(fwd), tokens=BATCH * SEQ,
        rounds=5, model=name, seq=SEQ)


@pytest.mark.parametrize("name", ["mac", "mag", "mal"])
def test_model_train_step(benchmark, name):
    model, x = _model(name)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        logits, _ = model(x)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, CFG.vocab_size), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    flops = count_flops(step)
    run(benchmark, step, group="model train step (4 x 512 tokens)", flops=flops, tokens=BATCH * SEQ, rounds=3,
        model=name, seq=SEQ)
