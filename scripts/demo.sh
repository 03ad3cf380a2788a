#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the main job —
# the sync server on embedded SQLite with a fictional demo register, demo tablets enrolled,
# one visit recorded offline on a tablet, synced, and counted in the coordinator stats, and
# eight weeks of another officer's fictional visits, so that the dashboard has figures to show.
# The server then keeps running (Ctrl+C stops it) so that you can try the commands it prints.
#
# Usage: scripts/demo.sh [--port N] [--no-wait] [--postgresql]
#   --port N      the port on 127.0.0.1 (default 8080; 0 lets the system choose a free one)
#   --no-wait     stop the server at the end instead of waiting for Ctrl+C
#   --postgresql  then move the demo's SQLite store to PostgreSQL (a private cluster in
#                 var/demo/pg) with `sync-server move-to-postgresql`, and carry on with two
#                 servers over it: the county set-up of docs/deployment.md
set -euo pipefail
cd "$(dirname "$0")/.."

port=8080
wait_for_ctrl_c=1
postgresql=0
while (( $# )); do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --no-wait) wait_for_ctrl_c=0; shift ;;
    --postgresql) postgresql=1; shift ;;
    *) echo "usage: scripts/demo.sh [--port N] [--no-wait] [--postgresql]" >&2; exit 2 ;;
  esac
done

if (( postgresql )); then scripts/install-deps.sh --no-test-deps --with-postgresql; else scripts/install-deps.sh --no-test-deps; fi
# The release preset builds no tests, so nothing here needs a test-only package
# (tests/build/demo_build_test.sh checks that the configuration holds without them).
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

say "The years before the system: fictional figures from 2011/12, so that the report counts since the launch"
run "$server" baseline --db "$db" scripts/demo/earlier-years.csv

say "The visit form's questions: the feedback asked by default, an extra outcome (OWL sign-up) and an extra partner (Age UK)"
run "$server" questions --db "$db" --file scripts/demo/questions.json

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
# --config '': the demo's settings only, not those of a packaged server on this machine.
"$server" serve --config '' --db "$db" --listen "127.0.0.1:$port" >"$demo/server.out" 2>"$demo/server.log" &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$demo/server.out" 2>/dev/null && break
  kill -0 $server_pid 2>/dev/null || { cat "$demo/server.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "listening on" "$demo/server.out" || { echo "the server did not start" >&2; exit 1; }
port=$(sed -nE 's/^listening on .*:([0-9]+)$/\1/p' "$demo/server.out" | head -1)  # the real port, if 0 was asked
url="ws://127.0.0.1:$port"
stats() { curl -s -H "Authorization: Bearer $coordinator" "http://127.0.0.1:$port/api/v1/stats$1"; }
completed() { stats "" | sed -E 's/.*"completed": ([0-9]+).*/\1/'; }

say "Officer Ann's tablet: enrol with a PIN (it encrypts the store), then sync to receive her households"
ann_store="$demo/tablet-ann.db"
ann_pin="$demo/tablet-ann.pin"  # a fictional demo PIN; on a tablet the officer types it
(umask 077; echo "135792" >"$ann_pin")
fc() { run "$client" --store "$ann_store" --pin-file "$ann_pin" "$@"; }
fc enroll --server "$url" --token - --device tablet-ann <<<"$ann"   # the token on standard input, not in ps
fc sync
fc list households

say "Offline, Ann records a visit: fire safety check, two smoke detectors fitted, a referral to the fire service with the resident's consent"
household=$("$client" --store "$ann_store" --pin-file "$ann_pin" --json household list | sed -E 's/^\[\{"entity":"household","id":"([^"]+)".*/\1/')
before=$(completed)
fc visit record --household "$household" --status completed --crime-prevention-advice \
  --fire-safety-check --smoke-detectors 2 --follow-up-required --follow-up-due "$(date -u +%F)" --referral fire_service --share-basis consent \
  --answer feels_safe=3 --answer satisfaction=5 --answer owl_signup=true \
  --answer "feedback=Fictional: pleased with the advice" --notes "Fictional demo visit."
fc pending

say "More of Ann's visits this month, most with the resident's feedback, so that the dashboard has some to show"
n=0
for other in $("$client" --store "$ann_store" --pin-file "$ann_pin" --json household list \
               | grep -oE '"id":"[0-9a-f-]{36}"' | sed -E 's/"id":"([^"]+)"/\1/' | head -12); do
  n=$((n + 1))
  answers=(--answer "feels_safe=$(( (n * 7) % 5 + 1 ))")
  (( n % 3 != 0 )) && answers+=(--answer "satisfaction=$(( 5 - n % 2 ))")
  (( n % 4 == 1 )) && answers+=(--answer "feedback=Fictional feedback number $n")
  (( n % 5 == 2 )) && answers+=(--answer owl_signup=true)
  (( n % 6 == 3 )) && answers+=(--answer age_uk=true --share-basis consent)
  (( n % 7 == 6 )) && answers=()  # the resident would rather not say
  "$client" --store "$ann_store" --pin-file "$ann_pin" visit record --household "$other" --status completed \
    --crime-prevention-advice "${answers[@]}" >/dev/null
done
echo "recorded $n more visits"

say "Back in signal: sync, and the coordinator's stats count it"
fc sync
after=$(completed)
echo "completed visits in the stats: $before before the sync, $after after"
stats "" | head -c 600; echo " …"

say "Officer Ben's last eight weeks: his tablet records 30 fictional visits to his 18 households, then syncs"
ben_store="$demo/tablet-ben.db"
bc() { "$client" --store "$ben_store" "$@"; }
run "$client" --store "$ben_store" enroll --server "$url" --token - --device tablet-ben >/dev/null <<<"$ben"
bc sync >/dev/null
mapfile -t ben_households < <(bc --json household list | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
statuses=(completed completed no_answer completed declined completed rescheduled completed completed no_answer)
outcomes=(--crime-prevention-advice --fire-safety-check --healthy-lifestyle-advice --community-involvement-info --first-aid-training)
partners=(fire_service victim_support adult_social_care health)
bases=(consent consent vital_interests safeguarding)
for i in $(seq 0 29); do
  status=${statuses[i % 10]}
  args=(visit record --household "${ben_households[i % ${#ben_households[@]}]}" --status "$status"
        --at "$(date -u -d "-$((56 - i * 2)) days" +%Y-%m-%dT1$((i % 7)):15:00Z)")
  if [[ $status == completed ]]; then
    args+=("${outcomes[i % 5]}" "${outcomes[(i + 2) % 5]}" --smoke-detectors $((i % 3)))
    # Now and then a follow-up, due a fortnight after the visit: some overdue, some still to come.
    if (( i % 4 == 1 )); then args+=(--follow-up-required --follow-up-due "$(date -u -d "-$((42 - i * 2)) days" +%F)"); fi
    # Most residents answer the feedback questions, some only the first.
    if (( i % 5 != 4 )); then args+=(--answer "feels_safe=$(( (i * 3) % 5 + 1 ))"); fi
    if (( i % 2 == 0 )); then args+=(--answer "satisfaction=$(( 5 - i % 3 ))"); fi
  elif [[ $status == rescheduled ]]; then
    args+=(--rescheduled-for "$(date -u -d "-$((49 - i * 2)) days" +%Y-%m-%dT18:30)")
  fi
  if (( i % 3 == 0 )); then args+=(--referral "${partners[i / 3 % 4]}" --share-basis "${bases[i / 3 % 4]}"); fi
  bc "${args[@]}" >/dev/null
done
echo "+ field-client --store var/demo/tablet-ben.db visit record …   (30 times: each status, outcomes, follow-ups and their dates, referrals, feedback)" >&2
run "$client" --store "$ben_store" sync

say "Commute Aware: PCSO Dee logs 25 card holders at Potters Bar"
dee_store="$demo/tablet-dee.db"
run "$client" --store "$dee_store" enroll --server "$url" --token - --device tablet-dee >/dev/null <<<"$dee"
run "$client" --store "$dee_store" commute log --station "Potters Bar" --cards 25 --message vehicle_security,home_security
run "$client" --store "$dee_store" sync

if (( postgresql )); then
  say "A county: move the demo store to PostgreSQL, then two servers over it"
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pg_dir="$demo/pg"
  pg_port=$((port + 2))
  as_owner() { "$@"; }
  mkdir -p "$pg_dir"
  if [[ $(id -u) -eq 0 ]]; then  # initdb refuses root: the cluster runs as nobody
    chown nobody "$pg_dir"
    as_owner() { runuser -u nobody -- "$@"; }
  fi
  run as_owner "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U safer -E UTF8 --locale=C.UTF-8 >"$demo/initdb.log"
  run as_owner "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -t 30 \
    -o "-k $pg_dir -p $pg_port -c listen_addresses=" start >/dev/null
  pg_url="postgresql://safer@/safer_streets?host=$pg_dir&port=$pg_port"
  "$pg_bin/createdb" -h "$pg_dir" -p "$pg_port" -U safer safer_streets
  echo "+ kill -TERM <the SQLite server>   (stop the borough's server before moving its store)" >&2
  kill -TERM $server_pid; wait $server_pid 2>/dev/null || true
  trap 'kill -TERM ${county_pids[*]:-} 2>/dev/null; wait 2>/dev/null || true;
        as_owner "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true' EXIT
  run "$server" move-to-postgresql --from "$db" --to "$pg_url"
  county_pids=()
  for n in 0 1; do
    "$server" serve --config '' --db "$pg_url" --listen "127.0.0.1:$((port + n))" >"$demo/county$n.out" 2>"$demo/county$n.log" &
    county_pids+=($!)
  done
  for n in 0 1; do
    for _ in $(seq 100); do grep -q "listening on" "$demo/county$n.out" 2>/dev/null && break; sleep 0.1; done
    grep -q "listening on" "$demo/county$n.out" || { cat "$demo/county$n.log" >&2; exit 1; }
  done
  echo "two servers over PostgreSQL: 127.0.0.1:$port (the address the tablets know) and 127.0.0.1:$((port + 1))"
  say "Ann's tablet carries on through the first server: it pulls once from the start, then records and syncs"
  before=$(completed)
  fc visit record --household "$household" --status completed --fire-safety-check --smoke-detectors 1
  fc sync
  stats2() { curl -s -H "Authorization: Bearer $coordinator" "http://127.0.0.1:$((port + 1))/api/v1/stats"; }
  after=$(stats2 | sed -E 's/.*"completed": ([0-9]+).*/\1/')
  echo "completed visits, asked of the second server: $before before, $after after"
  server_pid=${county_pids[0]}
  db_shown="'$pg_url'"
  log_shown="var/demo/county0.log, county1.log; PostgreSQL's: var/demo/pg/postgres.log"
else
  db_shown="var/demo/server.db"
  log_shown="var/demo/server.log"
fi

cat <<EOT

The server is running at $url (log: $log_shown).

Dashboard: http://127.0.0.1:$port/  — log in as "coordinator" with the password "$dashboard_password".

Coordinator token (a bearer token for the JSON API, docs/api.md):
  $coordinator

Try:
  curl -s -H "Authorization: Bearer $coordinator" "http://127.0.0.1:$port/api/v1/stats?from=2026-04-01&to=2027-03-31"
  $client --store var/demo/tablet-ann.db --pin-file var/demo/tablet-ann.pin list households   # encrypted: needs its PIN
  $client --store var/demo/tablet-ann.db --pin-file var/demo/tablet-ann.pin visit record --household $household --status no_answer
  $client --store var/demo/tablet-ann.db --pin-file var/demo/tablet-ann.pin sync
  echo $ben | $client --store var/demo/tablet-ben.db enroll --server $url --token - --device tablet-ben
  $client --store var/demo/tablet-ben.db sync --watch     # syncs after each new record
  $server revoke --db $db_shown --device tablet-ben

EOT
if (( wait_for_ctrl_c )); then
  echo "Press Ctrl+C to stop the server."
  wait $server_pid
fi
