"""NeuralMemory: the Titans long-term memory as a layer, on a compiled update rule.

x (B, T, dim) -> q, k, v by linear projections, a short depthwise causal convolution and SiLU;
q and k l2-normalised per head, v RMS-normalised per head (bounded targets keep the inner
gradient steps stable as the projections grow during training); gates: raw rates
max_lr * sigmoid(.) pass through a causal per-chunk budget (`chunk_lr_budget`: a chunk's rates
sum to less than 1, so its one gradient step on unit keys cannot overshoot, whatever max_lr is),
eta = 0.95 * sigmoid(.), theta scaled by (1 - eta) so that momentum never amplifies the step
(EMA momentum),
alpha = sigmoid(.) from linear projections of the token (per_chunk gates: the projection of the
chunk's first token, so every gate stays causal). The memory starts each sequence from learned
per-head weights W0 and is updated while it reads; the read o_t goes through a per-head RMSNorm,
an output gate and a projection. The default rule (`titans_mlp2_normalized`) forgets toward W0
rather than toward zero: a bias-free MLP memory that decays toward zero reaches the zero fixed
point on long streams and stops learning (tests/test_long_memory.py). It also divides each
token's rate by the memory's curvature bound (`update.step: normalized`), so a deep memory stays
stable at rates large enough to store a pair in one step (max_lr 2 on the recall task).

Streaming: the returned state holds the memory at the last chunk boundary, the raw inputs of an
unfinished chunk, and the convolution history, so that feeding a sequence in pieces of any
length gives exactly the outputs of one call.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import titans_kernels as tk
from titans_kernels.ir import GateMode

from .checks import check_count, check_features, check_positive, check_stream
from .functional import silu_head_norm
from .layers import CausalDepthwiseConv, Linear, RMSNorm


MAX_MOMENTUM = 0.95  # eta <= 0.95 bounds the momentum-amplified step theta / (1 - eta)


def chunk_lr_budget(raw: Tensor, chunk_size: int, mode: GateMode) -> Tensor:
    """Inner learning rates whose sum over any chunk stays below 1. raw: (B, H, T) in (0, max_lr).

    Per token, with R_i the running sum of raw rates since the chunk start (causal):
    theta_i = raw_i / ((1 + R_{i-1}) (1 + R_i)); the sum telescopes to 1 - 1 / (1 + R_C) < 1.
    A chunk's update is one gradient step at its start weights, so this sum bounds the step on
    l2-normalised keys (the largest eigenvalue of sum_i theta_i k_i k_i^T) whatever the keys are,
    and tokens the gates pass over leave their budget to the rest. Per-chunk rates (one raw value
    applied to all C tokens) become raw / (1 + C raw), the same bound.
    """
    if mode is GateMode.PER_CHUNK:
        return raw / (1 + chunk_size * raw)
    B, H, T = raw.shape
    pad = (-T) % chunk_size
    r = F.pad(raw, (0, pad)).view(B, H, -1, chunk_size)
    after = 1 + r.cumsum(-1)
    theta = r / ((after - r) * after)
    return theta.view(B, H, -1)[..., :T]


def _owned(t: Tensor) -> Tensor:
    """t itself, or a copy when t is a view of another tensor."""
    return t.clone() if t._is_view() else t


@dataclass
class NeuralMemoryState:
    memory: tk.MemoryState       # at the last chunk boundary
    pending: Tensor              # (B, P, dim) inputs of the unfinished chunk, P < chunk
    history: Tensor              # (B, conv_kernel - 1, dim) inputs just before `pending`


class NeuralMemory(nn.Module):
    def __init__(self, dim: int, heads: int = 4, dim_head: int | None = None, spec: str = "titans_mlp2_normalized",
                 chunk_size: int | None = None, backend: str = "auto", max_lr: float = 0.01,
                 conv_kernel: int = 4):
        super().__init__()
        check_count("dim", dim)
        check_count("heads", heads)
        if dim_head is not None:
            check_count("dim_head", dim_head)
        if chunk_size is not None:
            check_count("chunk_size", chunk_size)
        check_count("conv_kernel", conv_kernel)
        check_positive("max_lr", max_lr)
        if dim_head is None and dim < heads:
            raise tk.InputError(f"dim={dim} < heads={heads}: each head needs dim // heads >= 1 features "
                                f"(or pass dim_head)")
        self.rule = tk.compile(spec, backend=backend)
        self.rule.check_gate_ranges = False   # sigmoid gates and the chunk budget keep them in range
        ir = self.rule.ir
        self.dim, self.heads = dim, heads
        self.dim_head = D = dim_head or dim // heads
        self.chunk = chunk_size or ir.chunk_size
        self.max_lr = max_lr
        self.conv_kernel = conv_kernel
        inner = heads * D
        self.to_qkv = Linear(dim, 3 * inner, bias=False)
        self.conv = CausalDepthwiseConv(3 * inner, conv_kernel)
        self.gate_modes = [mode for _, mode in ir.gates.items()]
        self.to_gates = Linear(dim, 3 * heads)
        with torch.no_grad():  # lr ~ max_lr / 2, momentum ~ 0.5, decay ~ 0.001 at start
            self.to_gates.bias.copy_(torch.tensor([0.0, 0.0, -6.9]).repeat_interleave(heads))
            self.to_gates.weight.mul_(0.1)
        self.w0 = nn.ParameterList()
        for out_f, in_f in ir.layer_shapes(D):
            bound = 1.0 / math.sqrt(in_f)
            self.w0.append(nn.Parameter(torch.empty(heads, out_f, in_f).uniform_(-bound, bound)))
        self.out_norm = RMSNorm(D)
        self.out_gate = Linear(dim, inner)
        self.out_proj = Linear(inner, dim, bias=False)

    @property
    def ir(self):
        return self.rule.ir

    def initial_state(self, batch: int, device=None, dtype: torch.dtype | None = None) -> NeuralMemoryState:
        """The state before any token: the memory at W0 (float32 whatever the layer's dtype:
        the memory accumulates many small steps), nothing pending, zero convolution history
        (in `dtype`, default the layer's parameters')."""
        device = device or self.w0[0].device
        dtype = dtype or self.to_qkv.weight.dtype
        weights = [w.float().unsqueeze(0).expand(batch, *w.shape) for w in self.w0]
        momentum = [torch.zeros_like(w) for w in weights] if self.ir.gates.has_momentum else None
        anchor = weights if self.ir.decay_to_init else None   # forgetting pulls back toward W0
        return NeuralMemoryState(tk.MemoryState(weights, momentum, anchor),
                                 torch.zeros(batch, 0, self.dim, device=device, dtype=dtype),
                                 torch.zeros(batch, self.conv_kernel - 1, self.dim, device=device, dtype=dtype))

    def _gates(self, x: Tensor) -> list[Tensor | None]:
        B, T, _ = x.shape
        raw = self.to_gates(x).view(B, T, 3, self.heads).permute(2, 0, 3, 1)  # (3, B, H, T)
        eta = MAX_MOMENTUM * torch.sigmoid(raw[1])
        lr = chunk_lr_budget(self.max_lr * torch.sigmoid(raw[0]), self.chunk, self.gate_modes[0])
        if self.gate_modes[1] is not GateMode.NONE:
            lr = lr * (1 - eta)  # EMA momentum: the accumulated step lr / (1 - eta) stays <= max_lr
        vals = [lr, eta, torch.sigmoid(raw[2])]
        out = []
        for val, mode in zip(vals, self.gate_modes):
            if mode is GateMode.NONE:
                out.append(None)
            elif mode is GateMode.PER_CHUNK:
                out.append(val[..., :: self.chunk].contiguous())
            else:
                out.append(val)
        return out

    def read(self, state: NeuralMemoryState, q: Tensor) -> Tensor:
        """f(q; W) with the memory at the state's last chunk boundary, no update. q: (B, H, T, D)."""
        return tk.memory_apply(self.ir, state.memory.weights, q)

    def forward(self, x: Tensor, state: NeuralMemoryState | None = None):
        """x: (B, T, dim) -> (y (B, T, dim), state). Float32 CPU products run on the engine
        `tk.cpu_engine()` picked for this machine."""
        check_features(x, self.dim, "NeuralMemory input")
        if state is not None:
            self._check_state(state, x)
        with tk.matmul_engine(x.device):
            return self._forward(x, state)

    def _check_state(self, state: NeuralMemoryState, x: Tensor) -> None:
        """A carried state continues a stream of this layer, batch and device."""
        if not isinstance(state, NeuralMemoryState):
            raise tk.InputError(f"state: expected the NeuralMemoryState this layer returned, got {type(state).__name__}")
        check_stream(None, state.pending.shape[0], "memory", x.shape[0], "state")
        if state.pending.shape[-1] != self.dim or state.history.shape[1] != self.conv_kernel - 1:
            raise tk.InputError("state comes from another NeuralMemory (different dim or conv_kernel): pass back "
                                "the state this layer returned")
        if state.pending.device != x.device:
            raise tk.InputError(f"state is on {state.pending.device}, input on {x.device}: move one of them")

    def _forward(self, x: Tensor, state: NeuralMemoryState | None):
        B, T, _ = x.shape
        state = state or self.initial_state(B, x.device, x.dtype)
        P = state.pending.shape[1]
        full = torch.cat([state.pending, x], dim=1)
        # silu, then l2-normalised q and k, unit-RMS v (bounded targets keep steps bounded)
        qkv = silu_head_norm(self.conv(self.to_qkv(full), self.to_qkv(state.history)), self.heads)
        # unbind, not three selects: its backward stacks the three gradients into one buffer,
        # where each select's backward zero-fills a buffer of qkv's size and the three are summed
        q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))           # (B, H, T, D) each
        gates = self._gates(full)
        n_full = (full.shape[1] // self.chunk) * self.chunk
        outs, mem = [], state.memory
        if n_full:
            o, mem_next = self.rule(q[:, :, :n_full], k[:, :, :n_full], v[:, :, :n_full],
                                    *self._cut(gates, 0, n_full), state=mem, chunk_size=self.chunk)
            outs.append(o)
        else:
            mem_next = mem
        if n_full < full.shape[1]:
            o, _ = self.rule(q[:, :, n_full:], k[:, :, n_full:], v[:, :, n_full:],
                             *self._cut(gates, n_full, full.shape[1]), state=mem_next, chunk_size=self.chunk)
            outs.append(o)
        o = torch.cat(outs, dim=2)[:, :, P:]                      # (B, H, T, D)
        o = self.out_norm(o).transpose(1, 2).reshape(B, T, -1)
        y = self.out_proj(o * torch.sigmoid(self.out_gate(x)))
        hist_src = torch.cat([state.history, full[:, :n_full]], dim=1)
        # the carried state owns its tensors: views would keep this call's inputs (or the rule's
        # packed buffers) alive, and data-parallel wrappers warn about returned views
        new_state = NeuralMemoryState(mem_next._map(_owned), _owned(full[:, n_full:]),
                                      _owned(hist_src[:, hist_src.shape[1] - (self.conv_kernel - 1):]))
        return y, new_state

    def _cut(self, gates: list[Tensor | None], lo: int, hi: int) -> list[Tensor | None]:
        out = []
        for g, mode in zip(gates, self.gate_modes):
            if g is None:
                out.append(None)
            elif mode is GateMode.PER_CHUNK:
                out.append(g[..., lo // self.chunk: -(-hi // self.chunk)])
            else:
                out.append(g[..., lo:hi])
        return out
