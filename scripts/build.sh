#!/usr/bin/env bash
# Configures and builds edgepass into ./build (or $EDGEPASS_BUILD_DIR).
# Extra arguments are passed to `cmake --build` (e.g. --target edgepass_server).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EDGEPASS_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" "$@"
