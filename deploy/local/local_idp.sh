#!/usr/bin/env bash
# A stand-in OpenID Connect provider for the local fleet's viewer mode: an RSA
# key, its JWKS, and ID tokens (RS256) signed with it, with openssl.
#
#   deploy/local/local_idp.sh init DIR             DIR/idp-key.pem (0600) and DIR/jwks.json
#   deploy/local/local_idp.sh token DIR [GROUP...] prints an ID token for viewer "local-viewer"
#                                                  in GROUPs (premium, standard, or none),
#                                                  valid 1 h
# Issuer http://127.0.0.1/local-idp, audience edgepass-player, groups claim
# "groups": what deploy/local/run.sh --viewer-mode starts the viewer replica with.
set -euo pipefail
cmd=${1:-} dir=${2:-}
[[ -n $cmd && -n $dir ]] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
shift 2
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
case $cmd in
  init)
    mkdir -p "$dir"
    (umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/idp-key.pem" 2>/dev/null)
    n=$(openssl rsa -in "$dir/idp-key.pem" -noout -modulus | sed 's/^Modulus=//' |
        python3 -c 'import sys,base64;print(base64.urlsafe_b64encode(bytes.fromhex(sys.stdin.read().strip())).decode().rstrip("="))')
    printf '{"keys":[{"kty":"RSA","kid":"local-idp-1","alg":"RS256","use":"sig","n":"%s","e":"AQAB"}]}\n' "$n" \
      >"$dir/jwks.json"
    ;;
  token)
    now=$(date +%s)
    groups=$(python3 -c 'import json,sys;print(json.dumps(sys.argv[1:]))' "$@")
    header=$(printf '{"alg":"RS256","typ":"JWT","kid":"local-idp-1"}' | b64url)
    claims=$(printf '{"iss":"http://127.0.0.1/local-idp","aud":"edgepass-player","sub":"local-viewer","iat":%d,"exp":%d,"groups":%s}' \
             "$now" $((now + 3600)) "$groups" | b64url)
    signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$dir/idp-key.pem" -binary | b64url)
    echo "$header.$claims.$signature"
    ;;
  *) echo "local_idp.sh: unknown command $cmd (init or token)" >&2; exit 2 ;;
esac
