#!/usr/bin/env bash
# scripts/reaped.py, which scripts/test.sh runs the suite under: a process a
# command leaves running (here a sleep whose parent shell exited, as when a
# test binary crashes) is named, killed, and fails a command that exited 0; a
# command's own failing status is kept; a clean command passes.
set -euo pipefail
reaped=$1
work=$(mktemp -d)
trap 'pkill -KILL -f "sleep 31337" 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "reaped_test: $*" >&2; exit 1; }

rc=0
"$reaped" bash -c '(sleep 31337 &); exit 0' 2>"$work/err" || rc=$?
[[ $rc == 1 ]] || fail "a command that left a process exited $rc, want 1"
grep -q "still running after .*: pid [0-9]*: sleep 31337 (killed)" "$work/err" || fail "not named: $(cat "$work/err")"
! pgrep -f "sleep 31337" >/dev/null || fail "the orphan still runs"

rc=0
"$reaped" bash -c 'exit 3' 2>"$work/err" || rc=$?
[[ $rc == 3 ]] || fail "exit status 3 came back as $rc"
"$reaped" true || fail "a clean command failed"
echo "reaped_test: ok"
