"""Triton backend on CPU: generated kernels run through Triton's interpreter (set in conftest)
against the torch backend, and compile ahead of time for GPUs that are not here."""
from __future__ import annotations


import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.triton_backend import aot, codegen, launch
from titans_kernels.backends.launch_config import TritonConfig, backward_config, default_config

from conftest import (REPRESENTATIVE, SHIPPED, compare_backends, compare_gradients, hostile_spec, make_case,
                      representative)

GENERATED = [name for name in SHIPPED if codegen.supported(tk.lower(tk.load_spec(name))) is None]


@pytest.fixture
def poisoned(monkeypatch):
    """Output buffers start as NaN: any element the kernel fails to write shows up."""
    monkeypatch.setattr(launch, "OUTPUT_FILL", float("nan"))


def _compare(name, B, H, T, D, chunk, seed, dtype=torch.float32, tol=1e-5, other="torch"):
    compare_backends(name, "triton", B, H, T, D, chunk, seed, dtype, tol, other)


@pytest.mark.parametrize("name", representative(GENERATED, REPRESENTATIVE + ("titans_mlp3", "titans_mlp2_anchored")))
def test_forward_matches_torch_backend(name, poisoned):
    _compare(name, 1, 2, 40, 16, 16, seed=1)  # 40 = 2 full chunks + a ragged one


@pytest.mark.parametrize("name, B, H, T, D, chunk", [
    ("titans_mlp2", 2, 1, 70, 32, 32),
    ("titans_mlp3", 1, 1, 16, 16, 16),
    ("yaad_huber", 1, 2, 33, 16, 32),
])
def test_forward_other_shapes(name, B, H, T, D, chunk, poisoned):
    _compare(name, B, H, T, D, chunk, seed=T)


@pytest.mark.slow
@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("D, chunk, T", [(32, 16, 50), (16, 32, 100), (64, 64, 130)])
def test_forward_full_grid(name, D, chunk, T, poisoned):
    _compare(name, 1, 2, T, D, chunk, seed=D + chunk)


@pytest.mark.parametrize("dtype, tol", [(torch.bfloat16, 1e-2), (torch.float16, 2e-3)])
def test_half_precision_inputs(dtype, tol, poisoned):
    _compare("titans_mlp2", 1, 2, 48, 16, 16, seed=4, dtype=dtype, tol=tol)


@pytest.mark.parametrize("name", representative(GENERATED, ("titans_linear", "titans_mlp2_normalized")))
def test_backward_matches_torch_backend(name):
    """The generated backward kernel (from the forward's checkpoints) against the torch backend's
    hand-derived backward, for every input and the initial state."""
    compare_gradients(name, "triton", checkpoint_group=2)


@pytest.mark.parametrize("D, chunk, match", [
    (24, 16, "head dim D=24 not supported; use one of 16, 32, 64, 128"),
    (16, 8, "chunk_size=8 not supported; use one of 16, 32, 64, 128"),
])
def test_unsupported_shapes_one_line(D, chunk, match):
    inputs, state = make_case("titans_mlp2", 1, 1, 20, D, chunk, seed=0, dtype=torch.float32)
    with pytest.raises(tk.InputError, match=match):
        tk.compile("titans_mlp2", backend="triton")(*inputs.args(), state=state, chunk_size=chunk)


def test_generated_source_carries_no_spec_text(tmp_path):
    src = codegen.generate_forward(tk.lower(tk.load_spec(hostile_spec(tmp_path))))
    assert "pwned" not in src and "evil_rule" not in src and "import os" not in src
    assert codegen.generate_forward(tk.lower(tk.load_spec("titans_mlp2"))) == src  # same function


@pytest.mark.parametrize("name", representative(GENERATED, ("titans_mlp2_normalized",)))
def test_aot_sm90_default_config_compiles_without_spills(name):
    """Every shipped spec compiles for sm_90 at its default config, D=64, chunk 64, and ptxas
    reports no register spills."""
    report = aot.compile_report(tk.lower(tk.load_spec(name)), "sm_90", D=64, chunk_size=64)
    assert report.binary_bytes > 0 and report.registers is not None
    assert report.spill_bytes == 0, report.lines()
    assert report.shared_bytes <= 227 * 1024


BACKWARD_SPILL_LIMIT = 96   # bytes on sm_90 at D=64; measured 0-68 for every shipped rule


def check_backward_spill_sites(report) -> None:
    """The generic backward's spills sit in its checkpoint-group loop (depth 1) or its chunk loops
    (depth 2), none in the product and elementwise loops inside a chunk (measured on sm_90 at D=64,
    every shipped rule: at most 18 spill instructions at depth 2 of 34-70 thousand)."""
    assert report.spill_sites is not None and report.instructions, report.lines()
    assert sum(report.spill_sites[3:]) == 0, report.lines()
    assert sum(report.spill_sites) == 0 or report.spill_bytes > 0, report.lines()


@pytest.mark.parametrize("name, limit", [pytest.param("titans_linear", 0, marks=pytest.mark.slow),
                                         ("titans_mlp2_normalized", BACKWARD_SPILL_LIMIT)])
def test_aot_backward_kernel_compiles(name, limit):
    """The backward kernel at its own launch config: none (depth 1) or a few dozen bytes of spills
    (the default rule; 1.9 KB with its forward's config)."""
    report = aot.compile_report(tk.lower(tk.load_spec(name)), "sm_90", D=64, chunk_size=64, kind="bwd")
    assert report.binary_bytes > 0 and report.kernel.startswith("titans_bwd_")
    assert report.spill_bytes <= limit, report.lines()
    check_backward_spill_sites(report)


def test_backward_has_its_own_launch_config():
    """The backward launches with backward_config (precision from the forward's), not the
    forward's config: the default rule's forward defaults spill about 2 KB in its backward."""
    ir = tk.lower(tk.load_spec("titans_mlp2_normalized"))
    fwd = default_config(ir)
    bwd = backward_config(ir, TritonConfig(tile=fwd.tile, num_warps=fwd.num_warps, num_stages=fwd.num_stages,
                                           precision="tf32"))
    assert (bwd.tile, bwd.num_warps, bwd.num_stages) != (fwd.tile, fwd.num_warps, fwd.num_stages)
    assert bwd.precision == "tf32"


@pytest.mark.slow
@pytest.mark.parametrize("name", GENERATED)
def test_aot_backward_all_specs(name):
    """Every shipped spec's backward compiles for sm_90 at its backward config with at most a few
    dozen bytes of spills (the forward's configs spilled up to 1.9 KB there)."""
    report = aot.compile_report(tk.lower(tk.load_spec(name)), "sm_90", D=64, chunk_size=64, kind="bwd")
    assert report.binary_bytes > 0
    assert report.spill_bytes <= BACKWARD_SPILL_LIMIT, report.lines()
    check_backward_spill_sites(report)


@pytest.mark.parametrize("target", ["sm_80", pytest.param("gfx942", marks=pytest.mark.slow)])  # gfx942: test_triton_tiled
def test_aot_other_targets(target):
    report = aot.compile_report(tk.lower(tk.load_spec("titans_mlp2")), target, D=64, chunk_size=64)
    assert report.binary_bytes > 0


AOT_FAMILIES = [(name, kernel, kind) for name in ("titans_mlp2", "titans_mlp2_normalized", "titans_mlp2_anchored")
                for kernel in ("generic", "tiled", "onepass") for kind in ("fwd", "bwd")]
AOT_FAMILIES += [("titans_linear", kernel, kind) for kernel in ("generic", "onepass") for kind in ("fwd", "bwd")]
AOT_FAMILIES += [("titans_mlp3", kernel, kind) for kernel in ("generic", "onepass") for kind in ("fwd", "bwd")]


@pytest.mark.parametrize("name, kernel, kind", AOT_FAMILIES)
def test_aot_signature_names_every_kernel_argument(name, kernel, kind):
    """What ahead-of-time compilation hands triton.compile names each argument of the kernel it
    compiles, no more and no fewer (an argument left out fails the compile, one that a kernel
    gained later included): checked without compiling, for every kernel family that covers the
    rule, forward and backward."""
    from titans_kernels.backends.launch_config import LaunchConfig, check_kernel, onepass_config, tiled_config
    ir = tk.lower(tk.load_spec(name))
    cfg = {"generic": LaunchConfig(), "tiled": tiled_config(backward="tiled"),
           "onepass": onepass_config(backward="onepass" if kind == "bwd" else "generic")}[kernel]
    if kind == "bwd":
        cfg = backward_config(ir, cfg)
    check_kernel(ir, cfg)
    assert (cfg.backward if kind == "bwd" else cfg.kernel) == kernel
    fn, consts, signature, _ = aot.kernel_parts(ir, 64, 64, "bfloat16", cfg, kind)
    assert sorted(signature) == sorted(fn.arg_names), (set(signature) ^ set(fn.arg_names))
    assert all(signature[name] == "constexpr" for name in consts)


@pytest.mark.slow
@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("target", ["sm_80", "sm_100", "gfx942"])
def test_aot_full_grid(name, target):
    assert aot.compile_report(tk.lower(tk.load_spec(name)), target, D=64, chunk_size=64).binary_bytes > 0


def test_cli_compile_report(capsys):
    from titans_kernels.cli import main
    assert main(["compile", "titans_linear", "--target", "sm_90", "--report"]) == 0
    out = capsys.readouterr().out
    assert "registers/thread" in out and "spills: 0 bytes" in out and "shared memory" in out
    assert "spill instructions: 0 of " in out
