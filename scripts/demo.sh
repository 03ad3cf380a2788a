#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the main job.
#
# For now the main job is the field client working offline: a tablet's store (embedded
# SQLite, under var/demo/) records a household found in the field, a Safer Streets visit and
# a Commute Aware session, and lists them as pending — waiting for a sync server.
# All names and addresses are fictional.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --no-test-deps
cmake --preset release >/dev/null
cmake --build --preset release --target field-client

client="$PWD/build/release/field-client/field-client"
store="$PWD/var/demo/tablet.db"
rm -f "$store" "$store-wal" "$store-shm"
mkdir -p "$(dirname "$store")"
fc() { echo "+ field-client $*" >&2; "$client" --store "$store" "$@"; }

echo
echo "== An officer, offline, adds a household found in the field =="
household=$(fc --json household add --address "12 Imaginary Road" --postcode "wd6 1aa" \
  --ward "Borehamwood Hillside" --vulnerability elderly,lives_alone | sed -E 's/.*"id":"([^"]+)".*/\1/')
echo "household $household"

echo
echo "== ...records the visit: fire safety check, two smoke detectors, a follow-up =="
fc visit record --household "$household" --status completed --crime-prevention-advice \
  --fire-safety-check --smoke-detectors 2 --follow-up-required --referral fire_service \
  --notes "Fictional demo visit."

echo
echo "== A PCSO logs Commute Aware card holders handed out at Potters Bar =="
fc commute log --station "Potters Bar" --cards 25 --message vehicle_security,home_security

echo
echo "== Bad input is refused, naming the field, and nothing is written =="
fc visit record --household "$household" --status no_answer --smoke-detectors 11 || true

echo
echo "== What waits to sync =="
fc pending
echo
fc status

cat <<EOT

Try it yourself (the store is $store):
  $client --store $store list
  $client --store $store visit record --household $household --status no_answer
  $client --store $store commute log --station Radlett --cards 40
  $client --store $store --json pending
  $client --help
EOT
