#!/usr/bin/env bash
# What the chart hands edgepass-server works with the real server: for the
# default values (bundled Redis: a real redis-server on loopback stands in)
# and the embedded variant, the rendered config.json, access file, generated
# keyring and API keys are given to a real edgepass-server (listen addresses
# moved to loopback port 0 and paths into a temp dir, as the pod's mounts and
# init container would lay them out); the generated "backend" key gets a
# playback URL over REST, the "edge" key (scope edge-sync) is refused 403, no
# key 401. Every process started is stopped on exit, the temp dir removed.
#
#   tests/helm/chart_server_test.sh SOURCE_DIR TOOLS_PREFIX SERVER_BIN REDIS_SERVER \
#       LAYER_VERSION MODELS_VERSION YAML_VERSION
set -euo pipefail
src=$1 prefix=$2 server_bin=$3 redis_bin=$4
here=$(cd "$(dirname "$0")" && pwd)
"$here/install_tools.sh" "$prefix" "$5" "$6" "$7"
export NODE_PATH=$prefix/node_modules
for tool in curl python3 "$server_bin" "$redis_bin"; do
  command -v "$tool" >/dev/null || { echo "chart_server_test: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export HELM_CACHE_HOME=$work/helm-cache HELM_CONFIG_HOME=$work/helm-config HELM_DATA_HOME=$work/helm-data

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
"$redis_bin" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]] && break
  sleep 0.1
done

failures=0
run_variant() {  # run_variant NAME [helm args...]
  local name=$1
  shift
  local dir=$work/$name
  mkdir -p "$dir/data"
  "$prefix/bin/helm" template edgepass "$src/helm/edgepass" "$@" >"$dir/rendered.yaml" 2>/dev/null
  node "$here/extract_files.js" "$dir/rendered.yaml" "$dir"
  # The init container's copy: keyring.json into the data dir, mode 0600.
  if [[ -f $dir/keyring.json ]]; then cp -p "$dir/keyring.json" "$dir/data/keyring.json"; fi
  python3 - "$dir" "$redis_port" <<'EOF'
import json, sys
d, redis_port = sys.argv[1], sys.argv[2]
c = json.load(open(f"{d}/config.json"))
for k in ("grpc_addr", "rest_addr", "metrics_addr"):
    c[k] = "127.0.0.1:0"
c["data_dir"] = f"{d}/data"
c["access_file"] = f"{d}/access.json"
if "redis_addr" in c:
    c["redis_addr"] = f"127.0.0.1:{redis_port}"
json.dump(c, open(f"{d}/local.json", "w"))
EOF
  "$server_bin" --config "$dir/local.json" >"$dir/server.out" 2>"$dir/server.err" &
  local pid=$!
  pids+=("$pid")
  local rest=""
  for _ in $(seq 150); do
    rest=$(grep -o '"event":"listening".*"rest":"[^"]*"' "$dir/server.err" | sed 's/.*"rest":"\([^"]*\)"/\1/' || true)
    [[ -n $rest ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z $rest ]]; then
    echo "FAIL $name: the server did not start with the chart's config: $(cat "$dir/server.err")" >&2
    failures=$((failures + 1))
    return
  fi
  local url=http://$rest/v1/assets/1/playback
  local code body
  body=$(curl -s -w '\n%{http_code}' -X POST -H "authorization: Bearer $(cat "$dir/backend.key")" \
    -H 'content-type: application/json' -d '{}' "$url")
  code=${body##*$'\n'}
  if [[ $code != 200 || $body != *'"playbackUrl"'* ]]; then
    echo "FAIL $name: backend key: $code $body" >&2
    failures=$((failures + 1))
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "authorization: Bearer $(cat "$dir/edge.key")" -d '{}' "$url")
  [[ $code == 403 ]] || { echo "FAIL $name: edge key on issue: $code, want 403" >&2; failures=$((failures + 1)); }
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$url")
  [[ $code == 401 ]] || { echo "FAIL $name: no key: $code, want 401" >&2; failures=$((failures + 1)); }
  kill "$pid"
  wait "$pid" || true
  echo "chart_server_test: $name: the server runs with the chart's config, keys and keyring"
}

run_variant default
run_variant embedded -f "$src/helm/edgepass/variants/embedded.yaml"
((failures == 0))
