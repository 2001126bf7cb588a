"""Generated kernel sources: written once per source text into the user cache, then imported
(Triton and TileLang both read a kernel's source from its file)."""
from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

from .. import settings


def import_source(source: str, folder: str, stem: str, module_name: str) -> ModuleType:
    """Write `source` to <cache>/<folder>/<stem>.py (atomically, only when it changed) and import it."""
    where = settings.cache_dir() / folder
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
