#!/usr/bin/env bash
# Builds attnsim and runs its main job on a bundled example (as root, on Debian): Llama 3 70B
# training with USP on an H100 SuperPOD, swept over 64 and 512 GPUs and 128K and 1M tokens.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target attnsim
./build/cli/attnsim run scenarios/llama3-70b-usp-superpod.json --jobs "$(nproc)"
