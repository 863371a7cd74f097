#!/usr/bin/env bash
# Installs attnsim's build dependencies from Debian's packages (as root). Idempotent: when
# every package is already installed it changes nothing and needs no network.
set -euo pipefail
packages=(cmake g++ make libboost-graph-dev libeigen3-dev libcli11-dev nlohmann-json3-dev
          catch2 clang-format clang-tidy gnuplot-nox "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
