#!/usr/bin/env bash
# Fails when a folder includes one it may not (STYLE C2). Arrows read "may include":
#   config -> (nothing of ours)   sim -> (nothing of ours)   topology -> sim, config
#   calibrate -> sim, config      models -> sim, topology, calibrate, config
#   kernels -> (nothing of ours)  report -> config           cli, tests, bench -> anything
# kernels/ is also fenced the other way: only tests/ and calibrate/cuda/ include it (everything
# else builds without CUDA), and its own system includes are the standard library and CUDA's.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A allowed=(
  [config]="config"
  [sim]="sim"
  [topology]="topology sim config"
  [calibrate]="calibrate sim config kernels"
  [models]="models sim topology calibrate config"
  [kernels]="kernels"
  [report]="report config"
)
status=0
for folder in "${!allowed[@]}"; do
  [ -d "$folder" ] || continue
  while IFS=: read -r file _ line; do
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$line")
    ok=0
    for a in ${allowed[$folder]}; do
      [ "$target" = "$a" ] && ok=1
    done
    # calibrate/cuda may use kernels; the rest of calibrate may not.
    if [ "$folder" = calibrate ] && [ "$target" = kernels ] && [[ "$file" != calibrate/cuda/* ]]; then
      ok=0
    fi
    if [ $ok -eq 0 ]; then
      echo "layering: $file includes $target/ ($line), which $folder/ may not include" >&2
      status=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' \
             '^#include "[a-z_]*/' "$folder" || true)
done
while IFS=: read -r file _ line; do
  case "$file" in
    kernels/* | tests/* | calibrate/cuda/*) ;;
    *)
      echo "layering: $file includes kernels/ ($line); only tests/ and calibrate/cuda/ may" >&2
      status=1
      ;;
  esac
done < <(grep -rn --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' \
           '^#include "kernels/' . --exclude-dir=build\* --exclude-dir=.git | sed 's|^\./||' || true)
if [ -d kernels ]; then
  while IFS=: read -r file _ line; do
    if ! grep -qE '^#include <([a-z_0-9]+|cuda[a-z_0-9]*\.h|mma\.h|cublas[A-Za-z_0-9]*\.h|cudnn[a-z_0-9]*\.h)>' <<<"$line"; then
      echo "layering: $file includes $line; kernels/ may use only the standard library and CUDA" >&2
      status=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' \
             '^#include <' kernels || true)
fi
[ $status -eq 0 ] && echo "layering: ok"
exit $status
