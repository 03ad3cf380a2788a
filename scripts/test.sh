#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs every test; then builds the
# libFuzzer targets and runs each for 30 s (scripts/fuzz.sh --short; SKIP_FUZZ=1 skips it; SHORT_SECONDS sets the time).
# This is the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset ci
cmake --build --preset ci
ctest --preset ci
if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then SHORT_SECONDS="${SHORT_SECONDS:-30}" scripts/fuzz.sh --short; fi
