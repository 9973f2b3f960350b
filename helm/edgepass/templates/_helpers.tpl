{{/* Names, labels and the server's config.json. */}}

{{- define "edgepass.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "edgepass.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "edgepass.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "edgepass.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: edgepass
{{- end -}}

{{/* Selector labels of one component: include "edgepass.selector" (list . "server") */}}
{{- define "edgepass.selector" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ include "edgepass.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "edgepass.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "edgepass.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "edgepass.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "edgepass.redisName" -}}{{ include "edgepass.fullname" . }}-redis{{- end -}}

{{/* HOST:PORT list of the bundled Sentinels. */}}
{{- define "edgepass.bundledSentinels" -}}
{{- $name := include "edgepass.redisName" . -}}
{{- $list := list -}}
{{- range $i := until 3 -}}
{{- $list = append $list (printf "%s-%d.%s-headless.%s.svc:26379" $name $i $name $.Release.Namespace) -}}
{{- end -}}
{{- join "," $list -}}
{{- end -}}

{{- define "edgepass.fleet" -}}{{ if ne .Values.redis.mode "none" }}true{{ end }}{{- end -}}

{{/* Secret names. */}}
{{- define "edgepass.accessSecret" -}}{{ default (printf "%s-access" (include "edgepass.fullname" .)) .Values.access.existingSecret }}{{- end -}}
{{- define "edgepass.keySecret" -}}{{ include "edgepass.fullname" . }}-api-keys{{- end -}}
{{- define "edgepass.keyringSecret" -}}{{ default (printf "%s-keyring" (include "edgepass.fullname" .)) .Values.secretsStore.file.existingSecret }}{{- end -}}
{{- define "edgepass.hasAccess" -}}{{ if or .Values.access.existingSecret .Values.access.apiKeys .Values.access.mtls .Values.access.generateKeys }}true{{ end }}{{- end -}}
{{- define "edgepass.hasKeyringSecret" -}}{{ if and (eq .Values.secretsStore.type "file") (or .Values.secretsStore.file.existingSecret .Values.secretsStore.file.generate) }}true{{ end }}{{- end -}}

{{/*
The generated API keys, stable across upgrades: read back from the cluster
(lookup) when the Secret exists, else new. A dict {backend, edge}.
*/}}
{{- define "edgepass.generatedKeys" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "edgepass.keySecret" .) -}}
{{- if and $existing $existing.data -}}
{{- dict "backend" (index $existing.data "backend" | b64dec) "edge" (index $existing.data "edge" | b64dec) | toJson -}}
{{- else -}}
{{- dict "backend" (printf "ep_%s" (randAlphaNum 43)) "edge" (printf "ep_%s" (randAlphaNum 43)) | toJson -}}
{{- end -}}
{{- end -}}

{{/* Refuses combinations the server would refuse at start, with the value named. */}}
{{- define "edgepass.validate" -}}
{{- if and (eq .Values.redis.mode "none") (or (gt (int .Values.server.replicaCount) 1) .Values.autoscaling.enabled) -}}
{{- fail "redis.mode=none (embedded) keeps state in one pod's data dir: set server.replicaCount=1 and autoscaling.enabled=false, or use redis.mode external/bundled" -}}
{{- end -}}
{{- if and (eq .Values.redis.mode "external") (not .Values.redis.external.addr) (not .Values.redis.external.sentinels) -}}
{{- fail "redis.mode=external needs redis.external.addr or redis.external.sentinels" -}}
{{- end -}}
{{- if and (not .Values.tls.enabled) (not .Values.tls.allowPlaintext) -}}
{{- fail "tls.enabled=false needs tls.allowPlaintext=true (the server listens on all interfaces: --insecure-plaintext)" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.existingSecret) -}}
{{- fail "tls.enabled=true needs tls.existingSecret (a kubernetes.io/tls Secret)" -}}
{{- end -}}
{{- if and (eq .Values.secretsStore.type "aws") (not .Values.secretsStore.aws.region) -}}
{{- fail "secretsStore.type=aws needs secretsStore.aws.region" -}}
{{- end -}}
{{- if and (eq .Values.secretsStore.type "aws") (not .Values.secretsStore.aws.secretId) (not .Values.secretsStore.aws.smdStackName) -}}
{{- fail "secretsStore.type=aws needs secretsStore.aws.secretId or secretsStore.aws.smdStackName" -}}
{{- end -}}
{{- if and (include "edgepass.fleet" .) (eq .Values.secretsStore.type "file") (not (include "edgepass.hasKeyringSecret" .)) -}}
{{- fail "fleet mode with secretsStore.type=file needs the same keyring in every replica: set secretsStore.file.existingSecret or secretsStore.file.generate=true" -}}
{{- end -}}
{{- if and .Values.edge.enabled (not .Values.edge.clientCertSecret) (not .Values.access.generateKeys) -}}
{{- fail "edge.enabled needs an edge-sync credential: access.generateKeys=true or edge.clientCertSecret" -}}
{{- end -}}
{{- if and .Values.edge.clientCertSecret (not .Values.tls.enabled) -}}
{{- fail "edge.clientCertSecret (mTLS) needs tls.enabled=true" -}}
{{- end -}}
{{- if and .Values.keyRotation.interval .Values.keyRotation.schedule -}}
{{- fail "keyRotation: set interval or schedule, not both" -}}
{{- end -}}
{{- end -}}

{{/* config.json of edgepass-server (keys: docs/configuration.md). */}}
{{- define "edgepass.config" -}}
{{- $v := .Values -}}
{{- $c := dict
  "grpc_addr" (printf "0.0.0.0:%d" (int $v.server.ports.grpc))
  "rest_addr" (ternary (printf "0.0.0.0:%d" (int $v.server.ports.rest)) "" (gt (int $v.server.ports.rest) 0))
  "metrics_addr" (ternary (printf "0.0.0.0:%d" (int $v.server.ports.metrics)) "" (gt (int $v.server.ports.metrics) 0))
  "data_dir" "/var/lib/edgepass"
  "default_token_ttl" $v.server.defaultTokenTtl
  "max_token_ttl" $v.server.maxTokenTtl
  "shutdown_grace" $v.server.shutdownGrace
  "key_cache_ttl" $v.server.keyCacheTtl
-}}
{{- if $v.server.trustedProxies }}{{ $_ := set $c "trusted_proxies" $v.server.trustedProxies }}{{ end -}}
{{- if $v.catalog.seed }}{{ $_ := set $c "catalog_file" "/etc/edgepass/catalog/catalog.json" }}{{ end -}}
{{- if include "edgepass.hasAccess" . }}{{ $_ := set $c "access_file" "/etc/edgepass/access/access.json" }}{{ else }}{{ $_ := set $c "insecure_allow_remote" true }}{{ end -}}
{{- if $v.tls.enabled -}}
{{- $_ := set $c "tls_cert" "/etc/edgepass/tls/tls.crt" -}}
{{- $_ := set $c "tls_key" "/etc/edgepass/tls/tls.key" -}}
{{- if $v.tls.clientCa -}}
{{- $_ := set $c "tls_client_ca" "/etc/edgepass/tls/ca.crt" -}}
{{- $_ := set $c "tls_client_cert" $v.tls.clientCert -}}
{{- end -}}
{{- else -}}
{{- $_ := set $c "insecure_plaintext" true -}}
{{- end -}}
{{- if ne $v.redis.mode "none" -}}
{{- $_ := set $c "redis_pool_size" (toString $v.server.redisPoolSize) -}}
{{- $_ := set $c "redis_timeout" $v.server.redisTimeout -}}
{{- if and (eq $v.redis.mode "bundled") $v.redis.bundled.sentinel -}}
{{- $_ := set $c "redis_sentinels" (include "edgepass.bundledSentinels" .) -}}
{{- $_ := set $c "redis_sentinel_master" $v.redis.bundled.masterName -}}
{{- else if eq $v.redis.mode "bundled" -}}
{{- $_ := set $c "redis_addr" (printf "%s-0.%s-headless.%s.svc:6379" (include "edgepass.redisName" .) (include "edgepass.redisName" .) .Release.Namespace) -}}
{{- else if $v.redis.external.sentinels -}}
{{- $_ := set $c "redis_sentinels" (join "," $v.redis.external.sentinels) -}}
{{- $_ := set $c "redis_sentinel_master" $v.redis.external.sentinelMaster -}}
{{- else -}}
{{- $_ := set $c "redis_addr" $v.redis.external.addr -}}
{{- end -}}
{{- if gt (int $v.redis.waitReplicas) 0 -}}
{{- $_ := set $c "redis_wait_replicas" (toString $v.redis.waitReplicas) -}}
{{- $_ := set $c "redis_wait_timeout" $v.redis.waitTimeout -}}
{{- end -}}
{{- end -}}
{{- if eq $v.secretsStore.type "aws" -}}
{{- $_ := set $c "secrets_store" "aws" -}}
{{- $_ := set $c "aws_region" $v.secretsStore.aws.region -}}
{{- if $v.secretsStore.aws.endpoint }}{{ $_ := set $c "aws_endpoint" $v.secretsStore.aws.endpoint }}{{ end -}}
{{- if $v.secretsStore.aws.secretId }}{{ $_ := set $c "aws_secret_id" $v.secretsStore.aws.secretId }}{{ end -}}
{{- if $v.secretsStore.aws.smdStackName }}{{ $_ := set $c "smd_stack_name" $v.secretsStore.aws.smdStackName }}{{ end -}}
{{- end -}}
{{- if $v.keyRotation.interval }}{{ $_ := set $c "key_rotation_interval" $v.keyRotation.interval }}{{ end -}}
{{- if $v.keyRotation.schedule }}{{ $_ := set $c "key_rotation_schedule" $v.keyRotation.schedule }}{{ end -}}
{{- if $v.keyRotation.ackDeadline }}{{ $_ := set $c "key_rotation_ack_deadline" $v.keyRotation.ackDeadline }}{{ end -}}
{{- range $k, $val := $v.server.extraConfig }}{{ $_ := set $c $k $val }}{{ end -}}
{{- toPrettyJson $c -}}
{{- end -}}
