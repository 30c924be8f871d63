#!/usr/bin/env bash
# Online read of one hot entity (issue 13): one user with HOT_ROWS events within 7 days beside
# HOT_USERS ordinary users (HOT_EVENTS events each), materialized into RocksDB for view `tx`
# (no tile: the chunked state layout, docs/online.md) and view `tx_tiled` (a 1h tile: 169 tiles
# of partial states), then `sluice serve` under wrk with one connection reading the hot user and
# an ordinary one (6 features) as of one hour after the newest event. In the same run, the
# anchor: redis-benchmark GET (100-byte values, one connection) against a private redis-server.
# Prints a table of req/s and p50/p99 per case.
#
#   bench/serve/hot.sh BUILD_DIR [WORK_DIR]
#
# Environment: HOT_ROWS (1000000), HOT_USERS (1000), HOT_EVENTS (20), HOT_SECONDS (10).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: hot.sh BUILD_DIR [WORK_DIR]}" && pwd)
work=${2:-$build/hot-serve}
sluice=$build/bin/sluice
duckdb_sql=$build/bin/duckdb_sql
seconds=${HOT_SECONDS:-10}
rows=${HOT_ROWS:-1000000}
users=${HOT_USERS:-1000}
per_user=${HOT_EVENTS:-20}
for tool in "$sluice" "$duckdb_sql" wrk curl python3 redis-server redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "hot bench: missing $tool" >&2; exit 2; }
done
serve_pid=""
redis_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null || true
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
mkdir -p "$work/data"
cp "$here/../features/skew.yaml" "$work/sluice.yaml"
stamp="$rows-$users-$per_user"
if [ "$(cat "$work/.generated" 2>/dev/null)" != "$stamp" ]; then
  start="TIMESTAMP '2026-01-01 00:00:00'"
  u() { echo "(hash($1) % 1000000007) / 1000000007.0"; }
  "$duckdb_sql" --threads 2 "COPY (
      SELECT CAST(1 AS BIGINT) AS user_id,
        $start + to_microseconds(CAST($(u "i * 4 + 1") * 7 * 86400000000 AS BIGINT)) AS ts,
        round($(u "i * 4 + 2") * 1000, 2) AS amount
      FROM range($rows) t(i)
      UNION ALL
      SELECT 2 + i % $users AS user_id,
        $start + to_microseconds(CAST($(u "i * 4 + 3") * 7 * 86400000000 AS BIGINT)) AS ts,
        round($(u "i * 4 + 5") * 1000, 2) AS amount
      FROM range($users * $per_user) t(i)
    ) TO '$work/data/transactions.parquet' (FORMAT parquet, COMPRESSION zstd)" \
    "COPY (SELECT 0::BIGINT AS spine_id, 1::BIGINT AS user_id, $start AS ts)
      TO '$work/data/spine.parquet' (FORMAT parquet)" >"$work/generate.log" 2>&1
  rm -rf "$work/.sluice"
  "$sluice" ingest -p "$work" transactions >"$work/ingest.log" 2>&1
  echo "$stamp" >"$work/.generated"
fi
rm -rf "$work/.sluice/online"
echo "materialize (wall, peak RSS):"
/usr/bin/time -f '%e s, %M KB' "$sluice" materialize -p "$work" tx tx_tiled 2>&1 | tail -3
at=$("$duckdb_sql" --threads 1 "COPY (SELECT strftime(max(ts) + INTERVAL 1 HOUR,
  '%Y-%m-%dT%H:%M:%SZ') FROM read_parquet('$work/data/transactions.parquet')) TO '/dev/stdout'
  (FORMAT csv, HEADER false)" 2>/dev/null)
port=$(free_port)
"$sluice" serve -p "$work" --address "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "reads as of $at:"
results=()
for view in tx tx_tiled; do
  for user in 1 2; do
    curl -sf -X POST "http://127.0.0.1:$port/v1/features" -H 'Content-Type: application/json' \
      -d "{\"view\":\"$view\",\"at\":\"$at\",\"entities\":[{\"user_id\":$user}]}" | head -c 400
    echo
    wrk -t1 -c1 -d2s -s "$here/hot.lua" "http://127.0.0.1:$port" -- "$view" "$at" "$user" \
      >/dev/null
    r=$(wrk -t1 -c1 -d"${seconds}s" -s "$here/hot.lua" "http://127.0.0.1:$port" -- "$view" "$at" \
          "$user" | grep '^RESULT')
    results+=("$view|$user|$r")
  done
done
kill -TERM "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
serve_pid=""
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$rport" ping >/dev/null 2>&1 && break
  sleep 0.05
done
anchor=$(redis-benchmark -p "$rport" -t get -c 1 -d 100 -n $((seconds * 20000)) --precision 3 --csv |
  tail -1)
echo
echo "| case | req/s | p50 | p99 | max |"
echo "|---|---|---|---|---|"
for r in "${results[@]}"; do
  IFS='|' read -r view user line <<<"$r"
  python3 - "$view" "$user" "$line" "$rows" "$per_user" <<'PY'
import re, sys
view, user, line, rows, per_user = sys.argv[1:]
f = dict(re.findall(r"(\w+)=(\d+)", line))
who = f"hot user ({int(rows):,} events)" if user == "1" else f"ordinary user ({per_user} events)"
print(f"| `{view}`, {who} | {int(f['rps']):,} | {int(f['p50_us'])/1000:.3f} ms "
      f"| {int(f['p99_us'])/1000:.3f} ms | {int(f['max_us'])/1000:.3f} ms |")
PY
done
# redis-benchmark --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
# "p95_latency_ms","p99_latency_ms","max_latency_ms"
python3 - "$anchor" <<'PY'
import sys
f = [x.strip('"') for x in sys.argv[1].split(",")]
print(f"| redis-benchmark GET (anchor) | {float(f[1]):,.0f} | {float(f[4]):.3f} ms "
      f"| {float(f[6]):.3f} ms | {float(f[7]):.3f} ms |")
PY
