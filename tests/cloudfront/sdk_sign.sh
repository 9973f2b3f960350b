#!/usr/bin/env bash
# Runs sdk_sign.js with @aws-sdk/cloudfront-signer installed under NPM_PREFIX
# (npm install --prefix, once per version; concurrent runs wait on a lock).
# node and npm come from Debian (nodejs, npm); when they are missing this
# installs them with apt-get as root (or sudo -n), and fails clearly otherwise.
#
#   tests/cloudfront/sdk_sign.sh NPM_PREFIX VERSION PRIVATE_KEY.pem CASES.json
#
# VERSION is an npm version ("3.1166.0") or "latest".
set -euo pipefail
prefix=$1 version=$2 key=$3 cases=$4
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$prefix"
exec 9>"$prefix/.install.lock"
flock 9

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "sdk_sign: node and npm are required: apt-get install nodejs npm (needs root)" >&2
      exit 1
    fi
  fi
  echo "sdk_sign: installing nodejs npm with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq nodejs npm >&2 ||
    { $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq nodejs npm >&2; } || {
    echo "sdk_sign: apt-get install nodejs npm failed" >&2
    exit 1
  }
fi

pkg=$prefix/node_modules/@aws-sdk/cloudfront-signer/package.json
installed=""
if [[ -f $pkg ]]; then
  installed=$(node -p 'require(process.argv[1]).version' "$pkg")
fi
if [[ -z $installed || ($version != latest && $installed != "$version") ]]; then
  echo "sdk_sign: npm install @aws-sdk/cloudfront-signer@$version into $prefix" >&2
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    "@aws-sdk/cloudfront-signer@$version" >&2 || {
    echo "sdk_sign: npm install @aws-sdk/cloudfront-signer@$version failed" >&2
    exit 1
  }
fi
flock -u 9

exec node "$here/sdk_sign.js" "$prefix" "$key" "$cases"
