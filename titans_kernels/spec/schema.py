"""Schema (version 1) of a memory spec, and validation of a parsed YAML mapping.

Every field is declared once in `SCHEMA`: its type, default and allowed values. Validation
walks that table, so an unknown key, a wrong type, a value out of range or a misspelt choice
is reported as one line naming the source, the field path, the bad value and what is allowed.
"""
from __future__ import annotations

import difflib
import hashlib
import math
import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from ..errors import SpecError

SCHEMA_VERSION = 1
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")   # it names generated kernels and files

ACTIVATIONS = ("silu", "gelu", "relu", "identity", "swiglu")
LOSSES = ("l2", "huber", "lp", "dot")
LR_MODES = ("per_token", "per_chunk")
GATE_MODES = ("none", "per_token", "per_chunk")
READ_MODES = ("after_update", "chunk_start")
DECAY_TARGETS = ("zero", "init")
STEP_KINDS = ("gradient", "normalized", "muon")
NORMS = ("none", "layer")


@dataclass(frozen=True)
class Field:
    """One scalar field: its Python type, default (None = required) and constraints."""

    kind: type
    default: Any = None
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    floor: float | None = None   # inclusive lower bound of a float (low is exclusive for floats)
    pattern: re.Pattern | None = None
    max_len: int | None = None
    help: str = ""

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        if self.pattern is not None:
            return f"an identifier matching {self.pattern.pattern.rstrip('Z').rstrip(chr(92))}"
        name = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{name} in ({self.low}, {self.high}]" if self.kind is float else f"{name} in [{self.low}, {self.high}]"
        if self.low is not None:
            return f"{name} > {self.low}" if self.kind is float else f"{name} >= {self.low}"
        if self.floor is not None:
            return f"{name} >= {self.floor}"
        return name


SCHEMA: dict[str, Any] = {
    "schema": Field(int, default=SCHEMA_VERSION, choices=(SCHEMA_VERSION,), help="schema version"),
    "name": Field(str, pattern=NAME_PATTERN, help="identifier of the rule"),
    "description": Field(str, default="", max_len=500, help="free text"),
    "memory": {
        "depth": Field(int, default=2, low=1, high=4, help="linear layers; 1 = matrix memory"),
        "expansion": Field(int, default=4, low=1, high=8, help="hidden width = expansion * head_dim"),
        "activation": Field(str, default="silu", choices=ACTIVATIONS),
        "residual": Field(bool, default=False, help="f(x) = x + MLP(x)"),
        "norm": Field(str, default="none", choices=NORMS,
                      help="layer: the MLP's output layer-normalized (no affine), f(x) = [x +] LN(MLP(x))"),
    },
    "loss": {
        "kind": Field(str, default="l2", choices=LOSSES),
        "delta": Field(float, default=1.0, low=0.0, help="Huber threshold (huber only)"),
        "p": Field(float, default=3.0, low=1.0, high=4.0, help="exponent of the lp loss (1/p) sum |r|^p (lp only)"),
        "window": Field(int, default=1, low=1, high=64,
                        help="Omega rule: step t descends the summed loss of tokens t-window+1..t (1: token t)"),
    },
    "update": {
        "lr": Field(str, default="per_token", choices=LR_MODES),
        "momentum": Field(str, default="per_token", choices=GATE_MODES),
        "decay": Field(str, default="per_token", choices=GATE_MODES),
        "read": Field(str, default="after_update", choices=READ_MODES),
        "decay_to": Field(str, default="zero", choices=DECAY_TARGETS,
                          help="forgetting pulls W toward 0, or toward the initial weights W0"),
        "step": Field(str, default="gradient", choices=STEP_KINDS,
                      help="normalized: each token's step divided by max(1, its curvature bound); muon: per chunk, "
                           "the momentum of the summed gradients orthogonalized (Newton-Schulz) is the step"),
        "shrink": Field(float, default=0.0, floor=0.0, help="elastic-net retention: at each chunk end the weights (their "
                        "distance from W0 under decay_to: init) are soft-thresholded by shrink x the chunk's "
                        "tokens; 0: none"),
    },
    "chunk_size": Field(int, default=64, low=1, high=1024, help="default tokens per chunk"),
}


@dataclass(frozen=True)
class MemoryConfig:
    depth: int
    expansion: int
    activation: str
    residual: bool
    norm: str = "none"


@dataclass(frozen=True)
class LossConfig:
    kind: str
    delta: float
    p: float = 3.0
    window: int = 1


@dataclass(frozen=True)
class UpdateConfig:
    lr: str
    momentum: str
    decay: str
    read: str
    decay_to: str = "zero"
    step: str = "gradient"
    shrink: float = 0.0


@dataclass(frozen=True)
class MemorySpec:
    """A validated memory update rule. Build with `parse_spec` / `load_spec`, never by hand."""

    name: str
    description: str
    memory: MemoryConfig
    loss: LossConfig
    update: UpdateConfig
    chunk_size: int
    schema: int = SCHEMA_VERSION
    source: str = "<memory>"

    def to_dict(self) -> dict[str, Any]:
        """The normalised spec as plain data (every default filled in), without its source."""
        data = asdict(self)
        data.pop("source")
        if self.loss.kind != "huber":
            data["loss"].pop("delta")
        if self.loss.kind != "lp":   # keeps hashes of earlier specs stable
            data["loss"].pop("p")
        if self.update.decay_to == "zero":  # the default: keeps hashes of earlier specs stable
            data["update"].pop("decay_to")
        if self.update.step == "gradient":  # likewise
            data["update"].pop("step")
        if self.update.shrink == 0.0:  # likewise
            data["update"].pop("shrink")
        if self.memory.norm == "none":  # likewise
            data["memory"].pop("norm")
        if self.loss.window == 1:  # likewise
            data["loss"].pop("window")
        return data

    @property
    def hash(self) -> str:
        """Short stable hash of everything that changes the computed function (not name/description)."""
        data = self.to_dict()
        for key in ("name", "description"):
            data.pop(key)
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def short(value: Any, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters: a message never echoes a huge value."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping", type(None): "empty"}.get(type(value), type(value).__name__)


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_field(source: str, path: str, field: Field, value: Any) -> Any:
    """Validate one scalar; return it normalised (ints accepted for floats)."""
    ok_type = isinstance(value, field.kind) and not (field.kind is not bool and isinstance(value, bool))
    if field.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok_type = float(value), True
    if field.kind is float and ok_type and not math.isfinite(value):
        raise SpecError(f"{source}: {path}: {short(value)} is not a finite number; expected {field.allowed()}")
    if not ok_type:
        raise SpecError(f"{source}: {path}: {short(value)} is {_type_name(value)}; expected {field.allowed()}")
    if field.choices is not None and value not in field.choices:
        raise SpecError(f"{source}: {path}: {short(value)} is not allowed; expected {field.allowed()}"
                        f"{_suggest(value, field.choices)}")
    if field.max_len is not None and len(value) > field.max_len:
        raise SpecError(f"{source}: {path}: {len(value)} characters; at most {field.max_len}")
    if field.pattern is not None and not field.pattern.match(value):
        raise SpecError(f"{source}: {path}: {short(value)} is not allowed; expected {field.allowed()}")
    if field.kind in (int, float):
        too_low = field.low is not None and (value <= field.low if field.kind is float else value < field.low)
        too_low = too_low or (field.floor is not None and value < field.floor)
        too_high = field.high is not None and value > field.high
        if too_low or too_high:
            raise SpecError(f"{source}: {path}: {short(value)} is out of range; expected {field.allowed()}")
    return value


def _check_section(source: str, prefix: str, table: Mapping[str, Any], data: Any) -> dict[str, Any]:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        where = prefix.rstrip(".") or "the document"
        raise SpecError(f"{source}: {where}: expected a mapping of fields, got {_type_name(data)} {short(data)}")
    for key in data:
        if key not in table:
            raise SpecError(f"{source}: {prefix}{short(key, 40) if not isinstance(key, str) or len(key) > 40 else key}: "
                            f"unknown field; allowed here: {', '.join(table)}{_suggest(str(key)[:40], table)}")
    out: dict[str, Any] = {}
    for key, rule in table.items():
        path = prefix + key
        if isinstance(rule, dict):
            out[key] = _check_section(source, path + ".", rule, data.get(key))
        elif key in data:
            out[key] = _check_field(source, path, rule, data[key])
        elif rule.default is None:
            raise SpecError(f"{source}: {path}: required field is missing; expected {rule.allowed()}")
        else:
            out[key] = rule.default
    return out


def validate(data: Any, source: str = "<memory>") -> MemorySpec:
    """Turn a parsed YAML document into a `MemorySpec`, or raise `SpecError` (one line)."""
    clean = _check_section(source, "", SCHEMA, data)
    if clean["update"]["decay_to"] == "init" and clean["update"]["decay"] == "none":
        raise SpecError(f"{source}: update.decay_to: 'init' needs a decay gate; set update.decay or remove decay_to")
    if clean["memory"]["norm"] != "none" and clean["update"]["step"] == "normalized":
        raise SpecError(f"{source}: memory.norm: the normalized step's curvature bound does not cover an output "
                        "normalization; set update.step: gradient or memory.norm: none")
    if clean["memory"]["activation"] == "swiglu":
        if clean["memory"]["depth"] < 2:
            raise SpecError(f"{source}: memory.activation: swiglu gates a hidden layer; set memory.depth >= 2")
        if clean["update"]["step"] == "normalized":
            raise SpecError(f"{source}: memory.activation: the normalized step's curvature bound covers elementwise "
                            "activations; with swiglu set update.step: gradient")
    if clean["update"]["step"] == "muon":
        upd = clean["update"]
        loose = [f"update.{f}: {upd[f]}" for f, ok in (("read", ("chunk_start",)), ("lr", ("per_chunk",)),
                                                      ("momentum", ("none", "per_chunk")),
                                                      ("decay", ("none", "per_chunk"))) if upd[f] not in ok]
        if loose:
            raise SpecError(f"{source}: update.step: muon orthogonalizes each chunk's whole update, which the dual "
                            f"form carries only with read: chunk_start and per-chunk (or no) gates; "
                            f"change {', '.join(loose)}")
    raw_loss = data.get("loss") or {}
    if clean["loss"]["kind"] != "huber" and "delta" in raw_loss:
        raise SpecError(f"{source}: loss.delta: applies only to loss.kind huber; remove it or set kind: huber")
    if clean["loss"]["kind"] != "lp" and "p" in raw_loss:
        raise SpecError(f"{source}: loss.p: applies only to loss.kind lp; remove it or set kind: lp")
    return MemorySpec(
        name=clean["name"],
        description=clean["description"],
        memory=MemoryConfig(**clean["memory"]),
        loss=LossConfig(**clean["loss"]),
        update=UpdateConfig(**clean["update"]),
        chunk_size=clean["chunk_size"],
        schema=clean["schema"],
        source=source,
    )
