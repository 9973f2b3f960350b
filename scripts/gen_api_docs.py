#!/usr/bin/env python3
"""Generates docs/API.md from the comments in proto/edgepass/v1/*.proto.

Usage: gen_api_docs.py [--check]   (--check: exit 1 when docs/API.md is stale)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto" / "edgepass" / "v1"
OUT = ROOT / "docs" / "API.md"


def parse(text):
    """Yields (kind, name, comment, body_items) for services and messages."""
    lines = text.splitlines()
    comment, blocks, current = [], [], None
    for raw in lines:
        line = raw.strip()
        if line.startswith("//"):
            comment.append(line[2:].strip())
            continue
        m = re.match(r"(service|message)\s+(\w+)\s*\{", line)
        if m and current is None:
            current = {"kind": m.group(1), "name": m.group(2), "doc": " ".join(comment), "items": []}
        elif current is not None and line.startswith("rpc "):
            r = re.match(r"rpc\s+(\w+)\((\w+)\)\s+returns\s+\((stream\s+)?([\w.]+)\)", line)
            current["items"].append((r.group(1), f"`{r.group(2)}` → `{(r.group(3) or '')}{r.group(4)}`",
                                     " ".join(comment)))
        elif current is not None and re.match(r"(repeated\s+|map<[^>]+>\s+)?[\w.]+\s+\w+\s*=\s*\d+", line):
            f = re.match(r"((?:repeated\s+|map<[^>]+>\s+)?[\w.]+)\s+(\w+)\s*=", line)
            current["items"].append((f.group(2), f"`{f.group(1)}`", " ".join(comment)))
        elif current is not None and line == "}":
            blocks.append(current)
            current = None
        comment = [] if not line.startswith("//") else comment
    return blocks


def render():
    out = ["# edgepass API reference (`edgepass.v1`)", "",
           "Generated from `proto/edgepass/v1/*.proto` by `scripts/gen_api_docs.py`; do not edit.", ""]
    for path in sorted(PROTO_DIR.glob("*.proto")):
        blocks = parse(path.read_text())
        out += [f"## {path.name}", ""]
        for b in blocks:
            out += [f"### {b['kind']} `{b['name']}`", ""]
            if b["doc"]:
                out += [b["doc"], ""]
            if b["items"]:
                head = "| rpc | request → response | description |" if b["kind"] == "service" \
                    else "| field | type | description |"
                out += [head, "|---|---|---|"]
                out += [f"| `{n}` | {t} | {d} |" for n, t, d in b["items"]]
                out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run scripts/gen_api_docs.py", file=sys.stderr)
            sys.exit(1)
        sys.exit(0)
    OUT.write_text(text)
