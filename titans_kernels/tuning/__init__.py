"""Tuning records at run time: their format and validation (db.py), the GPU catalogue that names
their architectures (gpus.py, gpus.yaml), the shipped records (defaults.json) and the lookup that
chooses a launch config for a call (lookup.py). Nothing is tuned here: the tuners live in the
top-level `autotune` package, which imports this one."""
from .db import Record, TuningDB, bucket
from .gpus import GPU, UnknownGPU, get_gpu, gpus
from .lookup import device_arch, faster_gpu_backend, lookup

__all__ = ["GPU", "UnknownGPU", "get_gpu", "gpus", "Record", "TuningDB", "bucket", "device_arch",
           "faster_gpu_backend", "lookup"]
