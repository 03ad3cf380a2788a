#!/usr/bin/env bash
# A coordinator tablet's first sync (a full pull, protocol.md §4.3) while B1's realistic
# ingest runs through servers over PostgreSQL: does the full pull end while writes go on,
# and how long does it take? Prints the sync's seconds, the changes it pulled and whether the
# ingest was still running when it ended, then B1's own line. docs/scale-out.md quotes it.
#
# Usage: bench/full_pull_under_load.sh [BUILD_DIR]   (default build/release)
#   VISITS (800000), SERVERS (2), DEVICES (100), WARM seconds before the first sync (20)
set -euo pipefail
build=$(realpath "${1:-build/release}")
work=$(mktemp -d)
bench=
trap '[[ -n "$bench" ]] && kill "$bench" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
"$build/bench/b1_push" --postgresql --servers "${SERVERS:-2}" --devices "${DEVICES:-100}" \
  --visits "${VISITS:-800000}" --no-baseline > b1.json 2> b1.log &
bench=$!
servers() { pgrep -P "$bench" -f "sync-server serve" || true; }
for _ in $(seq 1 300); do [[ -n "$(servers)" ]] && break; sleep 0.2; done
server=$(servers | head -1)
[[ -n "$server" ]] || { echo "b1_push started no server" >&2; exit 1; }
db=$(tr '\0' '\n' < "/proc/$server/cmdline" | grep -A1 -x -- --db | tail -1)
port=$(ss -ltnpH | grep "pid=$server," | awk '{print $4}' | sed 's/.*://' | head -1)
sleep "${WARM:-20}"
client="$build/field-client/field-client"
store=coordinator.db
device=$("$client" --store "$store" --json status | sed -n 's/.*"device_id":"\([^"]*\)".*/\1/p')
token=$("$build/sync-server/sync-server" enroll --db "$db" --device "$device" --user coord.bench --role coordinator 2> /dev/null | head -1)
"$client" --store "$store" enroll --server "ws://127.0.0.1:$port" --token "$token" > /dev/null 2>&1
start=$(date +%s.%N)
if "$client" --store "$store" --json sync --timeout 30 > sync.json 2> sync.err; then result=ok; else result=failed; fi
end=$(date +%s.%N)
during=$([[ -n "$(servers)" ]] && echo true || echo false)
pulled=$(sed -n 's/.*"pulled":\([0-9]*\).*/\1/p' sync.json)
echo "{\"sync\":\"coordinator, first\",\"result\":\"$result\",\"seconds\":$(echo "$end - $start" | bc),\"pulled\":${pulled:-0},\"ingest_still_running\":$during}"
wait "$bench" || true
cat b1.json
