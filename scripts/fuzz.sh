#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan and UBSan, in build/fuzz)
# and runs them. See docs/FUZZING.md.
#
# Usage:
#   scripts/fuzz.sh --short               every target for 60 s, each on a temporary copy of its
#                                         seed corpus (fuzz/corpus/ is never written); fails if
#                                         any target finds a crash, leak, UBSan report or timeout
#   scripts/fuzz.sh TARGET SECONDS [FLAG…] one target for SECONDS: the working corpus grows in
#                                         build/fuzz/corpus/TARGET, findings are kept under
#                                         build/fuzz/crashes/TARGET/; extra libFuzzer flags follow
#                                         (-fork=1 -ignore_crashes=1 keeps going after a finding)
#   scripts/fuzz.sh --build               build only
#
# Targets: client_message_fuzzer, http_request_fuzzer, households_csv_fuzzer.
# SHORT_SECONDS overrides the 60 s of --short.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

targets=(client_message_fuzzer http_request_fuzzer households_csv_fuzzer)
bin="$root/build/fuzz/fuzz"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$root/fuzz/ubsan.supp}"

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

build() {
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target "${targets[@]}"
}

# run TARGET CORPUS_DIR ARTIFACT_DIR SECONDS LOG [FLAG…]: one libFuzzer run; returns its status.
run() {
  local target=$1 corpus=$2 artifacts=$3 seconds=$4 log=$5
  shift 5
  local flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
               -artifact_prefix="$artifacts/")
  if [[ -f "$root/fuzz/dict/$target.dict" ]]; then flags+=(-dict="$root/fuzz/dict/$target.dict"); fi
  mkdir -p "$artifacts"
  "$bin/$target" "${flags[@]}" "$@" "$corpus" >"$log" 2>&1
}

# summary TARGET LOG: the last coverage line and the run's statistics, on one line.
summary() {
  local last execs units
  last=$(grep -a -E '(DONE|pulse|NEW|REDUCE|: cov:).*cov:' "$2" | tail -n 1 | grep -a -o -E 'cov: [0-9]+ ft: [0-9]+' || true)
  execs=$(grep -a -o -E 'stat::average_exec_per_sec: +[0-9]+' "$2" | grep -o -E '[0-9]+$' || true)
  units=$(grep -a -o -E 'stat::number_of_executed_units: +[0-9]+' "$2" | grep -o -E '[0-9]+$' || true)
  printf '%-24s %s  exec/s: %s  runs: %s\n' "$1" "${last:-cov: ?}" "${execs:-?}" "${units:-?}"
}

short() {
  local seconds=${SHORT_SECONDS:-60} failed=()
  work=$(mktemp -d)  # global: the EXIT trap runs after this function has returned
  trap 'rm -rf "$work"' EXIT
  local artifacts="$root/build/fuzz/crashes/short"
  for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    cp "$root/fuzz/corpus/$target/"* "$work/$target/"
    echo "fuzz: $target for ${seconds} s"
    if ! run "$target" "$work/$target" "$artifacts/$target" "$seconds" "$work/$target.log"; then
      failed+=("$target")
      echo "fuzz: $target FOUND A PROBLEM; its report:"
      grep -a -v -E '^#[0-9]+ +(NEW|REDUCE|pulse|INITED)|NEW_FUNC' "$work/$target.log" | tail -n 60
      echo "fuzz: the input is in $artifacts/$target/"
    fi
  done
  echo "fuzz: summary (coverage is libFuzzer's: cov = code edges, ft = features)"
  for target in "${targets[@]}"; do summary "$target" "$work/$target.log"; done
  if (( ${#failed[@]} )); then
    echo "fuzz: FAILED: ${failed[*]}"
    return 1
  fi
  echo "fuzz: no findings"
}

long() {
  local target=$1 seconds=$2
  shift 2
  [[ " ${targets[*]} " == *" $target "* ]] || { echo "fuzz: unknown target $target" >&2; usage; }
  [[ "$seconds" =~ ^[0-9]+$ ]] || usage
  local corpus="$root/build/fuzz/corpus/$target" artifacts="$root/build/fuzz/crashes/$target"
  local log="$root/build/fuzz/$target.log"
  mkdir -p "$corpus"
  cp -n "$root/fuzz/corpus/$target/"* "$corpus/"
  echo "fuzz: $target for $seconds s; corpus $corpus; findings in $artifacts/; log $log"
  local status=0
  run "$target" "$corpus" "$artifacts" "$seconds" "$log" "$@" || status=$?
  summary "$target" "$log"
  local found
  found=$(find "$artifacts" -type f -newer "$log.start" 2>/dev/null | wc -l)
  if (( status != 0 || found > 0 )); then
    echo "fuzz: $target found something (status $status); files:"
    find "$artifacts" -type f -newer "$log.start" | sed 's/^/  /'
    return 1
  fi
}

case "${1:-}" in
  --short) build; short ;;
  --build) build ;;
  ""|-h|--help) usage ;;
  *)
    (( $# >= 2 )) || usage
    build
    mkdir -p "$root/build/fuzz"
    touch "$root/build/fuzz/$1.log.start"
    long "$@"
    ;;
esac
