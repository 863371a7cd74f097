#!/usr/bin/env bash
# Regenerates docs/roadmap.md and docs/roadmap/ (issue 8): attnsim report over the seed
# roadmap's tiers in scenarios/roadmap/, every claim of the plan judged. Usage:
# tools/roadmap.sh [ATTNSIM [OUT]] (defaults: build/cli/attnsim, docs/roadmap). The report's
# folder OUT keeps report.html, plots/ and results/; its markdown becomes OUT.md beside it, with
# links into OUT/. tests/CMakeLists.txt's "roadmap" test runs it into a scratch folder and
# compares OUT.md with the checked-in docs/roadmap.md.
set -euo pipefail
cd "$(dirname "$0")/.."
attnsim=${1:-build/cli/attnsim}
out=${2:-docs/roadmap}
out=${out%/}
"$attnsim" report scenarios/roadmap/tier0-2x-gtx1080.json \
  scenarios/roadmap/tier0-2x-gtx1080-65k.json scenarios/roadmap/tier1-h100-node.json \
  scenarios/roadmap/tier2-ndr-fat-tree.json scenarios/roadmap/tier2-llama3-8b-dilated-training.json \
  scenarios/roadmap/tier3-datacenters.json \
  --title "Dilated attention from 2 to 65,536 GPUs: the seed roadmap, simulated and judged" \
  --jobs "$(nproc)" --out "$out"
folder=$(basename "$out")
sed -e "s#](plots/#](${folder}/plots/#g" -e "s#](results/#](${folder}/results/#g" \
  -e "s#](report.html)#](${folder}/report.html)#g" "$out/report.md" > "$out.md.tmp"
mv "$out.md.tmp" "$out.md"
rm "$out/report.md"
echo "moved $out/report.md to $out.md (links into $folder/)"
