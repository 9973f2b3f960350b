#!/usr/bin/env bash
# A sidecar holding 1,000,000 revoked sessions received over the edge-sync
# stream. Writes the revocations into an embedded data dir (the format of
# server/adapters/file_session_store.cc), starts edgepass-server on it and an
# edgepass-validator subscribed to it with --server, and measures:
#   - the time from the sidecar's start to the full snapshot applied: its
#     {"event":"edge_sync_applied",...} log line comes once the validator
#     checks against it and the snapshot file is written; the line's save_ms
#     (the file) taken off gives the moment the revocations were in force;
#   - the sidecar's VmRSS and VmHWM (peak) from /proc after the apply;
#   - the same after one more revocation arrives as a delta (DELTA=1; the
#     script rewrites revocations.json as a RevokeSession would, and the
#     server's 30 s full refresh sends it: up to ~40 s);
#   - the server's RSS, for information.
# Checks through the sidecar's auth endpoint that a revoked session is refused
# and another allowed, then prints the figures against the targets (RSS under
# 150 MB, apply under 2 s). Exits 1 when a check fails or a target is missed.
# Not a ctest test.
#   tests/bench/revocation_scale.sh [BUILD_DIR]     (env: COUNT=1000000, DELTA=1)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
server_bin=$build/server/edgepass-server
validator=$build/client/sidecar/edgepass-validator
count=${COUNT:-1000000}
delta=${DELTA:-1}
rss_target_mb=150
apply_target_ms=2000
command -v python3 >/dev/null || { echo "missing python3" >&2; exit 2; }
for bin in "$server_bin" "$validator"; do
  [[ -x $bin ]] || { echo "build $bin first (--target edgepass_server edgepass_validator_sidecar)" >&2; exit 2; }
done

work=$(mktemp -d)
server_pid=""
sidecar_pid=""
stop() {  # stop PID: TERM, then wait for it
  [[ -n $1 ]] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop "$sidecar_pid"
  stop "$server_pid"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/data"

# The server's keyring (so the script can sign tokens) and the revocations:
# added within the last hour, expiring in a day, all kept by a 24h retention
# (and a capacity with room for the delta's one more).
# The session ids are 12 characters, like the ones the server generates.
python3 - "$work/data" "$count" <<'PY'
import json, os, sys, time
data, n = sys.argv[1], int(sys.argv[2])
now = int(time.time())
kid = time.strftime("%Y%m%d", time.gmtime()) + "_" + os.urandom(10).hex()
with open(os.path.join(data, "keyring.json"), "w") as f:
    json.dump({"keys": [{"id": kid, "value": os.urandom(64).hex(), "state": "primary",
                         "created_at": now}]}, f)
os.chmod(os.path.join(data, "keyring.json"), 0o600)
# FileSessionStore::Write's layout, core::RevocationEntryToJson's entries.
with open(os.path.join(data, "revocations.json"), "w") as f:
    f.write('{"version":%d,"entries":[' % n)
    for i in range(n):
        added = now - i % 3600
        f.write('%s\n  {"added_at":%d,"expires_at":%d,"reason":"bench","score":0.0,'
                '"score_components":{},"session_id":"rv%010d","type":"MANUAL"}'
                % ("," if i else "", added, added + 86400, i))
    f.write("\n]}\n")
os.chmod(os.path.join(data, "revocations.json"), 0o600)
PY
file_mb=$(( $(stat -c %s "$work/data/revocations.json") / 1000000 ))

status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
mb() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
# Waits up to $2 seconds for a line matching $1 in file $3 (checking that
# PID $4 is alive); prints the line.
wait_for() {
  local deadline=$(( $(date +%s) + $2 )) line
  while (( $(date +%s) < deadline )); do
    line=$(grep -m1 -e "$1" "$3" 2>/dev/null || true)
    [[ -n $line ]] && { echo "$line"; return 0; }
    kill -0 "$4" 2>/dev/null || { echo "process $4 exited:" >&2; cat "$3" >&2; return 1; }
    sleep 0.01
  done
  echo "timed out waiting for '$1' in $3:" >&2; cat "$3" >&2; return 1
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

t_server=$(date +%s%N)
"$server_bin" --data-dir "$work/data" --grpc-addr 127.0.0.1:0 --shutdown-grace 1s \
  --revocation-capacity "$((count + 1000))" --revocation-retention 24h 2>"$work/server.err" >/dev/null &
server_pid=$!
line=$(wait_for '"event":"listening"' 300 "$work/server.err" "$server_pid")
server_start_ms=$(( ($(date +%s%N) - t_server) / 1000000 ))
addr=$(field "$line" grpc)
[[ $(field "$line" revoked_sessions) -eq $count ]] || { echo "server holds: $line" >&2; exit 1; }

t0=$(date +%s%N)
EDGEPASS_VALIDATOR_ID=bench-sidecar "$validator" --server "$addr" --snapshot "$work/validator.snapshot" \
  --listen 127.0.0.1:0 2>"$work/sidecar.err" &
sidecar_pid=$!
applied=$(wait_for '"event":"edge_sync_applied"' 60 "$work/sidecar.err" "$sidecar_pid")
saved_wall_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
apply_wall_ms=$(( saved_wall_ms - $(field "$applied" save_ms) ))
rss_kb=$(status_kb "$sidecar_pid" VmRSS)
hwm_kb=$(status_kb "$sidecar_pid" VmHWM)
[[ $(field "$applied" revoked) -eq $count ]] || { echo "sidecar applied: $applied" >&2; exit 1; }
sidecar_http=$(field "$(wait_for '"event":"listening"' 10 "$work/sidecar.err" "$sidecar_pid")" http)
sidecar_port=${sidecar_http##*:}

# One revoked and one other session through GET /auth (tokens signed with the
# data dir's key, bound to the session id only).
read -r refused allowed < <(python3 - "$work/data/keyring.json" "$sidecar_port" <<'PY'
import base64, hashlib, hmac, json, sys, time, urllib.error, urllib.request
key = json.load(open(sys.argv[1]))["keys"][0]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
mac = lambda msg: b64(hmac.new(key["value"].encode(), msg.encode(), hashlib.sha256).digest())
def token(session):
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key["id"]}, separators=(",", ":")).encode())
    payload = b64(json.dumps({"ip": False, "co": False, "cty": False, "reg": False, "ssn": True,
                              "exp": now + 3600, "headers": [], "qs": [], "intsig": mac(session),
                              "paths": ["/vod/"], "iat": now}, separators=(",", ":")).encode())
    return f"{session}.{header}.{payload}.{mac(header + '.' + payload)}"
def auth(session):
    req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[2]}/auth",
                                 headers={"X-Original-URI": f"/{token(session)}/vod/a/seg0.ts",
                                          "X-Real-IP": "127.0.0.1"})
    try:
        r = urllib.request.urlopen(req, timeout=5)
        return f"{r.status}"
    except urllib.error.HTTPError as e:
        return f"{e.code}:{e.headers.get('X-Edgepass-Reason', '')}"
print(auth("rv0000000042"), auth("notRevoked01"))
PY
)
checks_ok=1
[[ $refused == 403:revoked ]] || { echo "revoked session rv0000000042: got $refused, want 403 revoked" >&2; checks_ok=0; }
[[ $allowed == 200 ]] || { echo "other session: got $allowed, want 200" >&2; checks_ok=0; }

if [[ $delta == 1 ]]; then
  # One more revocation, written as FileSessionStore::Put would (version + 1,
  # atomic rename); the server's full refresh (every 30 s) picks it up.
  python3 - "$work/data/revocations.json" <<'PY'
import os, sys, time
path = sys.argv[1]
text = open(path).read()
head, rest = text.split(",", 1)
version = int(head.split(":")[1]) + 1
now = int(time.time())
entry = ('{"added_at":%d,"expires_at":%d,"reason":"bench","score":0.0,"score_components":{},'
         '"session_id":"deltaRevoked","type":"MANUAL"}' % (now, now + 3600))
text = '{"version":%d,%s' % (version, rest[:rest.rindex("\n]}")]) + ",\n  " + entry + "\n]}\n"
with open(path + ".tmp", "w") as f:
    f.write(text)
os.chmod(path + ".tmp", 0o600)
os.rename(path + ".tmp", path)
PY
  delta_line=$(wait_for '"event":"edge_sync_applied".*"snapshot":false' 90 "$work/sidecar.err" "$sidecar_pid")
  delta_rss_kb=$(status_kb "$sidecar_pid" VmRSS)
  delta_hwm_kb=$(status_kb "$sidecar_pid" VmHWM)
  [[ $(field "$delta_line" revoked) -eq $((count + 1)) ]] || { echo "delta applied: $delta_line" >&2; checks_ok=0; }
fi
server_rss_kb=$(status_kb "$server_pid" VmRSS)
server_hwm_kb=$(status_kb "$server_pid" VmHWM)

verdict() { if (( $1 )); then echo "ok"; else echo "MISSED"; fi; }
peak_kb=${delta_hwm_kb:-$hwm_kb}
rss_ok=$(( peak_kb < rss_target_mb * 1024 ))
apply_ok=$(( apply_wall_ms < apply_target_ms ))
echo "revocation scale bench: $count revoked sessions, $(nproc) cores, revocations.json ${file_mb} MB"
echo "server: started in ${server_start_ms} ms; RSS $(mb "$server_rss_kb") MB, peak $(mb "$server_hwm_kb") MB (information)"
echo "sidecar, full snapshot over edge-sync ($(field "$applied" messages) messages):"
echo "  start -> in force    ${apply_wall_ms} ms  (target < ${apply_target_ms} ms: $(verdict "$apply_ok"))"
echo "  start -> file saved  ${saved_wall_ms} ms  (snapshot file $(field "$applied" save_ms) ms after)"
echo "  from first message   received $(field "$applied" receive_ms) ms, in force $(field "$applied" apply_ms) ms"
echo "  after apply          VmRSS $(mb "$rss_kb") MB, VmHWM $(mb "$hwm_kb") MB"
if [[ $delta == 1 ]]; then
  echo "  after a 1-entry delta VmRSS $(mb "$delta_rss_kb") MB, VmHWM $(mb "$delta_hwm_kb") MB (in force $(field "$delta_line" apply_ms) ms after it arrived, file $(field "$delta_line" save_ms) ms more)"
fi
echo "  peak resident        $(mb "$peak_kb") MB (target < ${rss_target_mb} MB: $(verdict "$rss_ok"))"
echo "  auth checks          revoked session -> $refused, other session -> $allowed"
(( checks_ok && rss_ok && apply_ok ))
