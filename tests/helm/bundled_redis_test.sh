#!/usr/bin/env bash
# The bundled Redis with Sentinel as the chart renders it (variants/
# sentinel.yaml): its very scripts (ConfigMap RELEASE-edgepass-redis) run three
# redis-server and three Sentinels on loopback, pod N at 127.0.0.(N+1) on one
# free port pair (PEER_FORMAT, POD_ORDINAL, ports and dirs set as the
# StatefulSet's environment would). Pod 0 starts as the primary, the others
# replicate; killing pod 0's Redis makes the Sentinels fail over; pod 0 started
# again asks them and comes back as a replica of the new primary, and a write
# on the new primary reaches it. Every process is killed on exit, the temp dir
# removed.
#
#   tests/helm/bundled_redis_test.sh SOURCE_DIR TOOLS_PREFIX REDIS_SERVER \
#       LAYER_VERSION MODELS_VERSION YAML_VERSION
set -euo pipefail
src=$1 prefix=$2 redis_bin=$3
here=$(cd "$(dirname "$0")" && pwd)
"$here/install_tools.sh" "$prefix" "$4" "$5" "$6"
export NODE_PATH=$prefix/node_modules
for tool in redis-cli python3 timeout; do
  command -v "$tool" >/dev/null || { echo "bundled_redis_test: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
declare -A redis_pid=() sentinel_pid=()
cleanup() {
  for pid in "${redis_pid[@]}" "${sentinel_pid[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${redis_pid[@]}" "${sentinel_pid[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap "exit 1" INT TERM
export HELM_CACHE_HOME=$work/helm-cache HELM_CONFIG_HOME=$work/helm-config HELM_DATA_HOME=$work/helm-data
# redis-server as the scripts call it (the image's binary here: Debian's).
mkdir -p "$work/bin"
ln -s "$redis_bin" "$work/bin/redis-server"
export PATH=$work/bin:$PATH

"$prefix/bin/helm" template edgepass "$src/helm/edgepass" -f "$src/helm/edgepass/variants/sentinel.yaml" \
  --set redis.bundled.downAfterMilliseconds=2000 --set redis.bundled.failoverTimeout=5000 \
  >"$work/rendered.yaml" 2>/dev/null
node - "$work/rendered.yaml" "$work" <<'EOF'
const fs = require('fs');
const YAML = require('yaml');
const [rendered, dir] = process.argv.slice(2);
for (const doc of YAML.parseAllDocuments(fs.readFileSync(rendered, 'utf8'))) {
  const o = doc.toJS();
  if (o && o.kind === 'ConfigMap' && o.metadata.name.endsWith('-redis')) {
    for (const f of ['common.sh', 'redis.sh', 'sentinel.sh']) fs.writeFileSync(`${dir}/${f}`, o.data[f]);
    process.exit(0);
  }
}
console.error('bundled_redis_test: no Redis ConfigMap rendered');
process.exit(1);
EOF

# One port free on 127.0.0.1..3 for Redis, one for the Sentinels.
free_port() {
  python3 - <<'EOF'
import socket
def free(port):
    for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        t = socket.socket()
        try:
            t.bind((host, port))
        except OSError:
            return False
        finally:
            t.close()
    return True
for _ in range(200):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    other = port + 10000 if port < 55000 else port - 10000
    if free(port) and free(other):
        print(port)
        break
EOF
}
redis_port=$(free_port)
[[ -n $redis_port ]] || { echo "bundled_redis_test: no free port pair on 127.0.0.1-3" >&2; exit 1; }
sentinel_port=$((redis_port < 55000 ? redis_port + 10000 : redis_port - 10000))

pod_env() {  # pod_env N: the StatefulSet's environment for pod N, on loopback
  local n=$1
  mkdir -p "$work/pod$n/data" "$work/pod$n/conf" "$work/pod$n/sentinel-conf"
  echo PEER_FORMAT=127.0.0.%d PEER_OFFSET=1 POD_ORDINAL="$n" BIND_ADDR=127.0.0.$((n + 1)) \
    REDIS_PORT="$redis_port" SENTINEL_PORT="$sentinel_port" SCRIPTS_DIR="$work" DATA_DIR="$work/pod$n/data"
}
start_redis() {
  local n=$1
  env $(pod_env "$n") CONF_DIR="$work/pod$n/conf" /bin/sh "$work/redis.sh" >>"$work/redis$n.log" 2>&1 &
  redis_pid[$n]=$!
  for _ in $(seq 300); do
    [[ $(redis-cli -h 127.0.0.$((n + 1)) -p "$redis_port" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.1
  done
  echo "bundled_redis_test: redis of pod $n did not start: $(cat "$work/redis$n.log")" >&2
  exit 1
}
start_sentinel() {
  local n=$1
  env $(pod_env "$n") CONF_DIR="$work/pod$n/sentinel-conf" /bin/sh "$work/sentinel.sh" >>"$work/sentinel$n.log" 2>&1 &
  sentinel_pid[$n]=$!
}
role_of() {  # role_of N: "master" or "slave HOST" of pod N's Redis
  redis-cli -h 127.0.0.$(($1 + 1)) -p "$redis_port" --raw role 2>/dev/null | head -n 2 | tr '\n' ' ' | sed 's/ $//'
}
primary_by_sentinel() {
  redis-cli -h 127.0.0.$(($1 + 1)) -p "$sentinel_port" --raw sentinel get-master-addr-by-name mymaster 2>/dev/null | head -n 1
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  echo "FAIL: $what within ${seconds}s" >&2
  for f in "$work"/*.log; do echo "== $f" >&2; tail -n 15 "$f" >&2; done
  exit 1
}

for n in 0 1 2; do start_redis "$n"; done
[[ $(role_of 0) == master* ]] || { echo "FAIL: pod 0 is not the first primary: $(role_of 0)" >&2; exit 1; }
[[ $(role_of 1) == "slave 127.0.0.1" && $(role_of 2) == "slave 127.0.0.1" ]] ||
  { echo "FAIL: pods 1, 2 do not replicate pod 0: $(role_of 1) / $(role_of 2)" >&2; exit 1; }
for n in 0 1 2; do start_sentinel "$n"; done
sentinels_agree() {
  for n in 0 1 2; do
    [[ $(primary_by_sentinel "$n") == 127.0.0.1 ]] || return 1
    [[ $(redis-cli -h 127.0.0.$((n + 1)) -p "$sentinel_port" --raw sentinel sentinels mymaster 2>/dev/null |
      grep -c '^name$') == 2 ]] || return 1
  done
}
wait_for 60 "the three Sentinels monitor pod 0 and see each other" sentinels_agree

# Fault: pod 0's Redis dies.
kill -9 "${redis_pid[0]}"
wait "${redis_pid[0]}" 2>/dev/null || true
unset 'redis_pid[0]'
failed_over() {  # every Sentinel names pod 1 or 2, which is a primary
  local p
  p=$(primary_by_sentinel 1)
  [[ $p == 127.0.0.2 || $p == 127.0.0.3 ]] && [[ $(role_of $((${p##*.} - 1))) == master* ]] &&
    [[ $(primary_by_sentinel 0) == "$p" && $(primary_by_sentinel 2) == "$p" ]]
}
wait_for 60 "the Sentinels fail over to pod 1 or 2" failed_over
new_primary=$(primary_by_sentinel 1)

# Pod 0 restarts: its script asks the Sentinels and joins as a replica.
start_redis 0
rejoined() { [[ $(role_of 0) == "slave $new_primary" ]]; }
wait_for 20 "pod 0 comes back as a replica of $new_primary (it is '$(role_of 0)')" rejoined
redis-cli -h "$new_primary" -p "$redis_port" set edgepass:bundled-redis-test after-failover >/dev/null
replicated() { [[ $(redis-cli -h 127.0.0.1 -p "$redis_port" get edgepass:bundled-redis-test 2>/dev/null) == after-failover ]]; }
wait_for 20 "a write on the new primary reaches pod 0" replicated
echo "bundled_redis_test: pod 0 primary, failover to $new_primary, pod 0 back as its replica"
