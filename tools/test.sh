#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this): dependencies, format and
# layering checks, a Release build with every CPU test, clang-tidy, then an address+undefined
# sanitizer build with every CPU test again. Run from anywhere, as root, on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install_deps.sh
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
git ls-files '*.cpp' | grep -v '^tests/' | xargs -P "$jobs" -n 4 clang-tidy -p build --quiet

echo "== sanitizer build (address, undefined) and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DATTNSIM_SANITIZE=address,undefined > /dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ctest -LE gpu --output-on-failure -j "$jobs")
