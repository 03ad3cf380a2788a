#!/usr/bin/env bash
# Why this exists: `sync-server serve` without --config reads /etc/safer-streets/sync-server.conf
# when that file exists (the packaged server's), and only then; `--config ''` and `--config
# FILE` read no other (docs/server.md "Config file"). /etc of this machine must not change, so
# the test runs in a private mount namespace with an overlay over /etc: the file it writes
# there goes to a temporary directory and is gone with the namespace. Without the privilege
# for that (not root, no overlayfs), it is skipped (exit 77).
#
# Usage: default_config_test.sh SYNC_SERVER
set -euo pipefail
sync_server=$1
config=/etc/safer-streets/sync-server.conf

if [[ "${INSIDE_NAMESPACE:-}" != 1 ]]; then
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/safer-default-config.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  mkdir "$scratch/upper" "$scratch/work"
  if ! unshare -m --propagation private true 2>/dev/null; then
    echo "skipped: no private mount namespace here (unshare -m needs root)"
    exit 77
  fi
  # The overlay is made inside the namespace; if it cannot be, the script says so with 77.
  status=0
  INSIDE_NAMESPACE=1 SCRATCH="$scratch" unshare -m --propagation private bash "$0" "$@" || status=$?
  exit "$status"
fi

if ! mount -t overlay overlay -o "lowerdir=/etc,upperdir=$SCRATCH/upper,workdir=$SCRATCH/work" /etc 2>/dev/null; then
  echo "skipped: no overlay over /etc in this namespace"
  exit 77
fi

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# serve_line ARGS…: starts serve, prints its first line (or nothing within 10 s), stops it by its
# pid; its log goes to $SCRATCH/serve.log.
serve_line() {
  : >"$SCRATCH/serve.out"
  "$sync_server" serve "$@" >"$SCRATCH/serve.out" 2>"$SCRATCH/serve.log" &
  local pid=$! line=""
  for _ in $(seq 100); do
    line=$(head -1 "$SCRATCH/serve.out")
    [[ -n "$line" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$line"
}

mkdir -p /etc/safer-streets
printf 'db = %s\nlisten = 127.0.0.2:0\ntime-zone = Europe/Paris\n' "$SCRATCH/default.db" >"$config"

line=$(serve_line)
[[ "$line" == "listening on 127.0.0.2:"* ]] || fail "serve did not read $config: $line $(cat "$SCRATCH/serve.log")"
grep -q "time_zone=Europe/Paris .*config=$config" "$SCRATCH/serve.log" || fail "serve's log does not name $config"

line=$(serve_line --config '' --db "$SCRATCH/none.db" --listen 127.0.0.1:0)
[[ "$line" == "listening on 127.0.0.1:"* ]] || fail "serve --config '' did not start: $line"
if grep -q "config=" "$SCRATCH/serve.log"; then fail "serve --config '' read a config file"; fi
if grep -q "Europe/Paris" "$SCRATCH/serve.log"; then fail "serve --config '' took $config's time zone"; fi

printf 'db = %s\nlisten = 127.0.0.1:0\n' "$SCRATCH/other.db" >"$SCRATCH/other.conf"
line=$(serve_line --config "$SCRATCH/other.conf")
[[ "$line" == "listening on 127.0.0.1:"* ]] || fail "serve --config FILE did not read FILE: $line"
if grep -q "Europe/Paris" "$SCRATCH/serve.log"; then fail "serve --config FILE also read $config"; fi

rm -r /etc/safer-streets  # within the overlay: hidden here, untouched outside
line=$(serve_line --db "$SCRATCH/absent.db" --listen 127.0.0.1:0)
[[ "$line" == "listening on 127.0.0.1:"* ]] || fail "serve without $config did not start: $line $(cat "$SCRATCH/serve.log")"
if grep -q "config=" "$SCRATCH/serve.log"; then fail "serve read a config file that does not exist"; fi

if (( failures )); then echo "$failures checks failed" >&2; exit 1; fi
echo "serve reads $config when it exists, and only when no --config is given"
