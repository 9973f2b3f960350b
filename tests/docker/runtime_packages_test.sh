#!/usr/bin/env bash
# The image's runtime package list covers what the binaries link: `ldd` of
# each built binary, every shared library mapped to its Debian package with
# `dpkg -S`, must be in deploy/docker/runtime-packages.txt; the list holds no
# package nothing links unless its line says "not linked:"; no library is
# missing; the Dockerfile installs both package lists and builds these
# binaries; every build package is a Debian package installed here (this
# machine built the binaries with them). No container engine is needed.
#
#   tests/docker/runtime_packages_test.sh SOURCE_DIR BINARY...
set -euo pipefail
src=$1
shift
runtime_list=$src/deploy/docker/runtime-packages.txt
build_list=$src/deploy/docker/build-packages.txt
dockerfile=$src/deploy/docker/Dockerfile
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
packages_of() { sed 's/#.*//' "$1" | tr -s ' \t' '\n' | sed '/^$/d'; }

declare -A listed=() needed=()
for p in $(packages_of "$runtime_list"); do listed[$p]=1; done
((${#listed[@]} > 0)) || fail "$runtime_list lists no package"

# Every library each binary links (path -> binary names).
declare -A users=()
for bin in "$@"; do
  [[ -x $bin ]] || { fail "$bin is not built"; continue; }
  name=$(basename "$bin")
  grep -qF "$name" "$dockerfile" || fail "$dockerfile does not install $name"
  ldd_out=$(ldd "$bin") || { fail "ldd $bin failed"; continue; }
  if grep -q "not found" <<<"$ldd_out"; then fail "$bin: $(grep "not found" <<<"$ldd_out")"; fi
  while read -r lib; do
    users[$lib]="${users[$lib]:-} $name"
  done < <(awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/.*ld-linux/ {print $1}' <<<"$ldd_out" | sort -u)
done

# Their packages, with one dpkg -S (it is slow per call). Debian 12 has merged
# /usr, so dpkg may know a file under /lib or /usr/lib, or only its target.
declare -A candidates_of=()
candidates=()
for lib in "${!users[@]}"; do
  real=$(readlink -f "$lib")
  list=""
  for c in "$lib" "$real"; do
    for alt in "$c" "${c#/usr}" "/usr$c"; do list="$list $alt"; candidates+=("$alt"); done
  done
  candidates_of[$lib]=$list
done
declare -A owner=()
if ((${#candidates[@]} > 0)); then
  while IFS= read -r line; do
    pkgs=${line%%: /*} path=/${line#*: /}
    owner[$path]=$(sed 's/,.*//; s/:[a-z0-9]*$//' <<<"$pkgs")
  done < <(dpkg -S "${candidates[@]}" 2>/dev/null || true)
fi
for lib in "${!users[@]}"; do
  pkg=""
  for c in ${candidates_of[$lib]}; do
    if [[ -n ${owner[$c]:-} ]]; then pkg=${owner[$c]}; break; fi
  done
  if [[ -z $pkg ]]; then
    fail "${users[$lib]# } links $lib, which no Debian package owns"
    continue
  fi
  needed[$pkg]=1
  [[ -n ${listed[$pkg]:-} ]] || fail "${users[$lib]# } links $lib from $pkg, which $runtime_list lacks"
done

for p in "${!listed[@]}"; do
  if [[ -z ${needed[$p]:-} ]] && ! grep -qE "^$p[[:space:]]+#.*not linked:" "$runtime_list"; then
    fail "$runtime_list lists $p, which no binary links (mark it \"# not linked: why\" if it is needed)"
  fi
done

grep -q 'deploy/docker/build-packages.txt' "$dockerfile" || fail "$dockerfile does not read build-packages.txt"
grep -q 'deploy/docker/runtime-packages.txt' "$dockerfile" || fail "$dockerfile does not read runtime-packages.txt"
grep -q 'scripts/build.sh' "$dockerfile" || fail "$dockerfile does not build with scripts/build.sh"
for p in $(packages_of "$build_list"); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    fail "build package $p is not installed here (not a Debian 12 package name?)"
done

if ((failures > 0)); then
  echo "runtime_packages_test: $failures failure(s)" >&2
  exit 1
fi
echo "runtime_packages_test: ${#needed[@]} linked packages, all in $runtime_list"
