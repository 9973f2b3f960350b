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
    """Yields services, messages and enums as dicts: kind, name, doc, items."""
    comment, blocks, current, depth = [], [], None, 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("//"):
            comment.append(line[2:].strip())
            continue
        doc = " ".join(comment)
        comment = []
        m = re.match(r"(service|message|enum)\s+(\w+)\s*\{(\s*\})?", line)
        if m and current is None:
            current = {"kind": m.group(1), "name": m.group(2), "doc": doc, "items": []}
            if m.group(3):  # message X {}
                blocks.append(current)
                current = None
            continue
        if current is None:
            continue
        if re.match(r"oneof\s+\w+\s*\{", line):
            depth += 1
        elif line.startswith("rpc "):
            r = re.match(r"rpc\s+(\w+)\((\w+)\)\s+returns\s+\((stream\s+)?([\w.]+)\)", line)
            current["items"].append((r.group(1), f"`{r.group(2)}` → `{(r.group(3) or '')}{r.group(4)}`", doc))
        elif current["kind"] == "enum" and re.match(r"\w+\s*=\s*\d+", line):
            e = re.match(r"(\w+)\s*=\s*(\d+)", line)
            current["items"].append((e.group(1), f"`{e.group(2)}`", doc))
        elif re.match(r"(repeated\s+|map<[^>]+>\s+)?[\w.]+\s+\w+\s*=\s*\d+", line):
            f = re.match(r"((?:repeated\s+|map<[^>]+>\s+)?[\w.]+)\s+(\w+)\s*=", line)
            if depth > 0:
                doc = f"(one of) {doc}".strip()
            current["items"].append((f.group(2), f"`{f.group(1)}`", doc))
        elif line == "}":
            if depth > 0:
                depth -= 1
            else:
                blocks.append(current)
                current = None
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
                head = {"service": "| rpc | request → response | description |",
                        "enum": "| value | number | description |"}.get(
                            b["kind"], "| field | type | description |")
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
