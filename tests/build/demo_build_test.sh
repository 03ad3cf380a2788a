#!/usr/bin/env bash
# Why this exists: the README's first command (scripts/demo.sh) runs on machines where no
# test package was ever installed. It configures the `release` preset; this configures the
# same preset in a scratch directory with every test-only package made invisible to CMake,
# so a test dependency that creeps into the main build fails here rather than on a user's
# fresh machine. Usage: demo_build_test.sh SOURCE_DIR SCRATCH_DIR
set -euo pipefail
source_dir=$1
scratch=$2
rm -rf "$scratch"
mkdir -p "$scratch"
cd "$source_dir"
# Catch2 is the only test package CMake looks for; the others (chromium, clang, postgresql,
# the npm test tools) are programs the tests start, which no part of the main build names.
if ! cmake --preset release -B "$scratch" -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON >"$scratch.log" 2>&1; then
  cat "$scratch.log" >&2
  echo "FAIL: the demo's build (preset release) cannot be configured without the test packages" >&2
  exit 1
fi
# The scratch build must hold the programs the demo builds, and no test target.
targets=$(cmake --build "$scratch" --target help)
for target in sync-server field-client; do
  grep -qx "\.\.\. $target" <<<"$targets" || { echo "FAIL: the demo's build has no target $target" >&2; exit 1; }
done
if grep -qE '^\.\.\. (e2e_tests|catch_main)$' <<<"$targets"; then
  echo "FAIL: the demo's build configures the tests" >&2
  exit 1
fi
rm -rf "$scratch" "$scratch.log"
echo "the demo's build configures without any test package"
