"""keep_heap: freed CPU blocks stay in the heap, so a chunk loop's temporaries stop
page-faulting; TITANS_MALLOC=system opts out."""
from __future__ import annotations

import os
import platform
import subprocess
import sys

from titans_kernels import allocator

_LOOP = """
import resource, torch
from titans_kernels.allocator import keep_heap
applied = keep_heap()
x = torch.randn(256, 1024)

def step():                # three 1 MiB temporaries alive at once, then all freed
    y = x * 2
    z = y + 1
    return float((z * y).sum())

for _ in range(20):
    step()                 # warm up: the heap grows once
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    step()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(malloc: str) -> tuple[bool, int]:
    # glibc's starting thresholds, pinned: left dynamic they drift with the process's history
    # (6,000 to 147,000 faults for the same loop), which keep_heap is there to remove
    env = dict(os.environ, TITANS_MALLOC=malloc, OMP_NUM_THREADS="1",
               GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072")
    out = subprocess.run([sys.executable, "-c", _LOOP], env=env, capture_output=True, text=True, check=True)
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


def test_keep_heap_stops_page_faults_of_freed_temporaries():
    glibc = platform.libc_ver()[0] == "glibc"
    kept_applied, kept = _faults("keep")
    sys_applied, system = _faults("system")
    assert kept_applied == glibc, (kept_applied, platform.libc_ver())
    assert not sys_applied
    if glibc:   # with glibc's thresholds the freed temporaries go back to the kernel and fault afresh
        assert kept <= 200, f"kept heap still faulted {kept} pages in 200 steps"
        assert system > 100_000, (kept, system)   # 3 MiB a step: 768 pages x 200 steps


def test_system_setting_opts_out(monkeypatch):
    allocator.keep_heap.cache_clear()
    monkeypatch.setenv("TITANS_MALLOC", "system")
    try:
        assert allocator.keep_heap() is False
    finally:
        allocator.keep_heap.cache_clear()
