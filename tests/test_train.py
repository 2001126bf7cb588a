"""Synthetic tasks and the titans-train command: checkpoints, resume, results, plot."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from titans_models.tasks import QUERY, SEP, TaskSpec, make_batch
from titans_models.train import main, parse_args


def test_recall_batches_hold_their_answer():
    task = TaskSpec("recall", pairs=3)
    x, y = make_batch(task, 5, 40, torch.Generator().manual_seed(0))
    assert x.shape == (5, 40) and y.shape == (5,)
    assert (x[:, -2] == QUERY).all()
    for row, ans in zip(x, y):
        keys, vals = row[0:6:2].tolist(), row[1:6:2].tolist()
        assert vals[keys.index(int(row[-1]))] == int(ans)
    lo, hi = task.values()
    assert ((y >= lo) & (y < hi)).all()


def test_niah_batches_hold_their_answer():
    task = TaskSpec("niah")
    x, y = make_batch(task, 4, 64, torch.Generator().manual_seed(0))
    for row, ans in zip(x, y):
        pos = (row[:-1] == SEP).nonzero()[0, 0]
        assert int(row[pos + 1]) == int(ans) and pos < 32


def test_unknown_task_and_short_length():
    with pytest.raises(ValueError, match="unknown task"):
        make_batch(TaskSpec("copy"), 2, 10, torch.Generator())
    with pytest.raises(ValueError, match="too short"):
        make_batch(TaskSpec("recall", pairs=8), 2, 10, torch.Generator())


def _args(out, steps):
    return ["--model", "mag", "--task", "recall", "--seq-len", "48", "--window", "16", "--segment", "16",
            "--chunk", "8", "--dim", "32", "--layers", "1", "--heads", "2", "--mem-dim-head", "16",
            "--batch", "4", "--steps", str(steps), "--eval-every", "2", "--eval-batches", "1",
            "--eval-lengths", "24,48", "--backend", "torch", "--device", "cpu", "--no-progress", "--out", str(out)]


def test_train_checkpoint_resume_and_plot(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_args(out, 4)) == 0
    blob = torch.load(out / "ckpt.pt", weights_only=True)
    assert blob["step"] == 4 and "model" in blob and "opt" in blob
    res = json.loads((out / "results.json").read_text())
    assert set(res["accuracy"]) == {"24", "48"} and all(0 <= v <= 1 for v in res["accuracy"].values())
    assert main(_args(out, 6) + ["--resume"]) == 0
    assert "resumed" in capsys.readouterr().out
    assert torch.load(out / "ckpt.pt", weights_only=True)["step"] == 6
    lines = (out / "metrics.jsonl").read_text().strip().splitlines()
    assert [json.loads(l)["step"] for l in lines] == [2, 4, 6]
    png = tmp_path / "acc.png"
    assert main(["plot", str(out), "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["table", str(out), str(out)]) == 0   # synthetic-task runs: accuracy by length, rule named
    text = capsys.readouterr().out
    acc = json.loads((out / "results.json").read_text())["accuracy"]
    assert f"({res['spec']}, max lr {res['max_lr']:g})" in text and f"{acc['48']:.1%}" in text
    assert text.count("| 6 |") == 2 and "| 24 | 48 |" in text


def test_plot_without_results_is_one_line_error(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nothing")]) == 2
    assert "no results.json" in capsys.readouterr().err


def test_resume_with_other_flags_is_one_line_error(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_args(out, 2)) == 0
    assert main(_args(out, 4) + ["--resume", "--gate", "sigmoid"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "different model or configuration" in err and "\n" not in err


def test_preset_sets_flags_and_given_flags_win():
    args = parse_args(["--preset", "recall", "--max-lr", "0.5"])
    assert (args.task, args.pairs, args.seq_len, args.window, args.spec) == ("recall", 2, 128, 32, "titans_linear")
    assert args.max_lr == 0.5 and args.lr == 3e-3
    plain = parse_args([])
    assert (plain.seq_len, plain.spec, plain.preset) == (256, "titans_mlp2_normalized", None)


@pytest.mark.parametrize("change, message", [
    (["--seq-len", "6"], "error: --seq-len 6: too short for 4 key-value pairs (needs at least 10 tokens)"),
    (["--eval-lengths", "24,8"], "error: --eval-lengths 8: too short for 4 key-value pairs (needs at least 10 tokens)"),
    (["--device", "gpu"], "error: --device 'gpu' is not a device name; use cpu or cuda (cuda:N)"),
    (["--window", "0"], "error: window=0: expected an integer >= 1"),
])
def test_bad_run_flags_fail_before_training(tmp_path, capsys, change, message):
    """Checked before the first step, as one line: nothing is trained, nothing is written."""
    out = tmp_path / "run"
    assert main(_args(out, 2) + change) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == message and "step" not in captured.out
    assert not (out / "ckpt.pt").exists()


@pytest.mark.parametrize("flag, value, reason", [
    ("--eval-lengths", "64,abc", "'abc' is not an integer"),
    ("--steps", "-1", "-1 is below 0"),
    ("--lr", "0", "0.0 is not > 0"),
    ("--batch", "two", "'two' is not an integer"),
])
def test_bad_flag_values_are_usage_errors(capsys, flag, value, reason):
    with pytest.raises(SystemExit) as info:
        parse_args([flag, value])
    assert info.value.code == 2 and f"argument {flag}: {reason}" in capsys.readouterr().err


def test_unwritable_out_and_unreadable_checkpoint_are_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(_args(blocker / "run", 2)) == 2
    assert capsys.readouterr().err.strip().startswith(f"error: --out {blocker / 'run'}: cannot create it")
    out = tmp_path / "run"
    out.mkdir()
    (out / "ckpt.pt").write_bytes(b"not a checkpoint")
    assert main(_args(out, 2) + ["--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {out / 'ckpt.pt'} cannot be read as a checkpoint") and "\n" not in err
    assert (out / "ckpt.pt").read_bytes() == b"not a checkpoint"   # left as it was


class _Planted:
    """Unpickling this runs code (it touches a file): what a crafted checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_that_would_run_code_is_refused_and_nothing_runs(tmp_path, capsys):
    """--resume loads with weights_only=True: a pickled object that runs code on load is one line,
    the code does not run, and the file is left in place."""
    out = tmp_path / "run"
    assert main(_args(out, 2)) == 0
    marker = tmp_path / "ran"
    blob = torch.load(out / "ckpt.pt", weights_only=True)
    blob["args"]["planted"] = _Planted(marker)
    torch.save(blob, out / "ckpt.pt")
    before = (out / "ckpt.pt").read_bytes()
    capsys.readouterr()
    assert main(_args(out, 4) + ["--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {out / 'ckpt.pt'} cannot be read as a checkpoint") and "\n" not in err
    assert "only tensors and plain values are loaded" in err
    assert not marker.exists() and (out / "ckpt.pt").read_bytes() == before


def test_resume_without_a_checkpoint_says_so(tmp_path, capsys):
    assert main(_args(tmp_path / "run", 2) + ["--resume"]) == 0
    assert "no checkpoint" in capsys.readouterr().out


def test_ctrl_c_writes_a_checkpoint_and_resume_matches_an_uninterrupted_run(tmp_path, capsys, monkeypatch):
    """The first SIGINT stops training after the step in flight, writes the checkpoint, says
    where, and exits 130; resuming from it ends where an uninterrupted run ends."""
    import signal

    import titans_models.train as train_mod
    whole = tmp_path / "whole"
    assert main(_args(whole, 6)) == 0
    real_clip, calls = train_mod.torch.nn.utils.clip_grad_norm_, {"n": 0}

    def clip_then_interrupt(*a, **k):   # called once per training step, after its backward
        calls["n"] += 1
        if calls["n"] == 4:
            signal.raise_signal(signal.SIGINT)
        return real_clip(*a, **k)
    monkeypatch.setattr(train_mod.torch.nn.utils, "clip_grad_norm_", clip_then_interrupt)
    cut = tmp_path / "cut"
    capsys.readouterr()
    assert main(_args(cut, 6)) == 130
    err = capsys.readouterr().err
    assert f"interrupted at step 4; checkpoint written to {cut / 'ckpt.pt'}" in err and "Traceback" not in err
    assert torch.load(cut / "ckpt.pt", weights_only=True)["step"] == 4
    monkeypatch.setattr(train_mod.torch.nn.utils, "clip_grad_norm_", real_clip)
    assert main(_args(cut, 6) + ["--resume"]) == 0
    a = torch.load(whole / "ckpt.pt", weights_only=True)["model"]
    b = torch.load(cut / "ckpt.pt", weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_unwritable_out_fails_before_training(tmp_path, capsys, monkeypatch):
    import titans_models.train as train_mod
    out = tmp_path / "run"
    out.mkdir()
    monkeypatch.setattr(train_mod, "_loop", lambda *a, **k: pytest.fail("training started"))
    real_write = Path.write_bytes

    def refuse(self, data):
        if self.parent == out:
            raise PermissionError(13, "Permission denied")
        return real_write(self, data)
    monkeypatch.setattr(Path, "write_bytes", refuse)
    assert main(_args(out, 2)) == 2
    assert capsys.readouterr().err.strip() == f"error: --out {out}: cannot write there (Permission denied); choose another --out"


@pytest.mark.parametrize("field, value, expect", [
    ("step", "4", "its step is '4', not a step count"),
    ("opt", {"state": 3}, "its optimizer or batch-generator state cannot be restored"),
    ("gen", torch.zeros(3), "its optimizer or batch-generator state cannot be restored"),
    ("model", [1, 2], "was written by a different model"),
])
def test_a_checkpoint_with_wrong_fields_is_one_line(tmp_path, capsys, field, value, expect):
    out = tmp_path / "run"
    assert main(_args(out, 2)) == 0
    blob = torch.load(out / "ckpt.pt", weights_only=True)
    blob[field] = value
    torch.save(blob, out / "ckpt.pt")
    capsys.readouterr()
    assert main(_args(out, 4) + ["--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert expect in err and "\n" not in err and str(out / "ckpt.pt") in err, err
