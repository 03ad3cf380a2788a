#!/usr/bin/env bash
# Installs what building and testing need, and only what is missing, from Debian's packages,
# and from the npm registry: SQLite itself, as the SQLite3MultipleCiphers amalgamation inside
# better-sqlite3-multiple-ciphers (shared/sqlite3mc/node_modules, compiled into every program;
# --ignore-scripts: its Node addon is never built), Chart.js for the dashboard
# (sync-server/web/node_modules, built into the server), and for the tests ajv (tests/schema)
# and playwright-core (tests/web), which drives Debian's chromium.
#
# Usage: scripts/install-deps.sh [--no-test-deps] [--with-postgresql] [--with-packaging]
#   --with-postgresql  the PostgreSQL server too, without the other test dependencies
#                      (scripts/demo.sh --postgresql)
#   --with-packaging   dpkg-dev too, without the test dependencies (scripts/package.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config curl tzdata openssl nodejs npm
  libboost1.81-dev libcereal-dev libssl-dev libcli11-dev libpq-dev libqrencode-dev
)
test_deps=1
with_postgresql=0
with_packaging=0
for arg in "$@"; do
  case "$arg" in
    --no-test-deps) test_deps=0 ;;
    --with-postgresql) with_postgresql=1 ;;
    --with-packaging) with_packaging=1 ;;
    *) echo "usage: scripts/install-deps.sh [--no-test-deps] [--with-postgresql] [--with-packaging]" >&2; exit 2 ;;
  esac
done
# The tests also build the libFuzzer targets (scripts/fuzz.sh --short): clang and its runtime.
# PostgreSQL: the tests start a private cluster of their own (tests/support/pg_cluster.h).
# dpkg-dev: the Debian packages' test builds them (scripts/package.sh: dpkg-shlibdeps);
# desktop-file-utils: it checks the field client's desktop entry.
if (( test_deps )); then
  packages+=(catch2 chromium fonts-dejavu-core clang-14 libclang-rt-14-dev postgresql dpkg-dev desktop-file-utils)
fi
if (( with_postgresql && !test_deps )); then packages+=(postgresql); fi
if (( with_packaging && !test_deps )); then packages+=(dpkg-dev); fi

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

npm_install() {  # npm_install DIR MARKER [FLAG…]: npm ci in DIR unless DIR/node_modules/MARKER is there
  local dir=$1 marker=$2
  shift 2
  if [[ -f "$dir/package-lock.json" && ! -e "$dir/node_modules/$marker" ]]; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error "$@")
  fi
}
npm_install shared/sqlite3mc better-sqlite3-multiple-ciphers/deps/sqlite3/sqlite3.c --ignore-scripts
npm_install sync-server/web chart.js
if (( test_deps )); then
  npm_install tests/schema ajv
  npm_install tests/web playwright-core
fi
