#!/usr/bin/env bash
# The edge check's cost, same run, same 16 KiB segment, wrk on loopback:
#   plain    nginx serving the segment, no check
#   module   ngx_http_edgepass_module (edgepass enforce; the file by $edgepass_path)
#   sidecar  auth_request to edgepass-validator (keep-alive upstream), the file
#            by the sidecar's X-Edgepass-Path
# One nginx (one worker, so the three are compared on the same core budget)
# with three listeners; the sidecar publishes the module's state
# (--module-state) from a static keyring. Each variant: 1 connection (p50
# latency) and 32 connections (throughput), DURATION seconds each. Prints a
# Markdown table and the verdicts against the targets (module >= 0.9x plain
# at 32 connections, <= 20 us added at p50 on 1 connection). Not a ctest
# test; run it by hand on a quiet machine (figures: docs/benchmarks.md).
#   tests/bench/nginx_module_vs_sidecar.sh [BUILD_DIR]     (env: DURATION=10)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
duration=${DURATION:-10}
validator=$build/client/sidecar/edgepass-validator
cli=$build/client/cli/edgepass
module=$build/client/nginx/ngx_http_edgepass_module.so
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
for bin in "$validator" "$cli" "$module"; do
  [[ -e $bin ]] || { echo "build $bin first (--target edgepass_validator_sidecar edgepass_cli ngx_http_edgepass_module)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "missing wrk (scripts/deps.sh)" >&2; exit 2; }

work=$(mktemp -d)
sidecar_pid=""
nginx_pid=""
cleanup() {
  for pid in $nginx_pid $sidecar_pid; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$work/hls/seg" "$work/logs" "$work/tmp"
head -c 16384 /dev/urandom >"$work/hls/seg/seg0.ts"
printf '{"keys":[{"id":"bench","value":"%s","state":"primary"}]}' "$(openssl rand -hex 64)" >"$work/keyring.json"
echo '{"paths":["/seg/"],"exp":"+2h"}' >"$work/policy.json"
echo '{}' >"$work/viewer.json"
token=$("$cli" token issue --keyring "$work/keyring.json" --policy "$work/policy.json" --viewer "$work/viewer.json")

"$validator" --keyring "$work/keyring.json" --listen 127.0.0.1:0 --metrics-addr 127.0.0.1:0 \
  --module-state "$work/module.state" 2>"$work/sidecar.log" &
sidecar_pid=$!
sidecar_port=""
for _ in $(seq 100); do
  sidecar_port=$(grep -o '"http":"127.0.0.1:[0-9]*"' "$work/sidecar.log" | grep -o '[0-9]*"$' | tr -d '"' || true)
  [[ -n $sidecar_port && -f $work/module.state ]] && break
  sleep 0.1
done
[[ -n $sidecar_port ]] || { echo "sidecar did not start: $(cat "$work/sidecar.log")" >&2; exit 1; }

plain=$(free_port); mod=$(free_port); side=$(free_port)
user=""; [[ $(id -u) -eq 0 ]] && user="user root;"
cat >"$work/nginx.conf" <<CONF
$user
load_module $module;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path tmp/b; proxy_temp_path tmp/p; fastcgi_temp_path tmp/f;
  uwsgi_temp_path tmp/u; scgi_temp_path tmp/s;
  edgepass_state_file $work/module.state;
  upstream validator { server 127.0.0.1:$sidecar_port; keepalive 32; }
  server { listen 127.0.0.1:$plain; root $work/hls; }
  server {
    listen 127.0.0.1:$mod; root $work/hls;
    location / { edgepass enforce; try_files \$edgepass_path =404; }
  }
  server {
    listen 127.0.0.1:$side; root $work/hls;
    location / {
      auth_request /_auth;
      auth_request_set \$p \$upstream_http_x_edgepass_path;
      try_files \$p =404;
    }
    location = /_auth {
      internal;
      proxy_pass http://validator/auth;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI \$request_uri;
      proxy_set_header X-Real-IP \$remote_addr;
    }
  }
}
CONF
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/logs/nginx.err" &
nginx_pid=$!
sleep 0.5
for p in "$plain/seg/seg0.ts" "$mod/$token/seg/seg0.ts" "$side/$token/seg/seg0.ts"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p")
  [[ $code == 200 ]] || { echo "GET :$p -> $code" >&2; cat "$work/logs/error.log" >&2; exit 1; }
done

# run NAME URL CONNECTIONS -> "rps p50_us"
run() {
  local out
  out=$(wrk -t1 -c"$3" -d"${duration}s" --latency "$2")
  local rps p50
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}' <<<"$out")
  echo "$rps $p50"
}
declare -A rps p50
for c in 1 32; do
  for v in plain module sidecar; do
    case $v in
      plain) url="http://127.0.0.1:$plain/seg/seg0.ts" ;;
      module) url="http://127.0.0.1:$mod/$token/seg/seg0.ts" ;;
      sidecar) url="http://127.0.0.1:$side/$token/seg/seg0.ts" ;;
    esac
    read -r r l < <(run "$v" "$url" "$c")
    rps[$v,$c]=$r; p50[$v,$c]=$l
  done
done

echo "| variant | 1 conn req/s | 1 conn p50 (µs) | 32 conn req/s | 32 conn p50 (µs) |"
echo "|---|---|---|---|---|"
for v in plain module sidecar; do
  echo "| $v | ${rps[$v,1]} | ${p50[$v,1]} | ${rps[$v,32]} | ${p50[$v,32]} |"
done
python3 - "${rps[plain,32]}" "${rps[module,32]}" "${rps[sidecar,32]}" "${p50[plain,1]}" "${p50[module,1]}" "${p50[sidecar,1]}" <<'PY'
import sys
pr, mr, sr, pl, ml, sl = map(float, sys.argv[1:])
print(f"module/plain throughput at 32 connections: {mr/pr:.2f}x (target >= 0.90) {'PASS' if mr/pr >= 0.9 else 'MISS'}")
print(f"sidecar/plain throughput at 32 connections: {sr/pr:.2f}x")
print(f"module adds {ml-pl:.1f} us at p50 on 1 connection (target <= 20) {'PASS' if ml-pl <= 20 else 'MISS'}")
print(f"sidecar adds {sl-pl:.1f} us at p50 on 1 connection")
PY
