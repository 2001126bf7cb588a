"""The compiler IR: a typed, immutable plan that every backend consumes (backends never read YAML)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..spec import MemorySpec
from .ops import ACTIVATIONS, GRAM_SQUARINGS, LOSSES


class GateMode(str, Enum):
    NONE = "none"
    PER_TOKEN = "per_token"
    PER_CHUNK = "per_chunk"


class ReadMode(str, Enum):
    AFTER_UPDATE = "after_update"
    CHUNK_START = "chunk_start"


@dataclass(frozen=True)
class LayerIR:
    """Linear layer l of the memory MLP: weight (out_mult*D, in_mult*D), then `activation` (None: last)."""

    index: int
    in_mult: int
    out_mult: int
    activation: str | None

    def shape(self, head_dim: int) -> tuple[int, int]:
        return self.out_mult * head_dim, self.in_mult * head_dim

    def gram_side(self, head_dim: int) -> int:
        """Side of the smaller Gram matrix, W W^T or W^T W (the normalized step's norm bound)."""
        return min(self.shape(head_dim))


@dataclass(frozen=True)
class GatesIR:
    lr: GateMode
    momentum: GateMode
    decay: GateMode

    @property
    def has_momentum(self) -> bool:
        return self.momentum is not GateMode.NONE

    @property
    def has_decay(self) -> bool:
        return self.decay is not GateMode.NONE

    def items(self) -> tuple[tuple[str, GateMode], ...]:
        return (("lr", self.lr), ("momentum", self.momentum), ("decay", self.decay))


@dataclass(frozen=True)
class MemoryIR:
    """Everything a backend needs to generate the update rule of one spec."""

    name: str
    spec_hash: str
    layers: tuple[LayerIR, ...]
    activation: str
    residual: bool
    loss: str
    huber_delta: float
    gates: GatesIR
    read: ReadMode
    chunk_size: int
    decay_to_init: bool = False      # forgetting pulls W toward the state's anchor (initial W0)
    normalized_step: bool = False    # token steps scaled by 1 / max(1, kappa_t) (ops.step_scale)
    loss_p: float = 2.0              # exponent of the lp loss (lp only)
    shrink: float = 0.0              # elastic-net soft threshold per token, applied at chunk ends
    out_norm: bool = False           # f(x) = [x +] LN(MLP(x)) (memory.norm: layer; ops.layer_norm)
    window: int = 1                  # Omega rule: step t sums the gradients of tokens t-window+1..t
    muon: bool = False               # per-chunk step: -lr * NewtonSchulz(momentum of the chunk's gradient sum)

    @property
    def loss_param(self) -> float:
        """The loss's parameter as ops.LOSSES' functions take it: Huber's delta, lp's exponent."""
        return self.loss_p if self.loss == "lp" else self.huber_delta

    @property
    def depth(self) -> int:
        return len(self.layers)

    def layer_shapes(self, head_dim: int) -> list[tuple[int, int]]:
        """(out, in) of every weight, like nn.Linear."""
        return [layer.shape(head_dim) for layer in self.layers]

    def state_numel(self, head_dim: int) -> int:
        """Floats of carried state per (batch, head): weights, plus momentum when present."""
        n = sum(o * i for o, i in self.layer_shapes(head_dim))
        return n * (2 if self.gates.has_momentum else 1)

    def macs_per_chunk(self, head_dim: int, chunk_size: int) -> int:
        """Multiply-adds of the dual-form forward for one chunk and head (math page count)."""
        b, total = chunk_size, 0
        moments = 2 if self.gates.has_momentum else 1
        for out_f, in_f in self.layer_shapes(head_dim):
            total += b * out_f * in_f                     # key forward
            total += b * out_f * in_f                     # gradient back through the layer (or E W)
            total += b * out_f * in_f * moments           # read: Q W^T (+ Q S^T)
            total += b * out_f * in_f * moments           # state update W (+ S)
            if self.read is ReadMode.AFTER_UPDATE:
                total += b * b * (in_f + out_f)           # (C * Q K^T) Delta
        first_out, first_in = self.layer_shapes(head_dim)[0]
        total -= b * first_out * first_in                 # no gradient flows past layer 1
        if self.read is ReadMode.CHUNK_START:
            total -= sum(b * o * i * (moments - 1) for o, i in self.layer_shapes(head_dim))
        if self.normalized_step:                          # Gram product and squarings per layer
            for layer in self.layers[1:]:
                o, i = layer.shape(head_dim)
                n = layer.gram_side(head_dim)
                total += o * i * n + GRAM_SQUARINGS * n ** 3
        return total

    def to_dict(self) -> dict:
        """Plain values only (JSON-ready); `MemoryIR.from_dict` rebuilds the same IR."""
        return {"name": self.name, "spec_hash": self.spec_hash,
                "layers": [[l.index, l.in_mult, l.out_mult, l.activation] for l in self.layers],
                "activation": self.activation, "residual": self.residual, "loss": self.loss,
                "huber_delta": self.huber_delta, "gates": [m.value for _, m in self.gates.items()],
                "read": self.read.value, "chunk_size": self.chunk_size, "decay_to_init": self.decay_to_init,
                "normalized_step": self.normalized_step, "loss_p": self.loss_p,
                "shrink": self.shrink, "out_norm": self.out_norm, "window": self.window,
                "muon": self.muon}

    @classmethod
    def from_dict(cls, data: dict) -> "MemoryIR":
        fields = dict(data)
        fields["layers"] = tuple(LayerIR(*layer) for layer in data["layers"])
        fields["gates"] = GatesIR(*(GateMode(m) for m in data["gates"]))
        fields["read"] = ReadMode(data["read"])
        return cls(**fields)

    def describe(self) -> str:
        lines = [f"rule {self.name} (spec hash {self.spec_hash})"]
        for layer in self.layers:
            act = f" -> {layer.activation}" if layer.activation else ""
            lines.append(f"  layer {layer.index}: W ({layer.out_mult}D x {layer.in_mult}D){act}")
        lines.append(f"  residual: {self.residual}; {'output norm: layer; ' if self.out_norm else ''}"
                     f"loss: {self.loss}"
                     + (f" (delta {self.huber_delta})" if self.loss == "huber" else "")
                     + (f" (p {self.loss_p})" if self.loss == "lp" else "")
                     + (f"; summed over a window of {self.window} tokens (Omega)" if self.window > 1 else ""))
        lines.append("  gates: " + ", ".join(f"{k}={v.value}" for k, v in self.gates.items()))
        lines.append(f"  read: {self.read.value}; forgetting toward: {'W0' if self.decay_to_init else 'zero'}; "
                     f"default chunk: {self.chunk_size}")
        step = ("normalized by the curvature bound" if self.normalized_step else
                "muon: per chunk, the orthogonalized momentum of the summed gradients" if self.muon else "gradient")
        lines.append(f"  step: {step}")
        if self.shrink:
            lines.append(f"  retention: soft threshold {self.shrink} per token at each chunk end (elastic net)")
        return "\n".join(lines)


def lower(spec: MemorySpec) -> MemoryIR:
    """Compile a validated spec into the IR."""
    depth, mem = spec.memory.depth, spec.memory
    if mem.activation not in ACTIVATIONS or spec.loss.kind not in LOSSES:
        raise AssertionError("spec was not validated")  # unreachable: validation whitelists both
    widths = [1] + [mem.expansion] * (depth - 1) + [1]
    gate = 2 if ACTIVATIONS[mem.activation].gated else 1   # a gated hidden layer: [W1; W3] stacked
    layers = tuple(
        LayerIR(index=i + 1, in_mult=widths[i], out_mult=widths[i + 1] * (gate if i < depth - 1 else 1),
                activation=mem.activation if i < depth - 1 else None)
        for i in range(depth)
    )
    u = spec.update
    return MemoryIR(
        name=spec.name,
        spec_hash=spec.hash,
        layers=layers,
        activation=mem.activation,
        residual=mem.residual,
        loss=spec.loss.kind,
        huber_delta=float(spec.loss.delta) if spec.loss.kind == "huber" else 0.0,
        gates=GatesIR(GateMode(u.lr), GateMode(u.momentum), GateMode(u.decay)),
        read=ReadMode(u.read),
        chunk_size=spec.chunk_size,
        decay_to_init=u.decay_to == "init",
        normalized_step=u.step == "normalized",
        loss_p=float(spec.loss.p) if spec.loss.kind == "lp" else 2.0,
        shrink=float(u.shrink),
        out_norm=mem.norm == "layer",
        window=spec.loss.window,
        muon=u.step == "muon",
    )
