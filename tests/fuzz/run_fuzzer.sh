#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time from its seeds; fails on any
# crash, leak, sanitizer report, timeout or out-of-memory.
# Usage: run_fuzzer.sh <fuzz-binary> <work-dir> <seed-dir>...
# EDGEPASS_FUZZ_SECONDS (default 20): how long to fuzz after the seeds ran.
# The work dir gets a fresh corpus (new inputs the run found), the crash
# artifacts and the log; a failing input is printed as a reproducer command.
set -euo pipefail
binary=$1 work=$2
shift 2
seconds=${EDGEPASS_FUZZ_SECONDS:-20}
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
seeds=()
for d in "$@"; do [[ -d $d ]] && seeds+=("$d"); done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
# -timeout: one input taking over 5 s is a hang; -rss_limit_mb: a memory blow-up.
# The outer `timeout` only guards against libFuzzer itself hanging.
timeout --kill-after=30 $((seconds * 2 + 300)) \
  "$binary" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=16384 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1 || status=$?
tail -n 25 "$work/log"
if ((status != 0)); then
  echo "FAILED: $(basename "$binary") exited $status; log: $work/log" >&2
  for f in "$work"/artifacts/*; do
    [[ -e $f ]] && echo "reproduce: $binary $f" >&2
  done
  exit 1
fi
echo "$(basename "$binary"): no crash, leak or timeout in ${seconds}s"
