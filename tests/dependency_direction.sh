#!/usr/bin/env bash
# Checks that the include arrows point inward (docs: /work/shared/STYLE.md,
# "Layout states the architecture"):
#   - core/, server/app/ (the services), server/state/ (store interfaces),
#     server/adapters/, files/, client/validator/ and client/analyze/ include no gRPC or
#     protobuf header: grpcpp/, grpc/, grpc++/, google/protobuf/, the
#     generated API (edgepass/v1/, *.pb.h);
#   - core/ includes no other folder of the project (server/, client/, http/,
#     files/, obs/, logging/, proto/);
#   - server/app/, server/state/ and server/adapters/ include no transport
#     (server/api/, server/rest/);
#   - server/app/ includes no adapter (server/adapters/): the service layer
#     takes the store interfaces, and only the composition root names the
#     adapters (its tests may, to run over the local ones);
#   - server/state/ includes no adapter, and the Redis adapters
#     (server/adapters/redis/) no other adapter: they build on the state
#     interfaces alone;
#   - client/ includes nothing from server/.
# A folder that does not exist (yet) passes. Prints one line per offending
# include, "path:line: #include ... (rule)", and exits 1.
#
#   tests/dependency_direction.sh SOURCE_DIR    # ctest: dependency_direction
#   tests/dependency_direction.sh --self-test   # proves each rule catches a violation
set -euo pipefail

readonly kGrpcOrProtobuf='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]((grpcpp|grpc|grpc\+\+|google/protobuf|edgepass/v1)/|[^">]*\.pb\.h[">])'
readonly kOutsideCore='^[[:space:]]*#[[:space:]]*include[[:space:]]*"(server|client|http|files|obs|logging|proto|tests)/'
readonly kAdapter='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]server/adapters/'
readonly kOtherAdapter='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]server/adapters/(aws/|[^/">]+[">])'
readonly kTransport='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]server/(api|rest)/'
readonly kServer='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]server/'

# check ROOT: prints violations under ROOT, returns 1 if there are any.
check() {
  local root=$1 found=0 dir rule pattern exclude hits rc
  while IFS=$'\t' read -r dir pattern rule exclude; do
    [[ -d "$root/$dir" ]] || continue
    rc=0
    hits=$(cd "$root" && grep -rnE --include='*.h' --include='*.cc' --include='*.hpp' \
      --include='*.cpp' --include='*.inc' ${exclude:+--exclude="$exclude"} "$pattern" "$dir") || rc=$?
    if ((rc > 1)); then
      echo "dependency_direction.sh: grep failed on $dir" >&2
      exit 2
    fi
    if [[ -n "$hits" ]]; then
      found=1
      while IFS= read -r hit; do
        # grep prints "path:line:text"; keep the include itself, trimmed.
        local where=${hit%%:*} rest=${hit#*:}
        local line=${rest%%:*} text=${rest#*:}
        text=$(sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//' <<<"$text")
        echo "$where:$line: $text ($rule)"
      done <<<"$hits"
    fi
  done < <(printf '%s\t%s\t%s\t%s\n' \
    core "$kGrpcOrProtobuf" "core must not include gRPC or protobuf headers" "" \
    core "$kOutsideCore" "core must include only core/ and third-party headers" "" \
    server/app "$kGrpcOrProtobuf" "the service layer must not include gRPC or protobuf headers" "" \
    server/app "$kTransport" "the service layer must not include a transport" "" \
    server/app "$kAdapter" "the service layer must not include an adapter (it takes the store interfaces)" "*_test.cc" \
    server/state "$kGrpcOrProtobuf" "the store interfaces must not include gRPC or protobuf headers" "" \
    server/state "$kTransport" "the store interfaces must not include a transport" "" \
    server/state "$kAdapter" "the store interfaces must not include an adapter" "" \
    server/adapters/redis "$kOtherAdapter" "the Redis adapters must not include another adapter" "" \
    server/adapters "$kGrpcOrProtobuf" "the state adapters must not include gRPC or protobuf headers" "" \
    server/adapters "$kTransport" "the state adapters must not include a transport" "" \
    files "$kGrpcOrProtobuf" "edgepass::files must not include gRPC or protobuf headers" "" \
    client/validator "$kGrpcOrProtobuf" "the validator library must not include gRPC or protobuf headers" "" \
    client/analyze "$kGrpcOrProtobuf" "the log analysis library must not include gRPC or protobuf headers" "" \
    client "$kServer" "client/ must not include server/ headers" "")
  return $found
}

self_test() {
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/core" "$tmp/client/sidecar" "$tmp/client/validator"
  printf '#include "absl/status/status.h"\n// #include "grpcpp/grpcpp.h" in a comment\n' \
    >"$tmp/core/ok.h"
  printf '#include <string>\n' >"$tmp/client/validator/ok.cc"
  if ! check "$tmp" >/dev/null; then
    echo "self-test: a clean tree (no server/app/) was reported" >&2
    return 1
  fi
  mkdir -p "$tmp/server/app"
  printf '#include <string>\n#include "grpcpp/grpcpp.h"\n' >"$tmp/core/a.cc"
  printf '  #  include <google/protobuf/arena.h>\n' >"$tmp/core/b.h"
  printf '#include "edgepass/v1/playback.pb.h"\n' >"$tmp/server/app/c.h"
  printf '#include "proto/x.pb.h"\n' >"$tmp/server/app/d.cc"
  printf '#include <grpc/grpc.h>\n' >"$tmp/client/validator/e.cc"
  printf '#include "server/adapters/atomic_file.h"\n' >"$tmp/client/sidecar/f.cc"
  printf '#include "http/http_message.h"\n' >"$tmp/core/g.cc"
  mkdir -p "$tmp/server/adapters/redis" "$tmp/server/state" "$tmp/files"
  printf '#include "server/api/status_map.h"\n' >"$tmp/server/app/h.cc"
  printf '#include <grpcpp/grpcpp.h>\n' >"$tmp/server/adapters/redis/i.cc"
  printf '#include "server/rest/rest_gateway.h"\n' >"$tmp/server/state/j.h"
  printf '#include "google/protobuf/message.h"\n' >"$tmp/files/k.h"
  printf '#include "server/adapters/file_secret_store.h"\n' >"$tmp/server/app/l.h"
  printf '#include "server/adapters/local_change_feed.h"\n' >"$tmp/server/app/m_test.cc"
  printf '#include "server/adapters/redis/redis_client.h"\n' >"$tmp/server/state/n.h"
  printf '#include "server/adapters/redis/redis_client.h"\n#include "server/adapters/cached_keyring_source.h"\n' \
    >"$tmp/server/adapters/redis/o.cc"
  local out
  if out=$(check "$tmp"); then
    echo "self-test: violations were not reported" >&2
    return 1
  fi
  local want
  for want in \
    'core/a.cc:2: #include "grpcpp/grpcpp.h" (core must not include gRPC or protobuf headers)' \
    'core/b.h:1: #  include <google/protobuf/arena.h> (core must not' \
    'server/app/c.h:1: #include "edgepass/v1/playback.pb.h" (the service layer must not' \
    'server/app/d.cc:1: #include "proto/x.pb.h" (the service layer must not' \
    'client/validator/e.cc:1: #include <grpc/grpc.h> (the validator library must not' \
    'client/sidecar/f.cc:1: #include "server/adapters/atomic_file.h" (client/ must not include server/ headers)' \
    'core/g.cc:1: #include "http/http_message.h" (core must include only core/' \
    'server/app/h.cc:1: #include "server/api/status_map.h" (the service layer must not include a transport)' \
    'server/adapters/redis/i.cc:1: #include <grpcpp/grpcpp.h> (the state adapters must not' \
    'server/state/j.h:1: #include "server/rest/rest_gateway.h" (the store interfaces must not include a transport)' \
    'files/k.h:1: #include "google/protobuf/message.h" (edgepass::files must not' \
    'server/app/l.h:1: #include "server/adapters/file_secret_store.h" (the service layer must not include an adapter' \
    'server/state/n.h:1: #include "server/adapters/redis/redis_client.h" (the store interfaces must not include an adapter)' \
    'server/adapters/redis/o.cc:2: #include "server/adapters/cached_keyring_source.h" (the Redis adapters must not include another'; do
    if ! grep -qF "$want" <<<"$out"; then
      printf 'self-test: missing %s\nin:\n%s\n' "$want" "$out" >&2
      return 1
    fi
  done
  if [[ $(wc -l <<<"$out") -ne 14 ]]; then  # m_test.cc: a test may run over an adapter; o.cc:1 is its own kind
    printf 'self-test: expected 14 violations, got:\n%s\n' "$out" >&2
    return 1
  fi
  echo "self-test: ok"
}

if [[ ${1:-} == --self-test ]]; then
  self_test
  exit
fi
root=${1:?usage: dependency_direction.sh SOURCE_DIR | --self-test}
if ! out=$(check "$root"); then
  echo "$out" >&2
  echo "dependency direction violated (see tests/dependency_direction.sh)" >&2
  exit 1
fi
echo "dependency direction: ok"
