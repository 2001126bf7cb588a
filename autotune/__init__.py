"""Per-architecture autotuning of compiled memory kernels."""
