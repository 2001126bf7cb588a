"""Keep freed CPU memory in the process heap (glibc), so that tensors of a few hundred KB to a
few MB are not mapped, zero-filled and unmapped again on every chunk.

With glibc's defaults, blocks above a (moving) mmap threshold get their own mapping, and freed
memory at the top of the heap is trimmed back to the kernel; the chunk loop allocates and frees
such blocks hundreds of times per call, so each one is page-faulted afresh, and a call's time
varies from process to process (docs/design.md). `keep_heap()` raises the mmap threshold to glibc's
maximum (32 MiB), stops trimming, and grows the heap in 64 MiB steps. The cost: the process keeps
its peak heap instead of returning it to the system.

Process-wide, so the library never calls it on import: the command-line tools and the benchmark
harness do, and `titans_kernels.keep_heap()` is there for a training script. TITANS_MALLOC=system
leaves glibc's defaults everywhere.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache

from . import settings

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = {_M_MMAP_THRESHOLD: 32 << 20, _M_TRIM_THRESHOLD: 1 << 30, _M_TOP_PAD: 64 << 20}


@lru_cache(maxsize=1)
def keep_heap() -> bool:
    """Apply the settings once per process; True when glibc accepted all of them."""
    if settings.malloc_system() or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):   # not glibc (musl, for one): nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS.items())
