"""Command line: `titans-kernels specs ...`, `titans-kernels run ...`."""
from .main import main

__all__ = ["main"]
