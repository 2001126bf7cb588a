"""The one-pass forward prototype (triton_backend/onepass.py) on CPU: through Triton's
interpreter against the torch backend for every shipped spec it covers, with its pointer, TMA and
staged-operand variants; one-line errors for what it does not cover; the launch configs refused
as known Triton faults."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.triton_backend import launch
from titans_kernels.backends.launch_config import known_fault
from titans_kernels.backends.triton_backend.onepass import onepass_call, onepass_supported
from titans_kernels.errors import InputError
from titans_kernels.testing import random_inputs, rel_error

from conftest import SHIPPED, compare_backends, compare_gradients, representative

COVERED = [n for n in SHIPPED if onepass_supported(tk.lower(tk.load_spec(n))) is None]


@pytest.fixture
def poisoned(monkeypatch):
    """Output buffers start as NaN: any element the kernel fails to write shows up."""
    monkeypatch.setattr(launch, "OUTPUT_FILL", float("nan"))


def _case(name: str, T: int, D: int, chunk: int, dtype=torch.float32, seed: int = 0):
    ref = tk.compile(name, backend="torch")
    g = torch.Generator().manual_seed(seed)
    inputs = random_inputs(ref.ir, 1, 2, T, D, chunk, dtype=dtype, generator=g)
    state = ref.init_state(1, 2, D, generator=g)
    if state.anchor:   # an anchor apart from the starting weights
        state.anchor = [a + 0.1 * torch.randn(a.shape, generator=g) for a in state.anchor]
    return ref, inputs, state


def test_covers_the_paper_default_and_its_gate_variants():
    assert {"titans_mlp2", "titans_mlp2_nomomentum", "titans_mlp2_chunkgates"} <= set(COVERED)
    assert {"titans_mlp2_residual", "titans_mlp2_anchored", "yaad_huber"} <= set(COVERED)
    assert {"titans_mlp2_normalized", "titans_linear", "titans_mlp3"} <= set(COVERED)


@pytest.mark.parametrize("name", COVERED)
def test_matches_torch_backend(name, poisoned):
    """Two full chunks and a ragged one; hidden width 64 in four 16-wide tiles (depth 3: 32 in two),
    updated in place; out and every tensor of the end state."""
    ref, inputs, state = _case(name, T=40, D=16, chunk=16, seed=3)
    want, want_state = ref(*inputs.args(), state=state, chunk_size=16)
    out, end = onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=16, num_warps=4,
                            precision="ieee", key_precision="ieee")
    assert torch.isfinite(out).all()
    assert rel_error(out, want) < 1e-5
    for got, exp in zip(end.tensors(), want_state.tensors(), strict=True):
        assert rel_error(got, exp) < 1e-5


@pytest.mark.parametrize("tma, stage", [(True, False), (False, True), (True, True)], ids=["tma", "stage", "both"])
def test_variants_match_torch_backend(tma, stage, poisoned):
    """The state through tensor descriptors, or the product operands staged through the
    program's scratch: the same function. Hidden tile 32 (two tiles), bf16 inputs."""
    ref, inputs, state = _case("titans_mlp2", T=50, D=16, chunk=16, dtype=torch.bfloat16, seed=5)
    want, want_state = ref(*inputs.args(), state=state, chunk_size=16)
    out, end = onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=32, num_warps=4,
                            precision="ieee", key_precision="ieee", tma=tma, stage=stage)
    assert torch.isfinite(out).all() and rel_error(out, want) < 1e-2   # bf16 output rounding
    for got, exp in zip(end.tensors(), want_state.tensors(), strict=True):
        assert rel_error(got, exp) < 1e-5


def test_uncovered_specs_and_bad_tiles_are_one_line(tmp_path):
    for edits, match in ((DEPTH3_EDITS["anchored"], "update.decay_to 'init' at depth 3"),
                         ({"update": {"step": "normalized"}}, "update.step 'normalized' at depth 3")):
        ref, inputs, state = _case(_edited("titans_mlp3", edits, tmp_path), T=20, D=16, chunk=16)
        with pytest.raises(InputError, match=f"does not cover spec 'edited_rule': {match}"):
            onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=16)
    ref, inputs, state = _case("titans_mlp3", T=20, D=16, chunk=16)
    with pytest.raises(InputError, match="hidden tile 64: a power of two from 16 that divides the hidden width 32"):
        onepass_call(ref.ir, *inputs.args(), state, chunk_size=16)
    ref, inputs, state = _case("titans_mlp2_anchored", T=20, D=16, chunk=16)
    with pytest.raises(InputError, match="forgets towards its initial weights: pass a state with an anchor"):
        onepass_call(ref.ir, *inputs.args(), tk.MemoryState(state.weights, state.momentum), chunk_size=16)
    ref, inputs, state = _case("titans_mlp2", T=20, D=16, chunk=16)
    for hb in (24, 8, 128):
        with pytest.raises(InputError, match=f"hidden tile {hb}: a power of two from 16 that divides"):
            onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=hb)
    ref, inputs, state = _case("titans_mlp2", T=20, D=32, chunk=16)
    with pytest.raises(InputError, match="staged operands need chunk 16 equal to the head dim 32"):
        onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, stage=True)


def test_known_faults_are_refused_for_the_release_that_has_them():
    """The configs compute-sanitizer caught faulting under Triton 3.6 on an H200 (tiled backward:
    tile 16, 8 warps; one-pass forward: hidden tile 32) are refused there, with the fix named;
    exact products, smaller shapes, other warps/tiles and other releases are not."""
    why = known_fault("tiled backward", 16, 8, "tf32", 64, 64, (3, 6))
    assert why and "use num_warps=4 or tile=32" in why and "Triton 3.6" in why
    assert "hidden tile 64" in known_fault("one-pass forward", 32, 4, "bf16", 64, 64, (3, 6))
    for args in [("tiled backward", 16, 8, "tf32", 64, 64, (3, 7)), ("tiled backward", 16, 8, "ieee", 64, 64, (3, 6)),
                 ("tiled backward", 16, 4, "tf32", 64, 64, (3, 6)), ("tiled backward", 32, 8, "bf16", 64, 64, (3, 6)),
                 ("tiled backward", 16, 8, "tf32", 32, 32, (3, 6)), ("one-pass forward", 64, 8, "bf16", 64, 64, (3, 6)),
                 ("tiled forward", 16, 8, "tf32", 64, 64, (3, 6))]:
        assert known_fault(*args) is None, args


def test_product_precisions_round_as_tensor_cores_do():
    """Under the interpreter each product precision's rounding shows in the error against fp32
    products, in the expected order: exact < bf16 hi/lo split < tf32 < bf16."""
    ref, inputs, state = _case("titans_mlp2", T=64, D=16, chunk=16, seed=9)
    want, _ = ref(*inputs.args(), state=state, chunk_size=16)
    err = {}
    for prec in ("ieee", "bf16x3", "tf32", "bf16"):
        out, _ = onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=16, num_warps=4, precision=prec,
                              key_precision=prec)
        err[prec] = rel_error(out, want)
    assert err["ieee"] < 1e-5 < err["bf16x3"] < err["tf32"] < err["bf16"] < 5e-2, err


def test_precision_study_runs_and_writes_its_rows(tmp_path, monkeypatch):
    import importlib
    import json
    import sys
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    study = importlib.import_module("precision_study")
    out = tmp_path / "p.json"
    monkeypatch.setattr(sys, "argv", ["precision_study.py", "--seq", "128", "--config", "ieee/ieee/ieee",
                                      "--config", "bf16/tf32/tf32", "--out", str(out)])
    assert study.main() == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["precision"], r["key_precision"], r["update_precision"]) for r in rows] == [
        ("ieee", "ieee", "ieee"), ("bf16", "tf32", "tf32")]
    assert rows[0]["rel_error_out"] < 1e-5 < rows[1]["rel_error_out"] < 5e-2


def test_precision_study_of_the_gradients(tmp_path, monkeypatch):
    """--gradients: every gradient of the one-pass forward and backward against the torch
    backend's, exact products near float32 rounding, tf32 products about 1e-3."""
    import importlib
    import json
    import sys
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    study = importlib.import_module("precision_study")
    out = tmp_path / "g.json"
    monkeypatch.setattr(sys, "argv", ["precision_study.py", "--gradients", "--seq", "128", "--config",
                                      "float32:ieee/ieee/ieee", "--config", "float32:tf32/tf32/tf32", "--out", str(out)])
    assert study.main() == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["forward"], r["backward"]) for r in rows] == [("ieee/ieee/ieee", "ieee"), ("tf32/tf32/tf32", "tf32")]
    assert set(rows[0]["rel_error"]) == set(study.GRAD_NAMES)
    assert rows[0]["rel_error_max"] < 1e-5 < rows[1]["rel_error_max"] < 5e-3


def test_cost_model_counts_the_floor_work_and_one_state_sweep():
    """titans_mlp2 at D=64, chunk 64: the products are the dual form's multiply-adds plus the one
    recomputed key product per tile; the state is read once and written once per chunk (256 KB
    each way), the tokens add a small fraction; the precision split follows the groups."""
    from titans_kernels.backends.triton_backend.onepass import onepass_cost
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    cost = onepass_cost(ir, 64, 64, precision="bf16", key_precision="tf32", update_precision="tf32")
    assert cost["macs"] - cost["recomputed_macs"] == ir.macs_per_chunk(64, 64)
    assert cost["state_bytes"] == 256 * 1024
    assert cost["l2_state_read_bytes"] == cost["l2_state_write_bytes"] == cost["state_bytes"]
    assert cost["l2_token_read_bytes"] < 0.15 * cost["state_bytes"]   # q, k, next k, v, gates: 33 KB
    assert cost["macs_by_precision"]["bf16"] == cost["macs_by_group"]["read"]
    assert cost["macs_by_precision"]["tf32"] == cost["macs_by_group"]["key"] + cost["macs_by_group"]["update"]
    assert cost["products"] == 4 * 14 + 2
    nomom = onepass_cost(tk.lower(tk.load_spec("titans_mlp2_nomomentum")), 64, 64)
    assert nomom["state_bytes"] == 128 * 1024 and nomom["products"] == 4 * 10 + 2
    # the anchor adds one read of itself and two read products per tile; a chunk-start read has
    # no mixing terms: two read products per tile, and no Q K^T
    anchored = onepass_cost(tk.lower(tk.load_spec("titans_mlp2_anchored")), 64, 64)
    assert anchored["l2_anchor_read_bytes"] == 128 * 1024 and anchored["products"] == 4 * 16 + 2
    assert cost["l2_anchor_read_bytes"] == 0
    yaad = tk.lower(tk.load_spec("yaad_huber"))
    start = onepass_cost(yaad, 64, 64)
    assert start["macs"] - start["recomputed_macs"] == yaad.macs_per_chunk(64, 64)
    assert start["macs_by_group"]["read"] == 4 * 2 * 64 ** 3
    # the normalized step adds a Gram product per tile and four squarings per chunk
    normalized = onepass_cost(tk.lower(tk.load_spec("titans_mlp2_normalized")), 64, 64)
    assert normalized["macs"] - anchored["macs"] == 4 * 64 ** 3 + 4 * 64 ** 3
    assert normalized["products"] == anchored["products"] + 4 + 4


def test_each_state_tile_is_loaded_then_stored_once_per_chunk(monkeypatch):
    """The in-place order the kernel relies on, from a log of every state-tile access under the
    interpreter: after the prologue's key sweep, each tile (layer, W or S, hidden offset) is read
    once and then written once per chunk, its write after its read and before the next chunk's
    read; no tile is written twice or read twice in a row."""
    import titans_kernels.backends.triton_backend.onepass as op
    log = []
    for name in ("_load0", "_store0", "_load1", "_store1"):
        original = getattr(op, name)

        def logged(*args, _original=original, _name=name):
            log.append((_name[1:-1], _name[-1], int(args[2]), int(args[3])))   # load/store, layer, h0, W/S
            return _original(*args)
        monkeypatch.setattr(op, name, logged)
    ref = tk.compile("titans_mlp2", backend="torch")
    g = torch.Generator().manual_seed(4)
    inputs = random_inputs(ref.ir, 1, 1, 40, 16, 16, generator=g)   # one row, three chunks, four tiles
    state = ref.init_state(1, 1, 16, generator=g)
    op.onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=16, num_warps=4, precision="ieee",
                    key_precision="ieee")
    by_tile: dict[tuple, list[str]] = {}
    for kind, layer, h0, which in log:
        by_tile.setdefault((layer, h0, which), []).append(kind)
    assert len(by_tile) == 2 * 4 * 2
    for (layer, h0, which), kinds in by_tile.items():
        prologue = ["load"] if which == 0 else []      # the first chunk's key sweep reads W only
        assert kinds == prologue + ["load", "store"] * 3, ((layer, h0, which), kinds)


def test_shapes_and_precisions_it_does_not_cover_are_one_line():
    ref, inputs, state = _case("titans_mlp2", T=20, D=16, chunk=16)
    with pytest.raises(InputError, match="one-pass forward backend: chunk_size=24 not supported"):
        onepass_call(ref.ir, *inputs.args(), state, chunk_size=24, hb=16)
    with pytest.raises(InputError, match="update_precision='fp8': use one of ieee, tf32, bf16, bf16x3"):
        onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=16, update_precision="fp8")


# The one-pass forward as a launch config of the Triton backend (kernel="onepass"): the rule's
# forward, its checkpoints for either backward, and its config checks.

@pytest.mark.parametrize("name", COVERED)
def test_config_forward_matches_torch_backend(name, poisoned):
    """tk.compile(..., config=onepass_config(...)): out and end state against the torch backend,
    two batches, a ragged final chunk."""
    from titans_kernels.backends.launch_config import onepass_config
    compare_backends(name, "triton", B=2, H=1, T=40, D=16, chunk=16, seed=7,
                     config=onepass_config(tile=16, num_warps=4, precision="ieee"))


_SLOW = pytest.mark.slow
# by default the tiled backward (the faster under the interpreter); the generic one reads the same
# checkpoints (test_checkpoints_are_the_group_start_states) and runs in the slow set
_CHECKPOINT_CASES = [("titans_mlp2_anchored", "tiled", 2),
                     pytest.param("titans_mlp2_residual", "tiled", 2, marks=_SLOW),
                     pytest.param("yaad_huber", "tiled", 2, marks=_SLOW),
                     pytest.param("yaad_huber", "generic", 3, marks=_SLOW),
                     pytest.param("titans_mlp2_anchored", "generic", 3, marks=_SLOW),
                     pytest.param("titans_mlp2", "generic", 3, marks=_SLOW),
                     pytest.param("titans_mlp2", "generic", 2, marks=_SLOW),
                     pytest.param("titans_mlp2", "tiled", 3, marks=_SLOW),
                     pytest.param("titans_mlp2_residual", "generic", 3, marks=_SLOW),
                     pytest.param("titans_mlp2_nomomentum", "generic", 3, marks=_SLOW),
                     pytest.param("titans_mlp2_nomomentum", "tiled", 2, marks=_SLOW)]


@pytest.mark.parametrize("name, backward, group", _CHECKPOINT_CASES)
def test_checkpoints_feed_either_backward(name, backward, group, poisoned):
    """The forward writes the state at each checkpoint group's start (groups of 2 over 4 chunks,
    or of 3 over 4: a short first group); the backward kernels re-run from them and every
    gradient matches the torch backend's."""
    from titans_kernels.backends.launch_config import onepass_config
    compare_gradients(name, "triton", T=56, chunk=16, checkpoint_group=group,
                      config=onepass_config(tile=16, num_warps=4, precision="ieee", backward=backward))


def test_checkpoints_are_the_group_start_states():
    """The checkpoint buffer holds exactly the generic forward's group-start states."""
    from titans_kernels.backends.launch_config import TritonConfig, onepass_config
    ref, inputs, state = _case("titans_mlp2", T=88, D=16, chunk=16, seed=8)   # 6 chunks
    ir = ref.ir
    n = 2
    flat = launch.flatten_state(ir, state.weights, state.momentum, n)
    rows = [x.reshape(n, 88, 16).contiguous() for x in inputs.args()[:3]]
    gates = [g.reshape(n, 88).contiguous() if g is not None else None for g in inputs.args()[3:]]
    _, _, want = launch.run_forward(ir, *rows, *gates, flat, 16, TritonConfig(tile=16), 4)
    _, _, got = launch.run_forward_onepass(ir, *rows, *gates, flat, 16, onepass_config(tile=16, num_warps=4,
                                                                                       precision="ieee"), 4)
    assert got.shape == want.shape == (n, 2, flat.shape[1])
    assert rel_error(got, want) < 1e-5


@pytest.mark.parametrize("spec, fields, match", [
    ("moneta", {}, "backend 'triton' does not cover spec 'moneta': loss.kind 'lp'"),
    ("titans_mlp2", dict(kernel="generic", stage=True), "stage=True applies to kernel='onepass' only"),
    ("titans_mlp2", dict(kernel="tiled", key_precision="bf16"), "key_precision='bf16' applies to kernel='onepass'"),
    ("titans_mlp2", dict(tile=128), "hidden tile 128: a power of two from 16 that divides the hidden width 64"),
    ("titans_mlp2", dict(stage=True, tile=16), "staged operands need chunk 16 equal to the head dim 32"),
])
def test_config_errors_are_one_line(spec, fields, match):
    """Before any launch."""
    from titans_kernels.backends.launch_config import onepass_config
    D = 32 if fields.get("stage") else 16
    ref, inputs, state = _case(spec, T=16, D=D, chunk=16)
    with pytest.raises(InputError, match=match):
        cfg = onepass_config(**{"tile": 16, **fields})
        tk.compile(spec, backend="triton", config=cfg)(*inputs.args(), state=state, chunk_size=16)


def test_config_fields_and_labels():
    from titans_kernels.backends.launch_config import backward_config, forward_label, onepass_config
    from dataclasses import asdict
    with pytest.raises(InputError, match="config update_precision='fp8' unknown; use one of ieee, tf32, bf16, "
                                         r"bf16x3 \(or none\)"):
        onepass_config(update_precision="fp8")
    cfg = onepass_config(precision="bf16", key_precision="tf32", stage=True)
    assert forward_label(asdict(cfg)) == "onepass(bf16/tf32/bf16,staged)"
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    for backward in ("generic", "tiled"):   # the backward's own config: no one-pass fields, no bf16
        bwd = backward_config(ir, onepass_config(precision="bf16x3", stage=True, backward=backward))
        assert bwd.precision == "tf32" and not bwd.stage and bwd.key_precision is None
        assert bwd.kernel != "onepass"


# The one-pass backward (backward="onepass", onepass_bwd.py): a re-run of each checkpoint group's
# chunk states and residuals, then two sweeps over the hidden tiles per chunk, dW in place.

ONEPASS_BWD = dict(tile=16, num_warps=4, precision="ieee", backward="onepass")


@pytest.mark.parametrize("name", representative(COVERED, ("titans_mlp2_anchored", "yaad_huber", "titans_mlp3")))
def test_backward_matches_torch_backend(name, poisoned):
    """Gradients of q, k, v, every gate and every tensor of the initial state (and the anchor)
    against the torch backend: four chunks, the last ragged, in checkpoint groups of 1 and 3;
    hidden width 64 in four tiles of 16; every gradient element written (NaN-filled buffers)."""
    from titans_kernels.backends.launch_config import onepass_config
    compare_gradients(name, "triton", T=56, chunk=16, checkpoint_group=3, config=onepass_config(**ONEPASS_BWD))


@pytest.mark.parametrize("name", representative(["titans_mlp2_normalized", "yaad_huber", "titans_mlp2"],
                                                ("titans_mlp2_normalized",)))
def test_forward_and_backward_with_steep_keys(name, poisoned):
    """Keys growing in norm and doubled weights: the normalized step's kappa ranges from about 1
    to 100 (its sums over hidden tiles, taken in the look-ahead), Huber clips about a third of
    the residuals; out and end state, then every gradient in groups of 2 over four chunks."""
    from titans_kernels.backends.launch_config import onepass_config
    compare_backends(name, "triton", 2, 1, 56, 16, 16, seed=7, steep=True,
                     config=onepass_config(tile=16, num_warps=4, precision="ieee"))
    compare_gradients(name, "triton", T=56, chunk=16, steep=True, checkpoint_group=2,
                      config=onepass_config(**ONEPASS_BWD))


# Depth 1 (onepass_linear.py): the (D, D) state in registers for the whole sequence

DEPTH1_EDITS = {
    "anchored_normalized_huber": {"update": {"decay_to": "init", "step": "normalized"},
                                  "loss": {"kind": "huber", "delta": 0.5}},
    "residual_chunk_start_plain": {"update": {"read": "chunk_start", "momentum": "none", "decay": "none"},
                                   "memory": {"residual": True}},
}


def _edited(name: str, edits: dict, tmp_path) -> str:
    import copy

    import yaml
    data = copy.deepcopy(yaml.safe_load(open(tk.list_specs()[name])))
    data["name"] = "edited_rule"
    for section, fields in edits.items():
        data[section].update(fields)
    path = tmp_path / "edited_rule.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize("edits", [None, "anchored_normalized_huber",
                                   pytest.param("residual_chunk_start_plain", marks=pytest.mark.slow)],
                         ids=["titans_linear", *DEPTH1_EDITS])
def test_depth1_forward_and_backward(edits, tmp_path, poisoned):
    """titans_linear, and depth-1 rules with the fields it leaves at one value (an anchor, the
    normalized step, Huber; a residual, the read at the chunk start, no momentum or decay): out and
    end state, then every gradient in checkpoint groups of 1 and 3 over four chunks (the last
    ragged), steep keys so that kappa and Huber's clipping act."""
    from titans_kernels.backends.launch_config import onepass_config
    spec = "titans_linear" if edits is None else _edited("titans_linear", DEPTH1_EDITS[edits], tmp_path)
    compare_backends(spec, "triton", 2, 1, 40, 16, 16, seed=7, steep=True,
                     config=onepass_config(num_warps=4, precision="ieee"))
    compare_gradients(spec, "triton", T=56, chunk=16, steep=True, checkpoint_group=3,
                      config=onepass_config(num_warps=4, precision="ieee", backward="onepass"))


# Depth 3 (onepass_deep.py): the forward and the backward.
DEPTH3_EDITS = {
    "plain_residual_chunk_start": {"update": {"read": "chunk_start", "momentum": "none", "decay": "none"},
                                   "memory": {"residual": True}},
    "huber_silu": {"loss": {"kind": "huber", "delta": 0.5}, "memory": {"activation": "silu"}},
    "anchored": {"update": {"decay_to": "init"}},   # not covered: one line (test_uncovered_specs_...)
}


@pytest.mark.parametrize("edits", [None, "plain_residual_chunk_start",
                                   pytest.param("huber_silu", marks=pytest.mark.slow)])
def test_depth3_forward_and_checkpoints(edits, tmp_path, poisoned):
    """titans_mlp3 (gelu, momentum, decay, read after the update) and depth-3 rules with the fields
    it leaves at one value: out and end state at hidden width 32 in two tiles of 16, two batches, a
    ragged final chunk; then every gradient through the one-pass backward (onepass_deep.py: each
    chunk recomputed from its re-run start state) in checkpoint groups of 3 over four chunks, and
    for titans_mlp3 through the generic backward from the same checkpoints; steep keys so that
    Huber's clipping acts."""
    from titans_kernels.backends.launch_config import onepass_config
    spec = "titans_mlp3" if edits is None else _edited("titans_mlp3", DEPTH3_EDITS[edits], tmp_path)
    cfg = onepass_config(tile=16, num_warps=4, precision="ieee")
    compare_backends(spec, "triton", 2, 1, 40, 16, 16, seed=11, steep=True, config=cfg)
    compare_gradients(spec, "triton", T=56, chunk=16, steep=True, checkpoint_group=3,
                      config=replace(cfg, backward="onepass"))
    if edits is None:   # the generic backward reads the same checkpoints
        compare_gradients(spec, "triton", T=56, chunk=16, steep=True, checkpoint_group=3, config=cfg)


def test_depth3_state_tiles_are_read_then_written_once_per_chunk(monkeypatch):
    """The in-place order of the depth-3 forward, from a log of every state-tile access under the
    interpreter (tiles told apart by address): per chunk, each weight tile is read by the key path
    (W0 once, W1 and W2 twice: forward and back) and once more by the read, each momentum tile
    once, then written once, after all of that chunk's reads and before the next chunk's."""
    import titans_kernels.backends.triton_backend.onepass_deep as deep
    log = []
    for name in ("_load_state", "_store_state"):
        original = getattr(deep, name)

        def logged(ptr, *rest, _original=original, _kind=name[1:].split("_")[0]):
            log.append((_kind, int(ptr.handle.data.min())))
            return _original(ptr, *rest)
        monkeypatch.setattr(deep, name, logged)
    ref, inputs, state = _case("titans_mlp3", T=40, D=16, chunk=16, seed=4)   # three chunks, 2 x 2 tiles
    inputs = type(inputs)(*(x[:, :1] if x is not None else None for x in inputs.args()))   # one row
    state = tk.MemoryState([w[:, :1] for w in state.weights], [s[:, :1] for s in state.momentum])
    onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=16, num_warps=4, precision="ieee",
                 key_precision="ieee")
    by_tile: dict[int, list[str]] = {}
    for kind, address in log:
        by_tile.setdefault(address, []).append(kind)
    per_chunk = sorted(tuple(kinds[: len(kinds) // 3]) for kinds in by_tile.values())
    assert len(by_tile) == 2 * (2 + 4 + 2)                          # W and S: 2 + 4 + 2 tiles of 16 x 16
    for kinds in by_tile.values():
        assert kinds == kinds[: len(kinds) // 3] * 3                 # the same order in every chunk
    assert per_chunk == sorted([("load", "store")] * 8 + [("load", "load", "store")] * 2
                               + [("load", "load", "load", "store")] * 6), per_chunk


@pytest.mark.parametrize("edits", [None, "plain_residual_chunk_start"])
def test_depth3_cost_model_counts_the_kernels_products(edits, tmp_path, monkeypatch):
    """The depth-3 forward's cost model against the kernel itself: every product of one chunk
    counted under the interpreter (multiply-adds by the precision it runs at, and products), with
    a different precision per group, for titans_mlp3 and a rule without momentum, decay or the
    mixing terms; hidden width 32 in two tiles of 16."""
    import titans_kernels.backends.triton_backend.onepass_deep as deep
    from titans_kernels.backends.triton_backend.onepass import onepass_cost
    counted: dict[str, int] = {}
    products = []
    original = deep._mmp

    def counting(a, b, prec):
        counted[str(prec)] = counted.get(str(prec), 0) + int(a.shape[0] * a.shape[1] * b.shape[1])
        products.append(1)
        return original(a, b, prec)
    monkeypatch.setattr(deep, "_mmp", counting)
    spec = "titans_mlp3" if edits is None else _edited("titans_mlp3", DEPTH3_EDITS[edits], tmp_path)
    ref, inputs, state = _case(spec, T=16, D=16, chunk=16)
    inputs = type(inputs)(*(x[:, :1] if x is not None else None for x in inputs.args()))   # one row, one chunk
    state = tk.MemoryState([w[:, :1] for w in state.weights],
                           [s[:, :1] for s in state.momentum] if state.momentum else None)
    onepass_call(ref.ir, *inputs.args(), state, chunk_size=16, hb=16, num_warps=4, precision="ieee",
                 key_precision="tf32", update_precision="bf16")
    cost = onepass_cost(ref.ir, 16, 16, hb=16, precision="ieee", key_precision="tf32", update_precision="bf16")
    assert counted == cost["macs_by_precision"] and len(products) == cost["products"], (counted, cost)


@pytest.mark.parametrize("edits", [None, "plain_residual_chunk_start"])
def test_depth3_backward_cost_model_counts_the_kernels_products(edits, tmp_path, monkeypatch):
    """The depth-3 backward's cost model against the kernel: the products of one chunk's backward
    (its forward recomputed, then walked back) counted under the interpreter, multiply-adds and
    products, hidden width 32 in two tiles of 16."""
    import titans_kernels.backends.triton_backend.onepass_deep as deep
    from titans_kernels.backends.launch_config import onepass_config
    counted = {"macs": 0, "products": 0}
    original = deep._mmp

    def counting(a, b, prec):
        counted["macs"] += int(a.shape[0] * a.shape[1] * b.shape[1])
        counted["products"] += 1
        return original(a, b, prec)
    monkeypatch.setattr(deep, "_mmp", counting)
    spec = "titans_mlp3" if edits is None else _edited("titans_mlp3", DEPTH3_EDITS[edits], tmp_path)
    rule = tk.compile(spec, backend="triton", config=onepass_config(tile=16, num_warps=4, precision="ieee",
                                                                    backward="onepass"))
    g = torch.Generator().manual_seed(0)
    inputs = random_inputs(rule.ir, 1, 1, 16, 16, 16, generator=g)   # one row, one chunk: no re-run
    leaves = [t.requires_grad_() for t in inputs.tensors()]
    out, _ = rule(*inputs.args(), state=rule.init_state(1, 1, 16, generator=g), chunk_size=16)
    counted.update(macs=0, products=0)
    torch.autograd.grad(out.square().sum(), leaves)
    cost = deep.deep_backward_cost(rule.ir, 16, 16, hb=16, precision="ieee")
    assert (counted["macs"], counted["products"]) == (cost["macs"], cost["products"]), (counted, cost)


def test_depth3_cost_model_and_tiles():
    """The depth-3 forward's figures at D=64, chunk 64 (hidden 128 in two tiles of 64): the
    multiply-adds of the math page's count, every weight read twice and the momentum
    once per chunk, each (64, 128) activation written once to scratch; the tile size changes the
    traffic, not the work."""
    from titans_kernels.backends.triton_backend.onepass import onepass_cost
    ir = tk.lower(tk.load_spec("titans_mlp3"))
    c64, c32 = onepass_cost(ir, 64, 64, hb=64), onepass_cost(ir, 64, 64, hb=32)
    shapes = ir.layer_shapes(64)
    weights = sum(o * i for o, i in shapes) * 4
    assert c64["l2_state_read_bytes"] == ir.state_numel(64) * 4 + weights == 384 * 1024
    assert c64["l2_state_write_bytes"] == ir.state_numel(64) * 4
    assert c64["l2_scratch_write_bytes"] == 8 * 64 * 128 * 4
    assert c32["l2_scratch_read_bytes"] > c64["l2_scratch_read_bytes"] and c32["macs"] == c64["macs"]
    assert c64["macs"] == ir.macs_per_chunk(64, 64)   # the math page's count
    assert c64["products"] == 56 and c64["activations"] == 6 * 64 * 128


@pytest.mark.parametrize("dtype, tol", [(torch.bfloat16, 1e-2), pytest.param(torch.float16, 2e-3, marks=pytest.mark.slow)])
def test_backward_half_precision_inputs(dtype, tol, poisoned):
    """q, k, v in bfloat16 or float16 (their gradients too); the torch backend on float32 copies."""
    from titans_kernels.backends.launch_config import onepass_config
    compare_gradients("titans_mlp2", "triton", T=40, chunk=16, checkpoint_group=2, dtype=dtype, tol=tol,
                      config=onepass_config(**ONEPASS_BWD))


@pytest.mark.slow   # the checkpoint layout every forward shares: test_checkpoints_are_the_group_start_states
@pytest.mark.parametrize("forward", ["generic", "tiled"])
def test_backward_from_the_other_forwards(forward, poisoned):
    """The one-pass backward reads any forward's checkpoints (the shared layout)."""
    from titans_kernels.backends.launch_config import LaunchConfig
    compare_gradients("titans_mlp2_residual", "triton", T=56, chunk=16, checkpoint_group=2,
                      config=LaunchConfig(tile=16, kernel=forward, backward="onepass"))


@pytest.mark.slow
def test_backward_at_the_default_precisions(poisoned):
    """The one-pass launch defaults (tf32 products in every group, one 64-wide hidden tile)."""
    from titans_kernels.backends.launch_config import onepass_config
    compare_gradients("titans_mlp2_anchored", "triton", T=56, chunk=16, checkpoint_group=3, tol=5e-3,
                      config=onepass_config(backward="onepass"))


def test_each_gradient_tile_is_updated_in_place_in_order(monkeypatch):
    """The in-place order the backward relies on, from a log of every access to the state
    gradient's tiles under the interpreter: per chunk, last first, sweep B loads each tile (W and
    S of both layers) and then stores it, and sweep C adds the key path's part to the W tiles;
    no tile is touched out of that order."""
    import titans_kernels.backends.triton_backend.onepass_bwd as ob
    from titans_kernels.backends.launch_config import onepass_config
    log = []
    for kind in ("load", "store", "add"):
        original = getattr(ob, f"_dw_{kind}")

        def logged(*args, _original=original, _kind=kind):
            log.append((_kind, int(args[2]), int(args[1]), int(args[3])))   # kind, layer, h0, W/S
            return _original(*args)
        monkeypatch.setattr(ob, f"_dw_{kind}", logged)
    rule = tk.compile("titans_mlp2", backend="triton", config=onepass_config(**ONEPASS_BWD))
    g = torch.Generator().manual_seed(4)
    inputs = random_inputs(rule.ir, 1, 1, 40, 16, 16, generator=g)   # one row, three chunks, four tiles
    state = rule.init_state(1, 1, 16, generator=g)
    state.weights = [w.requires_grad_() for w in state.weights]
    out, end = rule(*inputs.args(), state=state, chunk_size=16)
    out.sum().backward()
    by_tile: dict[tuple, list[str]] = {}
    for kind, layer, h0, which in log:
        by_tile.setdefault((layer, h0, which), []).append(kind)
    assert len(by_tile) == 2 * 4 * 2
    for (layer, h0, which), kinds in by_tile.items():
        per_chunk = ["load", "store"] + (["add"] if which == 0 else [])
        assert kinds == per_chunk * 3, ((layer, h0, which), kinds)


def test_backward_cost_model():
    """titans_mlp2 at D=64, chunk 64: 33 products per hidden tile (28 in sweep B, 5 in sweep C) and
    10 per chunk; the chunk-start state read once and its W again in sweep C (384 KB), the state
    gradient read and written as much, in place; the backward's new products about twice the
    forward's dual-form work, as a gradient's are."""
    from titans_kernels.backends.triton_backend.onepass_bwd import onepass_backward_cost
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    cost = onepass_backward_cost(ir, 64, 64)
    assert cost["products"] == 4 * 33 + 10
    assert cost["l2_state_read_bytes"] == cost["l2_grad_read_bytes"] == cost["l2_grad_write_bytes"] == 384 * 1024
    assert cost["l2_state_write_bytes"] == 0 and cost["l2_scratch_bytes"] == 2 * 64 * 256 * 4
    assert 1.8 < (cost["macs"] - cost["recomputed_macs"]) / ir.macs_per_chunk(64, 64) < 2.5
    assert sum(cost["macs_by_group"].values()) == cost["macs"] == cost["macs_by_precision"]["tf32"]
    anchored = onepass_backward_cost(tk.lower(tk.load_spec("titans_mlp2_anchored")), 64, 64)
    assert anchored["l2_anchor_read_bytes"] == 2 * 128 * 1024       # the anchor in both sweeps
    assert anchored["l2_grad_read_bytes"] == 384 * 1024 + 2 * 128 * 1024   # and its gradient
    yaad = onepass_backward_cost(tk.lower(tk.load_spec("yaad_huber")), 64, 64)
    assert yaad["macs_by_group"]["mixing"] == 0 and yaad["macs_by_group"]["read"] == 4 * 5 * 64 ** 3


def test_backward_config_and_errors(tmp_path):
    """backward='onepass' covers what the one-pass forward covers, as one line otherwise; its
    config re-runs at the forward's key and update precisions and takes tf32 for bf16 products
    (the bf16 hi/lo split stays)."""
    from titans_kernels.backends.launch_config import LaunchConfig, backward_config, onepass_config
    spec = _edited("titans_mlp3", DEPTH3_EDITS["anchored"], tmp_path)
    ref, inputs, state = _case(spec, T=16, D=16, chunk=16)
    with pytest.raises(InputError, match="config backward='onepass' does not cover spec 'edited_rule': "
                                         "update.decay_to 'init' at depth 3"):
        tk.compile(spec, backend="triton", config=LaunchConfig(backward="onepass"))(
            *inputs.args(), state=state, chunk_size=16)
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    bwd = backward_config(ir, onepass_config(precision="bf16", update_precision="bf16x3", stage=True,
                                             backward="onepass"))
    assert (bwd.kernel, bwd.precision, bwd.key_precision, bwd.update_precision, bwd.stage) == \
        ("onepass", "tf32", "bf16", "bf16x3", False)
    assert backward_config(ir, onepass_config(precision="bf16x3", backward="onepass")).precision == "bf16x3"
    bwd = backward_config(ir, LaunchConfig(kernel="tiled", precision="bf16", backward="onepass"))
    assert (bwd.kernel, bwd.tile, bwd.precision, bwd.key_precision) == ("onepass", 64, "tf32", "tf32")


@pytest.mark.slow
def test_cli_report_has_the_cost_model_and_warpgroup_products(capsys):
    """`compile --forward onepass --report` for sm_90 at D=64, chunk 64: ptxas' figures next to the
    cost model; every tensor-core product of the hidden-tile loop a warpgroup product (HGMMA, none
    HMMA); the state traffic one read and one write of the 256 KB state per chunk, within 10%."""
    import json
    from titans_kernels.cli import main
    assert main(["compile", "titans_mlp2", "--forward", "onepass", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    cost = report["cost"]
    assert report["kernel"] == "onepass_forward" and report["config"]["kernel"] == "onepass"
    for key in ("l2_state_read_bytes", "l2_state_write_bytes"):
        assert abs(cost[key] - 256 * 1024) <= 0.1 * 256 * 1024
    assert sum(report["hgmma_sites"][2:]) > 0 and sum(report["hmma_sites"]) == 0, report
    assert cost["macs_by_precision"] == {"tf32": cost["macs"]}
    assert main(["compile", "titans_mlp2", "--forward", "onepass", "--report", "--precision", "bf16",
                 "--key-precision", "tf32"]) == 0
    text = capsys.readouterr().out
    assert "onepass(bf16/tf32/bf16)" in text and "L2 state: read 256 KB, written 256 KB" in text
    assert "by precision: tf32 29%, bf16 71%" in text and "HMMA 0" in text


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["titans_mlp2", "titans_mlp2_anchored"])
def test_cli_backward_report_fits_a_block_and_runs_warpgroup_products(spec, capsys):
    """`compile --forward onepass --backward onepass --kernel bwd` for sm_90 at D=64, chunk 64,
    the default hidden tile 64: shared memory within the 227 KB an H100 or H200 block may have
    (the first version asked for 416 KB), every tensor-core product of the tile loops a warpgroup
    product, and the cost model in the report."""
    import json
    from titans_kernels.cli import main
    assert main(["compile", spec, "--forward", "onepass", "--backward", "onepass", "--kernel", "bwd",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["kernel"] == "onepass_backward" and report["config"]["tile"] == 64
    assert report["shared_bytes"] <= 227 * 1024, report["shared_bytes"]
    assert sum(report["hgmma_sites"][2:]) > 0 and sum(report["hmma_sites"]) == 0, report
    assert report["cost"]["l2_grad_read_bytes"] >= 384 * 1024


@pytest.mark.slow
def test_cli_depth1_reports_warpgroup_products_and_no_state_traffic(capsys):
    """The depth-1 kernels for sm_90 at D=64: every tensor-core product a warpgroup product, within
    a block's shared memory; the forward's cost model has no state traffic in the chunk loop."""
    import json
    from titans_kernels.cli import main
    for kind, name in (("fwd", "linear_forward"), ("bwd", "linear_backward")):
        assert main(["compile", "titans_linear", "--forward", "onepass", "--backward", "onepass", "--kernel", kind,
                     "--json"]) == 0
        report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert report["kernel"] == name and report["shared_bytes"] <= 227 * 1024
        assert sum(report["hgmma_sites"][1:]) > 0 and sum(report["hmma_sites"]) == 0, report
        if kind == "fwd":
            assert report["cost"]["l2_state_read_bytes"] == report["cost"]["l2_state_write_bytes"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fwd", "bwd"])
def test_cli_depth3_report_fits_a_block_and_runs_warpgroup_products(kind, capsys):
    """`compile titans_mlp3 --forward onepass --backward onepass` for sm_90 at D=64, chunk 64,
    hidden tile 64: shared memory within the 227 KB of an H100 or H200 block and every tensor-core
    product a warpgroup product, forward and backward; the forward's report has the depth-3 cost
    model (scratch traffic included)."""
    import json
    from titans_kernels.cli import main
    assert main(["compile", "titans_mlp3", "--forward", "onepass", "--backward", "onepass", "--kernel", kind,
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["kernel"] == ("deep_forward" if kind == "fwd" else "deep_backward")
    assert report["shared_bytes"] <= 227 * 1024
    assert sum(report["hgmma_sites"][1:]) > 0 and sum(report["hmma_sites"]) == 0, report
    if kind == "fwd":
        assert report["cost"]["l2_scratch_write_bytes"] == 8 * 64 * 128 * 4


def test_cli_onepass_flags_without_the_onepass_forward_are_one_line(capsys):
    from titans_kernels.cli import main
    assert main(["compile", "titans_mlp2", "--stage"]) != 0
    assert "choose variants of the one-pass forward; add --forward onepass" in capsys.readouterr().err


def test_cli_run_with_the_onepass_forward(capsys):
    """`titans-kernels run --backend triton --forward onepass` streams through the one-pass forward
    at its launch defaults (tf32 products) and checks against the reference."""
    from titans_kernels.cli import main
    assert main(["run", "titans_mlp2", "--backend", "triton", "--forward", "onepass", "--seq", "64", "--batch", "1",
                 "--heads", "1", "--dim", "16", "--chunk", "16", "--segment", "32", "--check", "64"]) == 0
    out = capsys.readouterr().out
    assert "forward=onepass(tf32/tf32/tf32)" in out
    error = float(out.split("relative error vs reference on the first 64 tokens:")[1].split()[0])
    assert error < 1e-2
    # depth 3 at --dim 16 (hidden width 32): the launch default's tile narrowed to it
    assert main(["run", "titans_mlp3", "--backend", "triton", "--forward", "onepass", "--seq", "48", "--batch", "1",
                 "--heads", "1", "--dim", "16", "--chunk", "16", "--segment", "32", "--check", "48"]) == 0
    out = capsys.readouterr().out
    assert float(out.split("relative error vs reference on the first 48 tokens:")[1].split()[0]) < 1e-2
    assert main(["run", "titans_mlp2", "--forward", "onepass"]) != 0
    assert "--forward applies to --backend triton or tilelang" in capsys.readouterr().err
