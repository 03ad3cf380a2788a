#!/usr/bin/env bash
# Builds the Debian packages safer-streets-sync-server and safer-streets-field-client into
# dist/ with CPack (cmake/Packaging.cmake; docs/deployment.md says how to install them).
#
# Usage: scripts/package.sh [--build-dir DIR] [--out DIR]
#   --build-dir  the build tree to package from (default build/release, the release and ci
#                presets' shared tree: configured with the release preset if it is not yet).
#                Only the packaged programs are built in it, so a tree that is up to date
#                is packaged without compiling anything.
#   --out        where the .deb files go (default dist/)
# Installs what is missing first (scripts/install-deps.sh --no-test-deps --with-packaging: the
# build's packages and dpkg-dev, whose dpkg-shlibdeps finds the packages' library dependencies).
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$source_dir/build/release
out_dir=$source_dir/dist
while (( $# )); do
  case "$1" in
    --build-dir) build_dir=$(realpath -m -- "${2:?--build-dir needs a directory}"); shift 2 ;;
    --out) out_dir=$(realpath -m -- "${2:?--out needs a directory}"); shift 2 ;;
    *) echo "usage: scripts/package.sh [--build-dir DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done
cd "$source_dir"
scripts/install-deps.sh --no-test-deps --with-packaging

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  if [[ "$build_dir" != "$source_dir/build/release" ]]; then
    echo "package: $build_dir is not a configured build tree" >&2
    exit 1
  fi
  cmake --preset release
fi
cmake --build "$build_dir" --target sync-server field-client field_client_c -j2

mkdir -p "$out_dir"
# CPack's own scratch directory, apart from the packages; removed afterwards.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/safer-package.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
(cd "$build_dir" && cpack -G DEB -B "$scratch" --config CPackConfig.cmake >"$scratch/cpack.log" 2>&1) || {
  cat "$scratch/cpack.log" >&2
  echo "package: cpack failed" >&2
  exit 1
}
built=("$scratch"/*.deb)
if [[ ! -e "${built[0]}" ]]; then
  cat "$scratch/cpack.log" >&2
  echo "package: cpack made no package" >&2
  exit 1
fi
for deb in "${built[@]}"; do
  mv -f "$deb" "$out_dir/"
  echo "$out_dir/$(basename "$deb")"
done
