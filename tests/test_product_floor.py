"""benchmarks/product_floor.py: records a call's matrix products, counts their FLOPs as torch's
counter does, replays them alone, and prints one summary per call."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import product_floor  # noqa: E402

CPU = torch.device("cpu")


def _torch_counted_flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    def baddbmm_inplace(self_shape, b1, b2, *args, **kwargs):
        return 2 * b1[0] * b1[1] * b1[2] * b2[-1]
    with FlopCounterMode(display=False, custom_mapping={torch.ops.aten.baddbmm_: baddbmm_inplace}) as counter:
        fn()
    return counter.get_total_flops()


@pytest.mark.parametrize("make, backward", [(product_floor.rule_call, False), (product_floor.rule_call, True),
                                            (product_floor.layer_call, True)])
def test_recorded_products_match_torchs_flop_count(make, backward):
    call = make("titans_mlp2_normalized", 1, 2, 16, 96, 32, backward, CPU)
    products = product_floor.record(call)
    assert products and {p.op for p in products} <= set(product_floor.PRODUCTS)
    assert sum(p.flops for p in products) == _torch_counted_flops(call)


def test_replay_runs_the_same_products():
    call = product_floor.rule_call("titans_mlp2", 1, 2, 16, 64, 32, False, CPU)
    products = product_floor.record(call)
    replay = product_floor.replay_fn(products, CPU)
    assert product_floor.record(replay) == products


def test_warm_and_grouped_replays_run_the_same_products():
    """The warm replay runs the call's products in order on shared operands; grouped, the same
    products sorted by shape (a permutation of the call's)."""
    call = product_floor.rule_call("titans_mlp2", 1, 2, 16, 64, 32, False, CPU)
    products = product_floor.record(call)
    assert len({p.shapes for p in products}) > 1
    warm = product_floor.record(product_floor.replay_fn(products, CPU, warm=True))
    grouped = product_floor.record(product_floor.replay_fn(products, CPU, warm=True, grouped=True))
    assert warm == products
    assert sorted(grouped, key=repr) == sorted(products, key=repr) and grouped != products
    assert grouped == sorted(grouped, key=lambda p: (p.shapes, p.op))


def test_main_prints_the_summary(capsys, tmp_path):
    out_file = tmp_path / "floor.json"
    assert product_floor.main(["--layer", "--backward", "--batch", "1", "--heads", "2", "--dim", "16", "--seq", "64",
                               "--chunk", "32", "--repeats", "1", "--device", "cpu", "--json", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "NeuralMemory titans_mlp2_normalized, forward+backward" in out
    assert "products:" in out and "products alone:" in out and "of the call" in out
    assert "grouped by shape" in out
    import json
    doc = json.loads(out_file.read_text())
    assert doc["fingerprint"]["device"] and doc["gflop"] > 0 and doc["shape"]["T"] == 64
    times = doc["median_ms"]
    assert set(times) == {"call", "products cold, in order", "products warm, in order",
                          "products warm, grouped by shape", "matmul 1024^3"}
    assert all(t > 0 for t in times.values())


def test_unknown_spec_is_one_line(capsys):
    assert product_floor.main(["--spec", "no_such_rule", "--seq", "64", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err


def test_peer_needs_the_layer_and_titans_pytorch(capsys, monkeypatch):
    assert product_floor.main(["--peer", "--seq", "64", "--device", "cpu"]) == 2
    assert "add --layer" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "titans_pytorch", None)    # import fails as when not installed
    assert product_floor.main(["--layer", "--peer", "--seq", "64", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "--peer needs titans-pytorch" in err and "Traceback" not in err


def test_layer_vs_peer_interleaves_the_sides_and_writes_their_ratios(tmp_path, monkeypatch):
    """benchmarks/layer_vs_peer.py with the layers replaced by timed stand-ins: every round runs
    every side (eager steps, compiled steps, the peer) in alternating order, each ratio is the
    peer's time over ours, the compile setting is restored, the JSON written."""
    import json
    import os
    import time
    import types
    import layer_vs_peer as bench
    monkeypatch.setitem(sys.modules, "titans_pytorch", types.ModuleType("titans_pytorch"))
    monkeypatch.setenv("TITANS_TORCH_COMPILE", "auto")
    seen = []

    def ours(spec, B, H, D, T, chunk, grad, dev):
        def call():
            mode = os.environ["TITANS_TORCH_COMPILE"]
            seen.append((mode, grad))
            time.sleep(0.002 if mode == "on" else 0.006)
        return call

    def peer(B, H, D, T, chunk, grad, dev):
        return lambda: seen.append(("peer", grad)) or time.sleep(0.012)
    monkeypatch.setattr(bench.product_floor, "layer_call", ours)
    monkeypatch.setattr(bench.product_floor, "peer_call", peer)
    out = tmp_path / "layer.json"
    assert bench.main(["--rounds", "2", "--threads", "1", "--out", str(out)]) == 0
    assert os.environ["TITANS_TORCH_COMPILE"] == "auto"
    fwd = [m for m, g in seen if not g]
    assert fwd == ["off", "on", "peer"] * 2 + ["off", "on", "peer", "peer", "on", "off"]
    doc = json.loads(out.read_text())
    for kind in ("forward", "forward+backward"):
        ratios = doc[kind]["vs_peer"]
        assert ratios["ours (compiled steps)"]["median"] > ratios["ours (eager steps)"]["median"] > 1.2
        for r in ratios.values():
            assert r["paired_ci95"][0] <= r["paired"] <= r["paired_ci95"][1] and r["paired"] > 1.2
        assert len(doc[kind]["times_s"]["titans-pytorch"]) == 2 and set(doc[kind]["first_call_s"]) == set(bench.SIDES)
