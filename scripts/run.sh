#!/usr/bin/env bash
# Quick-start command 1: installs what is missing, builds, starts edgepass-server
# on its embedded defaults (data in ./.data, sample catalog with assets "1" and
# "2", gRPC on 127.0.0.1:50051, REST on 127.0.0.1:8080, metrics on
# 127.0.0.1:9464), and shows a working example call.
# Ctrl-C stops the server.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EDGEPASS_BUILD_DIR:-$root/build}
addr=${EDGEPASS_GRPC_ADDR:-127.0.0.1:50051}
data=${EDGEPASS_DATA_DIR:-$root/.data}
"$root/scripts/deps.sh"
"$root/scripts/build.sh" --target edgepass_server edgepass_cli

"$build/server/edgepass-server" --data-dir "$data" --grpc-addr "$addr" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM
for _ in $(seq 100); do
  "$build/client/cli/edgepass" issue 1 --server "$addr" --ip 127.0.0.1 >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { echo "edgepass-server did not start" >&2; exit 1; }
  sleep 0.1
done

cli="$build/client/cli/edgepass"
url=$("$cli" issue 1 --server "$addr")
uri="/${url#https://*/}"
cat <<MSG

edgepass-server is running on $addr (data dir $data). Example call:

  \$ $cli issue 1 --server $addr
  $url

The same over the REST gateway (and SMD's route):

  \$ curl -s -X POST -H 'Content-Type: application/json' -d '{}' http://127.0.0.1:8080/v1/assets/1/playback
  \$ curl -s 'http://127.0.0.1:8080/tokengenerate?id=1'

Check that URL the way an edge validator does:

  \$ $cli token verify --keyring $data/keyring.json --uri '${uri%%\?*}'
  $("$cli" token verify --keyring "$data/keyring.json" --uri "${uri%%\?*}" || true)

Press Ctrl-C to stop the server.
MSG
wait $server
