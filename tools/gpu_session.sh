#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The GPU work of issue 6 in as few device calls as possible (the device tool lends 30 minutes
# a session, at most 10 a call; /work/.library/device/README.md).
#
#   tools/gpu_session.sh pack            here: Release build with CUDA, the binaries the
#                                        device needs copied into .gpu/ (git-ignored through
#                                        .git/info/exclude); the device has no Debian packages
#   tools/gpu_session.sh run STEP...     on the device, from the repository root, with .gpu
#                                        carried: each STEP appends to $OUT/session.log and
#                                        may write one file into $OUT
#
# Steps, in the order a session would run them (about 2-4 minutes each by the plan's
# estimates; two calls: "run env tests quick kernels torch", then "run full scenario"):
#   env       nvidia-smi, the libraries the binaries resolve, the driver release
#   tests     the CUDA kernel tests and the cuDNN SDPA tests (attnsim_kernel_tests,
#             attnsim_cudnn_tests)
#   quick     attnsim calibrate --backend cuda --quick, timed          -> $OUT/quick.json
#   kernels   attnsim_bench_kernels (ours and cuDNN, FA's shapes)      -> $OUT/kernels.json
#   torch     bench/torch_sdpa.py (PyTorch's fused attention)          -> $OUT/torch.json
#   full      attnsim calibrate --backend cuda, timed                  -> $OUT/measured.json
#   scenario  the Llama 3 8B ring scenario on the measured profile next to h100-sxm (needs
#             $OUT/measured.json from "full" in the same call)
set -euo pipefail
cd "$(dirname "$0")/.."

bins=(build/cli/attnsim build/tests/attnsim_kernel_tests build/tests/attnsim_cudnn_tests
      build/bench/attnsim_bench_kernels)

pack() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j "$(nproc)" --target attnsim attnsim_kernel_tests attnsim_cudnn_tests \
    attnsim_bench_kernels
  grep -qxF '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
  rm -rf .gpu && mkdir -p .gpu
  cp "${bins[@]}" .gpu/
  du -sh .gpu
  echo "carry [\".gpu\"]; command: tools/gpu_session.sh run env tests quick kernels torch"
}

# The CUDA libraries the binaries link (cuBLAS, NCCL, cuDNN, the runtime), wherever the
# device keeps them: the toolkit's folders, then PyTorch's pip packages (nvidia-*-cu13).
library_path() {
  local dirs=(/usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib)
  local site
  site=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null ||
    true)
  if [ -n "$site" ]; then
    for d in "$site"/nvidia/*/lib; do dirs+=("$d"); done
  fi
  local IFS=:
  echo "${dirs[*]}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

step() {
  local name=$1
  echo "=== $name ($(date -u +%H:%M:%S))"
  case $name in
    env)
      nvidia-smi || true
      cat /proc/driver/nvidia/version || true
      ldd .gpu/attnsim | grep -E 'cublas|nccl|cudnn|cudart|not found' || true
      ;;
    tests)
      .gpu/attnsim_kernel_tests || echo "attnsim_kernel_tests: exit $?"
      .gpu/attnsim_cudnn_tests || echo "attnsim_cudnn_tests: exit $?"
      ;;
    quick)
      TIMEFORMAT="quick calibration: %R s wall"
      time .gpu/attnsim calibrate --backend cuda --quick --out "$OUT/quick.json"
      ;;
    kernels)
      .gpu/attnsim_bench_kernels "$OUT/kernels.json"
      ;;
    torch)
      PYTHONUNBUFFERED=1 python3 bench/torch_sdpa.py "$OUT/torch.json"
      ;;
    full)
      TIMEFORMAT="full calibration: %R s wall"
      time .gpu/attnsim calibrate --backend cuda --out "$OUT/measured.json"
      ;;
    scenario)
      for hw in h100-sxm "$OUT/measured.json"; do
        .gpu/attnsim run scenarios/llama3-8b-ring-dgx-h100.json --set "hardware=$hw"
      done
      ;;
    *)
      echo "unknown step $name" >&2
      return 2
      ;;
  esac
}

case ${1:-} in
  pack) pack ;;
  run)
    shift
    : "${OUT:?run is for the device machine, where OUT is set}"
    LD_LIBRARY_PATH=$(library_path)
    export LD_LIBRARY_PATH
    # A failing step is logged and the next one runs: one call should bring back all it can.
    for s in "$@"; do
      { step "$s" 2>&1 || echo "=== $s failed: exit $?"; } | tee -a "$OUT/session.log"
    done
    ;;
  *)
    echo "usage: tools/gpu_session.sh pack | run STEP..." >&2
    exit 2
    ;;
esac
