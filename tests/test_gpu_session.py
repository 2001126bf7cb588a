"""The GPU scripts on a machine without a GPU: session.sh (the session driver) prints a usage line
for bad arguments and one line where no GPU is visible; sweep_configs.py and bench_gpu.py run end
to end with their GPU calls replaced by CPU stand-ins (the kernels under the interpreter), so that
a GPU session's time is not spent on a broken script."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "session.sh"


def _session(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PY=sys.executable, CUDA_VISIBLE_DEVICES="", TITANS_CACHE_DIR=str(tmp / "cache"))
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


def _cpu_case(spec, B, H, T, D, chunk, dtype, seed=0):
    """gpu_case.cuda_case, on the CPU."""
    import torch

    import titans_kernels as tk
    from titans_kernels.testing import random_inputs
    ref_rule = tk.compile(spec, backend="torch")
    g = torch.Generator().manual_seed(seed)
    inputs = random_inputs(ref_rule.ir, B, H, T, D, chunk, dtype=dtype, generator=g)
    return ref_rule, inputs, ref_rule.init_state(B, H, D, generator=g)


def _seconds(fn, reps=1, warmup=0):
    """One wall-clock call in place of the scripts' CUDA-event medians."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_bad_arguments_print_the_usage(tmp_path):
    for args in ([], ["measure", str(tmp_path)], ["check"]):
        proc = _session(*args, tmp=tmp_path)
        assert proc.returncode == 2 and proc.stderr.strip() == "usage: benchmarks/gpu/session.sh check|tune|diagnose|tilelang OUTDIR"


def test_without_a_gpu_it_stops_with_one_line(tmp_path):
    for step in ("check", "tune", "tilelang"):
        proc = _session(step, str(tmp_path / step), tmp=tmp_path)
        assert proc.returncode == 4, proc.stdout + proc.stderr
        assert proc.stderr.strip().splitlines() == [f"no CUDA GPU visible to {sys.executable}: nothing to measure"]
        assert proc.stdout == "" and not any((tmp_path / step).glob("*.log"))


@pytest.mark.slow
def test_sweep_covers_every_tiled_variant_on_cpu_stand_ins(tmp_path, monkeypatch):
    """sweep_configs.py end to end with the GPU calls replaced by CPU stand-ins (the interpreter
    runs the kernels): a row per forward variant, each checked against the torch backend, then
    forward+backward of the best with each backward, and the JSON written."""
    import importlib
    import json

    import torch

    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    gpu_case = importlib.import_module("gpu_case")
    sweep = importlib.import_module("sweep_configs")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: None)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda: "cpu stand-in")
    monkeypatch.setattr(sweep, "cuda_case", _cpu_case)
    monkeypatch.setattr(sweep, "cuda_median_seconds", _seconds)
    assert gpu_case.DTYPES["float32"] is torch.float32
    monkeypatch.setattr("sys.argv", ["sweep_configs.py", "--batch-heads", "1", "--seq", "40", "--dim", "16",
                                     "--chunk", "16", "--dtype", "float32", "--tiles", "16", "--warps", "4",
                                     "--stages", "1", "--precisions", "ieee", "--fuse", "1,0", "--in-place", "0,1",
                                     "--out", str(tmp_path)])
    assert sweep.main() == 0
    (path,) = tmp_path.glob("sweep-cpu_stand-in-titans_mlp2-*.json")
    rows = json.loads(path.read_text())["configs"]
    assert sorted((r["kernel"], r["fuse"], r["in_place"]) for r in rows) == [
        ("generic", True, False), ("tiled", False, False), ("tiled", False, True), ("tiled", True, False),
        ("tiled", True, True)]
    assert all("error" not in r and r["rel_error"] < 1e-5 and r["forward_s"] > 0 for r in rows)
    for kernel in ("generic", "tiled"):
        best = min((r for r in rows if r["kernel"] == kernel), key=lambda r: r["forward_s"])
        assert best["forward_backward_s"] > 0 and best["forward_tiled_backward_s"] > 0, best


def _bench_on_cpu_stand_ins(tmp_path, monkeypatch, *argv: str) -> dict:
    """bench_gpu.py's main at a small shape with `argv`, its GPU calls replaced by CPU stand-ins:
    the JSON's backends."""
    import importlib
    import json

    import torch

    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    bench = importlib.import_module("bench_gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda: "cpu stand-in")
    monkeypatch.setattr(bench, "cuda_case", _cpu_case)
    monkeypatch.setattr(bench, "cuda_time", _seconds)
    monkeypatch.setattr(bench, "matmul_rate", lambda dtype: 1e11)
    monkeypatch.setattr(bench, "copy_bandwidth", lambda: 1e10)
    monkeypatch.setattr("sys.argv", ["bench_gpu.py", "--batch", "1", "--heads", "1", "--seq", "40", "--dim", "16",
                                     "--chunk", "16", "--dtype", "float32", "--out", str(tmp_path), *argv])
    assert bench.main() == 0
    (path,) = tmp_path.glob("cpu_stand-in-titans_mlp2-*.json")
    return json.loads(path.read_text())["backends"]


@pytest.mark.slow
def test_bench_times_every_backend_on_cpu_stand_ins(tmp_path, monkeypatch):
    """bench_gpu.py end to end with the GPU calls replaced by CPU stand-ins: every Triton variant
    (generic, tiled fused, three passes, in place, tiled backward, one-pass plain, staged and with
    its backward) checked
    against the torch
    backend and timed forward and forward+backward, and the JSON written."""
    backends = _bench_on_cpu_stand_ins(tmp_path, monkeypatch, "--skip", "tilelang,tilelang (resident),torch.compile(torch)")
    timed = {name: e for name, e in backends.items() if name.startswith(("torch", "triton"))}
    assert set(timed) == {"torch", "triton", "triton (tiled forward)", "triton (tiled forward + backward)",
                          "triton (tiled forward, in place)", "triton (tiled forward, three passes)",
                          "triton (one-pass forward)", "triton (one-pass forward, staged)",
                          "triton (one-pass forward + backward)"}
    for name, entry in timed.items():   # the one-pass forward's default products are tf32 (emulated)
        tol = 2e-3 if "one-pass" in name else 1e-4
        assert "error" not in entry and entry["rel_error_vs_torch"] < tol, (name, entry)
        assert entry["forward_s"] > 0 and entry["forward_backward_s"] > 0, (name, entry)


def test_bench_times_the_tilelang_kernels_on_cpu_stand_ins(tmp_path, monkeypatch):
    """bench_gpu.py --only, as the session's tilelang step runs it, with the GPU calls replaced by
    CPU stand-ins (the C target runs the kernels): the resident kernel's row checked against the
    torch backend and timed forward and forward+backward; rows not named are not run."""
    backends = _bench_on_cpu_stand_ins(tmp_path, monkeypatch, "--only", "torch,tilelang (resident)")
    assert set(backends) == {"torch", "tilelang (resident)", "titans-pytorch NeuralMemory"}
    assert "skipped" in backends["titans-pytorch NeuralMemory"]
    entry = backends["tilelang (resident)"]
    assert "error" not in entry and entry["rel_error_vs_torch"] < 1e-5, entry
    assert entry["forward_s"] > 0 and entry["forward_backward_s"] > 0, entry


def test_probe_checks_and_times_onepass_on_cpu_stand_ins(tmp_path, monkeypatch):
    """probe.py's one-pass part end to end with the GPU calls replaced by CPU stand-ins (the
    interpreter runs the kernel): every config checked against the torch backend, every output
    element written, timed, and the JSON and the closing table written."""
    import importlib
    import json

    import torch

    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    probe = importlib.import_module("probe")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda: "cpu stand-in")
    monkeypatch.setattr(probe, "cuda_case", _cpu_case)
    monkeypatch.setattr(probe, "cuda_median_seconds", _seconds)
    monkeypatch.setattr("sys.argv", ["probe.py", "--batch", "1", "--heads", "1", "--seq", "100", "--parts", "onepass",
                                     "--config", "ieee/ieee,4,64", "--config", "ieee/ieee,4,32,tma,stage",
                                     "--out", str(tmp_path)])
    assert probe.main() == 0
    (path,) = tmp_path.glob("probe-cpu_stand-in-*.json")
    rows = json.loads(path.read_text())["onepass"]
    assert [(r["hb"], r["tma"], r["stage"]) for r in rows] == [(64, False, False), (32, True, True)]
    for r in rows:
        assert "error" not in r and r["all_written"], r
        # out is bfloat16 (its rounding, about 4e-3); the float32 end state is exact to float32
        assert r["rel_error_out"] < 1e-2 and r["rel_error_state"] < 1e-5 and r["forward_s"] > 0, r


def test_model_step_times_each_backend_and_records_failures(tmp_path):
    """The end-to-end step script on CPU at a tiny config: tokens/s per backend in its JSON; a
    backend that cannot run is recorded with its error and fails the exit status."""
    import importlib
    import json
    import sys

    sys.path.insert(0, str(SCRIPT.parent))
    try:
        model_step = importlib.import_module("model_step")
    finally:
        sys.path.pop(0)
    tiny = ["--dim", "32", "--layers", "1", "--heads", "2", "--mem-dim-head", "16", "--segment", "16", "--chunk", "8",
            "--batch", "2", "--seq", "32", "--reps", "2", "--device", "cpu", "--out", str(tmp_path)]
    assert model_step.main(["--backends", "torch"] + tiny) == 0
    assert model_step.main(["--backends", "torch,nosuch"] + tiny) == 1
    runs = sorted(tmp_path.glob("model-step-cpu-*.json"))
    rows = json.loads(runs[-1].read_text())["rows"]
    assert rows[0]["backend"] == "torch" and rows[0]["tokens_per_s"] > 0 and rows[0]["parameters"] > 0
    assert "unknown backend 'nosuch'" in rows[1]["error"]


@pytest.mark.slow
def test_tilelang_warm_compiles_every_row_on_the_c_target(tmp_path):
    """tilelang_warm.py, as the session's tilelang step runs it, with --device cpu: one line per
    kernel, every row compiled (the backward of the generic, resident and tf32 rows too)."""
    script = SCRIPT.parent / "tilelang_warm.py"
    env = dict(os.environ, TILELANG_CACHE_DIR=str(tmp_path / "tl"), TITANS_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, str(script), "--device", "cpu", "--dim", "16", "--chunk", "16", "--jobs", "2"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = sorted(ln.split(" in ")[0] for ln in proc.stdout.splitlines() if not ln.startswith("20"))
    assert lines == ["compiled tilelang (resident) +backward", "compiled tilelang (resident, bf16 products)",
                     "compiled tilelang (resident, cluster 2)", "compiled tilelang (resident, cluster 4)",
                     "compiled tilelang (resident, tf32 wgmma) +backward", "compiled tilelang +backward"], proc.stdout


def test_row_lists_name_rows_with_commas(monkeypatch):
    """--only / --skip / --backward take comma-separated row names, and some names hold commas
    ("tilelang (resident, cluster 2)"): every TileLang row the tilelang step names is one of
    gpu_case.tilelang_rows, parsed whole (split at every comma, they matched nothing and the
    rows were silently left out)."""
    import importlib
    import re

    import titans_kernels as tk
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    gpu_case = importlib.import_module("gpu_case")
    rows = list(gpu_case.tilelang_rows(tk.lower(tk.load_spec("titans_mlp2"))))
    assert gpu_case.row_names(",".join(rows)) == set(rows)
    assert gpu_case.row_names(" torch.compile(torch) ,, triton ") == {"torch.compile(torch)", "triton"}
    text = SCRIPT.read_text()
    listed = "".join(m.replace("$rows", "") for m in re.findall(r'rows="([^"]*)"', text))
    named = {r for r in gpu_case.row_names(listed) if r.startswith("tilelang")}
    assert "tilelang (resident, cluster 4)" in named and named <= set(rows), named - set(rows)
    warm = (SCRIPT.parent / "tilelang_warm.py").read_text()
    backward = re.search(r'"--backward", default="([^"]*)"', warm).group(1)
    assert gpu_case.row_names(backward) <= set(rows) and len(gpu_case.row_names(backward)) == 3
