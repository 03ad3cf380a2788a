#!/usr/bin/env bash
# Why this exists: the Debian packages (scripts/package.sh, cmake/Packaging.cmake) are what an
# administrator installs, and nothing else runs what they hold. This builds them from the
# test's own build tree, checks their names, dependencies, files and modes, extracts both
# (dpkg -x) into a throwaway root, and runs the *installed* programs against each other: the
# server from the packaged config file on a free loopback port, a tablet enrolled and syncing
# one visit, a coordinator's device receiving it. Then, where a private mount namespace and
# overlays can be made (root), it installs them for real with dpkg over overlays of /etc, /var
# and /usr (install_in_overlay.sh): the maintainer scripts run, nothing on this machine changes.
# Every wait has a deadline; the server is stopped by its pid.
#
# Usage: package_test.sh SOURCE_DIR BUILD_DIR VERSION
set -euo pipefail
source_dir=$1
build_dir=$2
version=$3

scratch=$(mktemp -d "${TMPDIR:-/tmp}/safer-package-test.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

work=$scratch
source "$source_dir/tests/package/lib.sh"
check() {  # check DESCRIPTION COMMAND…: runs the command, a failure is counted and named
  local what=$1
  shift
  "$@" >/dev/null 2>&1 || fail "$what"
}

step "building the packages from $build_dir"
timeout 600 "$source_dir/scripts/package.sh" --build-dir "$build_dir" --out "$scratch/dist" >"$scratch/package.log" 2>&1 || {
  cat "$scratch/package.log" >&2
  echo "FAIL: scripts/package.sh failed" >&2
  exit 1
}
arch=$(dpkg --print-architecture)
server_deb="$scratch/dist/safer-streets-sync-server_${version}-1_${arch}.deb"
client_deb="$scratch/dist/safer-streets-field-client_${version}-1_${arch}.deb"
for deb in "$server_deb" "$client_deb"; do
  [[ -f "$deb" ]] || { ls -l "$scratch/dist" >&2; echo "FAIL: no $(basename "$deb")" >&2; exit 1; }
done

step "control fields"
field() { dpkg-deb -f "$1" "$2"; }
[[ $(field "$server_deb" Package) == safer-streets-sync-server ]] || fail "server package name: $(field "$server_deb" Package)"
[[ $(field "$client_deb" Package) == safer-streets-field-client ]] || fail "client package name: $(field "$client_deb" Package)"
for deb in "$server_deb" "$client_deb"; do
  [[ $(field "$deb" Version) == "$version-1" ]] || fail "$(basename "$deb"): Version $(field "$deb" Version), not $version-1"
  [[ -n $(field "$deb" Maintainer) ]] || fail "$(basename "$deb"): no Maintainer"
  [[ -n $(field "$deb" Description) ]] || fail "$(basename "$deb"): no Description"
done
server_depends=$(field "$server_deb" Depends)
client_depends=$(field "$client_deb" Depends)
depends_on() {  # depends_on DEPENDS PACKAGE: PACKAGE is one of DEPENDS' names (versions aside)
  tr ',' '\n' <<<"$1" | awk '{print $1}' | grep -xF "$2" >/dev/null
}
for package in adduser tzdata libc6 libssl3 libpq5 libstdc++6; do
  depends_on "$server_depends" "$package" || fail "the server does not depend on $package: $server_depends"
done
for package in libc6 libssl3 libstdc++6; do
  depends_on "$client_depends" "$package" || fail "the client does not depend on $package: $client_depends"
done
if depends_on "$client_depends" libpq5; then fail "the client depends on libpq5, which only the server uses"; fi
[[ $(dpkg-deb -I "$server_deb" conffiles) == /etc/safer-streets/sync-server.conf ]] || fail "the config file is not a conffile"
for script in postinst prerm postrm; do
  dpkg-deb -I "$server_deb" "$script" >"$scratch/$script" 2>/dev/null || { fail "the server package has no $script"; continue; }
  check "$script is not valid sh" sh -n "$scratch/$script"
done

step "postinst and postrm, with the system's commands stubbed (nothing on this machine changes)"
# Each stub logs its command line; getent and dpkg-statoverride --list answer as told.
stubs="$scratch/stubs"
mkdir "$stubs"
for command in getent addgroup adduser install dpkg-statoverride systemctl rm; do
  cat >"$stubs/$command" <<'STUB'
#!/bin/sh
echo "$(basename "$0") $*" >>"$STUB_LOG"
case "$(basename "$0") $1" in
  "getent "*) exit "$USER_EXISTS" ;;
  "dpkg-statoverride --list") exit "$OVERRIDE_EXISTS" ;;
esac
exit 0
STUB
  chmod 755 "$stubs/$command"
done
run_script() {  # run_script LOG USER_EXISTS OVERRIDE_EXISTS SCRIPT ARGS…: 0 for "exists", 2 for not
  local log=$1 user_exists=$2 override_exists=$3 script=$4
  shift 4
  : >"$log"
  PATH="$stubs:$PATH" STUB_LOG="$log" USER_EXISTS=$user_exists OVERRIDE_EXISTS=$override_exists sh "$scratch/$script" "$@"
}
first="$scratch/postinst-first.log"
again="$scratch/postinst-again.log"
run_script "$first" 2 1 postinst configure "" || fail "postinst failed on a first install"
grep -qx 'addgroup --system --quiet safer-streets' "$first" || fail "postinst made no system group: $(cat "$first")"
grep -q '^adduser --system .*--ingroup safer-streets --home /var/lib/safer-streets .*safer-streets$' "$first" ||
  fail "postinst made no system user: $(cat "$first")"
if [[ ! -d /var/lib/safer-streets ]]; then
  grep -qx 'install -d -m 0700 -o safer-streets -g safer-streets /var/lib/safer-streets' "$first" ||
    fail "postinst did not make /var/lib/safer-streets 0700 for the user: $(cat "$first")"
fi
grep -qx 'dpkg-statoverride --update --add root safer-streets 0640 /etc/safer-streets/sync-server.conf' "$first" ||
  fail "postinst did not make the config file 0640 root:safer-streets: $(cat "$first")"
run_script "$again" 0 0 postinst configure "$version-1" || fail "postinst failed when the user exists (an upgrade)"
if grep -qE '^(adduser|addgroup)|--add' "$again"; then fail "postinst made the user or the override again: $(cat "$again")"; fi
run_script "$scratch/prerm.log" 0 0 prerm remove || fail "prerm remove failed"
run_script "$scratch/postrm.log" 0 0 postrm purge 2>/dev/null || fail "postrm purge failed"
grep -qx 'dpkg-statoverride --remove /etc/safer-streets/sync-server.conf' "$scratch/postrm.log" ||
  fail "postrm purge left the config file's override: $(cat "$scratch/postrm.log")"
if grep -q '/var/lib/safer-streets' "$scratch/postrm.log"; then fail "postrm purge touched the store's directory"; fi

step "files, owners and modes"
# Owners from the archive itself (dpkg -x as a user other than root would not keep them).
# (No `| grep -q` after a long output in this script: under pipefail, its early exit fails the writer.)
for deb in "$server_deb" "$client_deb"; do
  others=$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')
  [[ -z "$others" ]] || fail "$(basename "$deb"): files not owned by root/root: $others"
done
root="$scratch/root"
dpkg -x "$server_deb" "$root"
dpkg -x "$client_deb" "$root"
libdir=$(dirname "$(find "$root/usr/lib" -name 'libfield_client_c.so.0' | head -1)")
expect_mode() {  # expect_mode PATH MODE [TYPE]
  local path=$root$1
  if [[ ! -e "$path" ]]; then fail "missing: $1"; return; fi
  [[ $(stat -c %a "$path") == "$2" ]] || fail "$1: mode $(stat -c %a "$path"), not $2"
}
expect_mode /usr/bin/sync-server 755
expect_mode /usr/bin/field-client 755
expect_mode /etc/safer-streets/sync-server.conf 640
expect_mode /lib/systemd/system/safer-streets-sync-server.service 644
expect_mode /usr/share/applications/safer-streets-field-client.desktop 644
expect_mode /usr/share/icons/hicolor/scalable/apps/safer-streets-field-client.svg 644
expect_mode /usr/include/field_client/field_client.h 644
expect_mode "${libdir#"$root"}/libfield_client_c.so.$version" 644
[[ -L "$libdir/libfield_client_c.so.0" && -L "$libdir/libfield_client_c.so" ]] || fail "the library's links are missing"
[[ "$libdir" == "$root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" ]] || fail "the library is not in the multiarch directory: ${libdir#"$root"}"
[[ $(objdump -p "$libdir/libfield_client_c.so.0") =~ SONAME\ +libfield_client_c\.so\.0 ]] || fail "the library's SONAME is not libfield_client_c.so.0"
[[ $(objdump -T "$libdir/libfield_client_c.so.0") == *" fc_open"* ]] || fail "the library does not export the C API (fc_open)"
for program in "$root/usr/bin/sync-server" "$root/usr/bin/field-client" "$libdir/libfield_client_c.so.0"; do
  if [[ $(readelf -d "$program") =~ RPATH|RUNPATH ]]; then fail "${program#"$root"} keeps a run path into the build tree"; fi
done
[[ ! -e "$root/var/lib/safer-streets" ]] || fail "/var/lib/safer-streets is in the package: postinst makes it, owned by the service user"

step "the unit and the desktop entry"
unit="$root/lib/systemd/system/safer-streets-sync-server.service"
for line in 'ExecStart=/usr/bin/sync-server serve --config /etc/safer-streets/sync-server.conf' 'User=safer-streets' \
            'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/safer-streets' 'PrivateTmp=yes' \
            'WantedBy=multi-user.target'; do
  grep -qxF "$line" "$unit" || fail "the unit has no line $line"
done
if command -v systemd-analyze >/dev/null; then
  # verify checks every directive and that ExecStart's program exists: point it at the extracted
  # one. An unknown directive is only a warning to it (exit 0), so any output fails here.
  mkdir "$scratch/verify"
  sed "s|/usr/bin/sync-server|$root/usr/bin/sync-server|" "$unit" >"$scratch/verify/safer-streets-sync-server.service"
  if ! verified=$(timeout 60 systemd-analyze verify "$scratch/verify/safer-streets-sync-server.service" 2>&1) || [[ -n "$verified" ]]; then
    fail "systemd-analyze verify: $verified"
  fi
else
  echo "skipped: systemd-analyze verify (systemd-analyze is not installed)"
fi
desktop="$root/usr/share/applications/safer-streets-field-client.desktop"
for line in '[Desktop Entry]' 'Type=Application' 'Exec=field-client app' 'Terminal=false' 'Icon=safer-streets-field-client'; do
  grep -qxF "$line" "$desktop" || fail "the desktop entry has no line $line"
done
if command -v desktop-file-validate >/dev/null; then
  # Its warnings and hints leave exit status 0: any output fails here too.
  if ! validated=$(desktop-file-validate "$desktop" 2>&1) || [[ -n "$validated" ]]; then
    fail "desktop-file-validate: $validated"
  fi
else
  echo "skipped: desktop-file-validate (desktop-file-utils is not installed)"
fi

step "the config file names every option of serve"
conf="$root/etc/safer-streets/sync-server.conf"
options=$(timeout 30 "$root/usr/bin/sync-server" serve --help | grep -oE '^  --[a-z-]+' | sed 's/^  --//' | grep -vxE 'help|config')
[[ $(wc -l <<<"$options") -ge 25 ]] || fail "serve --help lists too few options: $options"
for key in $options; do
  grep -qE "^(# )?$key = " "$conf" || fail "the config file does not mention $key"
done

step "the installed server, from the packaged config file, on a free loopback port"
state="$scratch/state"
mkdir -m 0700 "$state"
sed -e "s|^db = .*|db = $state/sync.db|" -e 's|^listen = .*|listen = 127.0.0.1:0|' "$conf" >"$scratch/sync-server.conf"
grep -q "^db = $state/sync.db$" "$scratch/sync-server.conf" || fail "the packaged config file sets no db"
if ! start_server "$root/usr/bin/sync-server" serve --config "$scratch/sync-server.conf"; then
  echo "FAIL: the installed server did not start listening within 20 s" >&2
  exit 1
fi
grep -q "config=$scratch/sync-server.conf" "$scratch/server.log" || fail "the server's log does not name its config file"

step "a tablet enrols, records a visit offline and syncs it; a coordinator's device receives it"
admin=("$root/usr/bin/sync-server")
client="$root/usr/bin/field-client"
db="$state/sync.db"
sync_one_visit

step "the server stops on SIGTERM"
status=0
stop_server || status=$?
[[ "$status" == 0 ]] || fail "the server exited with status $status"

step "a real install with dpkg, in a private mount namespace over overlays of /etc, /var and /usr"
if unshare -m --propagation private true 2>/dev/null; then
  status=0
  unshare -m --propagation private bash "$source_dir/tests/package/install_in_overlay.sh" "$source_dir" "$scratch/overlay" \
    "$server_deb" "$client_deb" || status=$?
  case "$status" in
    0) ;;
    77) echo "skipped: the install with dpkg (no overlay over /etc, /var and /usr here)" ;;
    *) fail "the install with dpkg (above)" ;;
  esac
else
  echo "skipped: the install with dpkg (no private mount namespace: unshare -m needs root)"
fi

if (( failures )); then
  echo "--- server log" >&2
  cat "$scratch/server.log" >&2
  echo "$failures checks failed" >&2
  exit 1
fi
echo "the packages hold what they should, and their programs sync with each other"
