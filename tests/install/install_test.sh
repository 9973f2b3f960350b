#!/usr/bin/env bash
# Installs edgepass from BUILD_DIR into a temporary prefix, then configures,
# builds and runs a separate consumer project against it with find_package.
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
test -x "$tmp/prefix/bin/edgepass-server"
test -x "$tmp/prefix/bin/edgepass"
cmake -S "$here/consumer" -B "$tmp/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
"$tmp/build/consumer"
