#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the main job —
# the sync server on embedded SQLite with a fictional demo register, demo tablets enrolled,
# and one visit recorded offline on a tablet, synced, and counted in the coordinator stats.
# The server then keeps running (Ctrl+C stops it) so that you can try the commands it prints.
#
# Usage: scripts/demo.sh [--port N] [--no-wait]
#   --no-wait  stop the server at the end instead of waiting for Ctrl+C
set -euo pipefail
cd "$(dirname "$0")/.."

port=8080
wait_for_ctrl_c=1
while (( $# )); do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --no-wait) wait_for_ctrl_c=0; shift ;;
    *) echo "usage: scripts/demo.sh [--port N] [--no-wait]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh --no-test-deps
cmake --preset release >/dev/null
cmake --build --preset release --target sync-server field-client

bin="$PWD/build/release"
server="$bin/sync-server/sync-server"
client="$bin/field-client/field-client"
demo="$PWD/var/demo"
db="$demo/server.db"
rm -rf "$demo"
mkdir -p "$demo"

say() { printf '\n== %s ==\n' "$*"; }
run() { echo "+ $*" | sed "s|$bin/[a-z-]*/||; s|$demo/|var/demo/|g" >&2; "$@"; }

say "The register: 48 fictional households across Hertsmere's 16 wards"
run "$server" import-households --db "$db" scripts/demo/households.csv

say "Enrol the demo devices (tokens are shown once)"
enroll() {
  echo "+ sync-server enroll --db var/demo/server.db --device $1 --user $2 --role $3" >&2
  "$server" enroll --db "$db" --device "$1" --user "$2" --role "$3" 2>/dev/null
}
coordinator=$(enroll coordinator-desk coord.cat coordinator)

say "A dashboard login for the coordinator (a demo password: change it on a real server)"
dashboard_password="safer-streets-demo"
echo "+ sync-server add-coordinator --db var/demo/server.db --username coordinator   (password on stdin)" >&2
echo "$dashboard_password" | "$server" add-coordinator --db "$db" --username coordinator
ann=$(enroll tablet-ann officer.ann officer)
ben=$(enroll tablet-ben officer.ben officer)
dee=$(enroll tablet-dee pcso.dee pcso)

say "Start the sync server on 127.0.0.1:$port"
"$server" serve --db "$db" --listen "127.0.0.1:$port" >"$demo/server.out" 2>"$demo/server.log" &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$demo/server.out" 2>/dev/null && break
  kill -0 $server_pid 2>/dev/null || { cat "$demo/server.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "listening on" "$demo/server.out" || { echo "the server did not start" >&2; exit 1; }
url="ws://127.0.0.1:$port"
stats() { curl -s -H "Authorization: Bearer $coordinator" "http://127.0.0.1:$port/api/v1/stats$1"; }
completed() { stats "" | sed -E 's/.*"completed": ([0-9]+).*/\1/'; }

say "Officer Ann's tablet: enrol, then sync to receive her assigned households"
ann_store="$demo/tablet-ann.db"
fc() { run "$client" --store "$ann_store" "$@"; }
fc enroll --server "$url" --token "$ann" --device tablet-ann
fc sync
fc list households

say "Offline, Ann records a visit: fire safety check, two smoke detectors fitted"
household=$("$client" --store "$ann_store" --json household list | sed -E 's/^\[\{"entity":"household","id":"([^"]+)".*/\1/')
before=$(completed)
fc visit record --household "$household" --status completed --crime-prevention-advice \
  --fire-safety-check --smoke-detectors 2 --follow-up-required --notes "Fictional demo visit."
fc pending

say "Back in signal: sync, and the coordinator's stats count it"
fc sync
after=$(completed)
echo "completed visits in the stats: $before before the sync, $after after"
stats "" | head -c 600; echo " …"

say "Commute Aware: PCSO Dee logs 25 card holders at Potters Bar"
dee_store="$demo/tablet-dee.db"
run "$client" --store "$dee_store" enroll --server "$url" --token "$dee" --device tablet-dee >/dev/null
run "$client" --store "$dee_store" commute log --station "Potters Bar" --cards 25 --message vehicle_security,home_security
run "$client" --store "$dee_store" sync

cat <<EOT

The server is running at $url (log: var/demo/server.log).

Dashboard: http://127.0.0.1:$port/  — log in as "coordinator" with the password "$dashboard_password".

Coordinator token (a bearer token for the JSON API, docs/api.md):
  $coordinator

Try:
  curl -s -H "Authorization: Bearer $coordinator" "http://127.0.0.1:$port/api/v1/stats?from=2026-04-01&to=2027-03-31"
  $client --store var/demo/tablet-ann.db list households
  $client --store var/demo/tablet-ann.db visit record --household $household --status no_answer
  $client --store var/demo/tablet-ann.db sync
  $client --store var/demo/tablet-ben.db enroll --server $url --token $ben --device tablet-ben
  $client --store var/demo/tablet-ben.db sync --watch     # syncs after each new record
  $server revoke --db var/demo/server.db --device tablet-ben

EOT
if (( wait_for_ctrl_c )); then
  echo "Press Ctrl+C to stop the server."
  wait $server_pid
fi
