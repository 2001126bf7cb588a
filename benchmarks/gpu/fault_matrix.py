"""Which launch configs fault on this GPU: one config per process (a CUDA fault poisons the rest
of a process), at a small shape, each checked against the torch backend.

    python benchmarks/gpu/fault_matrix.py KIND CONFIG
      KIND tiled-bwd: CONFIG tile,warps,precision     (titans_mlp2, D=64, chunk 64, tiled fwd+bwd)
      KIND onepass:   CONFIG prec/kprec,warps,hb      (titans_mlp2, D=64, chunk 64, one-pass forward)
Prints one line: the config and "ok" with the largest relative error, or the error's first line.
"""
import sys

import torch
from gpu_case import cuda_case

import titans_kernels as tk
from titans_kernels.backends.launch_config import tiled_config
from titans_kernels.testing import rel_error


def main(kind: str, text: str) -> int:
    ref, inputs, state = cuda_case("titans_mlp2", 1, 2, 3 * 64 + 5, 64, 64, torch.float32)
    try:
        if kind == "tiled-bwd":
            tile, warps, prec = text.split(",")
            rule = tk.compile("titans_mlp2", backend="triton", config=tiled_config(
                tile=int(tile), num_warps=int(warps), precision=prec, backward="tiled"))
            outs = []
            for r in (rule, ref):
                leaves = [t.detach().requires_grad_(True) for t in inputs.tensors()]
                q, k, v, lr, mom, dec = leaves
                out, _ = r(q, k, v, lr, mom, dec, state=state, chunk_size=64)
                outs.append([out, *torch.autograd.grad(out.float().pow(2).sum(), leaves)])
            err = max(rel_error(a, b) for a, b in zip(*outs))
        else:
            from probe import parse_config
            from titans_kernels.backends.triton_backend.onepass import onepass_call
            out, _ = onepass_call(ref.ir, *inputs.args(), state, chunk_size=64, **parse_config(text))
            err = rel_error(out, ref(*inputs.args(), state=state, chunk_size=64)[0])
        torch.cuda.synchronize()
        print(f"{kind} {text}: ok, max rel error {err:.1e}")
    except Exception as exc:  # noqa: BLE001
        print(f"{kind} {text}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
