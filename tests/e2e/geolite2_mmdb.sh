#!/usr/bin/env bash
# Installs npm's @ip-location-db/geolite2-country-mmdb (GeoLite2 country data
# in MaxMind's mmdb format, key `country_code`) under NPM_PREFIX, once per
# version (concurrent runs wait on a lock), and prints the database's path.
#
#   tests/e2e/geolite2_mmdb.sh NPM_PREFIX VERSION
#
# VERSION is an npm version ("2.3.2026061719") or "latest". npm comes from
# scripts/deps.sh.
set -euo pipefail
prefix=$1 version=$2
package=@ip-location-db/geolite2-country-mmdb

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "geolite2_mmdb: node and npm are required (scripts/deps.sh installs them)" >&2
  exit 1
fi
mkdir -p "$prefix"
exec 9>"$prefix/.install.lock"
flock 9
pkg=$prefix/node_modules/$package/package.json
installed=""
if [[ -f $pkg ]]; then
  installed=$(node -p 'require(process.argv[1]).version' "$pkg")
fi
if [[ -z $installed || ($version != latest && $installed != "$version") ]]; then
  echo "geolite2_mmdb: npm install $package@$version into $prefix" >&2
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$package@$version" >&2 || {
    echo "geolite2_mmdb: npm install $package@$version failed" >&2
    exit 1
  }
fi
db=$prefix/node_modules/$package/geolite2-country.mmdb
if [[ ! -s $db ]]; then
  echo "geolite2_mmdb: $db is missing after the install" >&2
  exit 1
fi
echo "$db"
