"""CompiledRule: the call contract every backend shares, with input validation."""
from __future__ import annotations

import math
import operator
from typing import Callable

import torch
from torch import Tensor

from ..errors import InputError
from ..ir import GateMode, MemoryIR
from .state import MemoryState, next_history

FLOAT_DTYPES = (torch.float32, torch.bfloat16, torch.float16, torch.float64)
GATE_MEANING = {"lr": "learning rate theta", "momentum": "momentum eta", "decay": "forgetting alpha"}
GATE_RANGES = {"lr": (0.0, math.inf), "momentum": (0.0, 1.0), "decay": (0.0, 1.0)}   # closed; finite
MAX_CHUNK = 1024   # as the spec's chunk_size: one chunk's work grows with its square


def _fmt(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


class CompiledRule:
    """A memory update rule compiled for one backend.

    Call: ``out, state = rule(q, k, v, lr, momentum, decay, state=None, chunk_size=None)`` with
    q, k, v (B, H, T, D); each gate (B, H, T), or (B, H, ceil(T / chunk)) for per_chunk gates,
    or None where the spec declares it `none`. out is (B, H, T, D) in q's dtype.
    """

    backend: str = "?"
    # each gate's values are checked against its range (one reduction and a host sync per gate
    # and call); a caller whose gates are in range by construction may set this False
    check_gate_ranges: bool = True

    def __init__(self, ir: MemoryIR):
        self.ir = ir

    # -- public -------------------------------------------------------------------------
    def __call__(self, q: Tensor, k: Tensor, v: Tensor, lr: Tensor | None = None,
                 momentum: Tensor | None = None, decay: Tensor | None = None, *,
                 state: MemoryState | None = None, chunk_size: int | None = None):
        chunk = self._check_chunk(chunk_size)
        self._check_qkv(q, k, v)
        B, H, T, D = q.shape
        gates = {}
        for name, value in (("lr", lr), ("momentum", momentum), ("decay", decay)):
            gates[name] = self._check_gate(name, value, q, chunk)
        state = self._check_state(state, B, H, D, q)
        # under torch.autocast the rule keeps its own precision policy (products in the inputs'
        # dtype or float32, state and accumulation in float32), not autocast's per-op casts
        with torch.autocast(q.device.type, enabled=False):
            return self._run(q, k, v, gates["lr"], gates["momentum"], gates["decay"], state, chunk)

    def init_state(self, B: int, H: int, D: int, dtype: torch.dtype = torch.float32,
                   device: torch.device | str | None = None,
                   generator: torch.Generator | None = None) -> MemoryState:
        """Random weights (nn.Linear's uniform +-1/sqrt(in) init), zero momentum."""
        weights = []
        for out_f, in_f in self.ir.layer_shapes(D):
            bound = 1.0 / math.sqrt(in_f)
            w = torch.rand(B, H, out_f, in_f, generator=generator, dtype=torch.float64)
            weights.append(((2 * w - 1) * bound).to(dtype=dtype, device=device))
        momentum = [torch.zeros_like(w) for w in weights] if self.ir.gates.has_momentum else None
        anchor = [w.clone() for w in weights] if self.ir.decay_to_init else None
        return MemoryState(weights, momentum, anchor)

    def zero_state(self, B: int, H: int, D: int, dtype: torch.dtype = torch.float32,
                   device: torch.device | str | None = None) -> MemoryState:
        weights = [torch.zeros(B, H, o, i, dtype=dtype, device=device) for o, i in self.ir.layer_shapes(D)]
        momentum = [torch.zeros_like(w) for w in weights] if self.ir.gates.has_momentum else None
        return MemoryState(weights, momentum)

    def __repr__(self) -> str:
        return f"CompiledRule(spec={self.ir.name!r}, backend={self.backend!r})"

    # -- backend hook -------------------------------------------------------------------
    def _run(self, q, k, v, theta, eta, alpha, state: MemoryState, chunk_size: int):
        raise NotImplementedError

    def _apply(self, function, leading: tuple, q, k, v, theta, eta, alpha, state: MemoryState):
        """function.apply(*leading, has_anchor, q, k, v, theta, eta, alpha, *W0, *S0, *anchor) for
        the backends' autograd.Functions, whose outputs are (out, *W_end, *S_end); returns
        (out, end state). The anchor is passed only for rules that forget toward it."""
        anchor = state.anchor if self.ir.decay_to_init else None
        args = (q, k, v, theta, eta, alpha, *state.tensors(), *(anchor or []), *(state.history or []))
        if not torch.is_grad_enabled():   # no backward can follow: the Function keeps nothing for one
            args = tuple(a.detach() if isinstance(a, Tensor) else a for a in args)
        res = function.apply(*leading, anchor is not None, *args)
        L = self.ir.depth
        ends = list(res[1:])
        return res[0], MemoryState(ends[:L], ends[L:] if self.ir.gates.has_momentum else None, anchor,
                                   next_history(self.ir.window, state, k, v))



    # -- validation ---------------------------------------------------------------------
    def _check_chunk(self, chunk_size: int | None) -> int:
        chunk = self.ir.chunk_size if chunk_size is None else chunk_size
        try:   # integer-like values (numpy, 0-d tensors) are accepted; bools and floats are not
            chunk = operator.index(chunk) if not isinstance(chunk, bool) else None
        except TypeError:
            chunk = None
        if chunk is None or not 1 <= chunk <= MAX_CHUNK:
            raise InputError(f"chunk_size={chunk_size!r}: expected an integer from 1 to {MAX_CHUNK}")
        return chunk

    @staticmethod
    def _check_qkv(q: Tensor, k: Tensor, v: Tensor) -> None:
        for name, x in (("q", q), ("k", k), ("v", v)):
            if not isinstance(x, Tensor):
                raise InputError(f"{name}: expected a torch.Tensor of shape (B, H, T, D), got {type(x).__name__}")
            if x.dim() != 4:
                raise InputError(f"{name}: expected shape (B, H, T, D), got {_fmt(x.shape)}")
            if x.dtype not in FLOAT_DTYPES:
                raise InputError(f"{name}: dtype {x.dtype} not supported; use float32, bfloat16, float16 or float64")
        for name, x in (("k", k), ("v", v)):
            if x.shape != q.shape:
                raise InputError(f"{name}: shape {_fmt(x.shape)} differs from q's {_fmt(q.shape)}; q, k, v must match")
            if x.device != q.device:
                raise InputError(f"{name}: on {x.device} but q is on {q.device}; move all inputs to one device")
        if q.shape[2] == 0:
            raise InputError("q: sequence length T is 0; pass at least one token")

    def _check_gate(self, name: str, value: Tensor | None, q: Tensor, chunk_size: int) -> Tensor | None:
        mode = getattr(self.ir.gates, name)
        B, H, T, _ = q.shape
        if mode is GateMode.NONE:
            if value is not None:
                raise InputError(f"{name}: spec '{self.ir.name}' declares {name}: none; pass None")
            return None
        if value is None:
            raise InputError(f"{name}: spec '{self.ir.name}' needs the {GATE_MEANING[name]} gate "
                             f"({mode.value}); got None")
        if not isinstance(value, Tensor) or value.dtype not in FLOAT_DTYPES:
            raise InputError(f"{name}: expected a floating-point torch.Tensor")
        n_chunks = math.ceil(T / chunk_size)
        want = (B, H, T) if mode is GateMode.PER_TOKEN else (B, H, n_chunks)
        if tuple(value.shape) != want:
            what = "one value per token" if mode is GateMode.PER_TOKEN else f"one value per chunk of {chunk_size}"
            raise InputError(f"{name}: expected shape {_fmt(want)} ({mode.value}: {what}), "
                             f"got {_fmt(value.shape)}")
        if value.device != q.device:
            raise InputError(f"{name}: on {value.device} but q is on {q.device}")
        if self.check_gate_ranges and value.numel():
            lo, hi = (float(x) for x in torch.aminmax(value.detach()))
            low, high = GATE_RANGES[name]
            if not (lo >= low and hi <= high and math.isfinite(hi)):   # NaN fails every comparison
                span = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"[{low:g}, inf), finite"
                raise InputError(f"{name}: values from {lo:.4g} to {hi:.4g}; the {GATE_MEANING[name]} must "
                                 f"lie in {span} (rule.check_gate_ranges = False skips this check)")
        if mode is GateMode.PER_CHUNK:
            value = value.repeat_interleave(chunk_size, dim=-1)[..., :T]
        return value

    def _check_state(self, state: MemoryState | None, B: int, H: int, D: int, q: Tensor) -> MemoryState:
        if state is None:
            cdt = torch.float64 if q.dtype == torch.float64 else torch.float32
            return self.zero_state(B, H, D, dtype=cdt, device=q.device)
        if not isinstance(state, MemoryState):
            raise InputError(f"state: expected titans_kernels.MemoryState, got {type(state).__name__}")
        shapes = self.ir.layer_shapes(D)
        if len(state.weights) != len(shapes):
            raise InputError(f"state.weights: {len(state.weights)} tensors, spec '{self.ir.name}' has "
                             f"depth {len(shapes)}")
        groups = [("weights", state.weights)]
        if self.ir.gates.has_momentum:
            if state.momentum is None or len(state.momentum) != len(shapes):
                raise InputError(f"state.momentum: spec '{self.ir.name}' has momentum; pass one tensor "
                                 f"per layer (zeros to start)")
            groups.append(("momentum", state.momentum))
        elif state.momentum:
            raise InputError(f"state.momentum: spec '{self.ir.name}' has no momentum; pass momentum=None")
        if state.anchor is not None:
            if not self.ir.decay_to_init:
                raise InputError(f"state.anchor: spec '{self.ir.name}' forgets toward zero; pass anchor=None "
                                 f"(or set update.decay_to: init)")
            if len(state.anchor) != len(shapes):
                raise InputError(f"state.anchor: one tensor per layer expected, got {len(state.anchor)}")
            groups.append(("anchor", state.anchor))
        if state.history is not None:
            extra = self.ir.window - 1
            if not extra:
                raise InputError(f"state.history: spec '{self.ir.name}' has no Omega window (loss.window 1); "
                                 "pass history=None")
            if len(state.history) != 2 or any(tuple(h.shape) != (B, H, extra, D) for h in state.history):
                raise InputError(f"state.history: expected [keys, values], each of shape {_fmt((B, H, extra, D))}")
            if any(h.dtype not in FLOAT_DTYPES or h.device != q.device for h in state.history):
                raise InputError(f"state.history: expected float tensors on {q.device}")
        for gname, tensors in groups:
            for l, (t, (o, i)) in enumerate(zip(tensors, shapes)):
                if tuple(t.shape) != (B, H, o, i):
                    raise InputError(f"state.{gname}[{l}]: expected shape {_fmt((B, H, o, i))}, "
                                     f"got {_fmt(t.shape)}")
                if t.dtype not in FLOAT_DTYPES or t.device != q.device:
                    raise InputError(f"state.{gname}[{l}]: expected a float tensor on {q.device}")
        return state


_BACKENDS: dict[str, Callable[[MemoryIR], CompiledRule]] = {}


def register(name: str):
    def deco(factory):
        _BACKENDS[name] = factory
        return factory
    return deco


def backend_names() -> list[str]:
    return sorted(_BACKENDS)


def backend_factory(name: str):
    return _BACKENDS.get(name)
