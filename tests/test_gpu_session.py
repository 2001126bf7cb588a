"""benchmarks/gpu/session.sh, the GPU session driver, on a machine without a GPU: a usage line for
bad arguments, and one line (no measurement started) where no GPU is visible."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "session.sh"


def _session(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PY=sys.executable, CUDA_VISIBLE_DEVICES="", TITANS_CACHE_DIR=str(tmp / "cache"))
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


def test_bad_arguments_print_the_usage(tmp_path):
    for args in ([], ["measure", str(tmp_path)], ["check"]):
        proc = _session(*args, tmp=tmp_path)
        assert proc.returncode == 2 and proc.stderr.strip() == "usage: benchmarks/gpu/session.sh check|tune OUTDIR"


def test_without_a_gpu_it_stops_with_one_line(tmp_path):
    for step in ("check", "tune"):
        proc = _session(step, str(tmp_path / step), tmp=tmp_path)
        assert proc.returncode == 4, proc.stdout + proc.stderr
        assert proc.stderr.strip().splitlines() == [f"no CUDA GPU visible to {sys.executable}: nothing to measure"]
        assert proc.stdout == "" and not any((tmp_path / step).glob("*.log"))
