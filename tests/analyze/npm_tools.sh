#!/usr/bin/env bash
# Installs the npm packages the SQL checks of `edgepass analyze` use under
# NPM_PREFIX, once per version set (concurrent runs wait on a lock):
#   @duckdb/node-api  DuckDB with its engine prebuilt (the older `duckdb`
#                     package compiles DuckDB from source: never use it);
#   dt-sql-parser     parsers generated from Trino's own ANTLR grammar.
#
#   tests/analyze/npm_tools.sh NPM_PREFIX DUCKDB_VERSION DT_SQL_PARSER_VERSION
# node and npm come from scripts/deps.sh.
set -euo pipefail
prefix=$1 duckdb=$2 parser=$3

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "npm_tools: node and npm are required (scripts/deps.sh installs them)" >&2
  exit 1
fi
mkdir -p "$prefix"
exec 9>"$prefix/.install.lock"
flock 9
want="@duckdb/node-api@$duckdb dt-sql-parser@$parser"
if [[ ! -f $prefix/.installed || $(cat "$prefix/.installed") != "$want" ]]; then
  echo "npm_tools: npm install $want into $prefix" >&2
  # shellcheck disable=SC2086
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error $want >&2 || {
    echo "npm_tools: npm install $want failed" >&2
    exit 1
  }
  echo "$want" >"$prefix/.installed"
fi
