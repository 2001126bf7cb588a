"""Command line: commands work, and errors are one line on stderr with no traceback."""
from __future__ import annotations

import subprocess
import sys

import pytest

import titans_kernels as tk
from titans_kernels.cli import main


def test_specs_list_and_show(capsys):
    assert main(["specs", "list"]) == 0
    out = capsys.readouterr().out
    assert "titans_mlp2" in out and "yaad_huber" in out and "huber" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()}
    assert rows["titans_mlp2_normalized"][-3:] == ["init", "normalized", "-"]
    assert rows["ttt_mlp"][-1] == "norm=layer" and rows["atlas_omega"][-1] == "window=4"
    assert rows["moneta"][-1] == "p=3" and rows["elastic_net"][-1] == f"shrink={tk.load_spec('elastic_net').update.shrink:g}"
    assert main(["specs", "show", "titans_mlp3"]) == 0
    out = capsys.readouterr().out
    assert "layer 3" in out and "gelu" in out


def test_validate_reports_each_file(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text("name: good\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmemory:\n  activation: tanh\n")
    assert main(["specs", "validate", str(good), str(bad)]) == 1
    cap = capsys.readouterr()
    assert "ok: " in cap.out and "good" in cap.out
    assert "memory.activation" in cap.err and "'tanh'" in cap.err


def test_run_small(capsys):
    assert main(["run", "titans_mlp2", "--seq", "256", "--batch", "1", "--heads", "2", "--dim", "16",
                 "--chunk", "32", "--segment", "128", "--check", "64"]) == 0
    out = capsys.readouterr().out
    assert "tokens/s" in out and "relative error vs reference" in out
    assert f"CPU matrix products: {tk.cpu_engine()} route" in out
    err = float(out.rsplit(":", 1)[1])
    assert err < 1e-4


@pytest.mark.parametrize("argv, expect", [
    (["run", "nonexistent_rule"], "unknown spec 'nonexistent_rule'"),
    (["run", "titans_mlp2", "--seq", "-5"], "--seq=-5"),
    (["run", "titans_mlp2", "--backend", "cuda"], "unknown backend 'cuda'"),
    (["run", "titans_mlp2", "--segment", "100"], "multiple of the chunk size"),
    (["specs", "show", "nope.yaml"], "no such spec file"),
])
def test_errors_are_one_line_without_traceback(argv, expect):
    proc = subprocess.run([sys.executable, "-m", "titans_kernels", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert expect in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
