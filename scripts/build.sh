#!/usr/bin/env bash
# Configures and builds edgepass into ./build (or $EDGEPASS_BUILD_DIR).
# Extra arguments are passed to `cmake --build` (e.g. --target edgepass_server);
# EDGEPASS_CMAKE_ARGS adds configure options (the image build passes
# -DEDGEPASS_BUILD_TESTS=OFF, deploy/docker/Dockerfile).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EDGEPASS_BUILD_DIR:-$root/build}
# shellcheck disable=SC2086  # a list of options, split on spaces
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${EDGEPASS_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)" "$@"
