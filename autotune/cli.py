"""`titans-kernels autotune --gpu NAME`: registered with the titans-kernels command through the
`titans_kernels.commands` entry point (pyproject.toml), so that titans_kernels never imports this
package."""
from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterator

from titans_kernels.backends.launch_config import CHUNK_SIZES, HEAD_DIMS, forward_label
from titans_kernels.errors import InputError
from titans_kernels.spec import list_specs
from titans_kernels.tuning import TuningDB, device_arch, get_gpu


def add_parser(sub) -> None:
    p = sub.add_parser("autotune", help="tune the triton or tilelang kernels for a GPU (present or not)")
    p.add_argument("--gpu", required=True, help="catalogue name (a100, h100, ...) or 'auto' for the local GPU")
    p.add_argument("--spec", action="append", help="spec name or path (repeatable; default: every shipped spec)")
    p.add_argument("--shapes", default="64x64", help="comma-separated DIMxCHUNK (default 64x64)")
    p.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--quick", action="store_true", help="a small search space (seconds per spec)")
    p.add_argument("--backend", choices=["triton", "tilelang"], default="triton",
                   help="kernels to tune (tilelang: sm_80 and sm_90 GPUs; about 20 s per candidate)")
    p.add_argument("--tuner", choices=["auto", "predicted", "measured"], default="auto",
                   help="auto: measured when the target GPU is the local one, else predicted")
    p.add_argument("--cache-dir", default=None, help="tuning database directory (default: user cache)")
    p.set_defaults(func=cmd_autotune)


def _shapes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        try:
            d, c = part.lower().split("x")
            out.append((int(d), int(c)))
        except ValueError:
            raise InputError(f"--shapes: '{part}' is not DIMxCHUNK (e.g. 64x64)") from None
    for d, c in out:   # the kernels' own limits, before any candidate is compiled
        if d not in HEAD_DIMS or c not in CHUNK_SIZES:
            raise InputError(f"--shapes: {d}x{c} is not covered by the GPU kernels; head dims "
                             f"{', '.join(map(str, HEAD_DIMS))} and chunks {', '.join(map(str, CHUNK_SIZES))}")
    return out


def cmd_autotune(args) -> int:
    from .run import measure_spec, save, tune_spec, tunable

    gpu = get_gpu(args.gpu)
    tuner = args.tuner
    if tuner == "auto":
        tuner = "measured" if _local_arch() == gpu.arch else "predicted"
    if tuner == "measured" and _local_arch() != gpu.arch:
        raise InputError(f"--tuner measured needs a local {gpu.name}; this machine has "
                         f"{_local_arch() or 'no CUDA GPU'} (use --tuner predicted)")
    tune_one = measure_spec if tuner == "measured" else tune_spec
    from .predicted import check_backend
    check_backend(args.backend, gpu)
    db = TuningDB(args.cache_dir)
    try:
        db.check_writable()   # before any candidate is compiled: no tuned record is lost at the end
    except ValueError as exc:
        raise InputError(str(exc)) from None
    specs = args.spec or list(list_specs())
    shapes = _shapes(args.shapes)
    print(f"{tuner} tuning of the {args.backend} kernels for {gpu.name} ({gpu.arch}), {args.dtype}, shapes {args.shapes}; "
          f"database {db.path}")
    rows, records = [], []
    todo, done, t_start = len(specs) * len(shapes), 0, time.perf_counter()
    for spec in specs:
        ir = tunable(spec)
        if ir is None:
            rows.append((spec, "-", "-", "-", "not generated for triton", "-"))
            done += len(shapes)
            continue
        for D, b in shapes:
            with _progress(f"{ir.name} D{D} b{b}") as step:
                rec, ranked, pruned = tune_one(ir, gpu, D, b, args.dtype, quick=args.quick, backend=args.backend,
                                                progress=step)
            done += 1
            if done < todo:
                left = (time.perf_counter() - t_start) / done * (todo - done)
                print(f"  {done} of {todo} (spec, shape) done; about {left / 60:.1f} min left", flush=True)
            if rec is None:
                rows.append((ir.name, f"D{D}-b{b}", str(len(ranked)), str(pruned), "nothing fits", "-"))
                continue
            records.append(rec)
            save([rec], db)   # each record as it is done: an interrupted run keeps what finished
            c = rec.config
            rows.append((ir.name, rec.bucket, str(len(ranked)), str(rec.pruned),
                         f"tile={c['tile']} warps={c['num_warps']} stages={c['num_stages']} {c.get('precision', 'ieee')}"
                         f"{' ' + forward_label(c) if c.get('kernel') in ('tiled', 'onepass') else ''}"
                         f"{' ' + c['backward'] + '-backward' if c.get('backward', 'generic') != 'generic' else ''}",
                         f"{rec.time_s * 1e3:.2f} ms ({rec.tuner})"))
    header = ("spec", "shape", "tried", "pruned", "best config", "time")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"saved {len(records)} record(s) to {db.path}")
    return 0


@contextlib.contextmanager
def _progress(desc: str) -> Iterator[Callable[..., None]]:
    """Yields a per-candidate step callback (with `set_total(n)` for the number of candidates):
    a tqdm bar with its time estimate on a terminal; in a log (stderr not a terminal, or no tqdm),
    one line per (spec, shape) when it is done instead of carriage returns."""
    bar = None
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm
            bar = tqdm(desc=desc, unit="cand", leave=False)
        except ImportError:
            pass
    count, t0 = 0, time.perf_counter()

    def step(_candidate=None) -> None:
        nonlocal count
        count += 1
        if bar is not None:
            bar.update(1)

    def set_total(n: int) -> None:
        if bar is not None:
            bar.total = n
            bar.refresh()
    step.set_total = set_total
    try:
        yield step
    finally:
        if bar is not None:
            bar.close()
        else:
            print(f"  {desc}: {count} candidate(s) in {time.perf_counter() - t0:.1f} s", flush=True)


def _local_arch() -> str | None:
    import torch

    return device_arch("cuda") if torch.cuda.is_available() else None


