#!/bin/sh
# Runs edgepass_bench once and prints each benchmark's cost over its raw
# HMAC-SHA256 baseline from the same run. Target: issue/raw and validate/raw <= 3,
# and issuing with the keyring's HMAC state <= 3x the same HMACs through it.
#   tests/bench/report.sh [path/to/edgepass_bench] [extra benchmark flags]
set -eu
bench=${1:-build/tests/bench/edgepass_bench}
[ $# -gt 0 ] && shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bench" --benchmark_format=json --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true "$@" > "$out"
python3 - "$out" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
t = {r["run_name"]: r["cpu_time"] for r in runs if r.get("aggregate_name", "median") == "median"}
unit = {r["run_name"]: r["time_unit"] for r in runs}
pairs = [("BM_IssueToken", "BM_IssueToken_RawHmacs", True),
         ("BM_IssueToken_KeyringMac", "BM_IssueToken_PrecomputedHmacs", True),
         ("BM_Validate", "BM_Validate_RawHmacs", True),
         ("BM_Validate_NoBindings", "BM_Validate_NoBindings_RawHmac", True),
         ("BM_RevocationLookup", "BM_RevocationLookup_RawHashSet", False)]
worst = 0.0
print(f"{'benchmark':32} {'median cpu':>12} {'baseline':>12} {'ratio':>7}")
for name, base, gated in pairs:
    if name not in t or base not in t:
        print(f"{name:32} missing"); continue
    ratio = t[name] / t[base]
    if gated: worst = max(worst, ratio)
    print(f"{name:32} {t[name]:9.1f} {unit[name]:2} {t[base]:9.1f} {unit[base]:2} {ratio:6.2f}x")
print(f"worst issue/validate ratio {worst:.2f}x (target <= 3x): {'OK' if worst <= 3 else 'OVER'}")
# Informational: against the same HMAC state the validator precomputes per key.
for name, base in [("BM_IssueToken", "BM_IssueToken_PrecomputedHmacs"),
                   ("BM_Validate", "BM_Validate_PrecomputedHmacs"),
                   ("BM_Validate_NoBindings", "BM_Validate_NoBindings_PrecomputedHmac")]:
    if name in t and base in t:
        print(f"{name:32} {t[name]:9.1f} {unit[name]:2} {t[base]:9.1f} {unit[base]:2} "
              f"{t[name] / t[base]:6.2f}x  (vs precomputed-key HMAC)")
# The issue's two HMACs with the key schedule done once, three ways.
for name in ["BM_IssueToken_PrecomputedHmacs", "BM_IssueToken_HmacCtxCopyHmacs",
             "BM_IssueToken_EvpMacDupHmacs"]:
    if name in t:
        print(f"{name:32} {t[name]:9.1f} {unit[name]:2}  (precomputed-key HMAC variant)")
counters = {r["run_name"].split("/")[0]: r for r in runs if r.get("aggregate_name") == "median"}
for name in ["BM_RevocationBuild", "BM_RevocationBuild_RawHashMap"]:
    if name in counters:
        r = counters[name]
        print(f"{name:32} {r['real_time']:9.1f} {r['time_unit']:2} to build "
              f"{r.get('entries', 0):,.0f} entries, resident +{r.get('rss_mb', 0):.1f} MB")
if "BM_RevocationParseJson" in counters:
    r = counters["BM_RevocationParseJson"]
    print(f"{'BM_RevocationParseJson':32} {r['real_time']:9.1f} {r['time_unit']:2} to parse "
          f"{r.get('entries', 0):,.0f} entries ({r.get('text_mb', 0):.0f} MB of JSON), "
          f"peak resident +{r.get('peak_mb', 0):.1f} MB")
PY
