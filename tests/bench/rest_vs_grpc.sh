#!/usr/bin/env bash
# Token issuing throughput of the REST gateway against the same call over gRPC,
# in the same run. Starts one edgepass-server (embedded, temp data dir) and
# alternates closed-loop runs against it: gRPC IssuePlayback with edgepass-load,
# then POST /v1/assets/1/playback with wrk (tests/bench/rest_issue.lua), ROUNDS
# times (gRPC, REST, gRPC, REST) so drift on a shared machine shows. Both keep
# CONCURRENCY requests in flight: wrk over that many HTTP/1.1 connections (one
# request at a time each), edgepass-load multiplexed over GRPC_CONNECTIONS
# HTTP/2 connections. Prints requests/s, latency percentiles (from send time)
# and server CPU per request of each run, and REST/gRPC (the mean of the
# rounds' ratios; target >= 0.7). Fails when a call is not OK / 2xx or a
# socket error occurs. Not a ctest test.
#   tests/bench/rest_vs_grpc.sh BUILD_DIR [SECONDS]    (default 10 s per run)
# Environment: CONCURRENCY (default 64), GRPC_CONNECTIONS (default 2),
# WRK_THREADS (default 2), ROUNDS (default 2), SERVER_FLAGS (extra
# edgepass-server flags, split on spaces; e.g. '--rest-threads 2').
set -euo pipefail
shopt -s inherit_errexit  # failures inside $(...) stop the script too
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [SECONDS]" >&2; exit 2; }
build=$1
seconds=${2:-10}
[[ $seconds =~ ^[1-9][0-9]{0,3}$ ]] || { echo "rest_vs_grpc.sh: SECONDS '$seconds': expected 1..9999" >&2; exit 2; }
concurrency=${CONCURRENCY:-64}
grpc_connections=${GRPC_CONNECTIONS:-2}
wrk_threads=${WRK_THREADS:-2}
rounds=${ROUNDS:-2}
[[ $rounds =~ ^[1-9]$ ]] || { echo "rest_vs_grpc.sh: ROUNDS '$rounds': expected 1..9" >&2; exit 2; }
viewer_ip=192.0.2.1  # the same as in rest_issue.lua
server_bin=$build/server/edgepass-server
load_bin=$build/tests/load/edgepass-load
lua=$root/tests/bench/rest_issue.lua
for bin in "$server_bin" "$load_bin"; do
  [ -x "$bin" ] || { echo "rest_vs_grpc.sh: $bin not built (targets edgepass_server, edgepass_load)" >&2; exit 2; }
done
for tool in wrk python3; do
  command -v "$tool" >/dev/null || { echo "rest_vs_grpc.sh: missing $tool" >&2; exit 2; }
done

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

read -r -a server_flags <<<"${SERVER_FLAGS:-}"
"$server_bin" --data-dir "$work/data" --grpc-addr 127.0.0.1:0 --rest-addr 127.0.0.1:0 --metrics-addr '' \
  ${server_flags[@]+"${server_flags[@]}"} 2>"$work/server.err" >/dev/null &
server_pid=$!
grpc= rest=
for _ in $(seq 1 300); do
  grpc=$(sed -n 's/.*"event":"listening","grpc":"\([0-9.]*:[0-9]*\)".*/\1/p' "$work/server.err" | head -n1)
  rest=$(sed -n 's/.*"event":"listening".*"rest":"\([0-9.]*:[0-9]*\)".*/\1/p' "$work/server.err" | head -n1)
  [ -n "$grpc" ] && [ -n "$rest" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.05
done
[ -n "$grpc" ] && [ -n "$rest" ] || { echo "rest_vs_grpc.sh: server did not start" >&2; cat "$work/server.err" >&2; exit 1; }
url="http://$rest/v1/assets/1/playback"
rest_threads=$(sed -n 's/.*"event":"listening".*"rest_threads":\([0-9]*\).*/\1/p' "$work/server.err" | head -n1)

# One REST call must issue a token before anything is measured.
python3 - "$url" "$viewer_ip" <<'PY' || { echo "rest_vs_grpc.sh: REST issue failed" >&2; exit 1; }
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], method="POST", headers={"Content-Type": "application/json"},
                             data=json.dumps({"viewer": {"ip": sys.argv[2]}}).encode())
reply = json.load(urllib.request.urlopen(req, timeout=5))
sys.exit(0 if reply.get("token") and reply.get("assetId") == "1" else 1)
PY

# CPU seconds (user + system) the server has used so far.
server_cpu() {
  python3 - "$server_pid" <<'PY'
import os, sys
fields = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
PY
}

# run_grpc NAME DURATION -> "rps p50_ms p90_ms p99_ms" (fails on any error)
run_grpc() {
  "$load_bin" --server "$grpc" --asset 1 --viewer-ip "$viewer_ip" --rate 0 --concurrency "$concurrency" \
    --connections "$grpc_connections" --duration "$2" --json >"$work/$1.json"
  python3 - "$work/$1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r["error_count"] or not r["ok"]:
    sys.exit(f"gRPC run: ok {r['ok']}, errors {r['errors']}")
l = r["latency_us"]
print(f"{r['throughput_rps']:.0f} " + " ".join(f"{l[k] / 1000:.3f}" for k in ("p50", "p90", "p99")))
PY
}

# run_rest NAME DURATION -> "rps p50_ms p90_ms p99_ms" (fails unless every response was 2xx)
run_rest() {
  wrk -t"$wrk_threads" -c"$concurrency" -d"$2" --latency -s "$lua" "$url" >"$work/$1.txt"
  python3 - "$work/$1.txt" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
def ms(s):
    v, unit = re.match(r"([\d.]+)(us|ms|s)$", s).groups()
    return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
m = re.search(r"^status_not_2xx (\d+) responses (\d+)$", out, re.M)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
if not m or int(m.group(1)) or not int(m.group(2)) or (sock and any(int(g) for g in sock.groups())):
    sys.exit("REST run: not only 2xx responses, or socket errors:\n" + out)
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p = {q: ms(re.search(rf"^\s*{q}%\s+(\S+)", out, re.M).group(1)) for q in ("50", "90", "99")}
print(f"{rps:.0f} {p['50']:.3f} {p['90']:.3f} {p['99']:.3f}")
PY
}

# measure KIND NAME DURATION -> "rps p50 p90 p99 cpu_us_per_request"
measure() {
  local before after result
  before=$(server_cpu)
  result=$("run_$1" "$2" "$3")
  after=$(server_cpu)
  read -r rps _ <<<"$result"
  echo "$result $(python3 -c "import sys; print(f'{1e6 * ($after - $before) / max(1, $rps * $seconds):.0f}')")"
}

run_grpc warmup-grpc 2s >/dev/null
run_rest warmup-rest 2s >/dev/null
echo "REST vs gRPC issuing: $(nproc) cores shared by server and load tools, ${seconds}s per run," \
  "$concurrency in flight (gRPC over $grpc_connections connections; wrk over $concurrency, $wrk_threads threads;" \
  "server REST threads ${rest_threads:-?})"
printf '%-10s %9s %9s %9s %9s %12s\n' run req/s "p50 ms" "p90 ms" "p99 ms" "cpu us/req"
ratios=()
for round in $(seq 1 "$rounds"); do
  for kind in grpc rest; do
    line=$(measure "$kind" "$kind-$round" "${seconds}s")
    read -r r p50 p90 p99 cpu <<<"$line"
    printf '%-10s %9s %9s %9s %9s %12s\n' "$kind $round" "$r" "$p50" "$p90" "$p99" "$cpu"
    [ "$kind" = grpc ] && grpc_rps=$r || ratios+=("$(python3 -c "print($r / $grpc_rps)")")
  done
done
python3 - "${ratios[@]}" <<'PY'
import sys
ratios = [float(r) for r in sys.argv[1:]]
mean = sum(ratios) / len(ratios)
print("REST/gRPC: " + ", ".join(f"round {i} {r:.2f}" for i, r in enumerate(ratios, 1)) +
      f", mean {mean:.2f} (target >= 0.7: {'OK' if mean >= 0.7 else 'BELOW'})")
PY
