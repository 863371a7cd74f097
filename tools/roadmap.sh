#!/usr/bin/env bash
# Regenerates docs/roadmap/ (issue 8): attnsim report over the seed roadmap's tiers in
# scenarios/roadmap/, every claim of the plan judged. Usage: tools/roadmap.sh [ATTNSIM [OUT]]
# (defaults: build/cli/attnsim, docs/roadmap). tests/CMakeLists.txt's "roadmap" test runs it
# into a scratch folder and compares report.md with the checked-in one.
set -euo pipefail
cd "$(dirname "$0")/.."
attnsim=${1:-build/cli/attnsim}
out=${2:-docs/roadmap}
"$attnsim" report scenarios/roadmap/tier0-2x-gtx1080.json scenarios/roadmap/tier1-h100-node.json \
  scenarios/roadmap/tier2-ndr-fat-tree.json scenarios/roadmap/tier3-datacenters.json \
  --title "Dilated attention from 2 to 65,536 GPUs: the seed roadmap, simulated and judged" \
  --jobs "$(nproc)" --out "$out"
