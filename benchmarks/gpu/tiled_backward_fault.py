"""Forward+backward with the tiled backward at the issue shape (titans_mlp2, T=8192, D=64,
chunk 64, bf16) at B*H = 128, then 16, with the traceback of the first failure: run with
CUDA_LAUNCH_BLOCKING=1 so that a fault names the launch that caused it."""
import sys
import traceback

import torch
from bench_gpu import TILED_BOTH_CONFIG
from gpu_case import cuda_case, rule_call

import titans_kernels as tk


def main() -> int:
    rule = tk.compile("titans_mlp2", backend="triton", config=TILED_BOTH_CONFIG)
    for B, H in ((8, 16), (1, 16)):
        _, inputs, state = cuda_case("titans_mlp2", B, H, 8192, 64, 64, torch.bfloat16)
        try:
            rule_call(rule, inputs, state, 64, True)()
            torch.cuda.synchronize()
            print(f"B={B} H={H}: forward+backward ran")
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
