"""Backends. Importing this package registers every backend with `base.register`."""
from . import auto, reference, tilelang_backend, torch_backend, triton_backend  # noqa: F401  (registration side effect)
from .base import CompiledRule, backend_names
from .state import MemoryState

__all__ = ["CompiledRule", "MemoryState", "backend_names"]
