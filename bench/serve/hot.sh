#!/usr/bin/env bash
# Online read of one hot entity (issue 13): the skewed-keys benchmark's `hot` data (one user
# with SKEW_HOT_ROWS events in 7 days, bench/features/skew.sh generates it), materialized into
# RocksDB for view `tx` (no tile: the state holds every event of the 7-day window) and view
# `tx_tiled` (a 1h tile: 169 tiles of partial states), then `sluice serve` under wrk with one
# connection reading that user (6 features) as of one hour after the newest event. Prints
# p50/p99 per view and the stored state's size.
#
#   bench/serve/hot.sh BUILD_DIR DATA_DIR     (DATA_DIR: skew.sh's data-hot folder)
#
# Environment: HOT_SECONDS (10).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: hot.sh BUILD_DIR DATA_DIR}" && pwd)
data=$(cd "${2:?usage: hot.sh BUILD_DIR DATA_DIR}" && pwd)
sluice=$build/bin/sluice
seconds=${HOT_SECONDS:-10}
work=$data/../hot-serve
for tool in "$sluice" wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "hot bench: missing $tool" >&2; exit 2; }
done
serve_pid=""
trap '[ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null || true' EXIT
mkdir -p "$work/data"
cp "$here/../features/skew.yaml" "$work/sluice.yaml"
ln -sf "$data/transactions.parquet" "$work/data/transactions.parquet"
ln -sf "$data/spine.parquet" "$work/data/spine.parquet"
[ -f "$work/.ingested" ] || { "$sluice" ingest -p "$work" transactions >"$work/ingest.log" 2>&1 &&
                              touch "$work/.ingested"; }
rm -rf "$work/.sluice/online"
/usr/bin/time -f '%e s, %M KB' "$sluice" materialize -p "$work" tx tx_tiled 2>&1 | tail -4
# The newest event, and an instant one hour later for the reads.
at=$("$build/bin/duckdb_sql" --threads 1 "COPY (SELECT strftime(max(ts) + INTERVAL 1 HOUR,
  '%Y-%m-%dT%H:%M:%SZ') FROM read_parquet('$data/transactions.parquet')) TO '/dev/stdout'
  (FORMAT csv, HEADER false)" 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$sluice" serve -p "$work" --address "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "reads of user 1 as of $at:"
for view in tx tx_tiled; do
  curl -sf -X POST "http://127.0.0.1:$port/v1/features" -H 'Content-Type: application/json' \
    -d "{\"view\":\"$view\",\"at\":\"$at\",\"entities\":[{\"user_id\":1}]}" | head -c 600
  echo
  wrk -t1 -c1 -d2s -s "$here/hot.lua" "http://127.0.0.1:$port" -- "$view" "$at" >/dev/null
  r=$(wrk -t1 -c1 -d"${seconds}s" -s "$here/hot.lua" "http://127.0.0.1:$port" -- "$view" "$at" |
      grep '^RESULT')
  echo "| $view | $r |"
done
