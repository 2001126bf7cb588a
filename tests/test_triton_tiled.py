"""The Triton backend's tiled kernels (tiled.py forward, tiled_bwd.py backward; depth-2
memories) on CPU: through Triton's interpreter against the torch backend, each forward's
checkpoints feeding either backward, and ahead-of-time compilation for GPUs that are not here."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

import titans_kernels as tk
from titans_kernels.backends.triton_backend import aot, launch
from titans_kernels.backends.launch_config import (TILED_DEFAULTS, TritonConfig, check_kernel, tiled_config,
                                                          tiled_supported)

from conftest import SHIPPED, compare_backends, compare_gradients, make_case, representative

DEPTH2 = [name for name in SHIPPED if tiled_supported(tk.lower(tk.load_spec(name)))]
TILED = TritonConfig(tile=16, kernel="tiled")
TILED_BOTH = TritonConfig(tile=16, kernel="tiled", backward="tiled")


@pytest.fixture
def poisoned(monkeypatch):
    """Output buffers start as NaN: any element the kernel fails to write shows up."""
    monkeypatch.setattr(launch, "OUTPUT_FILL", float("nan"))


def test_every_shipped_depth2_spec_is_covered():
    assert len(DEPTH2) >= 7 and "titans_mlp2_normalized" in DEPTH2 and "titans_mlp3" not in DEPTH2


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "three-pass"])
@pytest.mark.parametrize("name", DEPTH2)
def test_forward_matches_torch_backend(name, fuse, poisoned):
    """Two full chunks and a ragged one; hidden width 64 in four 16-wide state tiles; the read
    and the state update in one pass over the tiles, or in two."""
    compare_backends(name, "triton", 1, 2, 40, 16, 16, seed=11, config=replace(TILED, fuse=fuse))


@pytest.mark.parametrize("name, B, H, T, D, chunk, tile", [
    ("titans_mlp2", 2, 1, 70, 32, 32, 32),
    ("titans_mlp2_normalized", 1, 2, 100, 32, 16, 16),
    ("yaad_huber", 1, 1, 33, 16, 32, 16),
    ("titans_mlp2_anchored", 1, 1, 5, 16, 16, 16),     # one ragged chunk shorter than the chunk size
    ("titans_mlp2", 1, 1, 130, 128, 128, 64),          # the largest head dim and chunk
])
def test_forward_other_shapes(name, B, H, T, D, chunk, tile, poisoned):
    compare_backends(name, "triton", B, H, T, D, chunk, seed=T, config=TritonConfig(tile=tile, kernel="tiled"))


@pytest.mark.slow
@pytest.mark.parametrize("name", DEPTH2)
@pytest.mark.parametrize("D, chunk, T, tile", [(32, 16, 50, 32), (16, 32, 100, 16), (64, 64, 130, 64)])
def test_forward_full_grid(name, D, chunk, T, tile, poisoned):
    compare_backends(name, "triton", 1, 2, T, D, chunk, seed=D + chunk,
                     config=TritonConfig(tile=tile, kernel="tiled"))


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "three-pass"])
@pytest.mark.parametrize("name", ["titans_mlp2", "titans_mlp2_anchored", "titans_mlp2_normalized", "yaad_huber"])
def test_forward_in_place(name, fuse, poisoned):
    """in_place=True: one copy of the state, each tile overwritten after its loads. The
    interpreter runs one thread, so this checks the indexing and the final-state location; the
    ordering between threads is for tests/test_gpu.py on a GPU."""
    compare_backends(name, "triton", 1, 2, 40, 16, 16, seed=13, config=replace(TILED, fuse=fuse, in_place=True))


@pytest.mark.parametrize("backward", [pytest.param("generic", marks=pytest.mark.slow), "tiled"])
def test_backward_after_an_in_place_forward(backward, poisoned):
    """Either backward from an in-place forward's checkpoints (the tiled backward's re-run of the
    chunk states is in place too): five chunks in groups of 1, 2 and 2, the last one ragged."""
    compare_gradients("titans_mlp2_anchored", "triton", checkpoint_group=2, T=75,
                      config=replace(TILED, in_place=True, backward=backward))


@pytest.mark.parametrize("dtype, tol", [(torch.bfloat16, 1e-2), (torch.float16, 2e-3)])
def test_half_precision_inputs(dtype, tol, poisoned):
    compare_backends("titans_mlp2_normalized", "triton", 1, 2, 48, 16, 16, seed=4, dtype=dtype, tol=tol,
                     config=TILED)


@pytest.mark.slow   # one checkpoint layout for every forward: test_triton.py's backward cases read it
@pytest.mark.parametrize("name", ["titans_mlp2_normalized", "yaad_huber", "titans_mlp2_nomomentum"])
def test_backward_from_tiled_checkpoints(name):
    """Gradients of every input and the initial state: the generic backward kernel walking back
    from the checkpoints that the tiled forward wrote."""
    compare_gradients(name, "triton", checkpoint_group=2, config=TILED)


@pytest.mark.slow
@pytest.mark.parametrize("name", DEPTH2)
def test_backward_from_tiled_checkpoints_all_specs(name):
    compare_gradients(name, "triton", checkpoint_group=2, config=TILED)


@pytest.mark.parametrize("name", representative(["titans_mlp2", "titans_mlp2_normalized", "yaad_huber",
                                                 "titans_mlp2_nomomentum"], ("titans_mlp2_normalized",)))
def test_tiled_backward_matches_torch_backend(name, poisoned):
    """Gradients of every input and the initial state through the tiled backward (after the tiled
    forward), two chunks per checkpoint group, every gradient element written (NaN-filled
    buffers)."""
    compare_gradients(name, "triton", checkpoint_group=2, config=TILED_BOTH)


@pytest.mark.slow
@pytest.mark.parametrize("name", DEPTH2)
@pytest.mark.parametrize("forward", ["generic", "tiled"])
def test_tiled_backward_all_specs(name, forward, poisoned):
    compare_gradients(name, "triton", checkpoint_group=2,
                      config=TritonConfig(tile=16, kernel=forward, backward="tiled"))


@pytest.mark.parametrize("name, options", [
    ("titans_mlp2_anchored", dict(T=70, chunk=32, D=32, checkpoint_group=3)),   # ragged last chunk
    pytest.param("titans_mlp2_normalized", dict(steep=True, checkpoint_group=1), marks=pytest.mark.slow),  # scales 1-100
    pytest.param("yaad_huber", dict(steep=True, checkpoint_group=3), marks=pytest.mark.slow),   # Huber clipping
    pytest.param("titans_mlp2_chunkgates", dict(T=33, checkpoint_group=2), marks=pytest.mark.slow),
])
def test_tiled_backward_shapes_and_groups(name, options, poisoned):
    compare_gradients(name, "triton", config=TILED_BOTH, **options)


@pytest.mark.parametrize("expansion, D, chunk, T, tile", [
    (3, 16, 16, 40, 16), pytest.param(4, 128, 128, 130, 64, marks=pytest.mark.slow),
    pytest.param(3, 32, 32, 70, 32, marks=pytest.mark.slow), pytest.param(4, 64, 64, 70, 32, marks=pytest.mark.slow)])
def test_tiled_backward_large_and_odd_widths(expansion, D, chunk, T, tile, tmp_path, poisoned):
    """The largest head dim and chunk, and a hidden width (3 D) that is not a power of two."""
    import yaml
    data = yaml.safe_load(open(tk.list_specs()["titans_mlp2_normalized"]))
    data.update(name="wide_rule")
    data["memory"]["expansion"] = expansion
    path = tmp_path / "wide_rule.yaml"
    path.write_text(yaml.safe_dump(data))
    compare_gradients(str(path), "triton", T=T, chunk=chunk, D=D, checkpoint_group=2,
                      config=TritonConfig(tile=tile, kernel="tiled", backward="tiled"))


@pytest.mark.slow
def test_tiled_backward_after_the_generic_forward():
    """Both forwards write the same checkpoints, so the tiled backward follows either."""
    compare_gradients("titans_mlp2_anchored", "triton", checkpoint_group=2,
                      config=TritonConfig(tile=16, kernel="generic", backward="tiled"))


@pytest.mark.parametrize("edits", [
    pytest.param({"update": {"decay": "none"}, "memory": {"activation": "gelu"}}, marks=pytest.mark.slow),
    pytest.param({"update": {"decay": "none", "momentum": "none"}, "memory": {"activation": "relu"}},
                 marks=pytest.mark.slow),
    {"update": {"read": "chunk_start"}, "memory": {"activation": "identity", "expansion": 1}},
])
def test_tiled_backward_of_other_rules(edits, tmp_path, poisoned):
    """Rules built from spec fields the shipped specs leave at one value: no decay, no momentum,
    other activations (their second derivatives enter the G0 recursion), expansion 1."""
    import copy

    import yaml
    data = copy.deepcopy(yaml.safe_load(open(tk.list_specs()["titans_mlp2"])))
    data["name"] = "edited_rule"
    for section, fields in edits.items():
        data[section].update(fields)
    path = tmp_path / "edited_rule.yaml"
    path.write_text(yaml.safe_dump(data))
    compare_gradients(str(path), "triton", checkpoint_group=2, config=TILED_BOTH)


def _launch_runs_out_of_shared_memory(monkeypatch, kernel: str) -> None:
    """Replace triton_backend.<kernel> by one whose launch fails as a 448 KB request on sm_90 would."""
    from triton.runtime.errors import OutOfResources

    class Kernel:
        def __getitem__(self, grid):
            def launch(*args, **kwargs):
                raise OutOfResources(458752, 232448, "shared memory")
            return launch

    monkeypatch.setattr(f"titans_kernels.backends.triton_backend.{kernel}", Kernel())


def test_shared_memory_overflow_is_one_line(monkeypatch):
    """A config whose tiles need more shared memory than the GPU has (D=128 with chunk 128 and
    64-wide tiles asks for 448 KB on sm_90) fails with one line naming the fix, not Triton's
    launch traceback. The launch is faked here: the interpreter has no shared-memory limit."""
    _launch_runs_out_of_shared_memory(monkeypatch, "tiled.tiled_forward")
    inputs, state = make_case("titans_mlp2", 1, 1, 16, 16, 16, seed=0, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="triton", config=TILED)
    with pytest.raises(tk.InputError, match=r"tiled forward at D=16, chunk 16, tile 16: shared memory 458752 "
                                            r"exceeds this GPU's 232448; use a smaller tile or chunk"):
        rule(*inputs.args(), state=state, chunk_size=16)


def test_tiled_backward_shared_memory_overflow_is_one_line(monkeypatch):
    """The tiled backward's launch failing for shared memory gives one line naming the fix (the
    launch is faked, as above)."""
    _launch_runs_out_of_shared_memory(monkeypatch, "tiled_bwd.tiled_backward")
    inputs, state = make_case("titans_mlp2", 1, 1, 16, 16, 16, seed=0, dtype=torch.float32)
    rule = tk.compile("titans_mlp2", backend="triton", config=TILED_BOTH)
    q = inputs.q.float().requires_grad_()
    out, _ = rule(q, *[x.float() if x is not None else None for x in inputs.args()[1:]], state=state, chunk_size=16)
    with pytest.raises(tk.InputError, match=r"tiled backward at D=16, chunk 16, tile 16: shared memory 458752 "
                                            r"exceeds this GPU's 232448; use a smaller tile or chunk"):
        out.sum().backward()


def test_tiled_equals_generic_forward_on_the_same_call():
    """Both Triton forwards on one input: outputs and end states agree to float32 rounding."""
    inputs, state = make_case("titans_mlp2_anchored", 1, 2, 48, 16, 16, seed=5, dtype=torch.float32)
    generic = tk.compile("titans_mlp2_anchored", backend="triton", config=TritonConfig(tile=16))
    tiled = tk.compile("titans_mlp2_anchored", backend="triton", config=TILED)
    (o1, s1), (o2, s2) = (rule(*inputs.args(), state=state, chunk_size=16) for rule in (generic, tiled))
    assert float((o1 - o2).norm() / o1.norm()) < 1e-5
    for a, b in zip(s1.tensors(), s2.tensors()):
        assert float((a - b).norm() / b.norm()) < 1e-5


@pytest.mark.parametrize("spec, cfg, match", [
    ("titans_mlp3", TritonConfig(kernel="tiled"), "kernel='tiled' covers depth-2 memories; spec 'titans_mlp3' has depth 3"),
    ("titans_mlp2", TritonConfig(precision="bf16"), "precision='bf16' not available for the generic kernel; use one of ieee, tf32"),
    ("titans_mlp3", TritonConfig(backward="tiled"), "backward='tiled' covers depth-2 memories; spec 'titans_mlp3' has depth 3"),
])
def test_kernel_choice_errors_are_one_line(spec, cfg, match):
    inputs, state = make_case(spec, 1, 1, 16, 16, 16, seed=0, dtype=torch.float32)
    with pytest.raises(tk.InputError, match=match):
        tk.compile(spec, backend="triton", config=cfg)(*inputs.args(), state=state, chunk_size=16)


@pytest.mark.parametrize("fields, match", [
    (dict(kernel="fast"), "config kernel='fast' unknown; use one of generic, tiled"),
    (dict(backward="fast"), "config backward='fast' unknown; use one of generic, tiled"),
    (dict(kernel="tiled", fuse="yes"), "config fuse='yes' must be true or false"),
    (dict(kernel="tiled", in_place=1), "config in_place=1 must be true or false"),
    (dict(tile=7), "config tile=7 not supported; use one of 16, 32, 64, 128"),
    (dict(tile="32"), "config tile='32' not supported"),
    (dict(tile=True), "config tile=True not supported"),
    (dict(num_warps=3), "config num_warps=3 not supported; use one of 1, 2, 4, 8, 16"),
    (dict(num_stages=0), "config num_stages=0 not supported; use 1 to 8"),
    (dict(precision="fp8"), "config precision='fp8' unknown; use one of ieee, tf32, bf16"),
])
def test_config_fields_are_checked_when_built(fields, match):
    """A config no kernel can launch (wrong type, or a value out of range) is one line when it is
    built, before any kernel is generated; so is the same field changed by replace()."""
    from dataclasses import replace
    with pytest.raises(tk.InputError, match=match):
        TritonConfig(**fields)
    with pytest.raises(tk.InputError, match=match):
        replace(TritonConfig(), **fields)


def test_bf16_forward_is_followed_by_a_tf32_backward():
    """The generic backward kernel has no bf16 products: after a bf16 tiled forward it runs tf32."""
    from titans_kernels.backends.launch_config import backward_config
    ir = tk.lower(tk.load_spec("titans_mlp2"))
    assert backward_config(ir, TritonConfig(kernel="tiled", precision="bf16")).precision == "tf32"
    assert backward_config(ir, TritonConfig(kernel="tiled", precision="ieee")).precision == "ieee"


@pytest.mark.slow
def test_gradients_after_a_bf16_forward():
    """The gradients after a bf16 tiled forward match the torch backend's within bf16-product
    accuracy."""
    compare_gradients("titans_mlp2", "triton", checkpoint_group=2, tol=3e-2,
                      config=TritonConfig(tile=16, kernel="tiled", precision="bf16"))


@pytest.mark.parametrize("name", [pytest.param("titans_mlp2", marks=pytest.mark.slow), "titans_mlp2_normalized"])
def test_bf16_products_stay_close(name, poisoned):
    """precision='bf16' (operands rounded to bfloat16, float32 accumulation): every element written
    and finite, within 3% of the torch backend's float32 products (about 2% measured) over three
    chunks, and measurably less exact than float32 products (so the rounding really happens)."""
    inputs, state = make_case(name, 1, 2, 130, 64, 64, seed=3, dtype=torch.float32)
    ref, ref_state = tk.compile(name, backend="torch")(*inputs.args(), state=state, chunk_size=64)
    cfg = TritonConfig(tile=16, kernel="tiled", precision="bf16")
    out, out_state = tk.compile(name, backend="triton", config=cfg)(*inputs.args(), state=state, chunk_size=64)
    assert torch.isfinite(out).all()
    err = float((out - ref).norm() / ref.norm())
    assert 1e-4 < err < 3e-2
    for a, b in zip(out_state.tensors(), ref_state.tensors()):
        assert float((a - b).norm() / b.norm()) < 3e-2


# bytes of spills allowed for titans_mlp2's tiled forward at D=64, chunk 64, tile 16, 8 warps on
# sm_90 (ptxas), per (precision, fuse); measured: tf32 132 fused / 72 in three passes, bf16 4 / 0
TILED_SM90_SPILL_LIMITS = {("tf32", True): 192, ("tf32", False): 128, ("bf16", True): 16, ("bf16", False): 0}


@pytest.mark.parametrize("precision, fuse", [c if c == ("tf32", True) else pytest.param(*c, marks=pytest.mark.slow)
                                             for c in sorted(TILED_SM90_SPILL_LIMITS)])   # default: tf32 fused
def test_aot_sm90_spills_stay_small(precision, fuse):
    """The tiled forward keeps its token-side operands in shared memory: ptxas reports at most a
    few dozen bytes of spills for titans_mlp2 (1.4 KB when they sat in registers), none with bf16
    products in three passes."""
    cfg = TritonConfig(tile=16, num_warps=8, num_stages=1, precision=precision, kernel="tiled", fuse=fuse)
    report = aot.compile_report(tk.lower(tk.load_spec("titans_mlp2")), "sm_90", D=64, chunk_size=64, cfg=cfg)
    assert report.spill_bytes <= TILED_SM90_SPILL_LIMITS[precision, fuse], report.lines()
    # where they sit: in the chunk loop (depth 1), at most one reload in the hidden-tile loops
    # (measured: tf32 fused 1 of 3.8 thousand instructions, 0 otherwise)
    assert report.spill_sites is not None and sum(report.spill_sites[2:]) <= 1, report.lines()


@pytest.mark.parametrize("target", ["sm_90", pytest.param("sm_80", marks=pytest.mark.slow), "gfx942"])
def test_aot_compiles(target):
    """The tiled forward of the default rule compiles for each target at D=64, chunk 64, and fits
    the target's shared memory."""
    cfg = TritonConfig(tile=32, num_warps=8, num_stages=1, precision="tf32", kernel="tiled")
    report = aot.compile_report(tk.lower(tk.load_spec("titans_mlp2_normalized")), target, D=64, chunk_size=64, cfg=cfg)
    assert report.binary_bytes > 0 and report.kernel == "tiled_forward"
    limit_kib = {"sm_90": 227, "sm_80": 163, "gfx942": 64}[target]    # per-block shared memory
    assert report.shared_bytes <= limit_kib * 1024, report.lines()
    assert "tiled" in report.lines()[0]


TILED_BWD_SM90_SPILL_LIMIT = 3072   # bytes, titans_mlp2 at tile 16, 8 warps, tf32 (measured 2.7 KB)


def test_aot_sm90_tiled_backward_spills_stay_bounded():
    """The tiled backward holds at most three token-side accumulators per pass and reloads its
    operands inside the tile loops; ptxas on sm_90 still spills a few KB (the first version, with
    every accumulator live through one pass, spilled 8 KB). This bound catches regressions."""
    cfg = TritonConfig(tile=16, num_warps=8, num_stages=1, precision="tf32", kernel="tiled", backward="tiled")
    report = aot.compile_report(tk.lower(tk.load_spec("titans_mlp2")), "sm_90", D=64, chunk_size=64, cfg=cfg, kind="bwd")
    assert report.kernel == "tiled_backward"
    assert report.spill_bytes <= TILED_BWD_SM90_SPILL_LIMIT, report.lines()


@pytest.mark.slow   # sm_90 by default: test_aot_sm90_tiled_backward_spills_stay_bounded
@pytest.mark.parametrize("target", ["sm_90", "sm_80", "gfx942"])
def test_aot_compiles_the_tiled_backward(target):
    cfg = TritonConfig(tile=16, num_warps=8, num_stages=1, precision="tf32", kernel="tiled", backward="tiled")
    report = aot.compile_report(tk.lower(tk.load_spec("titans_mlp2_normalized")), target, D=64, chunk_size=64, cfg=cfg,
                                kind="bwd")
    assert report.binary_bytes > 0 and report.kernel == "tiled_backward"
    limit_kib = {"sm_90": 227, "sm_80": 163, "gfx942": 64}[target]
    assert report.shared_bytes <= limit_kib * 1024, report.lines()


def test_cli_compile_report_of_the_tiled_backward(capsys):
    from titans_kernels.cli import main
    assert main(["compile", "titans_mlp2", "--target", "sm_90", "--report", "--kernel", "bwd", "--backward", "tiled",
                 "--tile", "16", "--warps", "8", "--stages", "1", "--precision", "tf32"]) == 0
    out = capsys.readouterr().out
    assert "tiled_backward for sm_90" in out and "spills:" in out and "tf32" in out


def test_cli_compile_report_of_the_tiled_forward(capsys):
    """Fused by default; --no-fuse compiles the three-pass kernel and --in-place the in-place one,
    which the header names."""
    from titans_kernels.cli import main
    args = ["compile", "titans_mlp2", "--target", "sm_90", "--report", "--forward", "tiled", "--tile", "16",
            "--warps", "8", "--stages", "1", "--precision", "tf32", "--json"]
    reports = []
    for flag in ([], ["--no-fuse"]):
        assert main(args + flag) == 0
        reports.append(aot.KernelReport(**json.loads(capsys.readouterr().out.strip().splitlines()[-1])))
    assert main(args + ["--in-place"]) == 0
    reports.append(aot.KernelReport(**json.loads(capsys.readouterr().out.strip().splitlines()[-1])))
    fused, three, in_place = reports
    assert fused.config["fuse"] is True and three.config["fuse"] is False and in_place.config["in_place"] is True
    assert fused.lines()[0].endswith("tf32, tiled)") and three.lines()[0].endswith("tf32, tiled, three passes)")
    assert in_place.lines()[0].endswith("tf32, tiled, in place)")
    assert fused.shared_bytes < three.shared_bytes    # fewer token-side operands staged (65 against 78 KB)


@pytest.mark.slow   # by default the tiled report's own config: test_cli_compile_report_of_the_tiled_forward
@pytest.mark.parametrize("kernel_flags", [["--forward", "tiled"], ["--backward", "tiled", "--kernel", "bwd"]])
def test_cli_tiled_kernel_gets_the_tiled_launch_defaults(kernel_flags, capsys):
    """Naming a tiled kernel without launch flags compiles it at the tiled defaults (tile 16, 8
    warps, 1 stage, tf32), not at the generic kernel's (which spill 96 KB in the tiled forward);
    a flag still overrides its own field."""
    from titans_kernels.cli import main
    args = ["compile", "titans_mlp2", "--target", "sm_90", "--json", *kernel_flags]
    assert main(args) == 0
    report = aot.KernelReport(**json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert {k: report.config[k] for k in TILED_DEFAULTS} == TILED_DEFAULTS
    if kernel_flags[0] == "--forward":
        assert report.spill_bytes <= TILED_SM90_SPILL_LIMITS["tf32", True], report.lines()
    assert main(args + ["--warps", "4"]) == 0
    report = aot.KernelReport(**json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert report.config["num_warps"] == 4 and report.config["tile"] == 16


def test_tiled_config_fills_the_tiled_defaults_and_takes_overrides():
    cfg = tiled_config()
    assert (cfg.kernel, cfg.backward, cfg.tile, cfg.num_warps, cfg.num_stages, cfg.precision) == \
        ("tiled", "generic", 16, 8, 1, "tf32")
    both = tiled_config(backward="tiled", precision="bf16", tile=32)
    assert (both.backward, both.precision, both.tile, both.num_warps) == ("tiled", "bf16", 32, 8)
    check_kernel(tk.lower(tk.load_spec("titans_mlp2")), both)   # a valid config


@pytest.mark.parametrize("flag", ["--no-fuse", "--in-place"])
def test_cli_tiled_variant_without_the_tiled_forward_is_one_line(flag, capsys):
    from titans_kernels.cli import main
    assert main(["compile", "titans_mlp2", "--target", "sm_90", flag]) != 0
    err = capsys.readouterr().err
    assert "choose variants of the tiled forward; add --forward tiled" in err and "Traceback" not in err


def test_cli_compile_tiled_depth3_is_one_line(capsys):
    from titans_kernels.cli import main
    assert main(["compile", "titans_mlp3", "--target", "sm_90", "--forward", "tiled"]) != 0
    err = capsys.readouterr().err
    assert "kernel='tiled' covers depth-2 memories" in err and "Traceback" not in err
