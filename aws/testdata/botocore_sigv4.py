#!/usr/bin/env python3
"""Signs one request with botocore's SigV4Auth (the second, independent oracle
for the SigV4 signer) and prints the signed headers and the intermediate
strings as JSON. The clock is frozen to the given time.

usage: botocore_sigv4.py REQUEST_JSON
  {"method","url","headers":{...},"body","region","service","time":"20240103T000000Z",
   "access_key_id","secret_access_key","session_token"}
"""
import datetime
import json
import sys
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    spec = json.loads(sys.argv[1])
    when = datetime.datetime.strptime(spec["time"], "%Y%m%dT%H%M%SZ")
    credentials = Credentials(spec["access_key_id"], spec["secret_access_key"],
                              spec.get("session_token") or None)
    request = AWSRequest(method=spec["method"], url=spec["url"], data=spec["body"].encode(),
                         headers=spec["headers"])
    auth = SigV4Auth(credentials, spec["service"], spec["region"])
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        auth.add_auth(request)
    signed_headers = {k: v for k, v in request.headers.items()}
    # Recompute the intermediate strings as add_auth did: before Authorization.
    del request.headers["Authorization"]
    request.context["timestamp"] = request.headers["X-Amz-Date"]
    canonical = auth.canonical_request(request)
    print(json.dumps({
        "headers": signed_headers,
        "canonical_request": canonical,
        "string_to_sign": auth.string_to_sign(request, canonical),
    }))


if __name__ == "__main__":
    main()
