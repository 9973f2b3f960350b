#!/usr/bin/env python3
"""Checks that docs/operations.md names only metrics and deny reasons the code has, and all of them.

Usage: check_doc_names.py <repo-root>
Metric names are the "edgepass_..." string literals of server/, client/ and
obs/ (each module lists its names in one place); deny reasons are the strings
core::ReasonName returns (core/validator.cc). A metric may appear in the doc
as its full name or, after a full name in the same table cell, as `_suffix`
("`edgepass_validator_ready`, `_keys`"). Exit 1 listing every difference.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
doc_path = root / "docs" / "operations.md"
doc = doc_path.read_text()

code_metrics = set()
for folder in ("server", "client", "obs"):
    for f in (root / folder).rglob("*"):
        if f.suffix in (".cc", ".h") and not f.name.endswith("_test.cc"):
            code_metrics.update(re.findall(r'"(edgepass_[a-z0-9_]+)"', f.read_text(errors="replace")))

reasons = set(re.findall(r'case Reason::k\w+: return "([a-z_]+)";',
                         (root / "core" / "validator.cc").read_text()))
reasons.discard("ok")

errors = []
if len(reasons) < 10 or len(code_metrics) < 10:
    errors.append(f"found only {len(reasons)} reasons and {len(code_metrics)} metrics in the code")

# Every backticked edgepass_* name in the doc must be a metric of the code,
# but for the nginx log format of deploy/nginx/edgepass.conf.
NOT_METRICS = {"edgepass_json"}
for name in sorted(set(re.findall(r"`(edgepass_[a-z0-9_]+)`", doc)) - NOT_METRICS):
    if name not in code_metrics:
        errors.append(f"{doc_path}: `{name}` is not a metric name in the code")
for name in sorted(code_metrics):
    short = "_" + name.split("_", 2)[2]
    if f"`{name}`" not in doc and f"`{short}`" not in doc:
        errors.append(f"{doc_path}: metric {name} is not documented")

# The deny-reason table: one row per reason, "| `reason` | ..." at a line start.
listed = set(re.findall(r"^\| `([a-z_]+)` \| (?:401|403)", doc, re.M))
for name in sorted(reasons - listed):
    errors.append(f"{doc_path}: deny reason {name} has no row in the deny-reason table")
for name in sorted(listed - reasons):
    errors.append(f"{doc_path}: deny reason {name} is not a core::ReasonName string")

for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
