"""Every environment variable is read in titans_kernels/settings.py and nowhere else, and each
one it documents is read there."""
from __future__ import annotations

import re
from pathlib import Path

from titans_kernels import settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("titans_kernels", "titans_models", "autotune")
READS = re.compile(r"os\.environ|os\.getenv|getenv\(")


def test_no_environment_read_outside_settings():
    offenders = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path == ROOT / "titans_kernels" / "settings.py":
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if READS.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == [], "read environment variables through titans_kernels.settings:\n" + "\n".join(offenders)


def test_every_variable_is_documented_in_the_table():
    names = [v for k, v in vars(settings).items() if k.isupper() and isinstance(v, str)]
    table = settings.__doc__
    assert len(names) >= 7
    for name in names:
        assert f"| `{name}` |" in table, name


def test_values_are_read_when_asked(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.CACHE_DIR, str(tmp_path / "a"))
    assert settings.cache_dir() == tmp_path / "a"
    monkeypatch.setenv(settings.CACHE_DIR, str(tmp_path / "b"))
    assert settings.cache_dir() == tmp_path / "b"
    monkeypatch.setenv(settings.SPEC_PATH, f"{tmp_path / 'x'}{__import__('os').pathsep}{tmp_path / 'y'}")
    assert settings.spec_path() == [tmp_path / "x", tmp_path / "y"]
    monkeypatch.setenv(settings.CPU_MATMUL, " OneDNN ")
    assert settings.cpu_matmul() == "onednn"
    monkeypatch.setenv(settings.INTERPRET, "0")
    assert not settings.triton_interpret()
    assert settings.INTERPRET not in settings.environ(drop=(settings.INTERPRET,))
