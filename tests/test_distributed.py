"""Data-parallel training: 2 gloo processes on CPU give the gradients of single-process training,
under DDP and under FSDP2 (`fully_shard`, parameters sharded across the processes)."""
from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from titans_models import TitansConfig, TitansMAG

from conftest import loopback_interface


def _config() -> TitansConfig:
    return TitansConfig(vocab_size=30, dim=32, layers=1, heads=2, mem_heads=2, mem_dim_head=16, chunk_size=8,
                        segment_len=16, window=8, persistent_tokens=2, backend="torch")


def _loss(model, tokens):
    logits, _ = model(tokens[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def _worker(rank: int, world: int, rendezvous: str, tokens: torch.Tensor, out: str, mode: str) -> None:
    # a file rendezvous: no TCP port to race for with other processes on the machine; a short
    # timeout so that a transport that cannot connect fails the test instead of waiting 30 minutes
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=WORKER_TIMEOUT_S))
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
    dist.barrier()
    # Leave without running destructors: tearing down DDP's Reducer joins gloo's work thread while
    # holding the GIL, and that thread may need the GIL to free a finished work item, so a normal
    # exit deadlocks in about one run of three on a 2-core machine. Everything is written by now.
    os._exit(0)


WORKER_TIMEOUT_S = 120   # each collective in a worker
SPAWN_DEADLINE_S = 300   # the whole two-process run, start-up included


def _spawn_with_deadline(args: tuple, deadline_s: float) -> None:
    """Run `_worker` on 2 processes; kill them and fail in one line if they outlive `deadline_s`.

    gloo connects the ranks over TCP at the address it resolves for this host; pinning it to the
    loopback interface keeps a sandbox whose host address is unreachable from hanging the suite."""
    loopback = loopback_interface()
    if loopback is not None:
        os.environ.setdefault("GLOO_SOCKET_IFNAME", loopback)
    context = mp.start_processes(_worker, args=args, nprocs=2, join=False, start_method="spawn")
    end = time.monotonic() + deadline_s
    while not context.join(timeout=1.0):
        if time.monotonic() > end:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
            pytest.fail(f"the 2 gloo processes did not finish within {deadline_s:.0f} s "
                        f"(GLOO_SOCKET_IFNAME={os.environ.get('GLOO_SOCKET_IFNAME')})")


def _has_fsdp2() -> bool:
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not built")
@pytest.mark.parametrize("mode", ["ddp", pytest.param("fsdp2", marks=[pytest.mark.slow, pytest.mark.skipif(
    not _has_fsdp2(), reason="this torch has no torch.distributed.fsdp.fully_shard")])])
def test_data_parallel_gradients_equal_single_process(tmp_path, mode):
    tokens = torch.randint(0, 30, (4, 21), generator=torch.Generator().manual_seed(1))
    out = str(tmp_path / "grads.pt")
    _spawn_with_deadline((2, str(tmp_path / "rendezvous"), tokens, out, mode), SPAWN_DEADLINE_S)
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
