#!/usr/bin/env bash
# Quick-start command 2: installs what is missing, builds, runs every test.
# Prints ctest's summary (the main build's, then the fuzz/sanitizer build's);
# exits non-zero when anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
status=0
# reaped.py: a test that crashed, or that ctest killed at its timeout, leaves
# no process running (and one that passed but left a process fails).
reaped=$root/scripts/reaped.py
(cd "${EDGEPASS_BUILD_DIR:-$root/build}" && "$reaped" ctest --output-on-failure -j"$(nproc)" --timeout 300) ||
  status=$?
# Then the fuzz targets (20 s each) and the core/http unit tests under
# ASan+UBSan, in their own clang build dir (scripts/fuzz.sh; its own summary).
# EDGEPASS_SKIP_FUZZ=1 skips them.
if [[ ${EDGEPASS_SKIP_FUZZ:-0} != 1 ]]; then
  "$reaped" "$root/scripts/fuzz.sh" || status=1
fi
if ((status != 0)); then echo "test.sh: FAILED (see the summaries above)" >&2; fi
exit "$status"
