#!/usr/bin/env bash
# Produces objs/ngx_auto_config.h and objs/ngx_auto_headers.h for building
# ngx_http_edgepass_module against Debian's nginx: runs the configure script
# that nginx-dev ships (SRC = /usr/share/nginx/src) with the flags Debian built
# its nginx with (SRC/conf_flags), in a copy under OUT. The same flags give the
# same macros, hence the same NGX_MODULE_SIGNATURE, which `load_module` checks.
#
#   client/nginx/configure_nginx.sh /usr/share/nginx/src build/client/nginx/nginx-src
set -euo pipefail
src=${1:?usage: configure_nginx.sh NGINX_DEV_SRC OUT_DIR}
out=${2:?usage: configure_nginx.sh NGINX_DEV_SRC OUT_DIR}
[[ -f "$src/conf_flags" && -x "$src/configure" ]] || {
  echo "configure_nginx.sh: $src is not nginx-dev's source tree (apt-get install nginx-dev)" >&2
  exit 1
}
rm -rf "$out"
mkdir -p "$out"
cp -r "$src/auto" "$src/src" "$src/configure" "$out/"
# shellcheck disable=SC1091
source "$src/conf_flags"  # NGX_CONF_FLAGS=( ... )
cd "$out"
if ! ./configure "${NGX_CONF_FLAGS[@]}" >configure.log 2>&1; then
  echo "configure_nginx.sh: nginx configure failed; see $out/configure.log" >&2
  tail -20 configure.log >&2
  exit 1
fi
test -f objs/ngx_auto_config.h
