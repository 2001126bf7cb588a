"""Language modeling on real text: titans-train prepare, --task lm, rotary attention, the
full-attention baseline, evaluation by position, exact resume."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from titans_models import lm as lm_module
from titans_models.attention import rotate
from titans_models.config import TitansConfig
from titans_models.data import DataError, TokenData, position_buckets, prepare
from titans_models.train import main

from conftest import loopback_interface

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--dim", "32", "--layers", "1", "--heads", "2", "--mem-heads", "2", "--mem-dim-head", "16", "--chunk", "8",
        "--segment", "16", "--window", "16", "--persistent", "2", "--batch", "4", "--no-progress"]


WORDS = ("the memory reads a key and writes its value with a gradient step on the loss while momentum "
         "carries surprise across tokens and decay forgets old pairs so that each chunk updates weights "
         "in parallel from its start state then attention looks back over a window of recent bytes").split()


def write_documents(directory: Path, count: int = 24, sentences: int = 80, seed: int = 0) -> list[Path]:
    """A fixed corpus of `count` text files (seeded sentences over a small vocabulary): the tests'
    data never changes with the repository's own text."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in range(count):
        lines = []
        for _ in range(sentences):
            words = rng.choices(WORDS, k=rng.randint(5, 14))
            lines.append(" ".join(words).capitalize() + rng.choice((".", ".", ",", ";", "?")))
        path = directory / f"doc{d:02d}.txt"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A fixed byte corpus of generated documents (validation is the trailing documents)."""
    root = tmp_path_factory.mktemp("lm")
    write_documents(root / "docs")
    out = root / "data"
    prepare([str(root / "docs")], str(out), progress=lambda *_: None)
    return out


def test_prepare_writes_memory_mapped_splits(corpus, tmp_path):
    data = TokenData.open(str(corpus))
    assert data.vocab_size == 256 and data.meta["tokenizer"] == "bytes" and data.train.dtype == np.uint8
    assert data.train.size > 10_000 and 0 < data.val.size < data.train.size
    # the byte tokenizer is the UTF-8 encoding: the files' bytes come back
    source = (corpus.parent / "docs" / "doc00.txt").read_bytes()
    assert source[:200] in bytes(np.asarray(data.train))
    x, y = data.batch("train", 3, 20, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (3, 20) and torch.equal(x[:, 1:], y[:, :-1])
    # JSON lines with a text field
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": "hello world " * 20}) + "\n\n"
                                      + json.dumps({"text": "second document " * 20}) + "\n")
    meta = prepare([str(tmp_path / "a.jsonl")], str(tmp_path / "j"), progress=lambda *_: None)
    assert meta["documents"] == 2 and meta["train_tokens"] + meta["val_tokens"] >= 400


@pytest.mark.parametrize("setup, match", [
    (lambda d: (d / "empty.txt").write_text("  \n"), "no text in it"),
    (lambda d: (d / "x.bin").write_bytes(b"ab\0cd"), "a binary file"),
    (lambda d: (d / "x.txt").write_bytes(b"\xff\xfe bad"), "not UTF-8 text"),
    (lambda d: (d / "x.jsonl").write_text('{"body": "no text field"}\n'), "no string field 'text'"),
    (lambda d: (d / "x.jsonl").write_text("{not json\n"), "not a JSON line"),
])
def test_bad_corpus_is_one_line(tmp_path, setup, match):
    setup(tmp_path)
    target = [str(p) for p in tmp_path.iterdir()]
    with pytest.raises(DataError, match=match):
        prepare(target, str(tmp_path / "out"), progress=lambda *_: None)


def test_binary_files_inside_a_directory_are_skipped(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text("some text " * 50)
    (tmp_path / "c" / "b.png").write_bytes(b"\x89PNG\0\0")
    lines = []
    meta = prepare([str(tmp_path / "c")], str(tmp_path / "out"), progress=lines.append)
    assert meta["train_tokens"] > 0 and "skipped 1 binary" in lines[0]


def test_train_cli_errors_are_one_line(corpus, tmp_path, capsys):
    assert main(["--task", "lm", "--out", str(tmp_path / "r")] + TINY) == 2
    assert "needs --data" in capsys.readouterr().err
    assert main(["--task", "lm", "--data", str(tmp_path), "--out", str(tmp_path / "r")] + TINY) == 2
    assert "no meta.json; prepare it first" in capsys.readouterr().err
    assert main(["--task", "lm", "--data", str(corpus), "--seq-len", "10000000", "--out", str(tmp_path / "r")] + TINY) == 2
    assert "fewer than one sequence" in capsys.readouterr().err
    assert main(["prepare", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_rotary_is_relative_and_exact_under_streaming():
    """Rotated dot products depend on the position difference alone; every model kind streams
    in pieces exactly as one pass (positions continue through the cache)."""
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 2, 1, 8, generator=g), torch.randn(1, 2, 1, 8, generator=g)
    dot = [float((rotate(q, torch.tensor([p + 7])) * rotate(k, torch.tensor([p]))).sum()) for p in (0, 5, 100)]
    assert max(dot) - min(dot) < 1e-4 and abs(dot[0] - float((q * k).sum())) > 1e-3
    for kind in ("mac", "mag", "mal", "swa", "attention"):
        cfg = TitansConfig(vocab_size=50, dim=16, layers=1, heads=2, mem_heads=2, mem_dim_head=8, chunk_size=4,
                           segment_len=8, window=6, persistent_tokens=2, backend="torch")
        model = lm_module.MODELS[kind](cfg)
        x = torch.randint(0, 50, (2, 21), generator=g)
        full, _ = model(x)
        a, cache = model(x[:, :5])
        b, cache = model(x[:, 5:13], cache)
        c, _ = model(x[:, 13:], cache)
        assert torch.allclose(torch.cat([a, b, c], 1), full, atol=1e-4, rtol=1e-4), kind


def test_full_attention_sees_past_the_window():
    """The attention baseline's output at the last token depends on the first token; the sliding
    window one's does not."""
    cfg = TitansConfig(vocab_size=50, dim=16, layers=1, heads=2, window=4, persistent_tokens=0, backend="torch")
    x = torch.randint(1, 50, (1, 12), generator=torch.Generator().manual_seed(1))
    y = x.clone()
    y[0, 0] = 0
    for kind, differs in (("attention", True), ("swa", False)):
        model = lm_module.MODELS[kind](cfg)
        changed = not torch.allclose(model(x)[0][0, -1], model(y)[0][0, -1])
        assert changed == differs, kind


def test_lm_training_learns_and_resumes_exactly(corpus, tmp_path, capsys):
    """A few dozen steps lower the validation loss; evaluation by position lands in results.json;
    a run stopped and resumed ends with the same weights as one run straight through."""
    base = ["--task", "lm", "--data", str(corpus), "--model", "mag", "--seq-len", "32", "--eval-lengths", "32,64",
            "--eval-every", "12", "--eval-batches", "2", "--lr", "3e-3", "--warmup", "4"] + TINY
    assert main(base + ["--steps", "36", "--out", str(tmp_path / "a")]) == 0
    hist = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert hist[-1]["val_loss"] < hist[0]["val_loss"] < 5.6   # uniform over 256 bytes: 5.55
    res = json.loads((tmp_path / "a" / "results.json").read_text())
    assert set(res["eval"]) == {"32", "64"} and res["parameters"] > 0
    rows = res["eval"]["64"]["by_position"]
    assert [(r["lo"], r["hi"]) for r in rows] == position_buckets(64) and rows[-1]["hi"] == 64
    assert all(np.isfinite(r["loss"]) and r["bits_per_byte"] > 0 for r in rows)
    capsys.readouterr()
    assert main(["table", str(tmp_path / "a")]) == 0
    text = capsys.readouterr().out
    assert f"| mag ({res['spec']}, " in text and f"{rows[-1]['loss']:.3f}" in text and "at length 64" in text
    # resume: 12 steps, then on to 24, equals 24 at once (a schedule that does not depend on
    # --steps, so that the stopped run took the same steps)
    flat = base + ["--schedule", "constant"]
    assert main(flat + ["--steps", "24", "--out", str(tmp_path / "c")]) == 0
    assert main(flat + ["--steps", "12", "--out", str(tmp_path / "b")]) == 0
    assert main(flat + ["--steps", "24", "--out", str(tmp_path / "b"), "--resume"]) == 0
    wa = torch.load(tmp_path / "c" / "ckpt.pt", weights_only=True)["model"]
    wb = torch.load(tmp_path / "b" / "ckpt.pt", weights_only=True)["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_lr_schedule_warms_up_and_decays():
    from types import SimpleNamespace

    from titans_models.train import lr_at
    args = SimpleNamespace(lr=1.0, warmup=10, steps=110, schedule="cosine")
    rates = [lr_at(args, s) for s in range(110)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:])) and rates[-1] == pytest.approx(0.1, abs=1e-3)


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(argv: list[str], world: int, tmp_path: Path) -> None:
    """Run `titans-train argv` as a torchrun launch would: `world` processes with RANK,
    WORLD_SIZE and MASTER_ADDR/PORT set, on gloo over the loopback interface."""
    import os
    import subprocess
    import sys
    port = _free_port()
    loopback = loopback_interface()
    procs = []
    for rank in range(world):
        env = dict(os.environ, WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), OMP_NUM_THREADS="1", **({"GLOO_SOCKET_IFNAME": loopback} if loopback else {}))
        log = open(tmp_path / f"rank{rank}.log", "w")
        procs.append(subprocess.Popen([sys.executable, "-m", "titans_models.train", *argv], env=env, stdout=log,
                                      stderr=subprocess.STDOUT, cwd=ROOT))
    try:
        codes = [p.wait(timeout=240) for p in procs]
    finally:
        for p in procs:
            p.kill()
    logs = "\n".join((tmp_path / f"rank{r}.log").read_text() for r in range(world))
    assert codes == [0] * world, logs


def test_two_processes_train_as_one_and_resume_at_another_world_size(corpus, tmp_path):
    """2 gloo processes, each on its half of every batch, end with the weights of one process on
    whole batches; a run checkpointed by one process continues exactly on two."""
    base = ["--task", "lm", "--data", str(corpus), "--model", "mag", "--seq-len", "32", "--eval-lengths", "32",
            "--eval-every", "6", "--eval-batches", "1", "--schedule", "constant", "--warmup", "2"] + TINY
    assert main(base + ["--steps", "12", "--out", str(tmp_path / "one")]) == 0
    _torchrun(base + ["--steps", "12", "--out", str(tmp_path / "two")], 2, tmp_path)
    assert main(base + ["--steps", "6", "--out", str(tmp_path / "mixed")]) == 0
    _torchrun(base + ["--steps", "12", "--out", str(tmp_path / "mixed"), "--resume"], 2, tmp_path)
    want = torch.load(tmp_path / "one" / "ckpt.pt", weights_only=True)["model"]
    for run in ("two", "mixed"):
        got = torch.load(tmp_path / run / "ckpt.pt", weights_only=True)
        assert got["step"] == 12
        for k in want:
            # float32: the two ranks' averaged gradient rounds differently from one batch's mean,
            # and AdamW's step on an entry with a near-zero gradient follows that rounding (up to
            # 2e-5 seen on one corpus); a rank on the wrong half moves weights by ~lr = 2e-3 a step
            assert torch.allclose(got["model"][k], want[k], rtol=1e-4, atol=2e-4), (run, k)


@pytest.mark.slow
def test_fsdp_trains_as_one_and_checkpoints_resume_either_way(corpus, tmp_path):
    """--fsdp on 2 gloo processes (FSDP2: parameters, gradients and optimizer state sharded) ends
    with the weights of one process on whole batches; its checkpoints are whole, so a sharded run
    resumes an unsharded one's checkpoint and an unsharded run resumes a sharded one's, exactly."""
    base = ["--task", "lm", "--data", str(corpus), "--model", "mac", "--seq-len", "32", "--eval-lengths", "32",
            "--eval-every", "6", "--eval-batches", "1", "--schedule", "constant", "--warmup", "2"] + TINY
    assert main(base + ["--steps", "12", "--out", str(tmp_path / "one")]) == 0
    _torchrun(base + ["--fsdp", "--steps", "12", "--out", str(tmp_path / "sharded")], 2, tmp_path)
    assert "2 processes (FSDP2)" in (tmp_path / "rank0.log").read_text()
    assert main(base + ["--steps", "6", "--out", str(tmp_path / "into")]) == 0
    _torchrun(base + ["--fsdp", "--steps", "12", "--out", str(tmp_path / "into"), "--resume"], 2, tmp_path)
    _torchrun(base + ["--fsdp", "--steps", "6", "--out", str(tmp_path / "out")], 2, tmp_path)
    assert main(base + ["--steps", "12", "--out", str(tmp_path / "out"), "--resume"]) == 0
    want = torch.load(tmp_path / "one" / "ckpt.pt", weights_only=True)
    for run in ("sharded", "into", "out"):
        got = torch.load(tmp_path / run / "ckpt.pt", weights_only=True)
        assert got["step"] == 12 and set(got["model"]) == set(want["model"])
        for k in want["model"]:
            assert torch.allclose(got["model"][k], want["model"][k], rtol=1e-4, atol=1e-5), (run, k)
        assert set(got["opt"]["state"]) == set(want["opt"]["state"])   # the optimizer's format: one for all
    results = json.loads((tmp_path / "sharded" / "results.json").read_text())
    assert results["eval"]["32"]["loss"] > 0
