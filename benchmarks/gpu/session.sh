#!/usr/bin/env bash
# The GPU measurements of benchmarks/gpu/README.md as two steps, each returning within 10 minutes
# (every command has a time limit), with every log and JSON written to OUTDIR.
#
#   benchmarks/gpu/session.sh check OUTDIR   # probe (ceilings, L2 read-modify-write rate, the
#                                              one-pass prototype), bench_gpu (every backend at the
#                                              issue shape, each checked against torch there), then
#                                              the GPU tests
#   benchmarks/gpu/session.sh tune OUTDIR    # config sweep, then the measured tuner for titans_mlp2
#                                              (its record lands in OUTDIR/tuning)
#   benchmarks/gpu/session.sh tilelang OUTDIR # TileLang (generic, resident, cluster, bf16 and tf32 wgmma)
#                                              against the Triton generic and one-pass kernels: its
#                                              kernels compiled in parallel first, then correctness and
#                                              forward times at B=8 H=16 and B=1 H=16 (T=8192, D=64,
#                                              bf16), forward+backward, then its titans_mlp2 GPU tests
#   benchmarks/gpu/session.sh diagnose OUTDIR # one-pass variants (one process each), its hardware
#                                              counters (ncu), memcheck of the config that faulted,
#                                              the tiled backward at the issue shape (faulted), and
#                                              the tiled GPU tests one line each, then a 125M-class
#                                              MAC training step, triton against torch (about 8 minutes)
#
# Runs from the repository root with the machine's own python3 (its torch and triton), the
# package taken from the checkout (PYTHONPATH); it first lists any Python module the steps need
# and the machine lacks, and stops. PY=... picks another interpreter. TileLang is not installed on
# the lent machines: `make gpu-wheels` puts its wheels in .whl/, and a call that carries .whl gets
# them installed into /tmp/site first (every step then measures the tilelang backend too).
set -uo pipefail
step="${1:-}"
out="${2:-}"
if [[ "$step" != check && "$step" != tune && "$step" != diagnose && "$step" != tilelang ]] || [[ -z "$out" ]]; then
    echo "usage: benchmarks/gpu/session.sh check|tune|diagnose|tilelang OUTDIR" >&2
    exit 2
fi
cd "$(dirname "$0")/../.."
mkdir -p "$out"
PY="${PY:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TRITON_INTERPRET=0
# generated sources and tuning records in named folders (no user cache, no platformdirs needed)
export TITANS_CACHE_DIR="${TITANS_CACHE_DIR:-/tmp/titans-cache}" TITANS_TUNE_DIR="$out/tuning"
stamp="$(date -u +%Y%m%d)"

missing=$("$PY" - <<'EOF'
import importlib.util
need = ["torch", "triton", "yaml", "tqdm", "filelock", "numpy", "pytest", "hypothesis"]
print(" ".join(m for m in need if importlib.util.find_spec(m) is None))
EOF
)
if [[ -n "$missing" ]]; then
    echo "missing Python modules on this machine: $missing (carry them as wheels; see the device notes)" >&2
    exit 3
fi
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || {
    echo "no CUDA GPU visible to $PY: nothing to measure" >&2
    exit 4
}
if compgen -G ".whl/*.whl" > /dev/null; then   # carried wheels (make gpu-wheels), no network needed
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { echo "could not install the carried wheels in .whl/" >&2; exit 3; }
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
if [[ "$step" == tilelang ]] && ! "$PY" -c "import tilelang" 2> /dev/null; then
    echo "tilelang does not import on this machine: run make gpu-wheels here and carry .whl with the call" >&2
    exit 3
fi
"$PY" - <<'EOF' | tee "$out/device-$stamp.txt"
import torch, triton, platform
p = torch.cuda.get_device_properties(0)
print(f"device: {p.name}, {p.multi_processor_count} SMs, {p.total_memory / 2**30:.0f} GiB")
print(f"torch {torch.__version__}, triton {triton.__version__}, python {platform.python_version()}")
EOF

status=0
run() {  # run NAME TIMEOUT_S CMD...: the command's output to OUTDIR/NAME-STAMP.log, its status kept
    local name="$1" limit="$2"
    shift 2
    echo "== $name: $*"
    timeout "$limit" "$@" 2>&1 | tee "$out/$name-$stamp.log"
    local rc="${PIPESTATUS[0]}"
    [[ "$rc" == 0 ]] || { echo "== $name exited with $rc"; status=1; }
}

if [[ "$step" == check ]]; then
    # the most decisive measurement first: a session's device time may end before the last one
    run probe 200 "$PY" benchmarks/gpu/probe.py --out "$out"
    run bench 190 "$PY" benchmarks/gpu/bench_gpu.py --skip "torch.compile(torch)" --out "$out"
    # compiling the kernels takes most of the tests' time: spread it over the machine's cores
    xdist=$("$PY" -c "import importlib.util as u; print('-n 8' if u.find_spec('xdist') else '')")
    run gpu-tests 170 "$PY" -m pytest -m gpu tests/test_gpu.py -q -p no:cacheprovider $xdist
elif [[ "$step" == tilelang ]]; then
    "$PY" -c "import tilelang; print('tilelang', tilelang.__version__)" 2>&1 | tail -1 | tee -a "$out/device-$stamp.txt"
    # every TileLang kernel below compiled at once (12 processes) into TileLang's disk cache
    run tilelang-warm 200 "$PY" benchmarks/gpu/tilelang_warm.py --jobs 12
    rows="torch,triton,triton (one-pass forward),tilelang,tilelang (resident),tilelang (resident, bf16 products)"
    rows="$rows,tilelang (resident, tf32 wgmma),tilelang (resident, cluster 2),tilelang (resident, cluster 4)"
    # forwards: many heads first (the issue's target shape), then few heads (the cluster forward's case)
    run tilelang-bh128 110 "$PY" benchmarks/gpu/bench_gpu.py --forward-only --only "$rows" --out "$out"
    run tilelang-bh16 90 "$PY" benchmarks/gpu/bench_gpu.py --forward-only --batch 1 --only "$rows" --out "$out"
    # forward+backward of the generic and resident kernels next to Triton's
    run tilelang-train 100 "$PY" benchmarks/gpu/bench_gpu.py --only "torch,triton,tilelang,tilelang (resident)" \
        --out "$out"
    xdist=$("$PY" -c "import importlib.util as u; print('-n 8' if u.find_spec('xdist') else '')")
    run tilelang-tests 90 "$PY" -m pytest -m gpu tests/test_gpu.py -q -p no:cacheprovider $xdist \
        -k "tilelang and titans_mlp2 and not nomomentum and not residual and not (tf32 and generic)"
elif [[ "$step" == diagnose ]]; then
    # logs only in OUTDIR (at most 8 files come back from a lease); each log holds its JSON lines
    op=(benchmarks/gpu/probe.py --out /tmp/probe --parts onepass)
    # each config that may fault in its own process: a CUDA fault poisons the rest of a process
    run onepass-main 90 "$PY" "${op[@]}" --reps 5 --config tf32/tf32,8,64 --config tf32/tf32,8,64,stage \
        --config bf16/tf32/tf32,8,64,stage
    run onepass-tma 40 "$PY" "${op[@]}" --seq 2048 --reps 5 --config bf16/bf16,8,64,tma
    ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
    run ncu 70 "$ncu" --clock-control none --kernel-name regex:onepass_forward --launch-count 1 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables \
        --section WarpStateStats --section SchedulerStats --section Occupancy --section LaunchStats \
        "$PY" "${op[@]}" --seq 1024 --reps 0 --config tf32/tf32,8,64,stage
    run memcheck 45 compute-sanitizer --tool memcheck --print-limit 3 "$PY" "${op[@]}" --batch 1 --heads 1 \
        --seq 256 --reps 0 --config bf16/tf32,8,32
    run tiled-bwd 45 env CUDA_LAUNCH_BLOCKING=1 "$PY" benchmarks/gpu/tiled_backward_fault.py
    run gpu-tests 40 "$PY" -m pytest -m gpu tests/test_gpu.py -q -p no:cacheprovider -n 16 -v \
        -k "tiled_backward or in_place" --tb=line
    # end to end: a 125M-class MAC training step, compiled memory backend against torch
    run model-step 120 "$PY" benchmarks/gpu/model_step.py --out /tmp/model-step
else
    # the generic kernel's grid was swept on an H100 before (benchmarks/results/gpu/); bench times
    # it at its tuned config. Rows are logged as they finish, so a timeout keeps what was measured.
    # Tiles 16 and 64: 16 spills least (its 16-row products run as mma.sync), 64 runs every product
    # as wgmma (with KBs of spills); 32 has both costs (ahead-of-time reports, docs/design.md).
    run sweep 380 "$PY" benchmarks/gpu/sweep_configs.py --kernels tiled --tiles 16,64 --warps 8 --stages 1 \
        --precisions tf32,bf16 --fuse 1,0 --in-place 0,1 --out "$out"
    run autotune 180 "$PY" -m titans_kernels autotune --gpu auto --spec titans_mlp2 --shapes 64x64 \
        --dtype bfloat16
fi
exit "$status"
