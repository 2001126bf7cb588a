"""Per-architecture autotuning of the generated kernels.

search space (space.py) -> predicted tuner (AOT compile + cost model, predicted.py) or measured
tuner (timing on the local GPU, measured.py) -> records stored through titans_kernels.tuning,
whose run-time lookup the GPU backends use. The GPU catalogue and the record format live in
titans_kernels.tuning; this package imports titans_kernels, never the reverse.
"""
from titans_kernels.tuning import GPU, Record, TuningDB, UnknownGPU, bucket, get_gpu, gpus

__all__ = ["GPU", "UnknownGPU", "get_gpu", "gpus", "Record", "TuningDB", "bucket"]
