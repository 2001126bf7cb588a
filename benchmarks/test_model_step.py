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


RULE_FUNCTIONS = ("DualFormFunction", "TritonFunction", "TileLangFunction")   # the memory rule's autograd
                                                                              # functions, forward and backward


def memory_rule_fraction(step) -> float:
    """Share of one call of `step` spent inside the memory rule (its autograd function's forward
    and backward), from the profiler's totals."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if DEV.type == "cuda" else [])
    with profile(activities=activities) as prof:
        step()
    cuda = DEV.type == "cuda"
    events = prof.key_averages()
    total = sum(e.self_device_time_total if cuda else e.self_cpu_time_total for e in events)
    rule = sum(e.device_time_total if cuda else e.cpu_time_total for e in events
               if e.key in RULE_FUNCTIONS or e.key in tuple(f + "Backward" for f in RULE_FUNCTIONS))
    return rule / max(total, 1e-9)


@pytest.mark.parametrize("name", ["mac", "mag"])
def test_lm_train_step(benchmark, tmp_path_factory, name):
    """titans-train's language-modeling step on its real data path (a prepared byte corpus of the
    package's own sources, random windows, next-token loss, AdamW): tokens/s, and the share of
    the step spent in the memory rule, so that a kernel speed-up reads as an end-to-end one."""
    from pathlib import Path
    from types import SimpleNamespace

    from titans_models.data import TokenData, prepare
    from titans_models.train import _step_loss

    out = tmp_path_factory.mktemp("lm-data")
    prepare([str(Path(__file__).resolve().parents[1] / "titans_models")], str(out), progress=lambda *_: None)
    data = TokenData.open(str(out))
    model, _ = _model(name)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    args = SimpleNamespace(task="lm", batch=BATCH, seq_len=SEQ, world=1, rank=0)
    gen = torch.Generator().manual_seed(0)

    def step():
        loss = _step_loss(args, data, model, gen, DEV)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    fraction = memory_rule_fraction(step)
    run(benchmark, step, group="lm train step, real-data path (4 x 512 tokens)", flops=count_flops(step),
        tokens=BATCH * SEQ, rounds=3, model=name, seq=SEQ, memory_rule_fraction=fraction)
