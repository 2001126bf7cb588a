"""The import graph the package keeps: the runtime never imports the top-level `autotune`
package (autotune imports titans_kernels, one way); the layer both GPU backends share sits
beside backends/base.py and imports no single backend; the two GPU backends do not import each
other. Read from every import statement (function-level ones too), relative ones resolved."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = "titans_kernels.backends"
SHARED = ["base", "kernel_rule", "launch_config", "kernel_report", "checkpoints", "state", "generated"]
ONE_BACKEND = [f"{BACKENDS}.{name}" for name in ("triton_backend", "tilelang_backend", "torch_backend")]


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports."""
    mod = _module(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_resolver_sees_relative_and_function_level_imports(tmp_path):
    pkg = ROOT / "titans_kernels" / "backends" / "kernel_rule.py"
    assert f"{BACKENDS}.launch_config" in imports(pkg) and "titans_kernels.tuning.lookup" in imports(pkg)
    cli = ROOT / "titans_kernels" / "cli" / "main.py"
    assert "titans_kernels.cli.compile_cmd" in imports(cli)


def test_titans_kernels_never_imports_autotune():
    edges = [f"{_module(p)} -> {name}" for p in sorted((ROOT / "titans_kernels").rglob("*.py"))
             for name in imports(p) if _under(name, ["autotune"])]
    assert edges == []


def test_autotune_imports_titans_kernels():
    assert any(_under(name, ["titans_kernels"]) for p in (ROOT / "autotune").glob("*.py") for name in imports(p))


def test_the_shared_gpu_layer_imports_no_single_backend():
    edges = [f"{name} -> {target}" for name in SHARED
             for target in imports(ROOT / "titans_kernels" / "backends" / f"{name}.py") if _under(target, ONE_BACKEND)]
    assert edges == []


def test_the_gpu_backends_do_not_import_each_other():
    for this, other in (("triton_backend", "tilelang_backend"), ("tilelang_backend", "triton_backend")):
        edges = [f"{_module(p)} -> {name}" for p in sorted((ROOT / "titans_kernels" / "backends" / this).glob("*.py"))
                 for name in imports(p) if _under(name, [f"{BACKENDS}.{other}"])]
        assert edges == [], this
