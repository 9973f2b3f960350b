#!/usr/bin/env bash
# ctest entry of the player page test: installs puppeteer-core from npm into
# NPM_PREFIX (once per version; concurrent runs wait on a lock), then runs
# tests/player/player_test.mjs, which starts deploy/local/run.sh and drives
# CHROMIUM (Debian's) headless. Screenshots and the fleet's log go to ARTIFACTS.
#
#   tests/player/player_test.sh ROOT BUILD_DIR ARTIFACTS NPM_PREFIX PUPPETEER_VERSION CHROMIUM [SCENARIO...]
set -euo pipefail
root=$1 build=$2 artifacts=$3 prefix=$4 version=$5 chromium=$6
shift 6
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "player_test: node and npm are required (scripts/deps.sh installs them)" >&2
  exit 1
fi
mkdir -p "$prefix"
(
  flock 9
  want="puppeteer-core@$version"
  if [[ ! -f $prefix/.installed || $(cat "$prefix/.installed") != "$want" ]]; then
    echo "player_test: npm install $want into $prefix" >&2
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$want" >&2
    echo "$want" >"$prefix/.installed"
  fi
) 9>"$prefix/.install.lock"
rm -rf "$artifacts"
mkdir -p "$artifacts"
exec node "$root/tests/player/player_test.mjs" "$root" "$build" "$artifacts" "$prefix" "$chromium" "$@"
