#!/usr/bin/env bash
# Installs everything Ember needs to build, test and benchmark, from Debian packages only.
# Idempotent: packages already present are skipped, and apt-get update runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libfaiss-dev libopenblas-dev liblapack-dev libomp-dev
  librocksdb-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libutf8proc-dev nlohmann-json3-dev libroaring-dev libstemmer-dev libcurl4-openssl-dev
)
# The benchmarks and the default model fetch their data with npm. Machines of this kind ship their own
# Node.js, which Debian's npm package conflicts with, so Debian's is only a fallback.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
