"""Training on several processes (torchrun): replicated (DDP) or sharded (FSDP2, `--fsdp`).

Every rank draws the same batches from the same generator and trains on its slice of each, so
the averaged gradient is the single-process one. Checkpoints hold the full (unsharded) model and
optimizer state in one format whatever the world size and whether the run was sharded: the
model's state_dict and the optimizer's, its per-parameter state keyed by the parameter's index
in `model.parameters()` as `torch.optim.Optimizer.state_dict()` writes it. A run then resumes at
another world size, sharded or not.

With FSDP2 the parameters live as shards (DTensors): forward passes, evaluation included, and the
gathering of a full checkpoint are collective, so every rank takes part in them and rank 0 alone
writes.
"""
from __future__ import annotations

import torch
from torch import nn

from titans_kernels import settings


def start(args, device: torch.device) -> torch.device:
    """Under torchrun (WORLD_SIZE > 1): join the process group (nccl on GPUs, gloo on CPU), one GPU
    per local rank. Sets args.world, args.rank and args.sharded (FSDP2 over 2+ processes)."""
    args.world, args.rank = settings.world_size(), settings.rank()
    if args.world <= 1:
        args.world, args.rank, args.sharded = 1, 0, False
        return device
    if args.batch % args.world:
        raise ValueError(f"--batch {args.batch} does not split over {args.world} processes; use a multiple of "
                         f"{args.world}")
    import torch.distributed as dist
    if device.type == "cuda":
        device = torch.device("cuda", settings.local_rank())
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    args.sharded = bool(getattr(args, "fsdp", False))
    return device


def wrap(model: nn.Module, args, device: torch.device) -> nn.Module:
    """What the training step calls: the model itself on one process; sharded in place with FSDP2
    (each block, then the whole model) and returned, with --fsdp; else its DDP wrapper."""
    if args.world <= 1:
        return model
    if args.sharded:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard
        mesh = init_device_mesh(device.type, (args.world,))
        for block in model.blocks:
            fully_shard(block, mesh=mesh)
        fully_shard(model, mesh=mesh)
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def _names(model: nn.Module) -> list[str]:
    return [name for name, _ in model.named_parameters()]


def full_state(model: nn.Module, opt: torch.optim.Optimizer, sharded: bool) -> tuple[dict, dict]:
    """(model state_dict, optimizer state_dict) in the checkpoint format, on CPU. Sharded: a
    collective (every rank calls it); the full dicts are on rank 0, the other ranks get empty ones."""
    if not sharded:
        return model.state_dict(), opt.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict
    msd, osd = get_state_dict(model, opt, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if not osd:
        return msd, osd
    index = {name: i for i, name in enumerate(_names(model))}    # parameter names -> positions
    return msd, {"state": {index[name]: value for name, value in osd["state"].items()},
                 "param_groups": [dict(g, params=[index[name] for name in g["params"]]) for g in osd["param_groups"]]}


def load_full_state(model: nn.Module, opt: torch.optim.Optimizer, msd: dict, osd: dict, sharded: bool) -> None:
    """Load a checkpoint's dicts (full_state's format) into the model and optimizer, sharding them
    where the model is sharded. Raises what load_state_dict raises on a mismatch."""
    if not sharded:
        model.load_state_dict(msd)
        opt.load_state_dict(osd)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict
    names = _names(model)
    if len(names) != sum(len(g["params"]) for g in osd["param_groups"]):
        raise RuntimeError("optimizer state for a different set of parameters")
    named = {"state": {names[i]: value for i, value in osd["state"].items()},
             "param_groups": [dict(g, params=[names[i] for i in g["params"]]) for g in osd["param_groups"]]}
    set_state_dict(model, opt, model_state_dict=msd, optim_state_dict=named,
                   options=StateDictOptions(full_state_dict=True, strict=True))


def any_rank(flag: bool, args) -> bool:
    """True on every rank when `flag` is true on any (a stop request seen by one process stops all
    of them after the same step)."""
    if args.world <= 1:
        return flag
    import torch.distributed as dist
    t = torch.tensor([1 if flag else 0], dtype=torch.int32)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(args) -> None:
    if args.world > 1:
        import torch.distributed as dist
        dist.barrier()
