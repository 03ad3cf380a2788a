#!/usr/bin/env bash
# Installs what building and testing need, and only what is missing, from Debian's packages
# (and, for the JSON Schema tests, ajv from the npm registry into tests/schema/node_modules).
#
# Usage: scripts/install-deps.sh [--no-test-deps]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config curl tzdata
  libboost1.81-dev libsqlite3-dev libcereal-dev libssl-dev libcli11-dev
)
test_deps=1
if [[ "${1:-}" == "--no-test-deps" ]]; then test_deps=0; fi
if (( test_deps )); then packages+=(catch2 nodejs npm); fi

missing=()
for package in "${packages[@]}"; do
  # node and npm may come from elsewhere than Debian (the image's own Node.js): take them as present.
  if [[ "$package" == nodejs ]] && command -v node >/dev/null; then continue; fi
  if [[ "$package" == npm ]] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if (( ${#missing[@]} )); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if (( test_deps )) && [[ ! -d tests/schema/node_modules/ajv ]]; then
  echo "install-deps: installing ajv for the schema tests"
  (cd tests/schema && npm ci --no-audit --no-fund --loglevel=error)
fi
