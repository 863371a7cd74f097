#!/usr/bin/env bash
# Builds attnsim and runs its main job on a bundled example (as root, on Debian): an
# nccl-tests-style all_reduce sweep on one DGX H100 node with the built-in h100-sxm profile.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target attnsim
./build/cli/attnsim collective --topology dgx-h100 --op all_reduce --gpus 8 --max-bytes 16G
