"""`titans-train`: train a Titans model on a synthetic long-memory task or on text, on CPU or GPU.

    titans-train --model mac --task recall --seq-len 256 --window 64 --steps 600 --out runs/mac
    titans-train --model mac ... --out runs/mac --resume        # continue from runs/mac/ckpt.pt
    titans-train --model mag --steps 2000 --preset recall       # the README's recall recipe
    titans-train plot runs/mac runs/mag runs/swa --out accuracy.png
    titans-train prepare --data corpus/ --out data/corpus       # text -> token files
    titans-train table runs/lm-mag runs/lm-swa                 # loss by position (accuracy: tasks), Markdown
    titans-train --task lm --data data/corpus --model mag --seq-len 256 --steps 300 --out runs/lm-mag

Synthetic tasks train with cross-entropy on the answer token and end with the accuracy at each
--eval-lengths context length; `--task lm` trains next-token prediction on windows of a
prepared token directory (AdamW, warmup and cosine decay, gradient accumulation, bf16 autocast
on a GPU) and ends with the validation loss by token position at 1, 2, 4 and 8 times the
training length (bits per byte beside it). Both show a progress bar, evaluate every
--eval-every steps, checkpoint (model, optimizer, step, RNG) atomically to OUT/ckpt.pt and
write OUT/results.json.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

import titans_kernels as tk

from .config import TitansConfig
from .data import DataError, TokenData, position_buckets, prepare
from .layers import GATES
from . import parallel
from .lm import MODELS
from .tasks import TASKS, TaskSpec, make_batch

ALL_TASKS = (*TASKS, "lm")


# named flag sets; flags given on the command line override them
PRESETS: dict[str, dict] = {
    # the README's recall table: T=128 at 4x a window (MAC: segment) of 32, linear memory
    "recall": dict(task="recall", pairs=2, seq_len=128, window=32, segment=32, spec="titans_linear",
                   max_lr=2.0, lr=3e-3, eval_every=250, eval_lengths="64,128,256,512", eval_batches=16),
}


def _count(minimum: int):
    """argparse type: an integer >= minimum."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}")
        return value
    return parse


def _rate(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value} is not > 0")
    return value


def _lengths(text: str) -> list[int]:
    """argparse type: comma-separated context lengths, e.g. 64,128,256."""
    return [_count(1)(part) for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="titans-train", description=__doc__.splitlines()[0])
    p.add_argument("--preset", choices=list(PRESETS),
                   help="start from a named set of flags (" + "; ".join(
                       f"{name}: " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in flags.items())
                       for name, flags in PRESETS.items()) + ")")
    p.add_argument("--model", choices=list(MODELS), default="mac")
    p.add_argument("--task", choices=list(ALL_TASKS), default="recall")
    p.add_argument("--data", help="lm: a token directory from titans-train prepare")
    p.add_argument("--pairs", type=_count(1), default=4, help="key-value pairs (recall)")
    p.add_argument("--seq-len", type=_count(1), default=256, help="training context length")
    p.add_argument("--eval-lengths", type=_lengths, default=None,
                   help="comma-separated context lengths (default: 64,128,256,512; lm: 1, 2, 4, 8 x --seq-len)")
    p.add_argument("--steps", type=_count(0), default=500)
    p.add_argument("--batch", type=_count(1), default=16)
    p.add_argument("--lr", type=_rate, default=2e-3)
    p.add_argument("--warmup", type=_count(0), default=None,
                   help="steps of linear warmup (default: 0; lm: a tenth of --steps, at most 200)")
    p.add_argument("--schedule", choices=("constant", "cosine"), default=None,
                   help="learning-rate schedule after warmup (default: constant; lm: cosine to a tenth)")
    p.add_argument("--accum", type=_count(1), default=1, help="micro-batches per optimizer step (lm)")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--mem-heads", type=int, default=2)
    p.add_argument("--mem-dim-head", type=int, default=32)
    p.add_argument("--chunk", type=int, default=16)
    p.add_argument("--segment", type=int, default=64)
    p.add_argument("--window", type=int, default=64)
    p.add_argument("--persistent", type=int, default=4)
    p.add_argument("--spec", default="titans_mlp2_normalized")
    p.add_argument("--max-lr", type=_rate, default=0.01, help="largest inner learning rate of the memory")
    p.add_argument("--gate", choices=list(GATES), default="product",
                   help="MAG/MAC: how the memory read gates the attention output")
    p.add_argument("--backend", default="auto")
    p.add_argument("--eval-every", type=_count(1), default=100)
    p.add_argument("--eval-batches", type=_count(1), default=4,
                   help="evaluation batches (lm: evaluation windows per length, 4 x this)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/latest", help="directory for checkpoints and results")
    p.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt if it exists")
    p.add_argument("--fsdp", action="store_true",
                   help="under torchrun: shard parameters, gradients and optimizer state over the processes "
                        "(FSDP2) instead of replicating them (DDP); checkpoints stay whole")
    p.add_argument("--no-progress", action="store_true")
    return p


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse titans-train flags: a --preset's values first, then the flags given."""
    parser = build_parser()
    preset = parser.parse_known_args(argv)[0].preset
    if preset:
        parser.set_defaults(**PRESETS[preset])
    return parser.parse_args(argv)


def make_config(args, vocab_size: int) -> TitansConfig:
    return TitansConfig(vocab_size=vocab_size, dim=args.dim, layers=args.layers, heads=args.heads,
                        mem_heads=args.mem_heads, mem_dim_head=args.mem_dim_head, spec=args.spec,
                        chunk_size=args.chunk, segment_len=args.segment, window=args.window,
                        persistent_tokens=args.persistent, backend=args.backend, max_lr=args.max_lr,
                        gate=args.gate)


@torch.no_grad()
def evaluate(model, task: TaskSpec, length: int, batches: int, batch: int, seed: int, device) -> float:
    g = torch.Generator().manual_seed(seed)
    model.eval()
    hits = total = 0
    for _ in range(batches):
        x, y = make_batch(task, batch, length, g)
        logits, _ = model(x.to(device))
        hits += int((logits[:, -1].argmax(-1).cpu() == y).sum())
        total += y.numel()
    model.train()
    return hits / total


def _save(path: Path, blob: dict) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(blob, tmp)
    os.replace(tmp, path)


def _resolve_defaults(args) -> None:
    """Defaults that depend on the task (the flags given are kept)."""
    lm = args.task == "lm"
    if args.eval_lengths is None:
        args.eval_lengths = [args.seq_len * m for m in (1, 2, 4, 8)] if lm else [64, 128, 256, 512]
    if args.warmup is None:
        args.warmup = min(200, args.steps // 10) if lm else 0
    if args.schedule is None:
        args.schedule = "cosine" if lm else "constant"


def lr_at(args, step: int) -> float:
    """Learning rate of optimizer step `step` (0-based): linear warmup, then constant or cosine
    decay to a tenth of --lr at the last step."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if args.schedule == "constant":
        return args.lr
    span = max(args.steps - args.warmup, 1)
    frac = min(max(step - args.warmup, 0) / span, 1.0)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def _source(args):
    """The task: a TaskSpec (synthetic) or the TokenData of --data (lm); lengths checked now, not
    after training."""
    if args.task == "lm":
        if not args.data:
            raise ValueError("--task lm needs --data DIR (make one with: titans-train prepare --data CORPUS --out DIR)")
        data = TokenData.open(args.data)
        data.check_length("train", args.seq_len, "--seq-len")
        for length in args.eval_lengths:
            data.check_length("val", length, "--eval-lengths")
        return data
    task = TaskSpec(name=args.task, pairs=args.pairs)
    for flag, lengths in (("--seq-len", [args.seq_len]), ("--eval-lengths", args.eval_lengths)):
        for length in lengths:
            try:
                make_batch(task, 1, length, torch.Generator().manual_seed(0))
            except ValueError as exc:
                raise ValueError(f"{flag} {length}: {exc}") from None
    return task


def train(args) -> dict:
    torch.manual_seed(args.seed)
    _resolve_defaults(args)
    task = _source(args)
    cfg = make_config(args, task.vocab_size)
    device = parallel.start(args, _device(args.device))
    model = MODELS[args.model](cfg).to(device)
    runner = parallel.wrap(model, args, device)   # gradients averaged over the ranks' slices of each batch
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed + 1)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {out}: cannot create it ({exc.strerror or exc})") from None
    _check_writable(out)   # now, not after the first interval of training
    ckpt = out / "ckpt.pt"
    step = 0
    say = print if args.rank == 0 else (lambda *a, **k: None)
    if args.resume and not ckpt.exists():
        say(f"no checkpoint {ckpt} to resume from: starting a new run")
    if args.resume and ckpt.exists():
        step = _resume(ckpt, model, opt, gen, device, args.sharded)
        say(f"resumed {ckpt} at step {step}")
    if args.fsdp and args.world == 1:
        say("--fsdp: one process, nothing to shard (launch with torchrun --nproc_per_node N); training unsharded")
    params = sum(p.numel() for p in model.parameters())
    say(f"{args.model} on {args.task} (T={args.seq_len}, window={args.window}): {params:,} parameters, "
        f"device {device}" + (f", {args.world} processes" + (" (FSDP2)" if args.sharded else " (DDP)")
                              if args.world > 1 else ""))
    if args.task == "lm":
        say(f"data {args.data}: {task.train.size:,} training tokens, vocabulary {task.vocab_size} "
            f"({task.meta['tokenizer']}); {args.batch * args.accum * args.seq_len:,} tokens per step")
    try:
        from tqdm import tqdm
        bar = tqdm(total=args.steps, initial=step, disable=args.no_progress or args.rank != 0, dynamic_ncols=True)
    except ImportError:  # progress is optional
        bar = None
    history = []
    running = None

    def checkpoint(at: int) -> None:
        """Rank 0 writes the whole state at step `at` (gathered from every rank when sharded)."""
        msd, osd = parallel.full_state(model, opt, args.sharded)
        if args.rank == 0:
            _save(ckpt, {"model": msd, "opt": osd, "gen": gen.get_state(), "step": at, "config": cfg.to_dict(),
                         "args": vars(args)})
    with _StopOnInterrupt() as stop:
        step, stopped = _loop(args, task, model, runner, opt, gen, device, out, bar, history, step, running,
                              checkpoint, stop)
    if bar is not None:
        bar.close()
    if stopped:
        checkpoint(step)
        raise Interrupted(f"interrupted at step {step}; checkpoint written to {ckpt} (continue with --resume)")
    results = _final_eval(args, task, model, device, out, step) if args.rank == 0 or args.sharded else {}
    parallel.barrier(args)   # every rank leaves after rank 0 has written its results
    return results


class Interrupted(Exception):
    """Ctrl-C during training, after the checkpoint was written."""


class _StopOnInterrupt:
    """While training, the first Ctrl-C (SIGINT) asks the loop to stop after the step in flight, so
    that the checkpoint holds a whole step; a second one interrupts at once."""

    def __init__(self):
        self.hit = False
        self._previous = None

    def _handle(self, signum, frame):
        self.hit = True
        signal.signal(signal.SIGINT, self._previous)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _check_writable(out: Path) -> None:
    probe = out / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"--out {out}: cannot write there ({exc.strerror or exc}); choose another --out") from None


def _step_loss(args, task, model, gen, device) -> Tensor:
    """One micro-batch's loss: the answer token's (synthetic tasks) or every next token's (lm);
    with several processes, this rank's slice of the batch."""
    lm = args.task == "lm"
    x, y = task.batch("train", args.batch, args.seq_len, gen) if lm else make_batch(task, args.batch, args.seq_len, gen)
    x, y = x.chunk(args.world)[args.rank], y.chunk(args.world)[args.rank]
    if lm:
        with _autocast(device):
            logits, _ = model(x.to(device))
        return F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten())
    logits, _ = model(x.to(device))
    return F.cross_entropy(logits[:, -1], y.to(device))


def _autocast(device: torch.device):
    """bf16 autocast on a GPU (the memory rule keeps its state and accumulation in fp32)."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()


def _loop(args, task, model, runner, opt, gen, device, out, bar, history, step, running, checkpoint, stop):
    """Train from `step` to args.steps, or until a stop request on any rank; returns the step
    reached and whether it stopped early. `runner` is the model, or its DistributedDataParallel
    wrapper. Rank 0 evaluates (every rank, when the model is sharded), writes the metrics and
    checkpoints at every evaluation."""
    lm = args.task == "lm"
    micro = args.accum if lm else 1   # micro-batches per optimizer step
    while step < args.steps:
        if parallel.any_rank(stop.hit, args):
            return step, True
        for group in opt.param_groups:
            group["lr"] = lr_at(args, step)
        opt.zero_grad(set_to_none=True)
        value = 0.0
        for _ in range(micro):
            loss = _step_loss(args, task, runner, gen, device) / micro
            loss.backward()
            value += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if value != value:  # NaN
            raise RuntimeError(f"loss became NaN at step {step}; lower --lr or --max-lr (the memory's largest "
                               "inner rate)")
        running = value if running is None else 0.9 * running + 0.1 * value
        if bar is not None:
            bar.update(1)
            rate = bar.format_dict.get("rate") if lm else None   # steps/s
            bar.set_postfix(loss=f"{running:.3f}", **({"tok_s": f"{rate * args.batch * args.accum * args.seq_len:,.0f}"}
                                                        if rate else {}))
        if (args.rank == 0 or args.sharded) and (step % args.eval_every == 0 or step == args.steps):
            if lm:
                val = evaluate_lm(model, task, args.seq_len, 4 * args.eval_batches, device)
                history.append({"step": step, "loss": running, "val_loss": val["loss"]})
                note = f"validation loss at T={args.seq_len}: {val['loss']:.3f} ({val['bits_per_byte']:.3f} bits/byte)"
            else:
                acc = evaluate(model, task, args.seq_len, args.eval_batches, args.batch, 10_000, device)
                history.append({"step": step, "loss": running, "accuracy": acc})
                note = f"accuracy at T={args.seq_len}: {acc:.1%}"
            if args.rank == 0:
                with open(out / "metrics.jsonl", "a") as fh:
                    fh.write(json.dumps(history[-1]) + "\n")
                if bar is not None:
                    bar.write(f"step {step}: loss {running:.3f}, {note}")
            checkpoint(step)
    return step, False


@torch.no_grad()
def evaluate_lm(model, data: TokenData, length: int, windows: int, device) -> dict:
    """Validation next-token loss over `windows` fixed windows of `length` tokens: the mean (nats
    per token), bits per byte, and the mean in each position bucket (data.position_buckets)."""
    model.eval()
    total = torch.zeros(length, dtype=torch.float64)
    count = 0
    for x, y in data.windows("val", length, windows):
        with _autocast(device):
            logits, _ = model(x.to(device))
        nll = F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten(), reduction="none")
        total += nll.view(-1, length).sum(0).double().cpu()
        count += x.shape[0]
    model.train()
    per_pos = total / count
    bits = 1 / math.log(2) / data.bytes_per_token("val")
    mean = float(per_pos.mean())
    buckets = []
    for lo, hi in position_buckets(length):
        loss = float(per_pos[lo:hi].mean())
        buckets.append({"lo": lo, "hi": hi, "loss": loss, "bits_per_byte": loss * bits})
    return {"length": length, "windows": count, "loss": mean, "bits_per_byte": mean * bits, "by_position": buckets}


def _rule(args) -> dict:
    """The memory rule a run used (models with a memory): spec name and largest inner rate."""
    return {"spec": args.spec, "max_lr": args.max_lr} if args.model not in ("swa", "attention") else {}


def _final_eval(args, task, model, device, out: Path, step: int) -> dict:
    lengths = args.eval_lengths
    params = sum(p.numel() for p in model.parameters())
    if args.task == "lm":
        results = {"model": args.model, "task": "lm", "data": str(args.data), "train_length": args.seq_len,
                   "window": args.window, "steps": step, "parameters": params, **_rule(args), "eval": {}}
        for length in lengths:
            results["eval"][str(length)] = evaluate_lm(model, task, length, 4 * args.eval_batches, device)
        if args.rank == 0:
            (out / "results.json").write_text(json.dumps(results, indent=2))
            print("validation loss by context length (bits/byte): " + ", ".join(
                f"{k}: {v['loss']:.3f} ({v['bits_per_byte']:.3f})" for k, v in results["eval"].items()))
        return results
    results = {"model": args.model, "task": args.task, "train_length": args.seq_len, "window": args.window,
               "steps": step, "parameters": params, **_rule(args), "accuracy": {}}
    for length in lengths:
        results["accuracy"][str(length)] = evaluate(model, task, length, args.eval_batches, args.batch, 20_000,
                                                    device)
    if args.rank == 0:
        (out / "results.json").write_text(json.dumps(results, indent=2))
        print("accuracy by context length: " + ", ".join(f"{k}: {v:.1%}" for k, v in results["accuracy"].items()))
    return results


def _device(name: str) -> torch.device:
    """--device as a torch.device, or one line saying why it cannot be used here."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"--device '{name}' is not a device name; use cpu or cuda (cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: no CUDA GPU is available to this torch build; use --device cpu")
    return device


def _resume(ckpt: Path, model, opt, gen: torch.Generator, device: torch.device, sharded: bool = False) -> int:
    """Load a checkpoint into model (sharded or not), optimizer and batch generator; returns its step.

    The file is read with weights_only=True: tensors and plain containers only, so that a crafted
    file cannot run code; anything else in it is refused with one line."""
    try:
        blob = torch.load(ckpt, map_location=device, weights_only=True)
        blob["model"], blob["opt"], blob["gen"], blob["step"]
    except Exception as exc:   # truncated, foreign or unsafe file: torch.load raises many kinds
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise ValueError(f"{ckpt} cannot be read as a checkpoint ({type(exc).__name__}: {reason}); only "
                         f"tensors and plain values are loaded; delete it or train into a fresh --out") from None
    step = blob["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"{ckpt}: its step is {str(step)[:40]!r}, not a step count; delete it or train into "
                         f"a fresh --out")
    if not sharded:
        try:
            model.load_state_dict(blob["model"])
        except (RuntimeError, TypeError, AttributeError):
            raise ValueError(f"{ckpt} was written by a different model or configuration; resume with the "
                             f"flags it was trained with, or train into a fresh --out") from None
    try:
        if sharded:   # model and optimizer together, each rank keeping its shards
            parallel.load_full_state(model, opt, blob["model"], blob["opt"], sharded=True)
        else:
            opt.load_state_dict(blob["opt"])
        gen.set_state(blob["gen"])
    except Exception as exc:  # noqa: BLE001 - any malformed optimizer or generator state
        what = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{ckpt}: its optimizer or batch-generator state cannot be restored ({what}); delete "
                         f"it or train into a fresh --out") from None
    return step


def load_runs(run_dirs: list[str]) -> list[dict]:
    """Each run's results.json, or one line naming the runs that have none."""
    missing = [r for r in run_dirs if not (Path(r) / "results.json").exists()]
    if missing:
        raise ValueError(f"no results.json in {', '.join(missing)}; train those runs first")
    return [json.loads((Path(run) / "results.json").read_text()) for run in run_dirs]


def plot(run_dirs: list[str], out_png: str) -> None:
    """Accuracy against context length (synthetic tasks), or validation loss against token
    position at the longest evaluated length (lm): one line per run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = load_runs(run_dirs)
    fig, ax = plt.subplots(figsize=(6, 4))
    for res in results:
        label = f"{res['model'].upper()} ({res['parameters']:,})" if "parameters" in res else res["model"].upper()
        if res["task"] == "lm":
            longest = max(res["eval"], key=int)
            rows = res["eval"][longest]["by_position"]
            ax.plot([(r["lo"] + r["hi"]) / 2 for r in rows], [r["loss"] for r in rows], marker="o", label=label)
        else:
            lengths = sorted(int(k) for k in res["accuracy"])
            ax.plot(lengths, [res["accuracy"][str(k)] for k in lengths], marker="o", label=label)
    res = results[-1]
    ax.axvline(res["window"], color="grey", linestyle=":", label=f"attention window ({res['window']})")
    ax.set_xscale("log", base=2)
    if res["task"] == "lm":
        ax.axvline(res["train_length"], color="grey", linestyle="--", label=f"training length ({res['train_length']})")
        ax.set_xlabel("token position in the window")
        ax.set_ylabel("validation loss (nats/token)")
        ax.set_title("language modeling: loss by position")
    else:
        ax.set_xlabel("context length (tokens)")
        ax.set_ylabel("answer accuracy")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{res['task']}: accuracy vs context length")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    print(f"wrote {out_png}")


def _label(run: dict) -> str:
    """A run's row label: the model, and its memory rule where the run recorded one."""
    if not run.get("spec"):
        return run["model"]
    return f"{run['model']} ({run['spec']}, max lr {run['max_lr']:g})"


def table(run_dirs: list[str]) -> str:
    """Markdown, one row per run with parameter counts: for language-model runs the validation
    loss by token position at the runs' longest common evaluated length; for synthetic-task runs
    the answer accuracy at every context length they share."""
    results = load_runs(run_dirs)
    lm_runs = [r for r in results if r.get("task") == "lm"]
    if lm_runs and len(lm_runs) != len(results):
        raise ValueError("table compares runs of one kind; these mix --task lm with synthetic-task runs")
    if not lm_runs:
        return _accuracy_table(results)
    longest = min(max(int(k) for k in r["eval"]) for r in lm_runs)
    buckets = [(b["lo"], b["hi"]) for b in lm_runs[0]["eval"][str(longest)]["by_position"]]
    head = "| model | parameters | " + " | ".join(f"{lo}-{hi}" for lo, hi in buckets) + " | all (bits/byte) |"
    lines = [f"Validation loss (nats/token) by token position at length {longest}; training length "
             f"{lm_runs[0]['train_length']}, attention window {lm_runs[0]['window']}.", "", head,
             "|---|---:|" + "---:|" * (len(buckets) + 1)]
    for r in lm_runs:
        ev = r["eval"][str(longest)]
        cells = [f"{b['loss']:.3f}" for b in ev["by_position"]]
        lines.append(f"| {_label(r)} | {r['parameters']:,} | " + " | ".join(cells)
                     + f" | {ev['loss']:.3f} ({ev['bits_per_byte']:.3f}) |")
    return "\n".join(lines) + "\n"


def _accuracy_table(results: list[dict]) -> str:
    tasks = {r["task"] for r in results}
    if len(tasks) > 1:
        raise ValueError(f"table compares runs of one task; these are {', '.join(sorted(tasks))}")
    lengths = sorted(set.intersection(*(set(map(int, r["accuracy"])) for r in results)))
    if not lengths:
        raise ValueError("these runs share no evaluated context length; evaluate them at common --eval-lengths")
    first = results[0]
    lines = [f"{first['task']}: answer accuracy by context length; training length {first['train_length']}, "
             f"attention window {first['window']}.", "",
             "| model (memory rule) | parameters | steps | " + " | ".join(map(str, lengths)) + " |",
             "|---|---:|---:|" + "---:|" * len(lengths)]
    for r in results:
        params = f"{r['parameters']:,}" if "parameters" in r else "?"
        cells = [f"{r['accuracy'][str(n)]:.1%}" for n in lengths]
        lines.append(f"| {_label(r)} | {params} | {r['steps']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "prepare":
        pp = argparse.ArgumentParser(prog="titans-train prepare", description="Turn local text into token files for "
                                     "--task lm (train.bin, val.bin, meta.json).")
        pp.add_argument("--data", nargs="+", required=True, help="text files, directories of them, .jsonl files")
        pp.add_argument("--out", required=True, help="directory to write")
        pp.add_argument("--tokenizer", help="a local tokenizer.json (needs the tokenizers package); default: bytes")
        pp.add_argument("--val-fraction", type=float, default=0.05)
        a = pp.parse_args(argv[1:])
        try:
            meta = prepare(a.data, a.out, a.tokenizer, a.val_fraction)
        except (DataError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {a.out}: {meta['train_tokens']:,} training and {meta['val_tokens']:,} validation tokens "
              f"({meta['tokenizer']}, vocabulary {meta['vocab_size']})")
        return 0
    if argv and argv[0] in ("table", "plot"):
        pp = argparse.ArgumentParser(prog=f"titans-train {argv[0]}")
        pp.add_argument("runs", nargs="+")
        if argv[0] == "plot":
            pp.add_argument("--out", default="accuracy.png")
        a = pp.parse_args(argv[1:])
        try:
            if argv[0] == "plot":
                plot(a.runs, a.out)
            else:
                print(table(a.runs), end="")
        except (ValueError, KeyError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    args = parse_args(argv)
    start = time.time()
    tk.keep_heap()   # this process owns its heap: no page faults on every chunk's temporaries
    try:
        train(args)
    except Interrupted as exc:
        print(exc, file=sys.stderr)
        return 130
    except (ValueError, RuntimeError) as exc:   # DataError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.world > 1:
        # leave without running destructors: tearing down DDP's reducer joins gloo's work thread
        # while holding the GIL, which can deadlock; everything is written by now
        if args.rank == 0:
            print(f"done in {time.time() - start:.0f} s")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    print(f"done in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
