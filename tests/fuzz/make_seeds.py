#!/usr/bin/env python3
"""Writes fuzz seeds derived from the test vectors and the project's test data.

Usage: make_seeds.py <vectors-dir> <repo-root> <out-dir>
Writes <out-dir>/<target>/<name> for the targets whose seeds come from data
files; tests/fuzz/seedgen.cc writes the ones that need the project's code and
tests/fuzz/corpus/ holds small hand-made ones (and regression inputs).
"""
import base64
import json
import pathlib
import sys


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def write(out, target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def token_seeds(vectors, out):
    path = vectors / "smd_tokens_public.json"
    if not path.exists():
        print(f"make_seeds: no {path}; token seeds skipped", file=sys.stderr)
        return
    for case in json.loads(path.read_text())["cases"]:
        event = case["request_event"]
        req = event["request"]
        now = case.get("validation_time_ms", 1767225600000) // 1000
        lines = [str(now), event.get("viewer", {}).get("ip", ""), req["uri"]]
        extra = []
        for name, v in req.get("headers", {}).items():
            value = v.get("value", "") if isinstance(v, dict) else str(v)
            extra.append(f"H {name}: {value}")
        for name, v in req.get("querystring", {}).items():
            value = v.get("value", "") if isinstance(v, dict) else str(v)
            extra.append(f"Q {name}={value}")
        write(out, "token_validator", case["id"] + "_request", "\n".join(lines + extra) + "\n")
        # token explain: the same request as a URL, its path left empty.
        explain = [f"https://cdn.example.com{req['uri']}", lines[1], ""] + extra
        write(out, "token_explain", case["id"] + "_url", "\n".join(explain) + "\n")

        # The same request with the token rebuilt (and re-signed) from its
        # parts, so mutations of the header and payload JSON pass the signature.
        segment = req["uri"].split("/")[1]
        parts = segment.split(".")
        if len(parts) not in (3, 4):
            continue
        sid = parts[0] if len(parts) == 4 else ""
        header, payload = parts[-3], parts[-2]
        try:
            header_json = b64url_decode(header).decode()
            payload_json = b64url_decode(payload).decode()
        except (ValueError, UnicodeDecodeError):
            continue
        rest = req["uri"][1 + len(segment):]
        signed = [str(now), lines[1], rest] + extra
        if sid:
            signed.append(f"S {sid}")
        signed += [f"J {header_json}", f"P {payload_json}"]
        write(out, "token_validator", case["id"] + "_resigned", "\n".join(signed) + "\n")
        write(out, "claims_differential", case["id"], payload_json)


def cloudfront_seeds(root, out):
    path = root / "tests" / "cloudfront" / "cases.json"
    if not path.exists():
        return
    doc = json.loads(path.read_text())
    for case in doc["cases"]:
        url = case.get("url", "")
        name = case["name"]
        write(out, "cloudfront", name + "_url", b"\x01" + url.encode())
        ip = case.get("client_ip", "198.51.100.1")
        resource = case.get("policy_resource", url)
        expires = case.get("expires_ms", 1800003600000) // 1000
        cond = {"DateLessThan": {"AWS:EpochTime": expires}}
        if "not_before_ms" in case:
            cond["DateGreaterThan"] = {"AWS:EpochTime": case["not_before_ms"] // 1000}
        if case.get("ip_range"):
            cond["IpAddress"] = {"AWS:SourceIp": case["ip_range"]}
        policy = json.dumps({"Statement": [{"Resource": resource, "Condition": cond}]},
                            separators=(",", ":"))
        write(out, "cloudfront", name + "_policy", b"\x00" + policy.encode())
        write(out, "cloudfront", name + "_signed",
              b"\x04" + f"{policy}\n{case.get('request_url', url)}\n{ip}".encode())


def http_seeds(vectors, out):
    sigv4 = vectors / "sigv4" / "v4"
    if not sigv4.is_dir():
        return
    for request in sorted(sigv4.glob("*/request.txt")):
        raw = request.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not raw.endswith(b"\r\n\r\n"):
            raw = raw.rstrip(b"\r\n") + b"\r\n\r\n"
        write(out, "http_request", request.parent.name, b"\x07" + raw)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    vectors, root, out = (pathlib.Path(a) for a in sys.argv[1:])
    token_seeds(vectors, out)
    cloudfront_seeds(root, out)
    http_seeds(vectors, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
