# Shared by the package tests (sourced): counting failures, a server started and stopped by its
# pid with deadlines, and a tablet that syncs one visit to it. Callers set `work` (a scratch
# directory) and, for the sync, `admin` (an array: the sync-server command, with any prefix,
# such as setpriv), `client` (the field-client binary), `db` and `port`.

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
step() { echo "-- $*"; }

# start_server COMMAND…: starts it with stdout in $work/server.out and stderr in
# $work/server.log; sets server_pid, and port from its "listening on 127.0.0.1:PORT" line
# (20 s at most). Returns 1, the log shown, when that line does not come.
start_server() {
  "$@" >"$work/server.out" 2>"$work/server.log" &
  server_pid=$!
  port=""
  for _ in $(seq 200); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/server.out")
    [[ -n "$port" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/server.log" >&2
  kill -KILL "$server_pid" 2>/dev/null || true
  server_pid=""
  return 1
}

# stop_server: SIGTERM, 20 s to exit, then SIGKILL. Returns the server's exit status.
stop_server() {
  local status=0
  [[ -n "${server_pid:-}" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 200); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    fail "the server did not stop within 20 s of SIGTERM"
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" || status=$?
  server_pid=""
  return "$status"
}

admin_command() { timeout 30 "${admin[@]}" "$@" --db "$db" 2>>"$work/admin.log"; }
field_client() {  # field_client STORE ARGS…
  local store=$1
  shift
  FIELD_CLIENT_STORE="$work/$store.db" timeout 60 "$client" "$@"
}
enrol() {  # enrol STORE DEVICE USER ROLE: the server issues a token, the tablet takes it from stdin
  local token
  token=$(admin_command enroll --device "$2" --user "$3" --role "$4" | head -1)
  [[ -n "$token" ]] || { fail "sync-server enroll $2 printed no token"; return 1; }
  field_client "$1" enroll --server "ws://127.0.0.1:$port" --token - --device "$2" <<<"$token" >/dev/null 2>>"$work/admin.log"
}
json_id() { sed -n 's/^{"entity":"[a-z_]*","id":"\([0-9a-f-]*\)".*/\1/p'; }

# sync_one_visit: an officer's tablet records a household and a visit offline and syncs them; a
# coordinator's device then receives the visit. Failures are counted.
sync_one_visit() {
  local household visit pending
  enrol ann tablet-ann officer.ann officer || fail "field-client could not enrol"
  household=$(field_client ann --json household add --address "1 Example Road" --postcode "WD6 1AA" --ward Elstree | json_id)
  [[ -n "$household" ]] || fail "no household recorded"
  visit=$(field_client ann --json visit record --household "$household" --status completed --fire-safety-check \
            --smoke-detectors 2 | json_id)
  [[ -n "$visit" ]] || fail "no visit recorded"
  field_client ann sync >"$work/sync.out" 2>&1 || { cat "$work/sync.out" >&2; fail "field-client could not sync"; }
  pending=$(field_client ann --json pending)
  [[ "$pending" == "[]" ]] || fail "changes still wait to sync: $pending"
  enrol desk coordinator-desk coord.cat coordinator || fail "the coordinator's device could not enrol"
  field_client desk sync >/dev/null 2>&1 || fail "the coordinator's device could not sync"
  [[ $(field_client desk --json list visits) == *"\"id\":\"$visit\""* ]] || fail "the visit did not reach the coordinator's device"
}
