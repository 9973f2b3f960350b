#!/usr/bin/env bash
# Writes the fuzz seeds into a fresh <out-dir>: from the vectors and test data
# (make_seeds.py) and from the project's code (the seedgen binary).
# Usage: make_seeds.sh <vectors-dir> <repo-root> <out-dir> <seedgen>
set -euo pipefail
vectors=$1 root=$2 out=$3 seedgen=$4
rm -rf "$out"
mkdir -p "$out"
"${EDGEPASS_PYTHON:-python3}" "$(dirname "$0")/make_seeds.py" "$vectors" "$root" "$out"
"$seedgen" "$out"
echo "fuzz seeds in $out:"
for d in "$out"/*/; do echo "  $(basename "$d"): $(find "$d" -type f | wc -l)"; done
