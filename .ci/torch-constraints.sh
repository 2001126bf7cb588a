#!/usr/bin/env bash
# Prints a pip constraints line for torch, chosen for this machine:
# - a venv that already holds a CUDA build of torch keeps exactly that build;
# - a machine with an NVIDIA GPU gets no constraint (pip picks a CUDA build);
# - every other machine is pinned to the CPU build, so no CUDA wheel is ever pulled.
# Usage: torch-constraints.sh PYTHON
set -eu
py="$1"
cuda_torch=$("$py" - <<'PY' 2>/dev/null || true
import torch
if torch.version.cuda or getattr(torch.version, "hip", None):
    print(torch.__version__.split("+")[0])
PY
)
if [ -n "$cuda_torch" ]; then
    echo "torch==$cuda_torch"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "# NVIDIA GPU present: torch left unconstrained"
else
    echo "torch==${TITANS_CPU_TORCH:-2.13.0}"
fi
