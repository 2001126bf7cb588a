"""TileLang backend on CPU: the generated forward and backward programs run through TileLang's C
target against the torch backend (and the Triton interpreter), and lower + nvcc-compile for
sm_80 / sm_90a."""
from __future__ import annotations


import re
from dataclasses import replace

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.launch_config import TritonConfig
from titans_kernels.backends.tilelang_backend import (DEFAULT_CONFIG, SHARED_PER_BLOCK, aot, backward_config, codegen,
                                                      default_config, launch, tile_config)

from conftest import (GPU_SPECS, REPRESENTATIVE, compare_backends, compare_gradients, hostile_spec, make_case,
                      representative)


@pytest.fixture
def poisoned(monkeypatch):
    """Output and checkpoint buffers start as NaN: any element the kernel fails to write shows up."""
    monkeypatch.setattr(launch, "OUTPUT_FILL", float("nan"))


def _compare(name, B, H, T, D, chunk, seed, dtype=torch.float32, tol=1e-5, other="torch", **options):
    compare_backends(name, "tilelang", B, H, T, D, chunk, seed, dtype, tol, other, **options)


@pytest.mark.parametrize("name", GPU_SPECS)
def test_forward_matches_torch_backend(name, poisoned):
    _compare(name, 1, 2, 40, 16, 16, seed=11)  # 40 = 2 full chunks + a ragged one


@pytest.mark.parametrize("name, B, H, T, D, chunk", [
    ("titans_mlp2", 2, 1, 70, 32, 32),
    ("titans_mlp3", 1, 1, 16, 16, 16),
])
def test_forward_other_shapes(name, B, H, T, D, chunk, poisoned):
    _compare(name, B, H, T, D, chunk, seed=T)


@pytest.mark.slow
@pytest.mark.parametrize("name", GPU_SPECS)
@pytest.mark.parametrize("D, chunk, T", [(32, 16, 50), (16, 32, 100), (64, 64, 130)])
def test_forward_full_grid(name, D, chunk, T, poisoned):
    _compare(name, 1, 2, T, D, chunk, seed=D + chunk)


def test_bfloat16_inputs(poisoned):
    _compare("titans_mlp2", 1, 2, 48, 16, 16, seed=4, dtype=torch.bfloat16, tol=1e-2)


@pytest.mark.parametrize("name", ["titans_mlp2", pytest.param("titans_mlp2_anchored", marks=pytest.mark.slow)])
def test_agrees_with_triton_interpreter(name):
    """Two code generators, one IR: the TileLang C-target run and the Triton interpreter run give
    the same function."""
    _compare(name, 1, 2, 40, 16, 16, seed=21, other="triton")


def _grad_case(name, T=56, backward="kernel"):
    compare_gradients(name, "tilelang", T=T, checkpoint_group=2, backward=backward)


@pytest.mark.parametrize("name", representative(GPU_SPECS, default=REPRESENTATIVE + ("titans_mlp2",)))
def test_backward_kernel_matches_torch_backend(name, poisoned):
    """The generated backward kernel (reverse walk over several checkpoint groups, ragged last
    chunk): gradients of every input and the initial state against the torch backend."""
    _grad_case(name)


def test_backward_torch_walk_from_tilelang_checkpoints(poisoned):
    _grad_case("titans_mlp2_anchored", backward="torch")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["titans_mlp2", "titans_mlp2_anchored", "yaad_huber"])
def test_backward_kernel_long(name, poisoned):
    _grad_case(name, T=150)


def test_unsupported_shape_one_line():
    inputs, state = make_case("titans_mlp2", 1, 1, 20, 24, 16, seed=0, dtype=torch.float32)
    with pytest.raises(tk.InputError, match="tilelang backend: head dim D=24 not supported"):
        tk.compile("titans_mlp2", backend="tilelang")(*inputs.args(), state=state, chunk_size=16)


def test_generated_source_carries_no_spec_text(tmp_path):
    cfg = tile_config(DEFAULT_CONFIG, 64, 64, on_gpu=True)
    src = codegen.generate_forward(tk.lower(tk.load_spec(hostile_spec(tmp_path))), cfg)
    assert "pwned" not in src and "evil_rule" not in src and "import os" not in src
    assert codegen.generate_forward(tk.lower(tk.load_spec("titans_mlp2")), cfg) == src


def _check_report(report, max_spill: int = 0):
    assert report.cuda_source_bytes > 0 and report.registers is not None
    assert report.spill_bytes <= max_spill, report.lines()
    assert report.instructions and report.spill_sites is not None, report.lines()   # disassembled
    if report.spill_bytes == 0:
        assert sum(report.spill_sites) == 0, report.lines()
    assert 0 < report.shared_bytes <= 227 * 1024, report.lines()


# Forward kernels at their default config (residual rules: 8 warps) do not spill on sm_80 or
# sm_90a. Backward kernels at theirs (tile 32, 4 warps, 2 stages) on sm_90a, D=64: titans_linear
# and titans_mlp2 (plain, _anchored, _chunkgates, _nomomentum) do not spill; at 255 registers
# titans_mlp2_residual spills 16 bytes, yaad_huber 24 and titans_mlp3 120 (0 with 1 stage, while
# yaad_huber then spills 76; the residual rules spill over 200 with 8 warps): per-spec configs
# are the autotuner's job on a GPU.
BWD_MAX_SPILL = 128


@pytest.mark.parametrize("name, target, kind", [          # by default sm_90a: test_cli_compile_report
    pytest.param("titans_linear", "sm_80", "fwd", marks=pytest.mark.slow),
    pytest.param("titans_mlp2", "sm_90a", "fwd", marks=pytest.mark.slow),
    pytest.param("titans_linear", "sm_90a", "bwd", marks=pytest.mark.slow)])
def test_lowers_and_compiles_for_gpu_targets(name, target, kind):
    """Lowered to CUDA for a GPU that is not here and compiled with nvcc: no spills, shared
    memory within an H100's 227 KB per block."""
    report = aot.compile_report(tk.lower(tk.load_spec(name)), target, D=64, chunk_size=64, kind=kind)
    assert report.kernel.startswith(f"titans_tl_{kind}_")
    _check_report(report)  # no spills


@pytest.mark.slow
@pytest.mark.parametrize("name", GPU_SPECS)
@pytest.mark.parametrize("target, kind", [("sm_80", "fwd"), ("sm_90a", "fwd"), ("sm_90a", "bwd")])
def test_lowering_full_grid(name, target, kind):
    """Every spec: forward for both targets, backward for sm_90a (a backward lowering takes 3-5
    minutes on the 2-core machine)."""
    report = aot.compile_report(tk.lower(tk.load_spec(name)), target, D=64, chunk_size=64, kind=kind)
    _check_report(report, max_spill=0 if kind == "fwd" else BWD_MAX_SPILL)


def test_cli_compile_report(capsys):
    from titans_kernels.cli import main
    assert main(["compile", "titans_linear", "--backend", "tilelang", "--target", "sm_90a", "--report"]) == 0
    out = capsys.readouterr().out
    assert "generated CUDA" in out and "registers/thread" in out and "spills: 0 bytes" in out
    assert "spill instructions: 0 of " in out


def test_cli_unknown_tilelang_target(capsys):
    from titans_kernels.cli import main
    assert main(["compile", "titans_linear", "--backend", "tilelang", "--target", "sm_100"]) != 0
    err = capsys.readouterr().err
    assert "unknown tilelang target 'sm_100'" in err and "Traceback" not in err


@pytest.mark.parametrize("field", ["kernel", "backward"])
def test_tiled_kernel_choice_is_one_line_on_tilelang(field):
    """TritonConfig(kernel='tiled') or (backward='tiled') names a Triton kernel: the tilelang
    backend says so."""
    from titans_kernels.backends.triton_backend import TritonConfig
    inputs, state = make_case("titans_mlp2", 1, 1, 16, 16, 16, seed=0, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="tilelang", config=TritonConfig(**{field: "tiled"}))
    with pytest.raises(tk.InputError, match=f"{field}='tiled' is a Triton kernel; the tilelang backend has generic and resident"):
        rule(*inputs.args(), state=state, chunk_size=16)


# -- the resident kernels: every layer's weights (and what else fits) in shared memory -----------
RESIDENT = TritonConfig(kernel="resident", backward="resident")


def _placement(name, kind="fwd", target="sm_90a"):
    """The written resident forward or backward at D=64, chunk 64, as `target` places it."""
    ir = tk.lower(tk.load_spec(name))
    base = default_config(ir) if kind == "fwd" else backward_config(ir)
    tc = tile_config(replace(base, kernel="resident", backward="resident"), 64, 64, on_gpu=True, kind=kind,
                     target=target)
    return launch.emitter(ir, tc, kind)


@pytest.mark.parametrize("name", representative(GPU_SPECS, default=REPRESENTATIVE + ("titans_mlp2", "titans_mlp3")))
def test_resident_forward_matches_torch_backend(name, poisoned):
    """At D=16 the whole per-program working set fits: every state and scratch access goes through
    the on-chip copies (C target: local buffers)."""
    _compare(name, 1, 2, 40, 16, 16, seed=12, config=RESIDENT)


@pytest.mark.parametrize("name", representative(GPU_SPECS, default=("titans_linear", "yaad_huber", "titans_mlp2")))
def test_resident_backward_matches_torch_backend(name, poisoned):
    compare_gradients(name, "tilelang", T=56, checkpoint_group=2, config=RESIDENT)


@pytest.mark.parametrize("name, kind", [("titans_mlp2", "fwd"),
                                        pytest.param("titans_mlp2", "bwd", marks=pytest.mark.slow),
                                        pytest.param("titans_mlp3", "fwd", marks=pytest.mark.slow)])
def test_resident_at_the_h100_placement(name, kind, poisoned):
    """D=64, chunk 64: the placement an H100 runs (the weights of every layer on chip, the
    momentum streamed), through the C target against torch."""
    em = _placement(name, kind=kind)
    assert {f"W{l}" for l in range(em.L)} <= set(em.placed) and "S0" not in em.placed
    if kind == "fwd":
        _compare(name, 1, 1, 100, 64, 64, seed=5, config=RESIDENT)
    else:
        compare_gradients(name, "tilelang", T=130, chunk=64, D=64, checkpoint_group=1, config=RESIDENT, tol=2e-5)


def test_resident_placement_rules():
    """Weights first, whole buffers within the budget, the same plan on the C target; a rule
    without momentum holds its whole state."""
    em = _placement("titans_mlp2")
    shapes = em.state_buffers()
    assert em.placed[:2] == ["W0", "W1"] and em.onchip_bytes() + em.staging_reserve() <= SHARED_PER_BLOCK["sm_90a"]
    assert em.onchip_bytes() == sum(4 * shapes[n][0] * shapes[n][1] for n in em.placed)
    nomom = _placement("titans_mlp2_nomomentum")
    assert not any(n.startswith("S") and n[1:].isdigit() for n in nomom.state_buffers())
    assert {"W0", "W1"} <= set(nomom.placed)
    cpu = launch.emitter(em.ir, replace(em.cfg, flavour="cpu"))
    assert cpu.placed == em.placed
    assert "W0_r = T.alloc_local((256, 64)" in "\n".join(cpu.src.allocs)


def test_resident_state_that_does_not_fit_is_one_line():
    """Expansion 4 at D=128: 512 KB of weights. The error names the sizes and the way out, before
    anything is compiled; an A100's 163 KB does not hold titans_mlp2's 128 KB next to its tiles."""
    inputs, state = make_case("titans_mlp2", 1, 1, 16, 128, 16, seed=0, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="tilelang", config=RESIDENT)
    with pytest.raises(tk.InputError, match=r"spec 'titans_mlp2' at D=128 has 512 KB of them in float32 \(layer 0: "
                                            r"512x128\).*use kernel='generic'"):
        rule(*inputs.args(), state=state, chunk_size=16)
    with pytest.raises(tk.InputError, match="a block has 163 KB"):
        _placement("titans_mlp2", target="sm_80")
    assert _placement("titans_linear", target="sm_80").placed[0] == "W0"


def test_resident_kernel_is_tilelang_only():
    inputs, state = make_case("titans_mlp2", 1, 1, 16, 16, 16, seed=0, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="triton", config=TritonConfig(kernel="resident"))
    with pytest.raises(tk.InputError, match="kernel='resident' is a TileLang kernel; use backend='tilelang'"):
        rule(*inputs.args(), state=state, chunk_size=16)


@pytest.mark.slow
@pytest.mark.parametrize("name, kind, precision", [
    ("titans_mlp2", "fwd", "ieee"), ("titans_mlp2_nomomentum", "fwd", "ieee"), ("titans_linear", "fwd", "ieee"),
    ("titans_mlp2", "bwd", "ieee"), ("titans_mlp2", "fwd", "tf32"), ("titans_mlp3", "fwd", "bf16"),
    ("titans_mlp2", "bwd", "tf32")])
def test_resident_lowers_within_shared_memory(name, kind, precision):
    """sm_90a, D=64: the lowered kernel's shared memory (placement + product tiles as TileLang
    merges them) stays within the block, i.e. the staging reserve is not too small (the smaller
    one of warpgroup products included)."""
    ir = tk.lower(tk.load_spec(name))
    fwd = replace(default_config(ir), precision=precision)
    cfg = replace(fwd if kind == "fwd" else backward_config(ir, replace(RESIDENT, precision=precision)),
                  kernel="resident", backward="resident")
    report = aot.compile_report(ir, "sm_90a", D=64, chunk_size=64, cfg=cfg, kind=kind)
    assert report.onchip and {"W0"} <= set(report.onchip), report.lines()
    _check_report(report, max_spill=0 if kind == "fwd" else BWD_MAX_SPILL)


def test_cli_run_and_compile_with_the_resident_kernel(capsys):
    """`run --backend tilelang --forward resident` streams through the resident forward (C target
    here) and checks against the reference; `compile --show-source` prints its on-chip copies; the
    Triton backend refuses it in one line."""
    from titans_kernels.cli import main
    assert main(["run", "titans_mlp2", "--backend", "tilelang", "--forward", "resident", "--seq", "48", "--batch", "1",
                 "--heads", "1", "--dim", "16", "--chunk", "16", "--segment", "32", "--check", "48"]) == 0
    out = capsys.readouterr().out
    assert "forward=resident backward=resident" in out
    assert float(out.split("relative error vs reference on the first 48 tokens:")[1].split()[0]) < 1e-4
    assert main(["compile", "titans_mlp2", "--backend", "tilelang", "--forward", "resident", "--show-source",
                 "--kernel", "fwd", "--dim", "32", "--chunk", "32"]) == 0
    assert "W0_r = T.alloc_shared((128, 32)" in capsys.readouterr().out
    for argv, line in ((["--backend", "triton", "--forward", "resident"], "--forward resident is a TileLang kernel; add --backend tilelang"),
                       (["--backend", "tilelang", "--forward", "tiled"], "--forward tiled is a Triton kernel")):
        assert main(["run", "titans_mlp2", "--seq", "16", *argv]) != 0
        err = capsys.readouterr().err
        assert line in err and "Traceback" not in err


# -- the cluster forward: a head's hidden units split over 2 or 4 blocks ---------------------------
CLUSTER_SPECS = [n for n in GPU_SPECS if tk.lower(tk.load_spec(n)).depth == 2
                 and not (tk.lower(tk.load_spec(n)).normalized_step or tk.lower(tk.load_spec(n)).decay_to_init)]


@pytest.mark.parametrize("cluster", [2, 4])
@pytest.mark.parametrize("name", representative(CLUSTER_SPECS, default=("titans_mlp2", "yaad_huber")))
def test_cluster_forward_matches_torch_backend(name, cluster, poisoned):
    """The C target runs each stretch between two cluster barriers block by block (what the barrier
    guarantees on the GPU): output, end state and (through the resident backward) the checkpoints."""
    _compare(name, 1, 2, 40, 16, 16, seed=14, config=TritonConfig(kernel="resident", cluster=cluster))


def test_cluster_forward_at_d64_and_its_backward(poisoned):
    """titans_mlp2 at D=64 in 2 blocks per head (128 hidden units and 128 KB of state each),
    several checkpoint groups; gradients through the resident backward from its checkpoints."""
    cfg = TritonConfig(kernel="resident", backward="resident", cluster=2)
    _compare("titans_mlp2", 1, 1, 130, 64, 64, seed=15, config=cfg)
    compare_gradients("titans_mlp2", "tilelang", T=56, checkpoint_group=2, config=replace(cfg, cluster=4))


def test_cluster_source_and_rule():
    """The GPU program: a cluster launch, barriers between the partial products and their sums, the
    state slices in shared memory; batch x heads against the SM count picks the blocks per head."""
    from titans_kernels.backends.tilelang_backend import cluster_for
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    tc = tile_config(TritonConfig(kernel="resident", cluster=2), 64, 64, on_gpu=True, target="sm_90a")
    src = codegen.generate_forward(ir, tc)
    assert "T.Kernel(BH * 2, threads=128, cluster_dims=2) as bid:" in src
    assert src.count("T.cluster_sync()") == 2 and "W1_r = T.alloc_shared((64, 128)" in src
    assert "S0_r = T.alloc_shared((128, 64)" in src and "W0[bh, cr * 128 + i, j]" in src
    cfg = default_config(ir)
    assert [cluster_for(ir, cfg, bh, 132, 64, 64, "sm_90a") for bh in (16, 33, 34, 66, 67, 128)] == [4, 4, 2, 2, 1, 1]
    assert cluster_for(ir, cfg, 16, 132, 128, 64, "sm_90a") == 1        # 256 KB of state slices per block
    assert cluster_for(ir, cfg, 16, 0, 64, 64, "sm_90a") == 1           # no clusters (CPU, sm_80)
    assert cluster_for(tk.lower(tk.load_spec("titans_linear")), cfg, 16, 132, 64, 64, "sm_90a") == 1


@pytest.mark.parametrize("name, cluster, match", [
    ("titans_mlp3", 2, "splits the hidden units of a depth-2 memory; spec 'titans_mlp3' has depth 3"),
    ("titans_mlp2_anchored", 2, "does not cover an anchor"),
    ("titans_mlp2_normalized", 4, "does not cover a normalized step"),
])
def test_cluster_refusals_are_one_line(name, cluster, match):
    inputs, state = make_case(name, 1, 1, 16, 16, 16, seed=0, dtype=torch.float32)
    rule = tk.compile(name, backend="tilelang", config=TritonConfig(kernel="resident", cluster=cluster))
    with pytest.raises(tk.InputError, match=match):
        rule(*inputs.args(), state=state, chunk_size=16)


def test_cluster_needs_the_resident_kernel_and_sm90():
    inputs, state = make_case("titans_mlp2", 1, 1, 16, 16, 16, seed=0, dtype=torch.float32)
    with pytest.raises(tk.InputError, match="cluster=2 applies to kernel='resident'"):
        tk.compile("titans_mlp2", backend="tilelang", config=TritonConfig(cluster=2))(
            *inputs.args(), state=state, chunk_size=16)
    with pytest.raises(tk.InputError, match="cluster=2 applies to the tilelang backend's resident forward"):
        tk.compile("titans_mlp2", backend="triton", config=TritonConfig(cluster=2))(
            *inputs.args(), state=state, chunk_size=16)
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    with pytest.raises(tk.InputError, match="sm_80 lacks"):
        aot.compile_report(ir, "sm_80", cfg=TritonConfig(kernel="resident", cluster=2))


@pytest.mark.slow
def test_cluster_lowers_for_sm90a():
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    report = aot.compile_report(ir, "sm_90a", D=64, chunk_size=64, cfg=TritonConfig(kernel="resident", cluster=2))
    assert report.kernel.startswith("titans_tl_fwdc2_") and report.onchip_bytes == 128 * 1024, report.lines()
    _check_report(report)


@pytest.mark.parametrize("config", [TritonConfig(), pytest.param(RESIDENT, marks=pytest.mark.slow)],
                         ids=["generic", "resident"])
def test_k_major_operand_tiles_match_torch_backend(config, monkeypatch, poisoned):
    """tf32 tiles lay every product's operands out K-major (A as rows x k, B as columns x k: what a
    tf32 warpgroup product takes), copying transposed blocks element by element. The C target runs
    that layout when asked (`TileConfig.k_major`), so its indexing is checked against torch here."""
    import titans_kernels.backends.tilelang_backend as tl_backend
    plain = tl_backend.tile_config
    monkeypatch.setattr(tl_backend, "tile_config", lambda *a, **k: replace(plain(*a, **k), k_major=True))
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    src = codegen.generate_forward(ir, tl_backend.tile_config(config, 16, 16, on_gpu=False))
    assert "transpose_A=True" not in src and "transpose_B=False" not in src
    _compare("titans_mlp2", 1, 2, 40, 16, 16, seed=31, config=config)


@pytest.mark.slow
def test_k_major_operand_tiles_backward(monkeypatch, poisoned):
    """The backward kernel with every product's tiles K-major (as tf32 tiles lay them out on a GPU),
    on the C target: every gradient against torch."""
    import titans_kernels.backends.tilelang_backend as tl_backend
    plain = tl_backend.tile_config
    monkeypatch.setattr(tl_backend, "tile_config", lambda *a, **k: replace(plain(*a, **k), k_major=True))
    compare_gradients("titans_mlp2", "tilelang", T=40, checkpoint_group=2)


def test_tf32_products_are_warpgroup_products():
    """On sm_90a, tf32 tiles (K-major) and 64-row products: every product of the forward a wgmma
    (HGMMA in the SASS, none an HMMA), without spills, at the default tile, generic and resident."""
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    for kernel in ("generic", "resident"):
        cfg = replace(default_config(ir), precision="tf32", kernel=kernel)
        tc = tile_config(cfg, 64, 64, on_gpu=True, target="sm_90a")
        assert tc.operands == (codegen.TF32,) * 3
        src = codegen.generate_forward(ir, tc)
        assert "transpose_A=True" not in src and "transpose_B=False" not in src
        if kernel == "generic":
            continue
        report = aot.compile_report(ir, "sm_90a", D=64, chunk_size=64, cfg=cfg)
        assert sum(report.hgmma_sites) > 0 and sum(report.hmma_sites) == 0, report.lines()
        _check_report(report)


def test_product_precision_per_group():
    """precision / key_precision / update_precision choose the operand tiles of the read's, the key
    path's and the state update's products on a GPU (bf16: bfloat16 tiles, float32 accumulation;
    tf32: tf32 tiles; ieee: float32 tiles, which tensor cores also run as tf32); the C target
    keeps float32."""
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    cfg = TritonConfig(kernel="resident", precision="tf32", key_precision="bf16", update_precision="ieee")
    tc = tile_config(cfg, 64, 64, on_gpu=True, target="sm_90a")
    assert tc.operands == (codegen.TF32, "bfloat16", "float32")
    src = codegen.generate_forward(ir, tc)
    dtype = dict(re.findall(r"(shared\d+) = T.alloc_shared\(\(\d+, \d+\), \"([\w\[\]]+)\"\)", src))
    products = [dtype[a] for a in re.findall(r"T.gemm\((shared\d+), shared\d+", src)]
    # key path (2 layers) and gradient chain (1), then the read, then the update (W and S of 2 layers)
    assert products[:3] == ["bfloat16"] * 3 and products[-4:] == ["float32"] * 4, products
    assert set(products[3:-4]) == {codegen.TF32}, products
    assert tile_config(cfg, 64, 64, on_gpu=False).operands == ("float32",) * 3
    # the backward (re-run included): tf32 tiles in every product after a tf32 or bf16 read, else float32
    for read, tiles in (("tf32", codegen.TF32), ("bf16", codegen.TF32), ("ieee", "float32")):
        tc = tile_config(backward_config(ir, replace(cfg, precision=read)), 64, 64, on_gpu=True, kind="bwd",
                         target="sm_90a")
        em = launch.emitter(ir, tc, "bwd")
        assert tc.operands == (tiles,) * 3 and em.operand_dtype() == tiles   # outside the groups too
    # warpgroup products (tf32, bf16 tiles) leave a smaller reserve, bfloat16 tiles the smallest: more on chip
    onchip = [launch.emitter(ir, tile_config(replace(cfg, precision=p, key_precision=None, update_precision=None),
                                             64, 64, on_gpu=True, target="sm_90a")).onchip_bytes()
              for p in ("ieee", "tf32", "bf16")]
    assert onchip[0] < onchip[1] < onchip[2], onchip
    with pytest.raises(tk.InputError, match="precision 'bf16x3' is not a tilelang product precision"):
        tile_config(replace(cfg, update_precision="bf16x3"), 64, 64, on_gpu=True, target="sm_90a")
