"""Generated kernel sources: written once per source text into the user cache, then imported
(Triton and TileLang both read a kernel's source from its file)."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

CACHE_ENV = "TITANS_CACHE_DIR"


def cache_dir() -> Path:
    """Where generated sources live: $TITANS_CACHE_DIR, else the user cache directory."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root)
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("titans-kernels"))


def import_source(source: str, folder: str, stem: str, module_name: str) -> ModuleType:
    """Write `source` to <cache>/<folder>/<stem>.py (atomically, only when it changed) and import it."""
    where = cache_dir() / folder
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{stem}.py"
    if not path.exists() or path.read_text() != source:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
