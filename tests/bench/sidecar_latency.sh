#!/usr/bin/env bash
# Added latency of the edgepass-validator auth subrequest per nginx request.
# Starts the sidecar and nginx (the shipped deploy/nginx/edgepass.conf, plus a
# plain /plain/ location proxying to the same origin without auth) and runs
# wrk against both in the same run: one connection (pure latency) and 32
# connections (throughput). Prints p50/p99 and requests/s for each and the
# difference. Not a ctest test.
#   tests/bench/sidecar_latency.sh [BUILD_DIR]     (env: DURATION=10s, CONNS=32)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
validator=$build/client/sidecar/edgepass-validator
duration=${DURATION:-10s}
conns=${CONNS:-32}
for tool in nginx wrk python3; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "missing $tool" >&2; exit 2; }
done
[[ -x $validator ]] || { echo "build $validator first (--target edgepass_validator_sidecar)" >&2; exit 2; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
sidecar_pid=""
nginx_pid=""
cleanup() {
  [[ -n $nginx_pid ]] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  [[ -n $sidecar_pid ]] && kill -TERM "$sidecar_pid" 2>/dev/null && wait "$sidecar_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -p "$work/logs" "$work/tmp" "$work/hls/vod/demo"
head -c 16384 /dev/urandom > "$work/hls/vod/demo/seg0.ts"

# A keyring and an HS256 token (paths + viewer IP bound) made with Python's
# standard library, in the project's format.
read -r token < <(python3 - "$work/keyring.json" <<'PY'
import base64, hashlib, hmac, json, os, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
kid = time.strftime("%Y%m%d", time.gmtime()) + "_" + os.urandom(10).hex()
value = os.urandom(64).hex()
with open(sys.argv[1], "w") as f:
    json.dump({"keys": [{"id": kid, "value": value, "state": "primary",
                         "created_at": int(time.time())}]}, f)
os.chmod(sys.argv[1], 0o600)
now = int(time.time())
viewer = "127.0.0.1"
intsig = b64(hmac.new(value.encode(), viewer.encode(), hashlib.sha256).digest())
header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}, separators=(",", ":")).encode())
# Claims in the order and types SMD's SDK (and core::IssueToken) write.
payload = b64(json.dumps({"ip": True, "co": False, "cty": False, "reg": False, "ssn": False,
                          "exp": now + 3600, "headers": [], "qs": [], "intsig": intsig,
                          "paths": ["/vod/demo/"], "ip_ver": 4, "iat": now},
                         separators=(",", ":")).encode())
sig = b64(hmac.new(value.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
print(f"{header}.{payload}.{sig}")
PY
)

"$validator" --keyring "$work/keyring.json" --listen 127.0.0.1:0 --metrics-addr 127.0.0.1:0 2> "$work/sidecar.err" &
sidecar_pid=$!
for _ in $(seq 200); do
  sidecar_port=$(sed -n 's/.*"event":"listening","http":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$work/sidecar.err")
  [[ -n $sidecar_port ]] && break
  sleep 0.05
done
[[ -n ${sidecar_port:-} ]] || { cat "$work/sidecar.err" >&2; exit 1; }
edge_port=$(free_port)
origin_port=$(free_port)

# The shipped config, with a plain location on the edge server for the baseline.
sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$edge_port/" \
    -e "s/127\.0\.0\.1:8081/127.0.0.1:$sidecar_port/" \
    -e "s/127\.0\.0\.1:8082/127.0.0.1:$origin_port/" \
    -e "s|/srv/edgepass/hls|$work/hls|" \
    -e "s|access_log logs/access.log;|access_log off;|" \
    -e 's|^    # Protected: /<token>/<origin path>.|    location /plain/ {\n      proxy_pass http://edgepass_origin/;\n      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n    }\n\n&|' \
    "$root/deploy/nginx/edgepass.conf" > "$work/nginx.conf"
[[ $(id -u) -eq 0 ]] && sed -i '1i user root;' "$work/nginx.conf"
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 200); do
  curl -s -o /dev/null "http://127.0.0.1:$edge_port/plain/vod/demo/seg0.ts" 2>/dev/null && break
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $edge_port), 0.1)" 2>/dev/null && break
  sleep 0.05
done

protected="http://127.0.0.1:$edge_port/$token/vod/demo/seg0.ts"
plain="http://127.0.0.1:$edge_port/plain/vod/demo/seg0.ts"
check() {
  python3 - "$1" "$work/hls/vod/demo/seg0.ts" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen(sys.argv[1], timeout=5).read()
sys.exit(0 if body == open(sys.argv[2], "rb").read() else 1)
PY
}
check "$protected" || { curl -sI "$protected" | grep -i edgepass >&2; echo "protected URL does not serve the file" >&2; cat "$work/logs/error.log" >&2; exit 1; }
check "$plain" || { echo "plain URL does not serve the file" >&2; exit 1; }

# wrk --latency output -> "p50_us p99_us rps non2xx"
run() {
  local out
  out=$(wrk -t"$1" -c"$2" -d"$duration" --latency "$3")
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def us(s):
    v, unit = re.match(r"([\d.]+)(us|ms|s)", s).groups()
    return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
p50 = us(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))
p99 = us(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
print(f"{p50:.0f} {p99:.0f} {rps:.0f} {bad.group(1) if bad else 0}")
PY
}

wrk -t1 -c4 -d2s "$plain" >/dev/null; wrk -t1 -c4 -d2s "$protected" >/dev/null  # warm-up
echo "edgepass-validator latency bench: $(nproc) cores, nginx $("$nginx_bin" -v 2>&1 | sed 's/.*\///'), $duration per run, 16 KiB segment"
printf '%-26s %10s %10s %10s %8s\n' "run" "p50 us" "p99 us" "req/s" "non-2xx"
declare -A r
for c in 1 "$conns"; do
  t=$([[ $c -eq 1 ]] && echo 1 || echo 2)
  for name in plain protected; do
    url=$([[ $name == plain ]] && echo "$plain" || echo "$protected")
    r[$name$c]=$(run "$t" "$c" "$url")
    read -r p50 p99 rps bad <<< "${r[$name$c]}"
    printf '%-26s %10s %10s %10s %8s\n' "$name, $c conn" "$p50" "$p99" "$rps" "$bad"
  done
  read -r a50 a99 arps _ <<< "${r[plain$c]}"
  read -r b50 b99 brps _ <<< "${r[protected$c]}"
  printf '  added by auth_request at %s conn: p50 %+d us, p99 %+d us, throughput %s\n' "$c" \
    $((b50 - a50)) $((b99 - a99)) "$(python3 -c "print(f'{100*($brps-$arps)/$arps:+.0f}%')")"
done
echo "sidecar decisions: $(curl -s "http://127.0.0.1:$sidecar_port/stats" 2>/dev/null || python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$sidecar_port/stats').read().decode())")"
