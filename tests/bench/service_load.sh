#!/usr/bin/env bash
# Measures edgepass-server under edgepass-load on this machine: a closed-loop
# run to find the maximum throughput, then an open-loop run at half of it for
# honest latency percentiles (measured from each call's scheduled send time).
#   tests/bench/service_load.sh [BUILD_DIR] [extra edgepass-load flags]
# Environment: DURATION (default 10s), CONCURRENCY (closed loop, default 64),
# CONNECTIONS (default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
server_bin=$build/server/edgepass-server
load_bin=$build/tests/load/edgepass-load
for bin in "$server_bin" "$load_bin"; do
  [ -x "$bin" ] || { echo "service_load.sh: $bin not built" >&2; exit 2; }
done
duration=${DURATION:-10s}
concurrency=${CONCURRENCY:-64}
connections=${CONNECTIONS:-2}

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$server_bin" --data-dir "$work/data" --grpc-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 --rest-addr '' 2>"$work/server.err" >/dev/null &
server_pid=$!
addr=
for _ in $(seq 1 300); do
  addr=$(sed -n 's/.*"event":"listening","grpc":"\([0-9.]*:[0-9]*\)".*/\1/p' "$work/server.err" | head -n1)
  [ -n "$addr" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.05
done
[ -n "$addr" ] || { echo "service_load.sh: server did not start" >&2; cat "$work/server.err" >&2; exit 1; }
echo "server $addr ($(nproc) cores shared by server and load generator)"

run() {  # run NAME FLAGS... -> prints the text report, keeps the JSON in $work/NAME.json
  local name=$1; shift
  "$load_bin" --server "$addr" --connections "$connections" --duration "$duration" "$@" --json \
    >"$work/$name.json"
  python3 - "$name" "$work/$name.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
l = r["latency_us"]
fmt = lambda v: "-" if v is None else f"{v / 1000:.3f}"
print(f"{name}: {r['mode']} target {r['target_rate']:g} req/s, concurrency {r['concurrency']}, "
      f"{r['connections']} connections, {r['duration_s']:g}s")
errors = " ".join(f"{k} {v}" for k, v in r["errors"].items())
print(f"  sent {r['sent']}  ok {r['ok']}  errors {r['error_count']}" +
      (f" ({errors})" if errors else "") +
      f"  dropped {r['dropped']}  throughput {r['throughput_rps']:.0f} req/s"
      f"  max send lag {r['max_send_lag_us'] / 1000:.3f} ms")
print("  latency ms: " + "  ".join(f"{k} {fmt(l[k])}" for k in
                                   ("min", "p50", "p90", "p99", "p999", "max")))
PY
}

run max-throughput --rate 0 --concurrency "$concurrency" "$@"
max=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["throughput_rps"])' \
  "$work/max-throughput.json")
half=$(python3 -c 'import sys; print(max(1, int(float(sys.argv[1]) / 2)))' "$max")
run half-rate --rate "$half" "$@"
