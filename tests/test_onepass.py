"""The one-pass forward prototype (triton_backend/onepass.py) on CPU: through Triton's
interpreter against the torch backend for every shipped spec it covers, with its pointer, TMA and
staged-operand variants; one-line errors for what it does not cover; the launch configs refused
as known Triton faults."""
from __future__ import annotations

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.triton_backend import launch
from titans_kernels.backends.launch_config import known_fault
from titans_kernels.backends.triton_backend.onepass import onepass_call, onepass_supported
from titans_kernels.errors import InputError
from titans_kernels.testing import random_inputs, rel_error

from conftest import SHIPPED

COVERED = [n for n in SHIPPED if onepass_supported(tk.lower(tk.load_spec(n))) is None]


@pytest.fixture
def poisoned(monkeypatch):
    """Output buffers start as NaN: any element the kernel fails to write shows up."""
    monkeypatch.setattr(launch, "OUTPUT_FILL", float("nan"))


def _case(name: str, T: int, D: int, chunk: int, dtype=torch.float32, seed: int = 0):
    ref = tk.compile(name, backend="torch")
    g = torch.Generator().manual_seed(seed)
    inputs = random_inputs(ref.ir, 1, 2, T, D, chunk, dtype=dtype, generator=g)
    return ref, inputs, ref.init_state(1, 2, D, generator=g)


def test_covers_the_paper_default_and_its_gate_variants():
    assert {"titans_mlp2", "titans_mlp2_nomomentum", "titans_mlp2_chunkgates"} <= set(COVERED)
    assert "titans_mlp3" not in COVERED and "yaad_huber" not in COVERED


@pytest.mark.parametrize("name", COVERED)
def test_matches_torch_backend(name, poisoned):
    """Two full chunks and a ragged one; hidden width 64 in four 16-wide tiles, updated in place;
    out and every tensor of the end state."""
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


def test_uncovered_specs_and_bad_tiles_are_one_line():
    ref, inputs, state = _case("yaad_huber", T=20, D=16, chunk=16)
    with pytest.raises(InputError, match="does not cover spec 'yaad_huber': residual"):
        onepass_call(ref.ir, *inputs.args(), state, chunk_size=16)
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
