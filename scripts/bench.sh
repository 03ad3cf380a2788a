#!/usr/bin/env bash
# Builds the benchmarks with the release preset and runs B1-B5 (docs/BENCHMARKS.md), printing
# one JSON object a line per figure on standard output; progress goes to standard error.
#
# Usage:
#   scripts/bench.sh                 every benchmark at the sizes of docs/BENCHMARKS.md
#   scripts/bench.sh B1 B4           only these
#   scripts/bench.sh B1              B1's realistic workload (1, 10, 100 devices), then its best
#                                    case (100 devices) as a second line, "workload" saying which
#   scripts/bench.sh B1-PG B2-PG     B1 and B2 over PostgreSQL (a private durable cluster the
#                                    program starts): B1's realistic workload with 1, 10, 100
#                                    devices on one server and 100 on two
#   scripts/bench.sh B2-ENC B5-ENC   B2 and B5 with the tablet's store encrypted (a PIN)
#   scripts/bench.sh LF              the login flood (issue 12): a tablet's handshake and pull
#                                    and a coordinator's login while 200 clients post wrong logins
#   scripts/bench.sh --quick         every benchmark at a tenth of the size (a check that they
#                                    run, not figures to quote)
#   scripts/bench.sh --no-build      use build/release as it is
#
# The benchmarks start their own sync-server processes on 127.0.0.1 port 0 and stop them;
# their data lives in temporary directories that are removed afterwards. B3 needs an open-file
# limit of about 10,100: the script raises the soft limit to the hard limit (ulimit -Hn).
# Run on an otherwise idle machine: every figure is wall time.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
quick=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --quick) quick=1 ;;
    B1|B1-PG|B2|B2-PG|B2-ENC|B3|B4|B5|B5-ENC|LF) wanted+=("$arg") ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $arg (B1..B5, B1-PG, B2-PG, B2-ENC, B5-ENC, LF, --quick, --no-build)" >&2; exit 2 ;;
  esac
done
(( ${#wanted[@]} )) || wanted=(B1 B2 B3 B4 B5 B1-PG B2-PG B2-ENC B5-ENC LF)

if (( build )); then
  cmake --preset release >&2
  cmake --build --preset release --target b1_push b2_pull b3_idle b4_stats b5_client login_flood >&2
fi
bin=build/release/bench

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# scale N: N, or a tenth of it with --quick.
scale() { if (( quick )); then echo $(( $1 / 10 )); else echo "$1"; fi; }

status=0
for id in "${wanted[@]}"; do
  echo "bench: $id" >&2
  case "$id" in
    # B1: the realistic workload (the figure quoted), then the best case as a second, labelled line.
    B1) cmd=(sh -c "$bin/b1_push --workload realistic --households $(scale 10000) --seed 1 --devices 1,10,100 --visits $(scale 200000) &&
                    $bin/b1_push --workload best-case --devices 100 --visits $(scale 200000)") ;;
    B1-PG) cmd=(sh -c "$bin/b1_push --postgresql --servers 1 --households $(scale 10000) --seed 1 --devices 1,10,100 --visits $(scale 200000) &&
                       $bin/b1_push --postgresql --servers 2 --households $(scale 10000) --seed 1 --devices 100 --visits $(scale 200000)") ;;
    B2) cmd=(sh -c "$bin/b2_pull --role officer --households $(scale 10000) --visits $(scale 50000) &&
                    $bin/b2_pull --role coordinator --households $(scale 10000) --visits $(scale 50000)") ;;
    B2-PG) cmd=("$bin/b2_pull" --postgresql --households "$(scale 10000)" --visits "$(scale 50000)") ;;
    B3) cmd=("$bin/b3_idle" --devices "$(scale 10000)" --pushers "$(scale 1000)" --rate "$(scale 1000)") ;;
    B4) cmd=("$bin/b4_stats" --visits "$(scale 1000000)") ;;
    B2-ENC) cmd=("$bin/b2_pull" --encrypted --households "$(scale 10000)" --visits "$(scale 50000)") ;;
    B5) cmd=("$bin/b5_client" --outbox "$(scale 10000)") ;;
    B5-ENC) cmd=("$bin/b5_client" --encrypted --outbox "$(scale 10000)") ;;
    LF) cmd=("$bin/login_flood" --clients 200 --seconds "$(if (( quick )); then echo 3; else echo 15; fi)") ;;
  esac
  code=0
  "${cmd[@]}" || code=$?
  if (( code != 0 )); then
    echo "bench: $id failed (exit status $code)" >&2
    status=1
  fi
done
exit "$status"
