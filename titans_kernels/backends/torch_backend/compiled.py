"""The torch backend's per-chunk steps through `torch.compile` on CPU.

A chunk's forward (chunk.py `forward`) is a few large matrix products and about 190 small
operators (scalings, concatenations, activations, views), each a pass over a (rows, chunk,
features) block or a dispatch; on a CPU whose products are fast those dominate. Compiling the
step, not the chunk loop (whose unrolled graph takes minutes to compile), fuses the elementwise
work around the products (Inductor), once per shape signature; the products stay library calls.
A forward that keeps nothing for a backward (inference, `torch.no_grad`) compiles UNROLL chunks
per call (`forward_run`): a compiled call costs a fixed few hundred microseconds beyond its
arithmetic (guards, argument handling, its buffers), and one graph over several chunks reuses
its buffers from chunk to chunk while they are still in cache. A forward that keeps its
intermediates and the backward stay one chunk per call. The graphs are built with Inductor's C++
wrapper (`OPTIONS`), which calls a graph's kernels and products from C++ instead of a Python
function; a graph it cannot build is built with the Python wrapper instead (one warning).

Modes (`TITANS_TORCH_COMPILE`): "auto" (the default) compiles the steps of a shape once this
process has spent `AUTO_BUDGET_S` seconds running them eagerly, about what one compile costs:
a one-off call (a check, a test, a short run) never pays a compile it could not earn back, and a
training loop or a benchmark that keeps calling one shape pays it once and then runs compiled
(at most about twice the better choice's time, whatever the number of calls). "on" compiles from
the first call, "off" never. Only CPU float32 steps are compiled; the decision is made per walk
(a forward, or a backward), never inside one. Measured on the development CPU
(`benchmarks/compiled_steps.py`, docs/design.md "Compiled chunk steps"). A compile that
fails is reported once (one warning line) and that step runs eager from then on. `last_path()`
says which ran last: "compiled" or "eager".
"""
from __future__ import annotations

import sys
import warnings
from functools import lru_cache

import torch

from ... import settings
from ...errors import BackendError
from . import chunk as chunk_ops

MODES = ("auto", "on", "off")
AUTO_BUDGET_S = 30.0   # eager seconds on one shape after which "auto" compiles it (about a compile's cost)

OPTIONS = {"cpp_wrapper": True}   # Inductor options of the compiled steps (docs/design.md, "Compiled chunk steps")

_spent: dict[tuple, float] = {}
_failed: set[str] = set()
_wrapper_failed: set[str] = set()   # kinds built with Inductor's defaults after OPTIONS failed
_announced: set[tuple] = set()
_last = {"path": "eager"}


def mode() -> str:
    choice = settings.torch_compile()
    if choice not in MODES:
        raise BackendError(f"TITANS_TORCH_COMPILE={choice!r} is not a mode; set it to one of {', '.join(MODES)}")
    return choice


def decide(ir, n: int, b: int, D: int, device: torch.device, dtype: torch.dtype, infer: bool = False) -> bool:
    """Whether the next walk over chunk steps of (n rows, chunk b, head dim D) runs compiled: CPU
    float32 only; with "auto", once the eager walks of that shape (`spent`) have taken
    AUTO_BUDGET_S seconds in this process. A forward that keeps nothing for a backward (`infer`)
    compiles graphs of its own, so its walks have their own budget: an evaluation after training
    runs eager until it has earned its compile too."""
    if device.type != "cpu" or dtype != torch.float32:
        return False
    choice = mode()
    if choice != "auto":
        return choice == "on"
    return _spent.get((ir, n, b, D, infer), 0.0) >= AUTO_BUDGET_S


def spent(ir, n: int, b: int, D: int, seconds: float, infer: bool = False) -> None:
    """Count an eager walk's seconds toward its shape's compile budget (`infer`: see decide)."""
    key = (ir, n, b, D, infer)
    _spent[key] = _spent.get(key, 0.0) + seconds


_EAGER = {"forward": chunk_ops.forward, "backward": chunk_ops.backward, "chunks": chunk_ops.forward_run}
_LABEL = {"forward": "forward", "backward": "backward", "chunks": "forward"}
UNROLL = 4   # chunks per compiled call of a forward that keeps nothing for a backward
RECOMPILE_LIMIT = 64   # graphs per step kind: one per rule x shape x flags a process uses


@lru_cache(maxsize=None)
def _compiled(kind: str, options: tuple = ()):
    """The compiled step, built with Inductor `options` ((name, value) pairs; none: Inductor's
    defaults), one compiled function per set. Dynamo keeps at most `recompile_limit` graphs per
    function (8 by default) and runs it eagerly, silently, past that; every rule, shape and flag
    set (save, need_out, anchor) of a step is one graph, so a process with a few rules reaches 8.
    The limit is raised (never lowered) to RECOMPILE_LIMIT."""
    import torch._dynamo.config as dynamo_config
    dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, RECOMPILE_LIMIT)
    return torch.compile(_EAGER[kind], dynamic=False, options=dict(options) or None)


def _call_compiled(kind: str, ir, args: tuple, kwargs: dict):
    """The compiled step with OPTIONS; where that raises, with Inductor's defaults from then on."""
    if kind not in _wrapper_failed and OPTIONS:
        try:
            return _compiled(kind, tuple(sorted(OPTIONS.items())))(ir, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the options' failure: retried without them
            _wrapper_failed.add(kind)
            warnings.warn(f"torch backend: compiling the chunk {_LABEL[kind]} with Inductor options {OPTIONS} failed "
                          f"({_first_line(exc)}); it compiles with Inductor's defaults from now on",
                          RuntimeWarning, stacklevel=4)
    return _compiled(kind)(ir, *args, **kwargs)


def _first_line(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


def _announce(kind: str, ir, like: torch.Tensor, kwargs: dict) -> None:
    """One stderr line the first time a step of a new shape compiles (it takes seconds)."""
    key = (kind, ir, tuple(like.shape), tuple(sorted((k, v is None if k == "anchor" else v)
                                                     for k, v in kwargs.items())))
    if key not in _announced:
        _announced.add(key)
        shape = (f"{like.shape[0]} chunk(s) of {tuple(like.shape[1:])} per call" if kind == "chunks"
                 else f"{tuple(like.shape)}")
        print(f"titans-kernels: compiling the torch backend's chunk {_LABEL[kind]} for {ir.name} at {shape} "
              f"(once per shape and process; TITANS_TORCH_COMPILE=off runs eager)", file=sys.stderr, flush=True)


def _under_dispatch_mode() -> bool:
    """Whether a user's torch dispatch mode (a FLOP counter, a tracer) sees this call. The steps
    run eager under one: the compiled ones, once called under such a mode, ran about a third
    slower in every later call of the process."""
    try:
        from torch.utils._python_dispatch import is_in_torch_dispatch_mode
    except ImportError:  # pragma: no cover - a torch without it
        return False
    return is_in_torch_dispatch_mode(include_infra_modes=False)


def _run(kind: str, use: bool, ir, args: tuple, kwargs: dict):
    eager = _EAGER[kind]
    if use and kind not in _failed and not _under_dispatch_mode():
        _announce(kind, ir, args[4] if kind == "backward" else args[1], kwargs)
        try:
            result = _call_compiled(kind, ir, args, kwargs)
            _last["path"] = "compiled"
            return result
        except Exception as exc:  # noqa: BLE001 - any compiler failure: this step runs eager
            _failed.add(kind)
            warnings.warn(f"torch backend: compiling the chunk {_LABEL[kind]} failed ({_first_line(exc)}); "
                          f"it runs eager from now on (TITANS_TORCH_COMPILE=off skips the attempt)",
                          RuntimeWarning, stacklevel=3)
    _last["path"] = "eager"
    return eager(ir, *args, **kwargs)


def forward(use: bool, ir, WS, k, v, q, co, prep, save: bool = False, need_out: bool = True, anchor=None):
    """chunk.forward, compiled when `use` (decide()) and eager otherwise."""
    return _run("forward", use, ir, (WS, k, v, q, co, prep), dict(save=save, need_out=need_out, anchor=anchor))


def forward_run(use: bool, ir, WS, k, v, q, co, prep, anchor=None, tokens=None):
    """chunk.forward_run over a batch of chunks (nothing saved): compiled, UNROLL chunks per call,
    when `use`, else one eager loop. Returns ([out of each chunk], end state)."""
    if not use:
        return _run("chunks", False, ir, (WS, k, v, q, co, prep), dict(anchor=anchor, tokens=tokens))
    outs, count = [], k.shape[0]
    whole = count - count % UNROLL   # then the rest one chunk per call: two graphs per shape at most
    for lo, hi in [(lo, lo + UNROLL) for lo in range(0, whole, UNROLL)] + [(i, i + 1) for i in range(whole, count)]:
        part, WS = _run("chunks", True, ir, (WS, k[lo:hi], v[lo:hi], q[lo:hi], co.part(lo, hi), prep.part(lo, hi)),
                        dict(anchor=anchor, tokens=tokens[lo:hi] if tokens is not None else None))
        outs += part
    return outs, WS


def backward(use: bool, ir, WS, co, sv, last, d_out, dWS_end, anchor=None):
    """chunk.backward, compiled when `use` and eager otherwise."""
    return _run("backward", use, ir, (WS, co, sv, last, d_out, dWS_end), dict(anchor=anchor))


def last_path() -> str:
    """Which ran the last chunk step: "compiled" or "eager"."""
    return _last["path"]


def reset() -> None:
    """Forget the per-shape eager time and the failures (tests)."""
    _spent.clear()
    _failed.clear()
    _wrapper_failed.clear()
