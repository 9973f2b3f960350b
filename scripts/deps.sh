#!/usr/bin/env bash
# Installs the Debian 12 packages edgepass needs to build and test, only those
# that are missing. Needs root (or sudo). Safe to run again.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config ccache git python3
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libssl-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev nginx wrk  # edgepass::http (Beast/Asio), sidecar e2e test and latency bench
  nghttp2-client  # h2load and nghttp for tests/bench/service_ratios.sh
  libnginx-mod-http-geoip2  # the GeoIP2 lines of deploy/nginx/edgepass.conf (geo e2e test)
  nginx-dev  # headers for building ngx_http_edgepass_module against Debian's nginx (client/nginx)
  libhiredis-dev redis-server
  redis-sentinel  # Sentinel failover tests (tests/support/redis_sentinel_group.h)
  prometheus-cpp-dev  # metrics endpoint of the server and the sidecar
  libjemalloc-dev     # the server's and the sidecar's malloc (EDGEPASS_JEMALLOC)
  prometheus          # ships promtool; the metrics test scrapes with a real server
  unzip curl          # helm out of npm's kubectl layer zip (tests/helm); the chart's server test
  clang libclang-rt-14-dev  # libFuzzer + ASan/UBSan runtimes (scripts/fuzz.sh)
  zlib1g-dev  # gzip CDN logs (client/analyze): streamed
  libdeflate-dev  # gzip CDN logs (client/analyze): small files whole, about twice as fast
  goaccess    # a peer for context in tests/bench/analyze_bench.cc (--log-format=CLOUDFRONT)
  libcurl4-openssl-dev  # edgepass::aws (Secrets Manager, STS)
  libyaml-cpp-dev  # YAML asset and policy files of `edgepass asset put` / `policy put` (client/cli)
  python3-venv          # the moto[server] venv below, where moto is missing
  ffmpeg                # the local fleet's test stream (deploy/local/make_media.sh)
  chromium chromium-driver  # the player page test drives headless Chromium (tests/player; over CDP with
                            # puppeteer-core from npm; chromedriver for WebDriver clients)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The CloudFront cross-check runs the AWS SDK with node; any node+npm will do
# (a NodeSource node already bundles npm, and Debian's npm would conflict).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if ((${#missing[@]} > 0)); then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Secrets Manager tests run moto's server (AWS emulation, Python) and the
# signer test botocore. Where moto_server is not on PATH, install moto[server]
# (it brings boto3/botocore) into a venv; tests/support/moto_server.cc looks
# there too (EDGEPASS_MOTO_VENV overrides the place).
MOTO_VENV=${EDGEPASS_MOTO_VENV:-/opt/edgepass-moto}
if ! command -v moto_server >/dev/null && [[ ! -x $MOTO_VENV/bin/moto_server ]]; then
  echo "deps: installing moto[server] into $MOTO_VENV" >&2
  $SUDO python3 -m venv "$MOTO_VENV"
  $SUDO "$MOTO_VENV/bin/pip" install -q 'moto[server]'
fi
