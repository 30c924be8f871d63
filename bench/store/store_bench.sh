#!/usr/bin/env bash
# Online store micro benchmark: store_bench on RocksDB and on a throw-away Redis server, with
# redis-benchmark's GET on the same server beside it as the reference for a networked read.
#
#   bench/store/store_bench.sh STORE_BENCH_BINARY [ENTITIES] [VALUE_BYTES] [LOOKUPS]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${1:?usage: store_bench.sh STORE_BENCH_BINARY [ENTITIES] [VALUE_BYTES] [LOOKUPS]}
entities=${2:-100000}
value_bytes=${3:-200}
lookups=${4:-20000}

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-store-bench.XXXXXX")
cleanup() {
  bash "$here/../../tests/redis/redis_server.sh" stop "$work/redis" >/dev/null 2>&1 || true
  rm -rf -- "$work"
}
trap cleanup EXIT

bash "$here/../../tests/redis/redis_server.sh" start "$work/redis" >/dev/null
# shellcheck disable=SC1091
source "$work/redis/env"

echo "entities=$entities value_bytes=$value_bytes lookups=$lookups, one client thread, $(nproc) cores"
"$bin" rocksdb "$work/rocksdb" "$entities" "$value_bytes" "$lookups"
"$bin" redis "redis://$REDIS_HOST:$REDIS_PORT/0" "$entities" "$value_bytes" "$lookups"
# The reference: one client, no pipelining, GET of a value the same size.
rps=$(redis-benchmark -h "$REDIS_HOST" -p "$REDIS_PORT" -c 1 -n "$lookups" -d "$value_bytes" \
  -t get --csv 2>/dev/null | awk -F'","' '/GET/ {print $2}')
p50=$(redis-benchmark -h "$REDIS_HOST" -p "$REDIS_PORT" -c 1 -n "$lookups" -d "$value_bytes" \
  -t get --csv 2>/dev/null | awk -F'","' '/GET/ {print $5}')
printf '| %-8s | redis-benchmark GET, 1 client | %9.0f req/s | p50 %7.1f us |\n' redis \
  "${rps%\"}" "$(awk -v ms="${p50%\"}" 'BEGIN {print ms * 1000}')"
