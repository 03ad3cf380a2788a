#!/usr/bin/env bash
# The packages installed for real, with dpkg, maintainer scripts and all, without changing this
# machine: run (by package_test.sh) in a private mount namespace, with overlays over /etc, /var
# and /usr whose changes land in SCRATCH and go with the namespace. Checks what postinst makes
# (the system user, /var/lib/safer-streets 0700, the config file 0640 root:safer-streets), runs
# the installed server as that user from the packaged config file and syncs a visit to it,
# installs again over itself (postinst with the user there), and purges (the store stays).
# Exit 77 when the overlays cannot be made here.
#
# Usage (as root, in a new mount namespace): install_in_overlay.sh SOURCE_DIR SCRATCH SERVER_DEB CLIENT_DEB
set -euo pipefail
source_dir=$1
work=$2
server_deb=$3
client_deb=$4
mkdir -p "$work"
for dir in etc var usr; do
  mkdir -p "$work/$dir-upper" "$work/$dir-work"
  if ! mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$work/$dir-upper,workdir=$work/$dir-work" "/$dir" 2>/dev/null; then
    exit 77
  fi
done
source "$source_dir/tests/package/lib.sh"
server_pid=""
trap 'if [[ -n "$server_pid" ]]; then kill -KILL "$server_pid" 2>/dev/null || true; fi' EXIT

user=safer-streets
state=/var/lib/safer-streets
config=/etc/safer-streets/sync-server.conf
# A machine where the package was once installed by hand: start from none of it.
if getent passwd "$user" >/dev/null || [[ -e "$state" || -e /etc/safer-streets ]]; then
  echo "skipped: this machine already has the user $user, $state or /etc/safer-streets"
  exit 77
fi

step "dpkg -i both packages"
DEBIAN_FRONTEND=noninteractive timeout 120 dpkg -i "$server_deb" "$client_deb" >"$work/dpkg-install.log" 2>&1 ||
  { cat "$work/dpkg-install.log" >&2; fail "dpkg -i failed"; exit 1; }
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd "$user") || true
[[ -n "${uid:-}" ]] || { fail "no user $user after the install"; exit 1; }
(( uid < 1000 )) || fail "$user is not a system user (uid $uid)"
[[ "$home" == "$state" && "$shell" == /usr/sbin/nologin ]] || fail "$user: home $home, shell $shell"
[[ $(stat -c '%a %U %G' "$state") == "700 $user $user" ]] || fail "$state: $(stat -c '%a %U %G' "$state")"
[[ $(stat -c '%a %U %G' "$config") == "640 root $user" ]] || fail "$config: $(stat -c '%a %U %G' "$config")"
[[ $(stat -c '%a' /usr/bin/sync-server) == 755 && $(stat -c '%a' /usr/bin/field-client) == 755 ]] || fail "a program is not 0755"

step "the installed server, as $user, from $config (the port from the command line)"
as_user=(setpriv --reuid="$user" --regid="$user" --init-groups --)
if ! start_server "${as_user[@]}" /usr/bin/sync-server serve --config "$config" --listen 127.0.0.1:0; then
  fail "the installed server did not start as $user"
  exit 1
fi
[[ $(stat -c '%a %U' "$state/sync.db") == "600 $user" ]] || fail "the store: $(stat -c '%a %U' "$state/sync.db")"
admin=("${as_user[@]}" /usr/bin/sync-server)
client=/usr/bin/field-client
db=$state/sync.db
sync_one_visit
status=0
stop_server || status=$?
[[ "$status" == 0 ]] || fail "the server exited with status $status"

step "dpkg -i again over itself: postinst finds the user and its directory"
DEBIAN_FRONTEND=noninteractive timeout 120 dpkg -i "$server_deb" >"$work/dpkg-again.log" 2>&1 ||
  { cat "$work/dpkg-again.log" >&2; fail "installing again failed"; }
[[ $(stat -c '%a %U %G' "$config") == "640 root $user" ]] || fail "$config after the upgrade: $(stat -c '%a %U %G' "$config")"

step "dpkg --purge: the config file goes, the store stays"
DEBIAN_FRONTEND=noninteractive timeout 120 dpkg --purge safer-streets-sync-server safer-streets-field-client \
  >"$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log" >&2; fail "dpkg --purge failed"; }
[[ ! -e "$config" && ! -e /usr/bin/sync-server ]] || fail "the purge left the config file or the program"
[[ -f "$state/sync.db" ]] || fail "the purge deleted the store"
grep -q "$state is kept" "$work/dpkg-purge.log" || fail "the purge did not say the store is kept"
if dpkg-statoverride --list "$config" >/dev/null 2>&1; then fail "the purge left the config file's statoverride"; fi

(( failures == 0 ))
