#!/usr/bin/env bash
# Serving benchmark (issue 6): `sluice serve` under wrk on loopback, with RocksDB and Redis as
# the online store, 1 and 100 entities x 10 features per request, SBENCH_ENTITIES (default
# 1 million) entities materialized; redis-benchmark GET (non-pipelined) in the same run as the
# reference for one networked key-value read; and materialization throughput. Prints a
# Markdown table. Run by `make bench-serve`; see bench/serve/README.md.
#
#   bench/serve/run.sh BUILD_DIR
#
# Environment:
#   SBENCH_ENTITIES     entities (accounts) materialized (default 1000000)
#   SBENCH_EVENTS       events per entity (default 3)
#   SBENCH_SECONDS      seconds per wrk run (default 10)
#   SBENCH_CONNECTIONS  wrk connections for saturating runs (default 4)
#   SBENCH_THREADS      sluice serve --threads: event loops (default 0: sluice's default, one
#                       per core; earlier tables used 24, see README.md)
#   SBENCH_REDIS        1 = also the Redis backend and redis-benchmark (default 1)
#   SBENCH_DIR          work folder (default BUILD_DIR/sbench-work; the data is reused)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
sluice=$build/bin/sluice
entities=${SBENCH_ENTITIES:-1000000}
events=${SBENCH_EVENTS:-3}
seconds=${SBENCH_SECONDS:-10}
conns=${SBENCH_CONNECTIONS:-4}
server_threads=${SBENCH_THREADS:-0}
with_redis=${SBENCH_REDIS:-1}
work=${SBENCH_DIR:-$build/sbench-work}
at="2024-06-01T00:00:00Z"

for tool in "$sluice" wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "serve bench: missing $tool (make bench-serve)" >&2; exit 2; }
done
if [ "$with_redis" = 1 ]; then
  for tool in redis-server redis-benchmark redis-cli; do
    command -v "$tool" >/dev/null || { echo "serve bench: missing $tool (apt-get install redis-server)" >&2; exit 2; }
  done
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the project and its data (reused between runs) ------------------------------------------
project=$work/project-$entities-$events
mkdir -p "$project/data"
if [ ! -f "$project/data/.complete" ]; then
  echo "generating $entities entities x $events events ..." >&2
  python3 - "$entities" "$events" "$project/data/events.csv" <<'PY'
import random, sys, datetime
n, k, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(6)
end = datetime.datetime(2024, 6, 1)
base = int((end - datetime.datetime(1970, 1, 1)).total_seconds())
with open(path, "w") as f:
    f.write("account_id,amount,ts\n")
    lines = []
    for a in range(1, n + 1):
        for _ in range(k):
            t = base - rng.randint(1, 7 * 86400)  # the week before `at`
            ts = datetime.datetime.utcfromtimestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines.append(f"{a},{rng.randint(100, 50000) / 100},{ts}\n")
        if len(lines) > 100000:
            f.writelines(lines)
            lines = []
    f.writelines(lines)
PY
  touch "$project/data/.complete"
fi
redis_port=$(free_port)
sed "s/REDIS_PORT/$redis_port/" "$here/sluice.yaml" >"$project/sluice.yaml"
echo "ingesting ..." >&2
"$sluice" ingest -p "$project" >&2

rows=()  # Markdown table rows
materialize() {  # materialize STORE
  rm -rf "$project/.sluice/online"
  local line
  line=$("$sluice" materialize -p "$project" --store "$1" --force | tee /dev/stderr)
  local rate secs
  rate=$(sed -n 's/.*(\([0-9]*\) entities\/s).*/\1/p' <<<"$line")
  secs=$(sed -n 's/.* in \([0-9.]*\)s (.*/\1/p' <<<"$line")
  rows+=("| materialize $entities entities into $1 | | | ${rate} entities/s | | | | ${secs} s total |")
}

start_serve() {  # start_serve STORE -> $serve_pid, $port
  port=$(free_port)
  "$sluice" serve -p "$project" --store "$1" --address "127.0.0.1:$port" \
    --threads "$server_threads" >"$work/serve-$1.log" 2>&1 &
  serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "serve bench: sluice serve --store $1 did not become ready" >&2
  cat "$work/serve-$1.log" >&2
  exit 1
}
stop_serve() { kill -TERM "$serve_pid"; wait "$serve_pid" || true; }

wrk_run() {  # wrk_run LABEL ENTITIES_PER_REQUEST CONNECTIONS [DELAY_MS]
  local label=$1 per=$2 c=$3 delay=${4:-}
  local out
  # Warm-up: the block cache and the server's per-thread DuckDB connections.
  WRK_DELAY_MS=$delay wrk -t2 -c"$c" -d2s -s "$here/features.lua" "http://127.0.0.1:$port" \
    -- "$per" "$entities" "$at" >/dev/null
  out=$(WRK_DELAY_MS=$delay wrk -t2 -c"$c" -d"${seconds}s" -s "$here/features.lua" \
    "http://127.0.0.1:$port" -- "$per" "$entities" "$at")
  echo "$out" >&2
  local r
  r=$(grep '^RESULT' <<<"$out")
  local rps p50 p99 p999 errs non2xx
  rps=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r")
  p50=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$r")
  p99=$(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$r")
  p999=$(sed -n 's/.*p999_us=\([0-9]*\).*/\1/p' <<<"$r")
  errs=$(sed -n 's/.*socket_errors=\([0-9]*\).*/\1/p' <<<"$r")
  non2xx=$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' <<<"$r")
  rows+=("| $label | $per x 10 | $c${delay:+ (paced ${delay} ms)} | $rps req/s ($((rps * per)) entities/s) | $(us_ms "$p50") | $(us_ms "$p99") | $(us_ms "$p999") | errors $errs, non-2xx $non2xx |")
}
us_ms() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1000:.3f} ms')" "$1"; }

# --- RocksDB --------------------------------------------------------------------------------
materialize rocksdb
start_serve rocksdb
wrk_run "serve, RocksDB" 1 "$conns"
wrk_run "serve, RocksDB, paced" 1 16 1
wrk_run "serve, RocksDB" 100 "$conns"
stop_serve

# --- Redis, and redis-benchmark as the reference --------------------------------------------
if [ "$with_redis" = 1 ]; then
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    >"$work/redis.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  materialize redis
  start_serve redis
  wrk_run "serve, Redis" 1 "$conns"
  wrk_run "serve, Redis" 100 "$conns"
  stop_serve
  # A value the size of one stored entity state, read back by plain GETs.
  value_bytes=$(redis-cli -p "$redis_port" strlen "$(redis-cli -p "$redis_port" randomkey)" \
                2>/dev/null || echo 3)
  # Fill the keyspace GET draws from, so every GET finds a value.
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -t set -n 1000000 -c 50 -d "${value_bytes:-3}" \
    -r 1000000 -q >/dev/null
  for c in "$conns" 50; do
    line=$(redis-benchmark -h 127.0.0.1 -p "$redis_port" -t get -n 1000000 -c "$c" -P 1 \
           -d "${value_bytes:-3}" -r 1000000 --csv | grep '"GET"')
    echo "$line" >&2
    IFS=, read -r _ rps _avg _min p50 _p95 p99 _max <<<"$(tr -d '"' <<<"$line")"
    rows+=("| redis-benchmark GET (${value_bytes:-3} B values) | 1 key | $c | ${rps%.*} req/s | ${p50} ms | ${p99} ms | n/a | reference |")
  done
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
fi

echo
echo "sluice serve benchmark: $entities entities x $events events, $(nproc) cores, wrk -t2, ${seconds}s per run"
echo
echo "| run | entities x features per request | connections | throughput | p50 | p99 | p99.9 | notes |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
