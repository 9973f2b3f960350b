#!/usr/bin/env bash
# The edgepass fleet on one machine, on loopback (docs/operations.md, "The
# fleet on one machine"):
#   redis-server; two edgepass-server replicas in fleet mode (one Redis, one
#   keyring file, API keys in an access file); the validator sidecar
#   edgepass-validator streaming from both; nginx running the shipped
#   deploy/nginx/edgepass.conf (ports and paths substituted, as the e2e tests
#   do) with the player page and the API routes it calls added
#   (deploy/local/nginx-*.conf), and that config's example origin serving a
#   test stream made with ffmpeg (deploy/local/make_media.sh).
# Prints the URLs, runs until Ctrl-C or SIGTERM, then stops every process it
# started and removes its work directory. Every port is a free loopback one.
#
#   deploy/local/run.sh [--no-build] [--work DIR] [--ready-file FILE] [--viewer-mode]
#                       [--viewer-jwks FILE] [--exit-with PID]
#
#   --no-build         use the binaries already in the build dir (no deps.sh, no build)
#   --work DIR         work directory (emptied first; kept at exit); default: a new
#                      temporary directory, removed at exit
#   --ready-file FILE  once everything answers, write the URLs, ports and paths
#                      there as NAME=VALUE lines (for tests)
#   --viewer-mode      also start a third replica in viewer-facing mode (OIDC ID
#                      tokens of issuer http://127.0.0.1/local-idp, audience
#                      edgepass-player, groups claim "groups"), reached by the
#                      page under /viewer/v1/, with a local stand-in provider
#                      whose tokens deploy/local/local_idp.sh signs (run.sh
#                      prints the command)
#   --viewer-jwks FILE viewer mode with the keys of FILE (a JWKS) instead
#   --exit-with PID    stop everything when process PID ends (a test that dies
#                      without cleaning up leaves nothing behind)
# Environment: EDGEPASS_BUILD_DIR (default ./build); EDGEPASS_LOCAL_CACHE
# (default BUILD/deploy-local: the generated stream and the page's npm packages,
# kept between runs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${EDGEPASS_BUILD_DIR:-$root/build}
cache=${EDGEPASS_LOCAL_CACHE:-$build/deploy-local}
hls_js_version=${EDGEPASS_HLS_JS_VERSION:-1.7.4}
dashjs_version=${EDGEPASS_DASHJS_VERSION:-5.2.1}
oidc_issuer=http://127.0.0.1/local-idp
oidc_audience=edgepass-player

do_build=1 work="" keep_work=0 ready_file="" viewer_mode=0 viewer_jwks="" exit_with=""
while (($#)); do
  case $1 in
    --no-build) do_build=0 ;;
    --work) work=$2; keep_work=1; shift ;;
    --ready-file) ready_file=$2; shift ;;
    --viewer-mode) viewer_mode=1 ;;
    --viewer-jwks) viewer_mode=1; viewer_jwks=$(realpath "$2"); shift ;;
    --exit-with) exit_with=$2; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "local: $*" >&2; }

# --- Processes: every one started here is listed and stopped at exit. -------
pids=() names=()
stopping=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local status=$?
  ((stopping)) && return
  stopping=1
  trap '' INT TERM
  # Newest first: nginx before the validator before the servers before Redis.
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for ((i = 0; i < 100; i++)); do
    local alive=0 p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if ((${#pids[@]})); then wait "${pids[@]}" 2>/dev/null || true; fi
  if [[ -n $work && $keep_work == 0 ]]; then rm -rf "$work"; fi
  [[ -n $ready_file ]] && rm -f "$ready_file"
  log "stopped"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME LOGFILE COMMAND...: in the background, stdin closed.
start() {
  local name=$1 out=$2
  shift 2
  "$@" </dev/null >"$out" 2>&1 &
  pids+=($!) names+=("$name")
}

# wait_for NAME SECONDS COMMAND...: until COMMAND succeeds; fails when the
# process started last exits or time runs out.
wait_for() {
  local name=$1 tries=$(($2 * 10)) last=${pids[-1]}
  shift 2
  while ((tries-- > 0)); do
    "$@" >/dev/null 2>&1 && return 0
    if ! kill -0 "$last" 2>/dev/null; then
      log "$name exited; its log:"
      tail -n 20 "$work/logs/$name.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  log "$name did not answer in time; its log:"
  tail -n 20 "$work/logs/$name.log" >&2 || true
  exit 1
}

free_ports() {  # N free loopback ports, one a line
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
PY
}

if [[ -n $exit_with ]]; then
  # A watchdog (not in `pids`: it ends by itself once this script is gone).
  (
    while kill -0 "$exit_with" 2>/dev/null && kill -0 $$ 2>/dev/null; do sleep 1; done
    kill -TERM $$ 2>/dev/null
  ) </dev/null >/dev/null 2>&1 &
fi

# --- Tools, binaries, stream, page libraries ---------------------------------
if ((do_build)); then
  "$root/scripts/deps.sh"
  EDGEPASS_BUILD_DIR=$build "$root/scripts/build.sh" --target edgepass_server edgepass_validator_sidecar
fi
server_bin=$build/server/edgepass-server
validator_bin=$build/client/sidecar/edgepass-validator
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
for tool in "$server_bin" "$validator_bin" "$nginx_bin" "$(command -v redis-server || echo redis-server)" \
            "$(command -v ffmpeg || echo ffmpeg)" "$(command -v npm || echo npm)" "$(command -v python3 || echo python3)"; do
  [[ -x $tool ]] || { log "missing $tool (scripts/deps.sh installs the tools; scripts/build.sh builds)"; exit 1; }
done

media=$cache/media
"$root/deploy/local/make_media.sh" "$media"

# hls.js and dash.js from npm, into the cache (git-ignored), once per version.
npm_dir=$cache/npm
mkdir -p "$npm_dir"
want="hls.js@$hls_js_version dashjs@$dashjs_version"
(
  flock 9
  if [[ ! -f $npm_dir/.installed || $(cat "$npm_dir/.installed") != "$want" ]]; then
    log "npm install $want into $npm_dir"
    # shellcheck disable=SC2086
    npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error $want >&2
    echo "$want" >"$npm_dir/.installed"
  fi
) 9>"$npm_dir/.install.lock"
hls_dist=$npm_dir/node_modules/hls.js/dist
dash_dist=$npm_dir/node_modules/dashjs/dist/modern/umd
[[ -f $hls_dist/hls.min.js && -f $dash_dist/dash.all.min.js ]] || { log "npm packages incomplete in $npm_dir"; exit 1; }

# --- Work directory -----------------------------------------------------------
if [[ -z $work ]]; then
  work=$(mktemp -d /tmp/edgepass-local.XXXXXX)
else
  rm -rf "$work"
  mkdir -p "$work"
  work=$(realpath "$work")
fi
mkdir -p "$work/logs" "$work/data" "$work/redis" "$work/edge/logs" "$work/edge/tmp" "$work/secrets"
chmod 700 "$work/secrets"

mapfile -t ports < <(free_ports 9)
redis_port=${ports[0]} grpc_a=${ports[1]} rest_a=${ports[2]} grpc_b=${ports[3]} rest_b=${ports[4]}
validator_port=${ports[5]} edge_port=${ports[6]} origin_port=${ports[7]} rest_viewer=${ports[8]}
edge=http://127.0.0.1:$edge_port

# API keys (only their SHA-256 goes into the access file): the validator's
# (edge-sync) and the one nginx adds to the page's calls (issue, revoke).
new_key() {  # NAME SCOPES KEYFILE -> prints the access-file entry
  local out
  out=$("$server_bin" --new-api-key "$1:$2")
  (umask 077; sed -n '2s/^ *//p' <<<"$out" >"$3")
  sed -n '4s/^ *//p' <<<"$out"
}
validator_entry=$(new_key local-validator edge-sync "$work/secrets/validator.key")
player_entry=$(new_key local-player issue,revoke "$work/secrets/player.key")
printf '{"api_keys": [%s, %s]}\n' "$validator_entry" "$player_entry" >"$work/secrets/access.json"
chmod 600 "$work/secrets/access.json"

# The catalog: the stream's HLS master (both renditions), its DASH variant,
# the unauthorized clip, and "entitled" whose variants the viewer's
# entitlement picks (premium: both renditions; standard: SD only; anyone
# else: the unauthorized clip). Tokens bind the session, the viewer's
# address and User-Agent.
cat >"$work/catalog.json" <<JSON
{
  "policies": {
    "local-hls": {"paths": ["/vod/demo/"], "exp": "+1h", "ssn": true, "ip": true, "headers": ["user-agent"]},
    "local-sd": {"paths": ["/vod/demo/sd/"], "exp": "+1h", "ssn": true, "ip": true, "headers": ["user-agent"]},
    "local-dash": {"paths": ["/vod/dash/"], "exp": "+1h", "ssn": true, "ip": true, "headers": ["user-agent"]},
    "local-unauthorized": {"paths": ["/vod/unauthorized/"], "exp": "+10m", "ssn": true, "ip": true}
  },
  "assets": [
    {"id": "hls", "hostname": "127.0.0.1:$edge_port", "url_path": "/vod/demo/master.m3u8",
     "scheme": "smd-token", "token_policy": "local-hls"},
    {"id": "dash", "hostname": "127.0.0.1:$edge_port", "url_path": "/vod/dash/manifest.mpd",
     "scheme": "smd-token", "token_policy": "local-dash"},
    {"id": "unauthorized", "hostname": "127.0.0.1:$edge_port", "url_path": "/vod/unauthorized/index.m3u8",
     "scheme": "smd-token", "token_policy": "local-unauthorized"},
    {"id": "entitled", "hostname": "127.0.0.1:$edge_port", "url_path": "/vod/demo/master.m3u8",
     "scheme": "smd-token", "token_policy": "local-hls",
     "variants": {"premium": {"url_path": "/vod/demo/master.m3u8", "token_policy": "local-hls"},
                  "standard": {"url_path": "/vod/demo/sd/index.m3u8", "token_policy": "local-sd"}},
     "fallback_asset": "unauthorized"}
  ]
}
JSON

# What the page offers (served as /player/demo.json).
cat >"$work/demo.json" <<JSON
{"assets": [
  {"id": "hls", "label": "HLS: master playlist, 720p + 360p", "kind": "hls"},
  {"id": "dash", "label": "DASH: 720p + 360p", "kind": "dash"},
  {"id": "unauthorized", "label": "HLS: the unauthorized clip", "kind": "hls"},
  {"id": "entitled", "label": "HLS by entitlement (viewer mode)", "kind": "hls", "viewer": true}
 ],
 "viewer_mode": $( ((viewer_mode)) && echo true || echo false)}
JSON

# --- Redis, the replicas, the validator ---------------------------------------
start redis "$work/logs/redis.log" redis-server --bind 127.0.0.1 --port "$redis_port" --save "" \
  --appendonly no --dir "$work/redis"
wait_for redis 10 redis-cli -p "$redis_port" ping

server_args=(--data-dir "$work/data" --redis-addr "127.0.0.1:$redis_port" --access-file "$work/secrets/access.json"
             --catalog-file "$work/catalog.json" --metrics-addr 127.0.0.1:0 --trusted-proxies 127.0.0.1/32
             --shutdown-grace 1s)
# shellcheck disable=SC2317  # run by wait_for
rest_up() { curl -s -o /dev/null "http://127.0.0.1:$1/v1/assets"; }
# One after the other: the first one creates the shared keyring file.
start server-a "$work/logs/server-a.log" "$server_bin" "${server_args[@]}" \
  --grpc-addr "127.0.0.1:$grpc_a" --rest-addr "127.0.0.1:$rest_a"
wait_for server-a 20 rest_up "$rest_a"
start server-b "$work/logs/server-b.log" "$server_bin" "${server_args[@]}" \
  --grpc-addr "127.0.0.1:$grpc_b" --rest-addr "127.0.0.1:$rest_b"
wait_for server-b 20 rest_up "$rest_b"
if ((viewer_mode)); then
  if [[ -z $viewer_jwks ]]; then
    "$root/deploy/local/local_idp.sh" init "$work/idp"
    viewer_jwks=$work/idp/jwks.json
  fi
  start server-viewer "$work/logs/server-viewer.log" "$server_bin" "${server_args[@]}" \
    --grpc-addr 127.0.0.1:0 --rest-addr "127.0.0.1:$rest_viewer" \
    --oidc-issuer "$oidc_issuer" --oidc-audience "$oidc_audience" --oidc-jwks "$viewer_jwks" \
    --oidc-groups-claim groups --entitlements premium,standard
  wait_for server-viewer 20 rest_up "$rest_viewer"
fi

start validator "$work/logs/validator.log" "$validator_bin" --listen "127.0.0.1:$validator_port" \
  --server "127.0.0.1:$grpc_a" --server "127.0.0.1:$grpc_b" --api-key-file "$work/secrets/validator.key" \
  --snapshot "$work/data/validator.snapshot" --metrics-addr 127.0.0.1:0
wait_for validator 20 curl -sf "http://127.0.0.1:$validator_port/healthz"

# --- nginx: the shipped config, derived as tests/e2e/edge_stack.cc does --------
shipped=$root/deploy/nginx/edgepass.conf
for literal in "127.0.0.1:8080" "127.0.0.1:8081" "127.0.0.1:8082" "/srv/edgepass/hls" "http {" \
               "listen 127.0.0.1:8080;"; do
  grep -qF "$literal" "$shipped" || { log "$shipped lost '$literal', which this script substitutes"; exit 1; }
done
subst() {  # the deploy/local/nginx-*.conf templates
  sed -e "s|@REST_A@|127.0.0.1:$rest_a|g; s|@REST_B@|127.0.0.1:$rest_b|g" \
      -e "s|@REST_VIEWER@|127.0.0.1:$rest_viewer|g; s|@WEB@|$root/web/player|g" \
      -e "s|@HLS_DIST@|$hls_dist|g; s|@DASH_DIST@|$dash_dist|g; s|@WORK@|$work|g" \
      -e "s|@PLAYER_KEY@|$(cat "$work/secrets/player.key")|g" "$1"
}
(umask 077; subst "$root/deploy/local/nginx-http.conf" >"$work/edge/local-http.conf")
(umask 077; subst "$root/deploy/local/nginx-server.conf" >"$work/edge/local-server.conf")
{
  # Workers of a root master run as nobody, who cannot read the private work
  # tree; for this local demo only, keep them root (as the e2e tests do).
  if [[ $(id -u) == 0 ]]; then echo "user root;"; fi
  sed -e "s|listen 127.0.0.1:8080;|listen 127.0.0.1:$edge_port;\n    include $work/edge/local-server.conf;|" \
      -e "0,/^http {/s|^http {|http {\n  include $work/edge/local-http.conf;|" \
      -e "s|127.0.0.1:8081|127.0.0.1:$validator_port|g; s|127.0.0.1:8082|127.0.0.1:$origin_port|g" \
      -e "s|/srv/edgepass/hls|$media|g" "$shipped"
} >"$work/edge/nginx.conf"
"$nginx_bin" -t -q -p "$work/edge" -c "$work/edge/nginx.conf" -e "$work/edge/logs/error.log" \
  2>"$work/logs/nginx-t.log" || { cat "$work/logs/nginx-t.log" >&2; exit 1; }
start nginx "$work/logs/nginx.log" "$nginx_bin" -p "$work/edge" -c "$work/edge/nginx.conf" \
  -e "$work/edge/logs/error.log" -g "daemon off;"
wait_for nginx 10 curl -sf "$edge/player/demo.json"

if [[ -n $ready_file ]]; then
  cat >"$ready_file.tmp" <<ENV
EDGE=$edge
PLAYER=$edge/player/
WORK=$work
EDGE_ACCESS_LOG=$work/edge/logs/access.log
ORIGIN_ACCESS_LOG=$work/edge/logs/origin_access.log
REST_A=127.0.0.1:$rest_a
REST_B=127.0.0.1:$rest_b
GRPC_A=127.0.0.1:$grpc_a
GRPC_B=127.0.0.1:$grpc_b
REDIS=127.0.0.1:$redis_port
VALIDATOR=127.0.0.1:$validator_port
ENV
  mv "$ready_file.tmp" "$ready_file"
fi

cat <<MSG

The edgepass fleet runs on loopback (work dir $work):

  player page       $edge/player/
  edge (nginx)      $edge/<token>/vod/...   (access log: $work/edge/logs/access.log)
  origin            http://127.0.0.1:$origin_port/vod/demo/master.m3u8   (log: $work/edge/logs/origin_access.log)
  server replicas   gRPC 127.0.0.1:$grpc_a, 127.0.0.1:$grpc_b; REST 127.0.0.1:$rest_a, 127.0.0.1:$rest_b
$( ((viewer_mode)) && echo "  viewer replica    REST 127.0.0.1:$rest_viewer (OIDC issuer $oidc_issuer, audience $oidc_audience)")
  validator         127.0.0.1:$validator_port
  redis             127.0.0.1:$redis_port
  API keys          $work/secrets/ (player.key: issue+revoke, added by nginx; validator.key: edge-sync)

A playback URL through the SMD route, played through the edge:
  curl -s '$edge/tokengenerate?id=hls'

MSG
if ((viewer_mode)) && [[ -f $work/idp/idp-key.pem ]]; then
  cat <<MSG
Viewer mode: paste an ID token of the local stand-in provider into the page
(route "viewer mode", asset "HLS by entitlement"); groups premium, standard or none:
  $root/deploy/local/local_idp.sh token $work/idp premium

MSG
fi
echo "Press Ctrl-C to stop everything."

# Runs until a signal, or until one of the processes exits (then stops the
# rest). A Ctrl-C in the terminal reaches every process of the group too.
set +e
wait -n "${pids[@]}"
status=$?
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[i]}" 2>/dev/null; then
    log "${names[i]} exited (status $status); stopping the rest"
    ((status == 0)) || tail -n 20 "$work/logs/${names[i]}.log" >&2
  fi
done
exit "$status"
