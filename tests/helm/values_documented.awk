# Prints every key line of values.yaml that has no comment, neither on the
# line before nor on the line itself. Keys inside Kubernetes-shaped blocks
# (resources, *Resources, seccompProfile, capabilities, labels) are exempt:
# their block is documented. Used by chart_test.sh.
function indent_of(line) { match(line, /^ */); return RLENGTH }
/^[[:space:]]*#/ { prev_comment = 1; next }
/^[[:space:]]*$/ { prev_comment = 0; next }
{
  ind = indent_of($0)
  if (exempt >= 0 && ind > exempt) { prev_comment = 0; next }
  exempt = -1
  if ($0 ~ /^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*:/) {
    if (!prev_comment && $0 !~ /#/) print FILENAME ":" NR ": " $0
    if ($0 ~ /(resources|Resources|seccompProfile|capabilities|labels):[[:space:]]*$/) exempt = ind
  }
  prev_comment = 0
}
BEGIN { exempt = -1 }
