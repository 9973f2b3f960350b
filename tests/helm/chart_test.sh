#!/usr/bin/env bash
# The Helm chart, offline: `helm lint --strict` and `helm template` for the
# default values, each helm/edgepass/variants/*.yaml and the default with the
# Prometheus Operator objects on; every rendered object passes the offline
# schema check (check_manifests.js: Kubernetes API schemas from
# kubernetes-models, a structural check of ServiceMonitor/PrometheusRule, the
# embedded nginx config, rules and dashboard unchanged); values.yaml has a
# comment on every key; NOTES.txt renders with a first playback URL;
# values.schema.json and the chart's own checks refuse
# bad values with the value named.
#
#   tests/helm/chart_test.sh SOURCE_DIR TOOLS_PREFIX LAYER_VERSION MODELS_VERSION YAML_VERSION
#
# Tools are installed under TOOLS_PREFIX (a cache dir in the build tree) by
# install_tools.sh. Nothing is left behind: helm's home dirs live in a temp
# dir removed on exit.
set -euo pipefail
src=$1 prefix=$2
here=$(cd "$(dirname "$0")" && pwd)
"$here/install_tools.sh" "$prefix" "$3" "$4" "$5"
helm=$prefix/bin/helm
chart=$src/helm/edgepass

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HELM_CACHE_HOME=$work/helm-cache HELM_CONFIG_HOME=$work/helm-config HELM_DATA_HOME=$work/helm-data
export NODE_PATH=$prefix/node_modules
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# helm warns on stderr about the chart's symlinks into deploy/ (files/*): expected.
quiet() { grep -v 'found symbolic link in path' || true; }

# A copy of the chart (symlinks resolved) with one more template that renders
# NOTES.txt into a ConfigMap, since helm renders NOTES only when installing.
notes_chart=$work/notes-chart
cp -rL "$chart" "$notes_chart"
cat >"$notes_chart/templates/zz-notes-check.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: notes-check}
data:
  notes: |
    {{- include "edgepass/templates/NOTES.txt" . | nindent 4 }}
EOF

# Renders and checks one set of values: NAME then helm arguments.
check_variant() {
  local name=$1
  shift
  local out=$work/$name.yaml
  if ! "$helm" lint --strict "$chart" "$@" >"$work/$name.lint" 2>&1; then
    fail "helm lint $name: $(quiet <"$work/$name.lint")"
    return
  fi
  if ! "$helm" template edgepass "$chart" --namespace media "$@" >"$out" 2>"$work/$name.err"; then
    fail "helm template $name: $(quiet <"$work/$name.err")"
    return
  fi
  if ! node "$here/check_manifests.js" "$out" "$src"; then
    fail "schema check $name"
  fi
  # NOTES.txt renders and says how to get a first playback URL.
  if ! "$helm" template edgepass "$notes_chart" --namespace media "$@" \
      --show-only templates/zz-notes-check.yaml >"$work/$name.notes" 2>"$work/$name.notes.err"; then
    fail "NOTES.txt $name: $(quiet <"$work/$name.notes.err")"
  elif ! grep -q '/v1/assets/1/playback' "$work/$name.notes" || grep -q '<no value>' "$work/$name.notes"; then
    fail "NOTES.txt $name does not show a first playback URL: $(cat "$work/$name.notes")"
  fi
}

check_variant default
check_variant default-monitoring \
  --set monitoring.serviceMonitor.enabled=true --set monitoring.prometheusRule.enabled=true
check_variant minimal --set edge.enabled=false --set server.ports.rest=0 --set server.ports.metrics=0 \
  --set monitoring.grafanaDashboard.enabled=false --set access.generateKeys=false \
  --set 'access.apiKeys[0].name=backend' --set "access.apiKeys[0].sha256=$(printf '%064d' 0)" \
  --set 'access.apiKeys[0].scopes[0]=issue'
for values in "$chart"/variants/*.yaml; do
  check_variant "variant-$(basename "$values" .yaml)" -f "$values"
done

# Each variant renders what it is for.
expect_in() {  # expect_in VARIANT TEXT: TEXT appears in the variant's rendering
  grep -qF -- "$2" "$work/$1.yaml" || fail "$1: rendering lacks $2"
}
expect_not_in() {
  if grep -qF -- "$2" "$work/$1.yaml"; then fail "$1: rendering has $2"; fi
}
expect_in default '"redis_addr": "edgepass-redis-0.edgepass-redis-headless.media.svc:6379"'
expect_in default 'grpc:'  # kubelet gRPC probe (grpc.health.v1) without TLS
expect_in default 'kind: HorizontalPodAutoscaler'
expect_in default '--api-key-file=/run/edgepass/edge-api-key'
expect_not_in minimal 'name: edgepass-edge'
expect_not_in minimal 'name: edgepass-rest'
expect_not_in minimal 'name: edgepass-metrics'
expect_in minimal '"rest_addr": ""'
expect_in minimal '"metrics_addr": ""'
expect_in default-monitoring 'kind: ServiceMonitor'
expect_in default-monitoring 'kind: PrometheusRule'
expect_in variant-embedded 'kind: PersistentVolumeClaim'
expect_in variant-embedded 'type: Recreate'
expect_not_in variant-embedded '"redis_'
expect_not_in variant-embedded 'kind: HorizontalPodAutoscaler'
expect_in variant-external-redis '"redis_addr": "redis-primary.data.svc.cluster.local:6379"'
expect_not_in variant-external-redis 'kind: StatefulSet'
expect_in variant-sentinel '"redis_sentinels": "edgepass-redis-0.edgepass-redis-headless.media.svc:26379,edgepass-redis-1.'
expect_in variant-sentinel '"redis_sentinel_master": "mymaster"'
expect_in variant-sentinel '"redis_wait_replicas": "1"'
expect_in variant-sentinel 'exec redis-server "$CONF_DIR/sentinel.conf" --sentinel'
expect_in variant-secrets-manager '"secrets_store": "aws"'
expect_in variant-secrets-manager '"aws_secret_id": "edgepass/keyring"'
expect_in variant-secrets-manager 'eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/edgepass-secrets'
expect_in variant-secrets-manager '"key_rotation_schedule": "cron(0 3 ? * 1#1 *)"'
expect_not_in variant-secrets-manager 'edgepass-keyring'
expect_in variant-mtls '"tls_client_ca": "/etc/edgepass/tls/ca.crt"'
expect_in variant-mtls '--client-cert=/etc/edgepass/client/tls.crt'
expect_in variant-mtls 'tcpSocket:'  # kubelet's gRPC probe cannot speak TLS
expect_not_in variant-mtls 'insecure_plaintext'

# values.yaml is documented line by line.
undocumented=$(awk -f "$here/values_documented.awk" "$chart/values.yaml")
[[ -z $undocumented ]] || fail "values.yaml keys without a comment: $undocumented"

# Bad values are refused, naming the value: NEEDLE then helm arguments.
expect_refused() {
  local needle=$1
  shift
  if "$helm" template edgepass "$chart" "$@" >"$work/refused.yaml" 2>"$work/refused.err"; then
    fail "helm template $* was accepted"
  elif ! grep -qF -- "$needle" "$work/refused.err"; then
    fail "helm template $*: error does not name $needle: $(quiet <"$work/refused.err")"
  fi
}
expect_refused 'server.replicaCount' --set server.replicaCount=two
expect_refused 'server.ports.grpc' --set-string server.ports.grpc=50051
expect_refused 'redis.mode' --set redis.mode=cluster
expect_refused 'server.defaultTokenTtl' --set server.defaultTokenTtl=1hour
expect_refused 'access.apiKeys.0.sha256' --set 'access.apiKeys[0].name=a' \
  --set 'access.apiKeys[0].sha256=xyz' --set 'access.apiKeys[0].scopes[0]=issue'
expect_refused 'access.apiKeys.0.scopes.0' --set 'access.apiKeys[0].name=a' \
  --set "access.apiKeys[0].sha256=$(printf '%064d' 0)" --set 'access.apiKeys[0].scopes[0]=everything'
expect_refused 'serverr' --set serverr.replicaCount=1  # unknown top-level key
expect_refused 'tls.enabled=false needs tls.allowPlaintext=true' --set tls.allowPlaintext=false
expect_refused 'redis.mode=none' --set redis.mode=none
expect_refused 'redis.external.addr' --set redis.mode=external
expect_refused 'redis.bundled.downAfterMilliseconds' --set redis.bundled.downAfterMilliseconds=1000
expect_refused 'secretsStore.aws.region' --set secretsStore.type=aws --set secretsStore.aws.secretId=x

if ((failures > 0)); then
  echo "chart_test: $failures failure(s)" >&2
  exit 1
fi
echo "chart_test: lint, render and schema checks pass ($(ls "$work"/*.yaml | wc -l) renderings)"
