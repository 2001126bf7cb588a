"""Autotuning: catalogue, search space, predicted tuner (AOT + cost model), measured tuner logic
with a fake timer, the tuning database (locking, corruption, import/export), run-time lookup."""
from __future__ import annotations

import json
import multiprocessing as mp
import subprocess
import sys
from dataclasses import asdict
from types import SimpleNamespace

import pytest
import torch

import titans_kernels as tk
from autotune import TuningDB, bucket, get_gpu, gpus, measured, predicted, space
from autotune.run import tune_spec
from titans_kernels.backends.launch_config import TritonConfig
from titans_kernels.cli import main
from titans_kernels.tuning import Record, UnknownGPU

IR = tk.lower(tk.load_spec("titans_mlp2"))


def test_catalogue_has_the_gpus_and_fields():
    table = gpus()
    assert {"a100", "h100", "h200", "l4", "rtx4090", "b200", "mi300x"} <= set(table)
    h100 = get_gpu("H100")
    assert h100.arch == "sm_90" and h100.sms == 132 and h100.smem_per_block_kib > 200
    assert get_gpu("mi300x").aot_target == "gfx942" and get_gpu("l4").aot_target == "sm_80"


def test_unknown_gpu_is_one_line_listing_known():
    with pytest.raises(UnknownGPU, match="unknown GPU 'a10': did you mean 'a100'\\? known: a100, h100"):
        get_gpu("a10")
    proc = subprocess.run([sys.executable, "-m", "titans_kernels", "autotune", "--gpu", "v100"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown GPU 'v100'" in proc.stderr and "Traceback" not in proc.stderr


def test_search_space_prunes_by_hard_limits():
    cands, pruned = space.candidates(IR, 32, 64)
    assert cands and all(c.tile <= 32 for c in cands)
    assert pruned >= 9                      # every tile=64 candidate
    full, _ = space.candidates(IR, 64, 64, allow_tf32=True)
    assert {c.precision for c in full} == {"ieee", "tf32"}


def test_search_space_of_the_tiled_forward():
    both, _ = space.candidates(IR, 64, 64, allow_tf32=True, kernels=("generic", "tiled"))
    tiled = [c for c in both if c.kernel == "tiled"]
    assert len(tiled) == 3 * 2 * 2 * 2                       # tiles x warps x stages x precisions
    assert {c.num_warps for c in tiled} == {4, 8} and {c.num_stages for c in tiled} == {1, 2}
    deep = tk.lower(tk.load_spec("titans_mlp3"))             # depth 3: the tiled forward does not apply
    assert {c.kernel for c in space.candidates(deep, 64, 64, kernels=("generic", "tiled"))[0]} == {"generic"}


def test_search_space_of_the_onepass_forward():
    """Hidden tiles 32 and 64, 4 or 8 warps, staged or not (chunk == head dim only), two product
    precision groupings per input precision; none for a rule it does not cover."""
    kernels = ("generic", "tiled", "onepass")
    half, _ = space.candidates(IR, 64, 64, allow_tf32=True, kernels=kernels)
    onepass = [c for c in half if c.kernel == "onepass"]
    assert len(onepass) == 2 * 2 * 2 * 2
    assert {(c.precision, c.key_precision, c.update_precision) for c in onepass} == {
        ("tf32", None, None), ("bf16", "tf32", "tf32")}
    assert {c.stage for c in onepass} == {False, True} and {c.num_stages for c in onepass} == {1}
    fp32, _ = space.candidates(IR, 64, 32, kernels=kernels)      # chunk 32 != D: nothing staged
    assert {c.precision for c in fp32 if c.kernel == "onepass"} == {"ieee", "bf16x3"}
    assert not any(c.stage for c in fp32)
    deep = tk.lower(tk.load_spec("titans_mlp3"))       # depth 3: hidden tiles, nothing staged
    d3 = [c for c in space.candidates(deep, 64, 64, allow_tf32=True, kernels=kernels)[0] if c.kernel == "onepass"]
    assert len(d3) == 2 * 2 * 2 and {c.tile for c in d3} == {32, 64} and not any(c.stage for c in d3)
    other = tk.lower(tk.load_spec("moneta"))            # a loss the GPU kernels do not have
    assert "onepass" not in {c.kernel for c in space.candidates(other, 64, 64, kernels=kernels)[0]}
    linear = tk.lower(tk.load_spec("titans_linear"))     # depth 1: no hidden tile, nothing staged
    lin = [c for c in space.candidates(linear, 64, 64, allow_tf32=True, kernels=kernels)[0] if c.kernel == "onepass"]
    assert len(lin) == 2 * 2 and {c.tile for c in lin} == {64} and not any(c.stage for c in lin)


@pytest.mark.parametrize("gpu_name", ["h100", pytest.param("a100", marks=pytest.mark.slow)])
def test_predicted_tuner_discards_spills_and_ranks(gpu_name, tmp_path):
    """Quick predicted tuning: every candidate the compiler reports as spilling or over the
    shared-memory limit is discarded, the rest are ranked by predicted time."""
    gpu = get_gpu(gpu_name)
    rec, ranked, _ = tune_spec(IR, gpu, 64, 64, "bfloat16", quick=True)
    assert rec is not None and rec.tuner == "predicted" and rec.arch == gpu.arch
    for cand in ranked:
        if cand.report is not None and (cand.report.spill_bytes or
                                        cand.report.shared_bytes > gpu.smem_per_block_kib * 1024):
            assert cand.time_s is None and cand.reason
    kept = [c.time_s for c in ranked if c.time_s is not None]
    assert kept == sorted(kept) and rec.time_s == kept[0]
    TuningDB(tmp_path).save([rec])
    # a later process reads what this one wrote
    code = ("import sys; from autotune import TuningDB; "
            "print(json.dumps([r.arch for r in TuningDB(sys.argv[1]).records()]))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code, str(tmp_path)], capture_output=True,
                         text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [gpu.arch], out.stderr


def test_cost_model_prefers_occupancy_and_reuse():
    gpu = get_gpu("h100")
    rep = predicted.KernelReport("s", "sm_90", "k", 64, 64, "bfloat16", {}, registers=128, spill_bytes=0,
                                 shared_bytes=16384, binary_bytes=1)
    small = predicted.predict_time(IR, gpu, TritonConfig(tile=16), rep, 128, 8192, 64, 64)
    large = predicted.predict_time(IR, gpu, TritonConfig(tile=64), rep, 128, 8192, 64, 64)
    assert small > large > 0
    greedy = predicted.KernelReport("s", "sm_90", "k", 64, 64, "bfloat16", {}, registers=255, spill_bytes=0,
                                    shared_bytes=300 * 1024, binary_bytes=1)
    assert predicted.predict_time(IR, gpu, TritonConfig(), greedy, 128, 8192, 64, 64) is None


def test_measured_tuner_logic_with_fake_timer():
    configs = [TritonConfig(tile=t, num_warps=w) for t in (16, 32) for w in (2, 4)]
    fake = {(16, 2): 3.0, (16, 4): 1.0, (32, 2): 2.0}

    def timer(cfg):
        if (cfg.tile, cfg.num_warps) not in fake:
            raise RuntimeError("out of resources")
        return fake[(cfg.tile, cfg.num_warps)]

    ranked = measured.tune(configs, timer, check=lambda cfg: cfg.tile != 16 or cfg.num_warps != 4)
    assert (ranked[0].config.tile, ranked[0].config.num_warps) == (32, 2)  # fastest failed the check
    assert "wrong result" in next(c.reason for c in ranked if c.config.num_warps == 4 and c.config.tile == 16)
    assert any(c.time_s is None and "out of resources" in c.reason for c in ranked)


def test_measured_spec_record_with_injected_timer():
    from autotune.run import measure_spec
    gpu = get_gpu("h100")
    train = dict(train_timer=lambda cfg: 1.0, train_check=lambda cfg: True)
    rec, ranked, _ = measure_spec(IR, gpu, 64, 64, "bfloat16", quick=True,
                                  timer=lambda cfg: 1.0 / cfg.num_warps + 0.1 * cfg.num_stages,
                                  check=lambda cfg: True, **train)
    assert rec.tuner == "measured" and rec.config["num_warps"] == 8 and rec.config["num_stages"] == 1
    forwards = ranked[:20]             # 16 generic and tiled, 4 one-pass; then the three backwards
    assert len(ranked) == 23 and {c.config.precision for c in forwards} == {"ieee", "tf32", "bf16"}  # half inputs
    assert {c.config.kernel for c in forwards} == {"generic", "tiled", "onepass"}   # every forward is timed
    _, ranked32, _ = measure_spec(IR, gpu, 64, 64, "float32", quick=True, timer=lambda cfg: 1.0,
                                  check=lambda cfg: True, **train)
    assert len(ranked32) == 15 and {c.config.precision for c in ranked32} == {"ieee", "bf16x3"}
    onepass_wins, _, _ = measure_spec(IR, gpu, 64, 64, "bfloat16", quick=True, check=lambda cfg: True,
                                      timer=lambda cfg: 0.5 if cfg.stage else 1.0, **train)
    assert onepass_wins.config["kernel"] == "onepass" and onepass_wins.config["stage"]
    tiled_wins, _, _ = measure_spec(IR, gpu, 64, 64, "bfloat16", quick=True, check=lambda cfg: True,
                                    timer=lambda cfg: 0.5 if cfg.kernel == "tiled" else 1.0, **train)
    assert tiled_wins.config["kernel"] == "tiled"


def test_measured_tuner_chooses_the_backward_by_forward_backward_time(monkeypatch):
    """After the forward winner, each backward kernel is timed with it; the faster one that passes
    the gradient check is recorded, and a failing or crashing one is passed over."""
    from autotune.run import measure_spec
    gpu = get_gpu("h100")
    fwd = dict(timer=lambda cfg: 1.0 / cfg.num_warps, check=lambda cfg: True)
    times = {"tiled": 2.0, "onepass": 2.5, "generic": 3.0}
    rec, ranked, _ = measure_spec(IR, gpu, 64, 64, "bfloat16", quick=True, **fwd, train_check=lambda cfg: True,
                                  train_timer=lambda cfg: times[cfg.backward])
    assert rec.config["backward"] == "tiled"
    trained = [c for c in ranked if c.time_s in times.values()]
    assert {c.config.backward for c in trained} == {"generic", "tiled", "onepass"}
    assert all(c.config.num_warps == rec.config["num_warps"] for c in trained)   # the forward winner's config
    wrong, ranked, _ = measure_spec(IR, gpu, 64, 64, "bfloat16", quick=True, **fwd,
                                    train_timer=lambda cfg: times[cfg.backward],
                                    train_check=lambda cfg: cfg.backward != "tiled")
    assert wrong.config["backward"] == "onepass"
    assert any(c.config.backward == "tiled" and "wrong result" in c.reason for c in ranked)

    def crashing(cfg):
        if cfg.backward != "generic":
            raise RuntimeError("out of resources: shared memory")
        return 3.0
    crashed, _, _ = measure_spec(IR, gpu, 64, 64, "bfloat16", quick=True, **fwd, train_timer=crashing,
                                 train_check=lambda cfg: True)
    assert crashed.config["backward"] == "generic"
    depth3 = tk.lower(tk.load_spec("titans_mlp3"))          # depth 3: the one-pass backward, no tiled one
    _, ranked3, _ = measure_spec(depth3, gpu, 64, 64, "bfloat16", quick=True, **fwd,
                                 train_check=lambda cfg: True, train_timer=lambda cfg: times[cfg.backward])
    assert {c.config.backward for c in ranked3 if c.time_s in times.values()} == {"generic", "onepass"}
    linear = tk.lower(tk.load_spec("titans_linear"))      # depth 1: the one-pass backward, no tiled one
    _, ranked_l, _ = measure_spec(linear, gpu, 64, 64, "bfloat16", quick=True, **fwd,
                                  train_check=lambda cfg: True, train_timer=lambda cfg: times[cfg.backward])
    assert {c.config.backward for c in ranked_l if c.time_s in times.values()} == {"generic", "onepass"}
    # a depth-2 rule the one-pass kernels do not cover: only the generic and tiled backwards are timed
    monkeypatch.setattr("autotune.run.onepass_problem", lambda ir: "not covered")
    _, ranked_n, _ = measure_spec(IR, gpu, 64, 64, "bfloat16", quick=True, **fwd,
                                  train_check=lambda cfg: True, train_timer=lambda cfg: times[cfg.backward])
    assert {c.config.backward for c in ranked_n if c.time_s in times.values()} == {"generic", "tiled"}


def test_measured_tilelang_tuner_times_the_resident_kernels():
    """backend tilelang: the generic and resident forwards where the weights fit next to the
    products' tiles (tile 64 with 2 stages does not), then the winner's backwards: a resident
    forward is timed with the generic and the resident backward."""
    from autotune.run import measure_spec
    from autotune.space import candidates, resident_problem
    gpu = get_gpu("h100")
    configs, _ = candidates(IR, 64, 64, allow_tf32=True, kernels=("generic", "resident"))
    resident = [c for c in configs if c.kernel == "resident"]
    assert resident and all(resident_problem(IR, 64, 64, c.tile, c.num_stages, precision=c.precision) is None
                            for c in resident)
    assert not any(c.tile == 64 and c.num_stages >= 2 for c in resident)
    assert any(c.tile == 64 and c.num_stages >= 2 and c.kernel == "generic" for c in configs)
    times = {"generic": 3.0, "resident": 2.0}
    rec, ranked, _ = measure_spec(IR, gpu, 64, 64, "bfloat16", quick=True, backend="tilelang", check=lambda cfg: True,
                                  timer=lambda cfg: times[cfg.kernel] / cfg.num_warps, train_check=lambda cfg: True,
                                  train_timer=lambda cfg: 10 * times[cfg.backward])
    assert rec.backend == "tilelang" and rec.config["kernel"] == "resident" and rec.config["backward"] == "resident"
    assert rec.config["cluster"] == 0   # blocks per head chosen per call from batch x heads
    assert {c.config.backward for c in ranked if c.time_s in (20.0, 30.0)} == {"generic", "resident"}
    assert not any(c.config.kernel in ("tiled", "onepass") for c in ranked)


@pytest.mark.parametrize("hip, props, arch", [
    (None, SimpleNamespace(major=9, minor=0, gcnArchName="NVIDIA H100 80GB HBM3"), "sm_90"),
    (None, SimpleNamespace(major=8, minor=0), "sm_80"),
    ("6.2", SimpleNamespace(major=9, minor=4, gcnArchName="gfx942:sramecc+:xnack-"), "gfx942"),
])
def test_device_arch_reads_the_right_field(monkeypatch, hip, props, arch):
    """CUDA builds of torch fill gcnArchName with the device name: it is read only under ROCm."""
    from titans_kernels.tuning import device_arch
    monkeypatch.setattr(torch.version, "hip", hip)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: props)
    assert device_arch("cuda") == arch
    assert device_arch("cpu") is None


def test_measured_tuner_refused_without_the_gpu():
    proc = subprocess.run([sys.executable, "-m", "titans_kernels", "autotune", "--gpu", "h100", "--tuner",
                           "measured"], capture_output=True, text=True)
    assert proc.returncode == 2 and "needs a local NVIDIA H100" in proc.stderr


def _record(i: int, arch: str = "sm_90") -> Record:
    return Record(spec_hash=f"{i:016x}", spec=f"s{i}", backend="triton", arch=arch, gpu="h100", dtype="bfloat16",
                  bucket="D64-b64", config={"tile": 32, "num_warps": 4, "num_stages": 2, "precision": "ieee"},
                  tuner="predicted", time_s=1e-3)


def _writer(path: str, start: int) -> None:
    db = TuningDB(path)
    for i in range(start, start + 20):
        db.save([_record(i)])


def test_concurrent_writers_keep_every_record(tmp_path):
    procs = [mp.get_context("spawn").Process(target=_writer, args=(str(tmp_path), s)) for s in (0, 100)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    recs = TuningDB(tmp_path).records()
    assert len(recs) == 40 and len({r.key for r in recs}) == 40


def test_corrupt_database_is_reported_ignored_and_kept(tmp_path, capsys):
    db = TuningDB(tmp_path)
    db.path.parent.mkdir(parents=True, exist_ok=True)
    db.path.write_text("{ not json")
    assert db.records() == []
    assert db.lookup("x", "triton", "sm_90", "bfloat16", "D64-b64") is None
    err = capsys.readouterr().err
    assert f"ignoring the tuning database: {db.path} is not JSON" in err and len(err.splitlines()) == 1
    db.save([_record(1)])
    assert len(db.records()) == 1
    kept = list(tmp_path.glob("tuning.json.corrupt-*"))
    assert kept and kept[0].read_text() == "{ not json"   # the user's file is kept aside, not lost


def _tampered(rec: Record, **config) -> dict:
    row = asdict(rec)
    row["config"].update(config)
    return row


@pytest.mark.parametrize("row_change, problem", [
    (dict(config=dict(tile="x")), "config tile='x' not supported; use one of 16, 32, 64, 128"),
    (dict(config=dict(num_warps=3)), "config num_warps=3 not supported"),
    (dict(config=dict(kernel="fast")), "config kernel='fast' unknown"),
    (dict(config=[32, 4]), "config=[32, 4] is not a mapping"),
    (dict(dtype="float8"), "dtype='float8' unknown; expected one of float32, bfloat16, float16"),
    (dict(bucket="64x64"), "bucket='64x64' is not of the form D64-b64"),
    (dict(time_s="fast"), "time_s='fast' is not a time in seconds"),
    (dict(arch=None), "arch=None is not a name"),
])
def test_unusable_records_are_skipped_reported_and_kept(tmp_path, capsys, row_change, problem):
    """A record that parses but cannot be used (say a hand-edited launch config) is left out with
    one line naming it; the file's other records still serve lookups; the next write keeps a copy
    of the file as it was."""
    db = TuningDB(tmp_path)
    good, bad = _record(1), _record(2)
    bad_row = asdict(bad)
    for name, value in row_change.items():
        if name == "config" and isinstance(value, dict):
            bad_row["config"].update(value)
        else:
            bad_row[name] = value
    text = json.dumps({"format": "titans-kernels-tuning", "version": 1, "records": [asdict(good), bad_row]})
    db.path.write_text(text)
    assert [r.spec for r in db.records()] == ["s1"]
    assert db.lookup(*good.key) is not None and db.lookup(*bad.key) is None
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"titans-kernels: ignoring 1 unusable record(s) in {db.path}: "
                          f"record 1 (s2, {bad_row['arch']}): {problem}")
    assert err.endswith("; re-run `titans-kernels autotune` for them") and len(err.splitlines()) == 1
    db.save([_record(3)])
    assert sorted(r.spec for r in db.records()) == ["s1", "s3"]
    kept = list(tmp_path.glob("tuning.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == text


def test_clear_keeps_an_unreadable_database(tmp_path):
    """`tuned clear` rewrites the file: one it cannot read is kept aside first, not emptied."""
    db = TuningDB(tmp_path)
    db.path.write_text('{"format": "titans-kernels-tuning", "version": 1, "records": [')
    assert db.clear() == 0
    kept = list(tmp_path.glob("tuning.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text().endswith('"records": [')
    assert db.records() == []


def test_import_refuses_a_file_with_an_unusable_record(tmp_path, capsys):
    """One line naming the file and the record; nothing is written, the local records stay."""
    from titans_kernels.cli import main
    db = TuningDB(tmp_path / "db")
    db.save([_record(1)])
    before = db.path.read_text()
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"format": "titans-kernels-tuning", "version": 1,
                               "records": [asdict(_record(2)), _tampered(_record(3), tile=24)]}))
    assert main(["tuned", "--cache-dir", str(tmp_path / "db"), "import", str(src)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {src} is not a valid tuning file: record 1 (s3, sm_90): config tile=24 not "
                   f"supported; use one of 16, 32, 64, 128")
    assert db.path.read_text() == before
    assert main(["tuned", "--cache-dir", str(tmp_path / "db"), "import", str(tmp_path / "missing.json")]) == 2
    assert "error: cannot read" in capsys.readouterr().err


def test_export_import_and_clear(tmp_path):
    a, b = TuningDB(tmp_path / "a"), TuningDB(tmp_path / "b")
    a.save([_record(1), _record(2, arch="sm_80")])
    out = tmp_path / "export.json"
    assert a.export(out) == 2 and json.loads(out.read_text())["format"] == "titans-kernels-tuning"
    assert b.import_file(out) == 2 and len(b.records()) == 2
    assert b.clear("sm_80") == 1 and [r.arch for r in b.records()] == ["sm_90"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="bad.json is not a titans-kernels tuning file"):
        b.import_file(bad)


def test_tuned_list_shows_the_kernels(tmp_path, capsys):
    """Each record's line names its precision and both kernels, with the tiled forward's
    non-default variants (older records without the kernel fields read as generic)."""
    from titans_kernels.cli import main
    rec = _record(3)
    rec.config.update(kernel="tiled", backward="tiled", precision="tf32")
    variant = _record(5)
    variant.config.update(kernel="tiled", fuse=False, in_place=True)
    TuningDB(tmp_path).save([rec, _record(4), variant])
    assert main(["tuned", "--cache-dir", str(tmp_path), "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(l.startswith("s3 ") and "tf32 forward=tiled backward=tiled" in l for l in lines)
    assert any(l.startswith("s4 ") and "ieee forward=generic backward=generic" in l for l in lines)
    assert any(l.startswith("s5 ") and "forward=tiled(three-pass,in-place) backward=generic" in l for l in lines)


def test_runtime_lookup_uses_the_record(tmp_path):
    rec = _record(0, arch="sm_80")
    rec.spec_hash, rec.spec, rec.bucket, rec.dtype = IR.spec_hash, IR.name, bucket(16, 16), "float32"
    rec.config = {"tile": 16, "num_warps": 2, "num_stages": 1, "precision": "ieee"}
    TuningDB(tmp_path).save([rec])
    rule = tk.compile("titans_mlp2", backend="triton", tuned_for="a100", tuning_dir=str(tmp_path))
    g = torch.Generator().manual_seed(0)
    from titans_kernels.testing import random_inputs
    inputs = random_inputs(rule.ir, 1, 1, 16, 16, 16, generator=g)
    rule(*inputs.args(), state=rule.init_state(1, 1, 16, generator=g), chunk_size=16)
    assert rule.last_config == TritonConfig(tile=16, num_warps=2, num_stages=1)
    assert "predicted record for h100" in rule.last_config_source
    other = tk.compile("titans_mlp2", backend="triton", tuned_for="h100", tuning_dir=str(tmp_path))
    other(*inputs.args(), state=rule.init_state(1, 1, 16, generator=g), chunk_size=16)
    assert other.last_config_source.startswith("default")


def _measured(backend: str, time_s: float) -> Record:
    rec = _record(0)
    rec.spec_hash, rec.spec, rec.bucket, rec.dtype = IR.spec_hash, IR.name, bucket(64, 64), "bfloat16"
    rec.backend, rec.tuner, rec.time_s = backend, "measured", time_s
    return rec


def test_auto_picks_the_backend_that_measured_faster(tmp_path):
    from titans_kernels.tuning import faster_gpu_backend
    q = torch.zeros(1, 1, 8, 64, dtype=torch.bfloat16)
    db = TuningDB(tmp_path)
    db.save([_measured("triton", 2e-3)])
    name, why = faster_gpu_backend(IR, q, 64, 64, str(tmp_path), tuned_for="h100")
    assert name == "triton" and "no measured record of both" in why   # one backend measured: default
    db.save([_measured("tilelang", 1e-3)])
    name, why = faster_gpu_backend(IR, q, 64, 64, str(tmp_path), tuned_for="h100")
    assert name == "tilelang" and "1.000 ms vs 2.000 ms" in why
    db.save([_measured("tilelang", 3e-3)])
    assert faster_gpu_backend(IR, q, 64, 64, str(tmp_path), tuned_for="h100")[0] == "triton"
    assert faster_gpu_backend(IR, q, 64, 64, str(tmp_path), tuned_for="a100")[0] == "triton"  # other arch


def test_tilelang_rule_uses_its_own_record(tmp_path):
    rec = _record(0, arch="sm_80")
    rec.spec_hash, rec.spec, rec.bucket, rec.dtype, rec.backend = IR.spec_hash, IR.name, bucket(16, 16), "float32", "tilelang"
    rec.config = {"tile": 16, "num_warps": 2, "num_stages": 1, "precision": "ieee"}
    TuningDB(tmp_path).save([rec])
    rule = tk.compile("titans_mlp2", backend="tilelang", tuned_for="a100", tuning_dir=str(tmp_path))
    assert rule._config_for(torch.zeros(1, 1, 16, 16), 16, 16) == TritonConfig(tile=16, num_warps=2, num_stages=1)
    assert "predicted record for h100" in rule.last_config_source


def test_tilelang_predicted_tuning_refuses_other_archs():
    with pytest.raises(tk.InputError, match="tilelang backend lowers for sm_80 and sm_90a only"):
        tune_spec(IR, get_gpu("b200"), 64, 64, "bfloat16", quick=True, backend="tilelang")


@pytest.mark.slow
def test_tilelang_predicted_tuning_for_h100(tmp_path):
    rec, ranked, _ = tune_spec(IR, get_gpu("h100"), 64, 64, "bfloat16", quick=True, backend="tilelang")
    assert rec is not None and rec.backend == "tilelang" and rec.time_s > 0
    assert all(c.report is not None for c in ranked)


def test_progress_in_a_log_is_one_line_per_shape(tmp_path):
    """With stderr not a terminal (CI, a log file) tuning prints one line per (spec, shape) when it
    is done, instead of a progress bar's carriage returns."""
    proc = subprocess.run([sys.executable, "-m", "titans_kernels", "autotune", "--gpu", "a100", "--quick",
                           "--spec", "titans_linear", "--shapes", "32x32", "--cache-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stdout + proc.stderr
    done = [line for line in proc.stdout.splitlines() if line.startswith("  titans_linear D32 b32: ")]
    assert len(done) == 1 and "candidate(s) in" in done[0] and int(done[0].split(": ")[1].split()[0]) > 0
    assert "saved 1 record(s)" in proc.stdout


def test_shipped_defaults_are_all_usable():
    """Every record shipped in titans_kernels/tuning/defaults.json passes the read-time checks."""
    from titans_kernels.tuning.db import SHIPPED, _parse
    parsed = _parse(SHIPPED.read_text(), str(SHIPPED))
    assert parsed.problems == [] and len(parsed.records) == len(json.loads(SHIPPED.read_text())["records"]) > 0


def test_tuned_show_names_what_it_has(tmp_path, capsys):
    """show SPEC prints the records as JSON; for a spec without records, one line listing the
    specs that have some."""
    from titans_kernels.cli import main
    TuningDB(tmp_path).save([_record(1), _record(2)])
    assert main(["tuned", "--cache-dir", str(tmp_path), "show", "s1"]) == 0
    assert [r["spec"] for r in json.loads(capsys.readouterr().out)] == ["s1"]
    assert main(["tuned", "--cache-dir", str(tmp_path), "show", "s9"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: no local records for spec 's9' in {tmp_path / 'tuning.json'}; records exist for s1, s2"


@pytest.mark.parametrize("shapes, message", [
    ("48x64", "--shapes: 48x64 is not covered by the GPU kernels; head dims 16, 32, 64, 128 and chunks 16, 32, 64, 128"),
    ("64x100", "--shapes: 64x100 is not covered by the GPU kernels"),
    ("64-64", "--shapes: '64-64' is not DIMxCHUNK (e.g. 64x64)"),
])
def test_autotune_shapes_outside_the_kernels_are_one_line(tmp_path, capsys, shapes, message):
    from titans_kernels.cli import main
    assert main(["autotune", "--gpu", "a100", "--quick", "--shapes", shapes, "--cache-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "tuning.json").exists()


# -- a database a careless user (or a hostile file) gives us ------------------------------------

def test_two_models_of_one_architecture_keep_their_records(tmp_path):
    """h100 and h200 (both sm_90) records live side by side; the run-time lookup takes the local
    model's, else any of the architecture; clearing one model leaves the other."""
    db = TuningDB(tmp_path)
    h100, h200 = _record(1), _record(1)
    h200.gpu, h200.config = "h200", dict(h200.config, tile=16)
    db.save([h100, h200])
    assert len(db.records()) == 2
    assert db.lookup(h100.spec_hash, "triton", "sm_90", "bfloat16", "D64-b64", gpu="h200").config["tile"] == 16
    assert db.lookup(h100.spec_hash, "triton", "sm_90", "bfloat16", "D64-b64", gpu="h100").config["tile"] == 32
    assert db.lookup(h100.spec_hash, "triton", "sm_90", "bfloat16", "D64-b64", gpu="gh200") is not None
    assert db.clear(gpu="h200") == 1 and [r.gpu for r in db.records()] == ["h100"]


def test_a_deeply_nested_database_never_breaks_a_call(tmp_path, capsys):
    (tmp_path / "tuning.json").write_text("[" * 100_000 + "]" * 100_000)
    assert TuningDB(tmp_path).records() == []
    assert "nested too deeply" in capsys.readouterr().err
    rule = tk.compile("titans_mlp2", backend="triton", tuned_for="h100", tuning_dir=str(tmp_path))
    assert rule._config_for(torch.zeros(1, 1, 16, 64), 64, 64) is not None


def test_records_with_control_characters_are_refused_on_import(tmp_path):
    rec = _record(1)
    rec.spec = "s1\x1b]0;pwned\x07"
    (tmp_path / "evil.json").write_text(json.dumps(TuningDB._doc([rec])))
    with pytest.raises(ValueError, match="spec=.*holds control characters"):
        TuningDB(tmp_path / "db").import_file(tmp_path / "evil.json")


def test_unwritable_database_fails_before_tuning(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["autotune", "--gpu", "a100", "--spec", "titans_linear", "--quick", "--cache-dir",
                 str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: tuning database") and "cannot create" in err and "compiling" not in err
    directory = tmp_path / "d"
    (directory / "tuning.json").mkdir(parents=True)
    assert main(["autotune", "--gpu", "a100", "--spec", "titans_linear", "--quick", "--cache-dir",
                 str(directory)]) == 2
    assert "is not a file" in capsys.readouterr().err


def test_tuned_takes_cache_dir_after_the_action_and_export_errors_are_one_line(tmp_path, capsys):
    TuningDB(tmp_path).save([_record(1)])
    assert main(["tuned", "list", "--cache-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("s1 ")
    assert main(["tuned", "export", str(tmp_path), "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: cannot write {tmp_path}") and "\n" not in err


def test_autotune_keeps_each_finished_record(tmp_path, monkeypatch, capsys):
    """Interrupted after its first (spec, shape), autotune has already stored that record."""
    import autotune.run as run_mod
    real, calls = run_mod.tune_spec, {"n": 0}

    def tune_then_interrupt(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(run_mod, "tune_spec", tune_then_interrupt)
    assert main(["autotune", "--gpu", "a100", "--spec", "titans_linear", "--quick", "--shapes", "32x32,64x64",
                 "--cache-dir", str(tmp_path)]) == 130
    assert [r.bucket for r in TuningDB(tmp_path).records()] == ["D32-b32"]


@pytest.mark.slow
def test_predicted_tuning_reuses_compiled_reports(tmp_path, monkeypatch):
    """A candidate compiled before (same IR, target, shape, config, compiler versions) is read
    from the report cache, not compiled again; another shape is compiled."""
    from autotune.run import tune_spec
    monkeypatch.setenv("TITANS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(predicted, "MAX_WORKERS", 1)   # in this process, where the count is kept
    real, calls = predicted.compile_report, {"n": 0}

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)
    monkeypatch.setattr(predicted, "compile_report", counting)
    ir = tk.lower(tk.load_spec("titans_linear"))
    first, ranked, _ = tune_spec(ir, get_gpu("a100"), 32, 32, "bfloat16", quick=True)
    compiled = calls["n"]
    assert compiled == len(ranked) > 0
    again, _, _ = tune_spec(ir, get_gpu("a100"), 32, 32, "bfloat16", quick=True)
    assert calls["n"] == compiled and again.config == first.config and again.time_s == first.time_s
    tune_spec(ir, get_gpu("a100"), 16, 16, "bfloat16", quick=True)
    assert calls["n"] > compiled
