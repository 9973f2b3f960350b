#!/usr/bin/env bash
# The alert rules (deploy/prometheus/edgepass-rules.yaml, the chart's
# PrometheusRule spec): `promtool check rules`, `promtool test rules` on
# edgepass-rules.test.yaml, and every alert has at least one firing case there.
#
#   tests/prometheus/rules_test.sh SOURCE_DIR PROMTOOL
set -euo pipefail
src=$1 promtool=$2
rules=$src/deploy/prometheus/edgepass-rules.yaml
tests=$src/tests/prometheus/edgepass-rules.test.yaml
"$promtool" check rules "$rules"
(cd "$(dirname "$tests")" && "$promtool" test rules "$(basename "$tests")")
missing=0
for alert in $(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\) *$/\1/p' "$rules"); do
  # A firing case: "alertname: X" followed by a non-empty "exp_alerts:".
  if ! grep -A1 -E "^ *alertname: $alert\$" "$tests" | grep -qE '^ *exp_alerts: *$'; then
    echo "rules_test: alert $alert has no firing case in $tests" >&2
    missing=$((missing + 1))
  fi
done
((missing == 0))
echo "rules_test: every alert is checked and unit-tested"
