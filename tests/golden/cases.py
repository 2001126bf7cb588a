"""The generated sources kept as golden files: the Triton and TileLang kernels, forward and
backward, of a depth-1 rule, the paper's depth-2 rule and the normalized-step rule (the layer's
default), at D=64, chunk 64; and the paper's rule as the TileLang resident kernels (at an H100's
shared memory) and as the cluster forward (2 blocks per head). `make golden` rewrites them after an intended codegen change; the
test (tests/test_golden.py) fails on any other."""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SPECS = ("titans_linear", "titans_mlp2", "titans_mlp2_normalized")
KINDS = ("fwd", "bwd")
BACKENDS = ("triton", "tilelang")


def path(backend: str, spec: str, kind: str) -> Path:
    return HERE / backend / f"{spec}.{kind}.py"


def render(backend: str, spec: str, kind: str) -> str:
    """The source the backend emits for (spec, kind) today."""
    import titans_kernels as tk
    ir = tk.lower(tk.load_spec(spec))
    if backend == "triton":
        from titans_kernels.backends.triton_backend import codegen
        return codegen.generate_forward(ir) if kind == "fwd" else codegen.generate_backward(ir)
    from titans_kernels.backends.tilelang_backend.codegen import TileConfig, generate_forward
    from titans_kernels.backends.tilelang_backend.codegen_bwd import generate_backward
    cfg = TileConfig(D=64, b=64, onchip=227 * 1024 if backend != "tilelang" else 0,
                     cluster=2 if backend == "tilelang_cluster2" else 1)
    return generate_forward(ir, cfg) if kind == "fwd" else generate_backward(ir, cfg)


def cases() -> list[tuple[str, str, str]]:
    return [(b, s, k) for b in BACKENDS for s in SPECS for k in KINDS] + [
        ("tilelang_resident", "titans_mlp2", "fwd"), ("tilelang_resident", "titans_mlp2", "bwd"),
        ("tilelang_cluster2", "titans_mlp2", "fwd")]


if __name__ == "__main__":   # make golden
    for case in cases():
        target = path(*case)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = render(*case)
        changed = not target.exists() or target.read_text() != text
        target.write_text(text)
        print(f"{'updated' if changed else 'unchanged'} {target.relative_to(HERE.parent.parent)}")
