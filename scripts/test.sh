#!/usr/bin/env bash
# Quick-start command 2: installs what is missing, builds, runs every test.
# Prints ctest's summary; exits non-zero when anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
cd "${EDGEPASS_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)" --timeout 300
