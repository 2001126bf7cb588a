"""tk.compile: spec -> IR -> a backend's CompiledRule."""
from __future__ import annotations

from .backends import base
from .errors import BackendError
from .ir import lower
from .spec import MemorySpec, load_spec


def compile(spec: MemorySpec | str, backend: str = "torch", **options) -> base.CompiledRule:  # noqa: A001
    """Compile a spec (object, shipped name or .yaml path) for `backend`.

    Backends: "reference" (token loop with autograd), "torch" (chunk-parallel dual form),
    "triton" (generated fused kernels; CUDA, or CPU under TRITON_INTERPRET=1), "tilelang"
    (generated TileLang forward; CUDA, or CPU through TileLang's C target), "auto" (on CUDA the
    faster GPU backend by the tuning database, triton by default; torch otherwise).
    """
    spec = load_spec(spec)
    factory = base.backend_factory(backend)
    if factory is None:
        raise BackendError(f"unknown backend '{backend}'; available: {', '.join(base.backend_names())}")
    return factory(lower(spec), **options)
