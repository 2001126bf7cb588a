"""Every environment variable the package reads, read here and nowhere else.

| name | default | effect |
|---|---|---|
| `TITANS_SPEC_PATH` | (none) | extra directories searched for `NAME.yaml` specs (os.pathsep-separated), before the shipped ones |
| `TITANS_CACHE_DIR` | the user cache directory (`platformdirs`) | where generated kernel sources are written |
| `TITANS_TUNE_DIR` | the user cache directory | where `tuning.json` lives (`--cache-dir` overrides it) |
| `TITANS_CPU_MATMUL` | `auto` | CPU float32 product route: `auto` (probed once), `default` or `onednn` |
| `TITANS_TORCH_COMPILE` | `auto` | the torch backend's per-chunk steps on CPU through `torch.compile`: `auto` (a shape once its eager steps have taken about a compile's time in the process), `on` (from the first call) or `off` |
| `TITANS_MALLOC` | (unset) | `system` leaves glibc's allocator settings alone (`keep_heap()`) |
| `TITANS_DEBUG` | (unset) | the CLI shows a traceback instead of one line for an internal error |
| `WORLD_SIZE` | `1` | set by `torchrun`: `titans-train` trains data-parallel over this many processes |
| `RANK` | `0` | set by `torchrun`: this process's rank (rank 0 evaluates and writes checkpoints) |
| `LOCAL_RANK` | `0` | set by `torchrun`: the GPU this process uses |
| `TRITON_INTERPRET` | `0` | Triton's interpreter (read by Triton itself; read here to choose interpreter-safe code and to compile ahead of time in a process without it) |

Each value is read when it is asked for, so a process (or a test) that sets a variable sees it
on the next call.
"""
from __future__ import annotations

import os
from pathlib import Path

SPEC_PATH = "TITANS_SPEC_PATH"
CACHE_DIR = "TITANS_CACHE_DIR"
TUNE_DIR = "TITANS_TUNE_DIR"
CPU_MATMUL = "TITANS_CPU_MATMUL"
TORCH_COMPILE = "TITANS_TORCH_COMPILE"
MALLOC = "TITANS_MALLOC"
DEBUG = "TITANS_DEBUG"
INTERPRET = "TRITON_INTERPRET"
WORLD_SIZE, RANK, LOCAL_RANK = "WORLD_SIZE", "RANK", "LOCAL_RANK"


def _user_cache() -> Path:
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("titans-kernels"))


def spec_path() -> list[Path]:
    """The directories of TITANS_SPEC_PATH, in order."""
    return [Path(p) for p in os.environ.get(SPEC_PATH, "").split(os.pathsep) if p]


def cache_dir() -> Path:
    """Where generated kernel sources live."""
    root = os.environ.get(CACHE_DIR)
    return Path(root) if root else _user_cache()


def tune_dir() -> Path:
    """Where the tuning database lives unless a command names one."""
    root = os.environ.get(TUNE_DIR)
    return Path(root) if root else _user_cache()


def cpu_matmul() -> str:
    """The requested CPU product route, lower-cased ("auto" when unset or empty)."""
    return os.environ.get(CPU_MATMUL, "auto").strip().lower() or "auto"


def torch_compile() -> str:
    """The requested torch-backend compile mode, lower-cased ("auto" when unset or empty)."""
    return os.environ.get(TORCH_COMPILE, "auto").strip().lower() or "auto"


def malloc_system() -> bool:
    """True when the user asked to keep glibc's own allocator settings."""
    return os.environ.get(MALLOC, "").strip().lower() == "system"


def debug() -> bool:
    return bool(os.environ.get(DEBUG))


def triton_interpret() -> bool:
    """True when Triton's interpreter is switched on in this process."""
    return os.environ.get(INTERPRET, "0") not in ("", "0")


def _int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    try:
        return int(text) if text else default
    except ValueError:
        raise ValueError(f"{name}={text!r} is not an integer; unset it or launch with torchrun") from None


def world_size() -> int:
    """Processes of a torchrun launch (1 outside one)."""
    return _int(WORLD_SIZE, 1)


def rank() -> int:
    return _int(RANK, 0)


def local_rank() -> int:
    return _int(LOCAL_RANK, 0)


def environ(drop: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment for a subprocess, without the variables in `drop`."""
    return {k: v for k, v in os.environ.items() if k not in drop}
