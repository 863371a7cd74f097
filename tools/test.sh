#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this): dependencies, format and
# layering checks, a Release build with every CPU test, clang-tidy, then an address+undefined
# sanitizer build with every CPU test again, and the scenario/profile readers fuzzed for 60 s
# (libFuzzer). Run from anywhere, as root, on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium, libpng and a font: the rendered-report test (tests/report/render_test.cpp).
./tools/install_deps.sh clang chromium libpng-dev fonts-dejavu-core
# libFuzzer's runtime is only a recommendation of clang's package; install it by version.
llvm_major=$(clang --version | sed -nE 's/.*clang version ([0-9]+).*/\1/p' | head -n 1)
./tools/install_deps.sh "libclang-rt-${llvm_major}-dev"
jobs=$(nproc)

echo "== format"
files=$(git ls-files '*.h' '*.cpp' '*.cu' '*.cuh' 2>/dev/null || find . -name '*.h' -o -name '*.cpp')
clang-format --dry-run -Werror $files

echo "== layering"
./tools/check_layering.sh

echo "== release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$jobs"
(cd build && ctest -LE gpu --output-on-failure -j "$jobs")

echo "== clang-tidy (host sources, Release compile_commands.json)"
# Only files this configuration compiles (calibrate/cuda_absent.cpp is replaced by the CUDA
# backend where nvcc is found; clang-tidy would otherwise guess its flags from a .cu file's).
git ls-files '*.cpp' | grep -v '^tests/' | while read -r f; do
  grep -qF "\"file\": \"$PWD/$f\"" build/compile_commands.json && echo "$f"
done | xargs -P "$jobs" -n 4 clang-tidy -p build --quiet

echo "== sanitizer build (address, undefined) and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DATTNSIM_SANITIZE=address,undefined > /dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ctest -LE gpu --output-on-failure -j "$jobs")

echo "== fuzz: scenario and profile readers (libFuzzer + address/undefined, 60 s)"
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DATTNSIM_FUZZ=ON -DATTNSIM_SANITIZE=address,undefined -DATTNSIM_WERROR=OFF -DATTNSIM_CUDA=OFF \
  -DBUILD_TESTING=OFF > /dev/null
cmake --build build-fuzz -j "$jobs" --target attnsim_input_fuzzer > /dev/null
corpus=build-fuzz/corpus
rm -rf "$corpus" && mkdir -p "$corpus"
for f in scenarios/*.json; do  # first byte 0: a scenario; 1: a profile
  [ "$(basename "$f")" = schema.json ] || { printf '\000'; cat "$f"; } > "$corpus/s-$(basename "$f")"
done
for f in calibrate/profiles/*.json; do { printf '\001'; cat "$f"; } > "$corpus/p-$(basename "$f")"; done
build-fuzz/tests/fuzz/attnsim_input_fuzzer -max_total_time=60 -timeout=20 -rss_limit_mb=4096 \
  -artifact_prefix=build-fuzz/ -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
