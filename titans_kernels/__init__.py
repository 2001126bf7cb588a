"""titans-kernels: compile Titans neural-memory update rules into kernels.

    import titans_kernels as tk
    rule = tk.compile(tk.load_spec("titans_mlp2"), backend="torch")
    out, state = rule(q, k, v, lr, momentum, decay, state=None, chunk_size=64)
"""
from .allocator import keep_heap
from .backends import CompiledRule, MemoryState, backend_names
from .backends.reference import memory_apply
from .backends.torch_backend.engine import cpu_engine, matmul_engine
from .compiler import compile  # noqa: A004
from .errors import BackendError, InputError, SpecError, TitansError
from .ir import MemoryIR, lower
from .spec import MemorySpec, list_specs, load_spec, parse_spec

__version__ = "0.1.0"

__all__ = [
    "compile", "load_spec", "parse_spec", "list_specs", "lower", "backend_names", "memory_apply",
    "cpu_engine", "matmul_engine", "keep_heap",
    "MemorySpec", "MemoryIR", "MemoryState", "CompiledRule",
    "TitansError", "SpecError", "InputError", "BackendError", "__version__",
]
