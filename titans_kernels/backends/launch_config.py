"""Launch configuration of the GPU kernels, shared by the Triton and TileLang backends.

One typed table, `TUNABLES`, declares each field's legal values, its default and the values the
tuners search; the config's checks, the CLI's choices and the tuners' grids all derive from it.
The per-IR defaults, the backward's parameters and the configs known to fault follow it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import InputError

HEAD_DIMS = (16, 32, 64, 128)
CHUNK_SIZES = (16, 32, 64, 128)
MAX_EXPANSION = 4


@dataclass(frozen=True)
class Tunable:
    """One launch-config field: the values a config may hold, its default, and the values the
    tuners try (`search`; `tiled_search` for the tiled kernels where it differs)."""

    values: tuple
    default: object
    search: tuple = ()
    tiled_search: tuple = ()


TUNABLES: dict[str, Tunable] = {
    # tl.dot needs 16 or more; larger tiles are clipped to D and chunk
    "tile": Tunable((16, 32, 64, 128), 32, search=(16, 32, 64)),
    "num_warps": Tunable((1, 2, 4, 8, 16), 4, search=(2, 4, 8), tiled_search=(4, 8)),
    "num_stages": Tunable(tuple(range(1, 9)), 2, search=(1, 2, 3), tiled_search=(1, 2)),
    "precision": Tunable(("ieee", "tf32", "bf16", "bf16x3"), "ieee"),
    "kernel": Tunable(("generic", "tiled", "onepass", "resident"), "generic"),
    "backward": Tunable(("generic", "tiled", "onepass", "resident"), "generic"),
    "fuse": Tunable((True, False), True),
    "in_place": Tunable((False, True), False),
    # the one-pass forward's product groups: the key path's and the state update's precision
    # (None: as `precision`, the read's), and its staged token-side operands
    "key_precision": Tunable((None, "ieee", "tf32", "bf16", "bf16x3"), None),
    "update_precision": Tunable((None, "ieee", "tf32", "bf16", "bf16x3"), None),
    "stage": Tunable((False, True), False),
    # the TileLang resident forward's blocks per head (a thread-block cluster; 1: one block per head;
    # 0: chosen per call from batch x heads against the GPU's SM count)
    "cluster": Tunable((0, 1, 2, 4), 1),
}
KERNELS = TUNABLES["kernel"].values
TILES = TUNABLES["tile"].values
WARP_COUNTS = TUNABLES["num_warps"].values
MAX_STAGES = max(TUNABLES["num_stages"].values)
PRECISION_NAMES = TUNABLES["precision"].values


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_problem(name: str, value) -> str | None:
    legal = TUNABLES[name].values
    if isinstance(legal[0], bool):
        return None if isinstance(value, bool) else f"{name}={value!r} must be true or false"
    if any(isinstance(x, str) for x in legal):
        names = [x for x in legal if x is not None]
        return None if value in legal else (f"{name}={value!r} unknown; use one of {', '.join(names)}"
                                             + (" (or none)" if None in legal else ""))
    if _is_int(value) and value in legal:
        return None
    if legal == tuple(range(legal[0], legal[-1] + 1)):
        return f"{name}={value!r} not supported; use {legal[0]} to {legal[-1]}"
    return f"{name}={value!r} not supported; use one of {', '.join(map(str, legal))}"


def config_problem(cfg: LaunchConfig) -> str | None:
    """What makes a config unusable by any kernel (a field of the wrong type or out of range), as
    "field=value ...; use ...", or None. Checked when a config is built, so a hand-made config or
    a tuning record never reaches a kernel with, e.g., a tile that is not a power of two."""
    for name in TUNABLES:
        problem = _field_problem(name, getattr(cfg, name))
        if problem is not None:
            return problem
    return None


@dataclass(frozen=True)
class LaunchConfig:
    """Launch parameters shared by the Triton and TileLang kernels (the autotuner fills one;
    field defaults from TUNABLES).

    tile: GEMM tile edge inside a program (clipped to the head dim and chunk); for the tiled
    forward, the hidden units per state tile (clipped to the head dim);
    num_warps / num_stages: Triton launch options (TileLang: threads = 32 * num_warps,
    T.Pipelined stages); precision: tl.dot input precision for
    float32 operands ("ieee" exact, "tf32" faster on tensor cores; the tiled forward also takes
    "bf16": operands rounded to bfloat16, float32 accumulation);
    kernel: the Triton forward, "generic" (codegen.py, every IR: products through L2 scratch)
    or "tiled" (tiled.py, depth-2 IRs: the state streamed in hidden tiles, token-side operands
    on chip); backward: the Triton backward, "generic" (codegen.py, launch parameters from
    `backward_config`) or "tiled" (tiled_bwd.py, depth-2 IRs, this config's tile, warps and
    stages) or "onepass" (onepass_bwd.py, the rules the one-pass forward covers: a re-run of each
    checkpoint group's chunk states, then two sweeps over the hidden tiles per chunk with the
    state gradient in place). Every backward follows every forward: they share the checkpoint layout.
    fuse: the tiled forward's read and state update share one pass over the hidden tiles (True;
    read-after-update rules) or run as two (False; see tiled.py); in_place: the tiled forward
    updates one copy of the state, tile by tile behind a barrier, instead of double-buffering
    it (half the state's memory and L2 footprint; off until a GPU has checked and timed it).
    kernel "onepass" (onepass.py; onepass_linear.py for depth 1): one sweep over the hidden tiles per chunk, the state in place; `tile` is
    its hidden tile (a power of two from 16 dividing the hidden width), `precision` its read's
    product precision ("bf16x3": bf16 hi/lo split, near-float32), key_precision / update_precision
    those of the key path and of the state update (None: as `precision`), stage its token-side
    operands staged through scratch (chunk equal to the head dim).
    kernel / backward "resident" are the TileLang backend's: the generic programs with every
    layer's weights (and what else fits) held in shared memory for the whole kernel; cluster
    (TileLang resident forward, depth 2): blocks per head, each holding a slice of the hidden
    units and of the whole state (1: one block per head; 0: the most blocks per head that fit,
    chosen per call from batch x heads against the GPU's SM count)."""

    tile: int = TUNABLES["tile"].default
    num_warps: int = TUNABLES["num_warps"].default
    num_stages: int = TUNABLES["num_stages"].default
    precision: str = TUNABLES["precision"].default
    kernel: str = TUNABLES["kernel"].default
    backward: str = TUNABLES["backward"].default
    fuse: bool = TUNABLES["fuse"].default
    in_place: bool = TUNABLES["in_place"].default
    key_precision: str | None = TUNABLES["key_precision"].default
    update_precision: str | None = TUNABLES["update_precision"].default
    stage: bool = TUNABLES["stage"].default
    cluster: int = TUNABLES["cluster"].default

    def __post_init__(self) -> None:
        problem = config_problem(self)
        if problem is not None:
            raise InputError(f"config {problem}")

    def tile_for(self, D: int, chunk_size: int) -> int:
        return min(self.tile, D, chunk_size)

    def hidden_tile(self, hidden: int, D: int) -> int:
        """Hidden units per state tile of the tiled forward."""
        return min(self.tile, hidden, D)


TritonConfig = LaunchConfig   # the name the Python API has used (README)
DEFAULT_CONFIG = LaunchConfig()

# Launch defaults of the tiled kernels (LaunchConfig's own defaults are the generic kernel's,
# under which the tiled forward's exact products spill most; spill tables: docs/design.md).
TILED_DEFAULTS = {"tile": 16, "num_warps": 8, "num_stages": 1, "precision": "tf32"}


def tiled_config(**fields) -> LaunchConfig:
    """A config for the tiled forward (and, with backward="tiled", the tiled backward): the tiled
    launch defaults (tile 16, 8 warps, 1 stage, tf32 products), with `fields` replacing any of them.
    E.g. tiled_config(backward="tiled"), tiled_config(precision="bf16")."""
    return LaunchConfig(**{"kernel": "tiled", **TILED_DEFAULTS, **fields})


# Launch defaults of the one-pass forward: a 64-unit hidden tile (every product 64 rows wide;
# smaller tiles fault under Triton 3.6, known_fault), 8 warps, tf32 products in every group (the
# error bound at T=8192: docs/design.md, "Product precision by group").
ONEPASS_DEFAULTS = {"tile": 64, "num_warps": 8, "num_stages": 1, "precision": "tf32"}


def onepass_config(**fields) -> LaunchConfig:
    """A config for the one-pass forward: its launch defaults with `fields` replacing any of them,
    e.g. onepass_config(precision="bf16", stage=True)."""
    return LaunchConfig(**{"kernel": "onepass", **ONEPASS_DEFAULTS, **fields})


def triton_release() -> tuple[int, int] | None:
    """(major, minor) of the installed Triton; None without it (or with an unreadable version)."""
    try:
        import triton
        major, minor = triton.__version__.split(".")[:2]
        return int(major), int(minor)
    except (ImportError, ValueError, AttributeError):
        return None


def known_fault(kernel: str, tile: int, num_warps: int, precision: str, D: int, chunk_size: int,
                release: tuple[int, int] | None) -> str | None:
    """Why a launch that compiles is refused on a GPU: configs that the Triton release in use
    miscompiles, so that a tensor-core product reads shared memory out of bounds and the launch
    faults (found with compute-sanitizer; benchmarks/results/gpu/h200-20261204/). `tile` is the
    hidden tile the kernel runs with. None when no fault is known."""
    if release != (3, 6) or precision == "ieee" or max(D, chunk_size) < 64:
        return None
    if kernel == "tiled backward" and tile == 16 and num_warps == 8:
        fix = "num_warps=4 or tile=32"
    elif kernel == "one-pass forward" and tile < 64:
        fix = "hidden tile 64"
    else:
        return None
    return (f"{kernel} with hidden tile {tile}, {num_warps} warps and {precision} products faults under "
            f"Triton 3.6 at D={D}, chunk {chunk_size} (an out-of-bounds shared-memory read in its products); "
            f"use {fix}, or precision='ieee'")


def default_config(ir, release: tuple[int, int] | None = None) -> LaunchConfig:
    """Safe defaults per IR until tuned: the config under which the shipped specs' forward kernels
    spill least at D=64, chunk 64 on sm_90 (ptxas -v) with the Triton release in use (`release`,
    default: the installed one; 3.6 and 3.7 allocate registers differently, so the normalized
    step's default follows the release). The spill tables behind each choice: docs/design.md,
    "Triton backend"; tests/test_triton_releases.py asserts them."""
    if ir.depth == 1 or not ir.gates.has_momentum:
        return LaunchConfig(num_stages=3)
    if ir.normalized_step:
        if (release or triton_release() or (3, 7)) < (3, 7):
            return LaunchConfig(tile=32, num_warps=8, num_stages=2)
        return LaunchConfig(tile=16, num_warps=8, num_stages=1)
    if ir.decay_to_init:
        return LaunchConfig(num_warps=8)
    return DEFAULT_CONFIG


def backward_config(ir, forward: LaunchConfig | None = None) -> LaunchConfig:
    """Launch parameters of the backward kernel, chosen apart from the forward's (tuned or
    default), with the forward's input precision: the backward keeps more values live than the
    forward, so it has its own tile, warps and stages, those that spill least on sm_90 at D=64,
    chunk 64 (docs/design.md). The tiled backward follows its forward's config. The tiled
    forward's "bf16" products become "tf32" here."""
    if ir.depth == 1:
        cfg = LaunchConfig(tile=16, num_stages=2)
    elif ir.decay_to_init and not ir.normalized_step:
        cfg = LaunchConfig(num_stages=3)
    else:
        cfg = DEFAULT_CONFIG
    if forward is None:
        return cfg
    # bf16 products (a forward option) are not used in a backward: tf32 is the nearest
    precision = "tf32" if forward.precision in ("bf16", "bf16x3") else forward.precision
    if forward.backward == "tiled":   # the tiled backward re-runs chunk states with the tiled forward
        return replace(forward, precision=precision, kernel="tiled", key_precision=None, update_precision=None,
                       stage=False)
    if forward.backward == "onepass":
        # the re-run repeats the forward's key path and update at the forward's precisions (the
        # chunk states it recomputes are then the forward's); the backward's products use
        # `precision`, where the bf16 hi/lo split stays (it has one)
        if forward.precision == "bf16x3":
            precision = "bf16x3"
        if forward.kernel == "onepass":
            return replace(forward, precision=precision, key_precision=forward.key_precision or forward.precision,
                           update_precision=forward.update_precision or forward.precision, stage=False)
        rerun = "tf32" if forward.precision == "bf16" else forward.precision
        return onepass_config(backward="onepass", precision=precision, key_precision=rerun, update_precision=rerun)
    return replace(cfg, precision=precision)


def check_shape(expansion: int, D: int, chunk_size: int, backend: str = "triton") -> None:
    """One clear error for shapes the generated kernels (of either GPU backend) do not cover."""
    if D not in HEAD_DIMS:
        raise InputError(f"{backend} backend: head dim D={D} not supported; use one of "
                         f"{', '.join(map(str, HEAD_DIMS))} (or backend='torch')")
    if chunk_size not in CHUNK_SIZES:
        raise InputError(f"{backend} backend: chunk_size={chunk_size} not supported; use one of "
                         f"{', '.join(map(str, CHUNK_SIZES))} (or backend='torch')")
    if expansion > MAX_EXPANSION:
        raise InputError(f"{backend} backend: expansion {expansion} exceeds {MAX_EXPANSION} "
                         f"(or use backend='torch')")


GPU_LOSSES = ("l2", "huber")
GPU_ACTIVATIONS = ("silu", "gelu", "relu", "identity")


def gpu_problem(ir) -> str | None:
    """None when the GPU kernels (Triton and TileLang) can express `ir`, else the field they do
    not cover, as the end of a one-line error."""
    if ir.loss not in GPU_LOSSES:
        return (f"loss.kind '{ir.loss}' (the GPU kernels have {' and '.join(GPU_LOSSES)}; "
                f"backend='torch' runs it)")
    if ir.activation not in GPU_ACTIVATIONS:
        return (f"memory.activation '{ir.activation}' (the GPU kernels have {', '.join(GPU_ACTIVATIONS)}; "
                "backend='torch' runs it)")
    if ir.muon:
        return "update.step 'muon' (the GPU kernels have gradient and normalized steps; backend='torch' runs it)"
    if ir.window > 1:
        return "loss.window (the GPU kernels have no Omega window; backend='torch' runs it)"
    if ir.out_norm:
        return "memory.norm 'layer' (the GPU kernels have no output normalization; backend='torch' runs it)"
    if ir.shrink:
        return "update.shrink (the GPU kernels have no elastic-net retention; backend='torch' runs it)"
    return None


def tiled_supported(ir) -> bool:
    """True when the tiled forward (tiled.py) covers `ir`: depth-2 memories."""
    return ir.depth == 2 and gpu_problem(ir) is None


def onepass_problem(ir) -> str | None:
    """None if the one-pass kernels, forward and backward (onepass.py and onepass_bwd.py;
    onepass_linear.py at depth 1, onepass_deep.py at depth 3) cover `ir`, else the field they do
    not cover."""
    if ir.depth > 3:
        return f"depth {ir.depth} (depths 1 to 3 only)"
    if ir.depth == 3 and ir.decay_to_init:
        return "update.decay_to 'init' at depth 3 (the depth-3 one-pass kernels have no anchor)"
    if ir.depth == 3 and ir.normalized_step:
        return "update.step 'normalized' at depth 3 (the depth-3 one-pass kernels have the plain step)"
    return gpu_problem(ir)


# per forward kernel
PRECISIONS = {"generic": ("ieee", "tf32"), "tiled": ("ieee", "tf32", "bf16"), "onepass": PRECISION_NAMES}
ONEPASS_FIELDS = ("key_precision", "update_precision", "stage")
TILELANG_KERNELS = ("resident",)   # kernel / backward values only the tilelang backend has


def forward_label(config: dict) -> str:
    """The forward kernel a (tuning record's) config dict selects: "generic", "resident", "tiled", or
    "tiled" with its non-default variants, e.g. "tiled(three-pass,in-place)"."""
    if config.get("kernel", "generic") == "onepass":
        groups = [config.get("precision", "tf32"), config.get("key_precision"), config.get("update_precision")]
        label = "/".join(g or groups[0] for g in groups)
        return f"onepass({label}{',staged' if config.get('stage') else ''})"
    if config.get("kernel", "generic") != "tiled":
        return config.get("kernel", "generic")
    variants = [name for name, on in (("three-pass", not config.get("fuse", True)),
                                      ("in-place", config.get("in_place", False))) if on]
    return f"tiled({','.join(variants)})" if variants else "tiled"


def check_kernel(ir, cfg: LaunchConfig) -> None:
    """One clear error for a forward or backward kernel that does not cover `ir`, or a product
    precision that the chosen forward does not have (the fields themselves are checked when the
    config is built)."""
    if cfg.cluster != 1:
        raise InputError(f"config cluster={cfg.cluster} applies to the tilelang backend's resident forward; use "
                         f"backend='tilelang' with kernel='resident' (or cluster=1)")
    for field in ("kernel", "backward"):
        if getattr(cfg, field) in TILELANG_KERNELS:
            raise InputError(f"config {field}='{getattr(cfg, field)}' is a TileLang kernel; use backend='tilelang' "
                             f"(or {field}='generic', 'tiled' or 'onepass')")
    for field in ("kernel", "backward"):
        if getattr(cfg, field) == "tiled" and not tiled_supported(ir):
            raise InputError(f"config {field}='tiled' covers depth-2 memories; spec '{ir.name}' has depth "
                             f"{ir.depth} (use {field}='generic')")
    for field in ("kernel", "backward"):
        if getattr(cfg, field) == "onepass" and onepass_problem(ir):
            raise InputError(f"config {field}='onepass' does not cover spec '{ir.name}': {onepass_problem(ir)} "
                             f"(use {field}='tiled' or 'generic')")
    if cfg.kernel != "onepass":
        for field in ONEPASS_FIELDS:
            if getattr(cfg, field) != TUNABLES[field].default:
                raise InputError(f"config {field}={getattr(cfg, field)!r} applies to kernel='onepass' only "
                                 f"(this config's kernel is '{cfg.kernel}')")
    if cfg.precision not in PRECISIONS[cfg.kernel]:
        raise InputError(f"config precision='{cfg.precision}' not available for the {cfg.kernel} kernel; use one "
                         f"of {', '.join(PRECISIONS[cfg.kernel])}")
