"""Data-parallel training: 2 gloo processes on CPU give the gradients of single-process training,
under DDP and under FSDP2 (`fully_shard`, parameters sharded across the processes)."""
from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from titans_models import TitansConfig, TitansMAG


def _config() -> TitansConfig:
    return TitansConfig(vocab_size=30, dim=32, layers=1, heads=2, mem_heads=2, mem_dim_head=16, chunk_size=8,
                        segment_len=16, window=8, persistent_tokens=2, backend="torch")


def _loss(model, tokens):
    logits, _ = model(tokens[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def _worker(rank: int, world: int, rendezvous: str, tokens: torch.Tensor, out: str, mode: str) -> None:
    # a file rendezvous: no TCP port to race for with other processes on the machine
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = TitansMAG(_config())
    if mode == "ddp":
        wrapped = torch.nn.parallel.DistributedDataParallel(model)
    else:
        from torch.distributed.fsdp import fully_shard
        for block in model.blocks:
            fully_shard(block)
        wrapped = fully_shard(model)
    shard = tokens.chunk(world)[rank]
    _loss(wrapped, shard).backward()
    grads = {}
    for n, p in model.named_parameters():
        if p.grad is not None:
            g = p.grad
            grads[n] = g.full_tensor() if hasattr(g, "full_tensor") else g  # FSDP2: gather the shards
    if rank == 0:
        torch.save(grads, out)
    dist.destroy_process_group()


def _has_fsdp2() -> bool:
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not built")
@pytest.mark.parametrize("mode", ["ddp", pytest.param("fsdp2", marks=pytest.mark.skipif(
    not _has_fsdp2(), reason="this torch has no torch.distributed.fsdp.fully_shard"))])
def test_data_parallel_gradients_equal_single_process(tmp_path, mode):
    tokens = torch.randint(0, 30, (4, 21), generator=torch.Generator().manual_seed(1))
    out = str(tmp_path / "grads.pt")
    mp.spawn(_worker, args=(2, str(tmp_path / "rendezvous"), tokens, out, mode), nprocs=2, join=True)
    ddp = torch.load(out)
    torch.manual_seed(0)
    single = TitansMAG(_config())
    _loss(single, tokens).backward()   # equal shards: mean of shard means == full mean
    checked = 0
    for name, p in single.named_parameters():
        if p.grad is None:
            continue
        assert torch.allclose(ddp[name], p.grad, rtol=1e-4, atol=1e-6), name
        checked += 1
    assert checked > 10
