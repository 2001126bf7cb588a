"""Per-architecture autotuning of the generated Triton kernels.

catalogue (gpus.yaml) -> search space (space.py) -> predicted tuner (AOT compile + cost model) or
measured tuner (timing on the local GPU) -> tuning database (db.py) -> run-time lookup by the
triton backend.
"""
from .catalogue import GPU, UnknownGPU, get_gpu, gpus
from .db import Record, TuningDB, bucket

__all__ = ["GPU", "UnknownGPU", "get_gpu", "gpus", "Record", "TuningDB", "bucket"]
