"""The benchmark regression gate and the report: logic on synthetic results, then end to end on
real timings (three repeats pass, a planted slowdown fails)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


import pytest

import titans_kernels as tk
from titans_kernels.cli import main
from titans_kernels.perf import gate, report
from titans_kernels.perf.fingerprint import fingerprint, results_file, slug
from titans_kernels.perf.results import load

ROOT = Path(__file__).resolve().parents[1]
FP = {"device": "cpu Test CPU 9000", "torch": "2.13.0+cpu", "triton": "3.7.1", "tilelang": None}


def _results(path: Path, ratios: dict[str, float], extra: dict | None = None) -> Path:
    benches = []
    for name, ratio in ratios.items():
        info = {"fraction_of_matmul": ratio, "tokens_per_s": 1000.0 * ratio, "gflops": 10.0 * ratio,
                "device": "cpu", "dtype": "float32"}
        info.update((extra or {}).get(name, {}))
        benches.append({"name": name, "group": "rule forward scaling (cpu)" if "scaling" in name else "g",
                        "stats": {"median": 1.0 / ratio, "min": 0.9 / ratio}, "extra_info": info})
    path.write_text(json.dumps({"benchmarks": benches}))
    return path


def test_fingerprint_names_device_and_versions():
    fp = fingerprint()
    assert fp["device"] and fp["torch"]
    assert slug(FP) == "cpu-test-cpu-9000_torch-2.13.0-cpu_triton-3.7.1"


def test_cpus_of_one_model_name_with_other_vector_units_are_other_machines(monkeypatch):
    """A CPU model name shared by hosts with and without AVX-512 (a virtual machine's "AMD EPYC")
    gives two fingerprints, so one host's baseline is never the other's gate."""
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    slugs = set()
    for isa in ("AVX2", "AVX512"):
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda isa=isa: isa)
        fp = fingerprint()
        assert fp["isa"] == isa.lower() and fp["cpus"] >= 1
        slugs.add(slug(fp))
    assert len(slugs) == 2 and all(f"_{n}cpu_" in s for s in slugs for n in [fingerprint()["cpus"]])
    assert slug({**FP, "isa": "avx512", "cpus": 2}) == "cpu-test-cpu-9000_avx512_2cpu_torch-2.13.0-cpu_triton-3.7.1"
    assert results_file("steps", {**FP, "isa": "avx2"}) == "steps-avx2.json" and results_file("steps", FP) == "steps-gpu.json"


def test_paired_ratio_resolves_a_small_change_under_large_drift():
    """Rounds drifting by up to 2x around a 3 % change: the paired median recovers it and its
    interval excludes 1, while the two sides' ranges overlap; no change gives an interval around 1."""
    import random
    from titans_kernels.perf.stats import paired_ratio
    rng = random.Random(7)
    drift = [rng.uniform(1.0, 2.0) for _ in range(200)]
    old = [d * rng.uniform(0.995, 1.005) for d in drift]
    new = [d * 0.97 * rng.uniform(0.995, 1.005) for d in drift]
    assert min(old) < max(new)       # the sides alone overlap
    got = paired_ratio(new, old)
    assert abs(got.median - 0.97) < 0.005 and got.hi < 1.0 and got.verdict() == "faster"
    same = paired_ratio(old, [d * rng.uniform(0.995, 1.005) for d in drift])
    assert same.lo <= 1.0 <= same.hi and same.verdict() == "no change resolved"
    assert paired_ratio(old, new).verdict() == "slower"
    assert paired_ratio(new, old).to_dict() == paired_ratio(new, old).to_dict()   # seeded


@pytest.mark.parametrize("new, old, what", [([1.0], [1.0, 2.0], "one value per round"), ([], [], "no rounds"),
                                             ([1.0], [0.0], "positive")])
def test_paired_ratio_errors_are_one_line(new, old, what):
    from titans_kernels.perf.stats import paired_ratio
    with pytest.raises(tk.InputError, match=what):
        paired_ratio(new, old)


def test_gate_catches_a_drop_and_ignores_small_moves(tmp_path):
    base = {"a": 0.50, "b": 0.30, "c": 0.20}
    gate.save(_results(tmp_path / "r0.json", base), tmp_path / "bl", fp=FP)
    ok, moved, lines = gate.compare(_results(tmp_path / "r1.json", {"a": 0.48, "b": 0.31, "c": 0.205}),
                                    tmp_path / "bl", fp=FP)
    assert ok and not moved and lines[-1] == "ok: 0 regression(s)"
    ok, moved, lines = gate.compare(_results(tmp_path / "r2.json", {"a": 0.50, "b": 0.30 / 1.2, "c": 0.20}),
                                    tmp_path / "bl", fp=FP)
    assert not ok and [c.name for c in moved] == ["b"]
    assert any("REGRESSION" in ln and ln.startswith("b ") for ln in lines)


def test_all_lists_every_benchmark_worst_first(tmp_path, monkeypatch, capsys):
    """`--all` (show_all): a row for every compared benchmark, worst change first, the verdict
    unchanged; without it only the moves beyond half the threshold are rows."""
    base = {"a": 0.50, "b": 0.30, "c": 0.20}
    gate.save(_results(tmp_path / "r0.json", base), tmp_path / "bl", fp=FP)
    now = _results(tmp_path / "r1.json", {"a": 0.49, "b": 0.31, "c": 0.195})
    ok, moved, lines = gate.compare(now, tmp_path / "bl", fp=FP, show_all=True)
    rows = [ln.split()[0] for ln in lines[2:-2]]
    assert ok and not moved and rows == ["c", "a", "b"]
    assert lines[-2] == "nothing moved by more than half the threshold" and lines[-1] == "ok: 0 regression(s)"
    assert gate.compare(now, tmp_path / "bl", fp=FP)[2] == [lines[0]] + lines[-2:]
    monkeypatch.setattr(gate, "fingerprint", lambda: FP)
    assert main(["bench", "compare", str(now), "--baselines", str(tmp_path / "bl"), "--all"]) == 0
    out = capsys.readouterr().out
    assert all(f"\n{name} " in out for name in "abc")


def test_the_matmul_reference_is_recorded_but_never_gated(tmp_path):
    """The 1024^3 product is the yardstick of every ratio; its own row (timed against the same
    product) is machine noise, so the gate skips it while its figure stays in the results."""
    out = tmp_path / "ref.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_rules.py", "-q", "-p", "no:cacheprovider",
                           "--benchmark-only", "-k", "matmul_reference", f"--benchmark-json={out}"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (row,) = load(out)
    assert row.name == "test_matmul_reference" and row.info["fraction_of_matmul"] > 0 and row.ratio is None


def test_baseline_keeps_the_slowest_run_per_benchmark(tmp_path):
    gate.save(_results(tmp_path / "r0.json", {"a": 0.5, "b": 0.3}), tmp_path, fp=FP)
    gate.save(_results(tmp_path / "r1.json", {"a": 0.4, "b": 0.35}), tmp_path, fp=FP)
    data = json.loads(gate.baseline_path(tmp_path, FP).read_text())
    assert data["ratios"] == {"a": 0.4, "b": 0.3} and data["runs"] == {"a": 2, "b": 2}
    gate.save(_results(tmp_path / "r2.json", {"a": 0.45}), tmp_path, fp=FP, reset=True)
    assert json.loads(gate.baseline_path(tmp_path, FP).read_text())["ratios"] == {"a": 0.45}


def test_gate_errors_are_one_line(tmp_path, capsys):
    res = _results(tmp_path / "r.json", {"a": 0.5})
    assert main(["bench", "compare", str(res), "--baselines", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "no baseline for this machine" in err and "make bench-save" in err and "Traceback" not in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["bench", "save", str(bad), "--baselines", str(tmp_path)]) == 2
    assert "is not a pytest-benchmark JSON file" in capsys.readouterr().err


def test_report_writes_markdown_and_plots(tmp_path):
    res = _results(tmp_path / "r.json", {"scaling512": 0.3, "scaling2048": 0.4, "mem": 0.1},
                   extra={"scaling512": {"seq": 512, "backend": "torch"},
                          "scaling2048": {"seq": 2048, "backend": "torch"},
                          "mem": {"seq": 4096, "peak_gb": 0.5, "gated": False, "memory": "rss"}})
    written = report.render(res, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == ["memory.png", "report.md", "throughput.png"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "`scaling2048`" in md and "0.50 GB" in md and "![tokens/s" in md
    assert all(p.stat().st_size > 1000 for p in written if p.suffix == ".png")


def _bench(out: Path, plant: str | None = None) -> Path:
    env = dict(os.environ, TITANS_BENCH_THREADS="1")
    env.pop("TITANS_BENCH_PLANT", None)
    if plant:
        env["TITANS_BENCH_PLANT"] = plant
    cmd = [sys.executable, "-m", "pytest", "benchmarks/test_rules.py", "-q", "-p", "no:cacheprovider",
           "--benchmark-only", "-k", "test_rule_forward[titans_mlp2-torch-float32]", f"--benchmark-json={out}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


@pytest.mark.slow
def test_gate_end_to_end_planted_slowdown(tmp_path):
    """Real timings: a baseline over two runs (as `make bench-save` records it), three repeats of
    the same run with no alarm, and a planted slowdown (every call takes twice as long) that fails
    the gate. It moves the ratio by -50%. Run-to-run noise on the shared 2-core machine reached
    14% (a planted 30%, -23%, once measured only -9%), above the default 10% threshold, so the
    repeats are judged at 25%: the test is of the gate's mechanics, at a threshold the noise of
    the machine that runs it cannot cross, and the planted -50% must still fail there."""
    bl = tmp_path / "baselines"
    for i in range(2):
        gate.save(_bench(tmp_path / f"base{i}.json"), bl)
    for i in range(3):
        ok, _, lines = gate.compare(_bench(tmp_path / f"again{i}.json"), bl, threshold=NOISE_SAFE)
        assert ok, "\n".join(lines)
    ok, moved, lines = gate.compare(_bench(tmp_path / "planted.json", plant="1.0"), bl, threshold=NOISE_SAFE)
    assert not ok and moved and moved[0].rel < -NOISE_SAFE, "\n".join(lines)


NOISE_SAFE = 0.25   # above the 14% run-to-run noise measured here, below the planted 50%


# The A/B gate (perf/ab.py): no baseline needed, the base commit run in the same session.

def test_ab_judges_the_best_run_of_each_side(tmp_path):
    """Per benchmark each side keeps its best ratio over its runs; the head fails below the base
    by more than the threshold; benchmarks only one side has are left out."""
    from titans_kernels.perf import ab
    base = [_results(tmp_path / "b0.json", {"a": 0.40, "b": 0.30, "gone": 0.1}),
            _results(tmp_path / "b1.json", {"a": 0.50, "b": 0.28})]
    head = [_results(tmp_path / "h0.json", {"a": 0.49, "b": 0.20, "new": 0.2}),
            _results(tmp_path / "h1.json", {"a": 0.30, "b": 0.24})]
    assert ab.best_ratios(base) == {"a": 0.50, "b": 0.30, "gone": 0.1}
    ok, moved, lines = ab.judge(base, head, threshold=0.10, label="abc123")
    assert not ok and [c.name for c in moved] == ["b"] and moved[0].rel == pytest.approx(-0.2)
    assert "REGRESSION" in lines[-2] and lines[-1] == "FAIL: 1 regression(s)" and "against abc123" in lines[0]
    ok, _, _ = ab.judge(base, head, threshold=0.25)
    assert ok


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    for i in range(2):
        (repo / "f.txt").write_text(f"v{i}\n")
        git("add", "f.txt")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", f"c{i}")
    return repo


def test_ab_base_and_worktree(tmp_path):
    """auto is HEAD with tracked changes and HEAD~1 without; the worktree holds the base's files
    and is gone afterwards; a base that is not a commit is one line."""
    from titans_kernels.perf import ab
    repo = _repo(tmp_path)
    rev = lambda r: subprocess.run(["git", "-C", str(repo), "rev-parse", r], capture_output=True,  # noqa: E731
                                   text=True).stdout.strip()
    assert ab.resolve_base(repo, "auto") == rev("HEAD~1")
    (repo / "f.txt").write_text("changed\n")
    assert ab.resolve_base(repo, "auto") == rev("HEAD")
    with ab.worktree(repo, rev("HEAD~1")) as tree:
        assert (tree / "f.txt").read_text() == "v0\n"
    assert not tree.exists()
    with pytest.raises(tk.InputError, match="--base nope: not a commit of the repository"):
        ab.resolve_base(repo, "nope")


@pytest.mark.slow
def test_ab_end_to_end_catches_a_planted_slowdown(tmp_path, capsys):
    """Real timings: `bench ab --base HEAD` on one benchmark runs the committed package from a
    temporary worktree and the working tree's, and passes at a threshold above this machine's
    noise; the same run with every call of the head side made twice as slow fails."""
    from titans_kernels.perf import ab
    args = ["benchmarks/test_rules.py", "-k", "test_rule_forward[titans_mlp2-torch-float32]"]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = main(["bench", "ab", "--base", "HEAD", "--rounds", "1", "--threshold", str(NOISE_SAFE), "--", *args])
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert code == 0 and "round 1/1: base" in out and "ok: 0 regression(s)" in out, out
    env = dict(os.environ, TITANS_BENCH_PLANT="1.0")
    plain = {k: v for k, v in os.environ.items() if k != "TITANS_BENCH_PLANT"}
    runs = ab.interleave({"base": (ROOT, plain), "head": (ROOT, env)}, 1, args, tmp_path)
    ok, moved, lines = ab.judge(runs["base"], runs["head"], threshold=NOISE_SAFE)
    assert not ok and moved[0].rel < -NOISE_SAFE, "\n".join(lines)
