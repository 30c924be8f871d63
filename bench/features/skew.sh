#!/usr/bin/env bash
# Skewed-keys feature benchmark (issue 13): the 6 features of the main benchmark (count and
# sum(amount) over 1h, 24h, 7d per user) by `sluice training-set` and by DuckDB window SQL, at
# each thread count, in the same run, on two generated data sets:
#   zipf  SKEW_ZIPF_ROWS events over 100k users drawn from a Zipf law (exponent 1.1) over 30
#         days, SKEW_ZIPF_SPINE spine rows drawn from the same law;
#   hot   SKEW_HOT_ROWS events of ONE user within 7 days, SKEW_HOT_SPINE spine rows on that user.
# Results are compared row by row (counts equal, sums within 1e-9 relative, NULLs alike) and
# sluice's Parquet output must be byte-identical at every thread count.
#
#   bench/features/skew.sh BUILD_DIR
#
# Environment: SKEW_ZIPF_ROWS (10000000), SKEW_ZIPF_SPINE (1000000), SKEW_HOT_ROWS (1000000),
# SKEW_HOT_SPINE (1000000), SKEW_THREADS ("1 2"), SKEW_CASES ("zipf hot"),
# SKEW_DIR (BUILD_DIR/fskew-work).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: skew.sh BUILD_DIR}" && pwd)
sluice=$build/bin/sluice
duckdb_sql=$build/bin/duckdb_sql
timer=/usr/bin/time
zipf_rows=${SKEW_ZIPF_ROWS:-10000000}
zipf_spine=${SKEW_ZIPF_SPINE:-1000000}
hot_rows=${SKEW_HOT_ROWS:-1000000}
hot_spine=${SKEW_HOT_SPINE:-1000000}
threads_list=${SKEW_THREADS:-1 2}
cases=${SKEW_CASES:-zipf hot}
work=${SKEW_DIR:-$build/fskew-work}
for tool in "$sluice" "$duckdb_sql" "$timer"; do
  [ -x "$tool" ] || { echo "skew bench: missing $tool" >&2; exit 2; }
done
mkdir -p "$work/log"
log=$work/log
source "$here/../timed.sh"

# Pseudo-random numbers from hash(i): the data does not depend on DuckDB's thread count.
u() { echo "(CAST(hash($1) AS DOUBLE) / 18446744073709551616.0)"; }
# A user id in 1..100000 drawn from a Zipf law with exponent 1.1 (inverse CDF of x^-1.1).
zipf_user() { echo "CAST(floor(pow(1 + $(u "$1") * (pow(100001.0, -0.1) - 1), -10.0)) AS BIGINT)"; }
start="TIMESTAMP '2026-01-01 00:00:00'"
day_us=86400000000

generate() {  # generate CASE DIR
  local c=$1 dir=$2 events spine
  if [ "$c" = zipf ]; then
    events="SELECT $(zipf_user "i * 4") AS user_id,
        $start + to_microseconds(CAST($(u "i * 4 + 1") * 30 * $day_us AS BIGINT)) AS ts,
        round($(u "i * 4 + 2") * 1000, 2) AS amount
      FROM range($zipf_rows) t(i)"
    spine="SELECT i AS spine_id, $(zipf_user "i * 4 + 3 + 1000000000000") AS user_id,
        $start + to_microseconds(CAST($(u "i * 4 + 5 + 1000000000000") * 31 * $day_us AS BIGINT)) AS ts
      FROM range($zipf_spine) t(i)"
  else
    events="SELECT CAST(1 AS BIGINT) AS user_id,
        $start + to_microseconds(CAST($(u "i * 4 + 1") * 7 * $day_us AS BIGINT)) AS ts,
        round($(u "i * 4 + 2") * 1000, 2) AS amount
      FROM range($hot_rows) t(i)"
    spine="SELECT i AS spine_id, CAST(1 AS BIGINT) AS user_id,
        $start + to_microseconds(CAST($(u "i * 4 + 3") * 8 * $day_us AS BIGINT)) AS ts
      FROM range($hot_spine) t(i)"
  fi
  mkdir -p "$dir"
  "$duckdb_sql" --threads 2 \
    "COPY ($events) TO '$dir/transactions.parquet' (FORMAT parquet, COMPRESSION zstd)" \
    "COPY ($spine) TO '$dir/spine.parquet' (FORMAT parquet, COMPRESSION zstd)" >"$log/gen-$c.log" 2>&1
}

duckdb_features_sql() {  # TRANSACTIONS SPINE OUT (as in run.sh)
  local w1="INTERVAL '3599999999 microseconds'" w24="INTERVAL '86399999999 microseconds'"
  local w7="INTERVAL '604799999999 microseconds'"
  echo "COPY (
    WITH u AS (
      SELECT user_id, ts, amount, 1 AS ev, CAST(NULL AS BIGINT) AS spine_id FROM read_parquet('$1')
      UNION ALL
      SELECT user_id, ts, CAST(NULL AS DOUBLE), CAST(NULL AS INTEGER), spine_id FROM read_parquet('$2')),
    f AS (
      SELECT spine_id, user_id, ts,
        count(ev) OVER w1 AS tx__txn_count_1h, count(ev) OVER w24 AS tx__txn_count_24h,
        count(ev) OVER w7 AS tx__txn_count_7d, sum(amount) OVER w1 AS tx__amount_sum_1h,
        sum(amount) OVER w24 AS tx__amount_sum_24h, sum(amount) OVER w7 AS tx__amount_sum_7d
      FROM u
      WINDOW
        w1 AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN $w1 PRECEDING AND CURRENT ROW),
        w24 AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN $w24 PRECEDING AND CURRENT ROW),
        w7 AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN $w7 PRECEDING AND CURRENT ROW))
    SELECT * FROM f WHERE spine_id IS NOT NULL ORDER BY spine_id
  ) TO '$3' (FORMAT parquet, COMPRESSION zstd)"
}

# One line: rows, count mismatches, sum mismatches (> 1e-9 relative or NULL on one side), sums
# not bit-identical.
compare() {  # SLUICE_PARQUET DUCKDB_PARQUET
  "$duckdb_sql" --threads 2 "COPY (SELECT count(*) AS rows,
      count(*) FILTER (WHERE a.tx__txn_count_1h <> b.tx__txn_count_1h
        OR a.tx__txn_count_24h <> b.tx__txn_count_24h OR a.tx__txn_count_7d <> b.tx__txn_count_7d
        OR a.user_id <> b.user_id OR a.ts <> b.ts) AS count_mismatches,
      count(*) FILTER (WHERE $(for f in 1h 24h 7d; do
        echo "(a.tx__amount_sum_$f IS NULL) <> (b.tx__amount_sum_$f IS NULL) OR
          abs(a.tx__amount_sum_$f - b.tx__amount_sum_$f) > 1e-9 * greatest(abs(a.tx__amount_sum_$f), abs(b.tx__amount_sum_$f)) OR"
      done) false) AS sum_mismatches,
      count(*) FILTER (WHERE a.tx__amount_sum_7d IS DISTINCT FROM b.tx__amount_sum_7d) AS sum7d_not_identical
    FROM read_parquet('$1') a JOIN read_parquet('$2') b USING (spine_id))
    TO '/dev/stdout' (FORMAT csv, HEADER false)" 2>"$log/compare.log"
}

rows_out=()
checks=()
failed=0
for c in $cases; do
  data="$work/data-$c"
  if [ ! -f "$data/.complete" ]; then
    echo "generating the $c data in $data ..." >&2
    generate "$c" "$data"
    touch "$data/.complete"
  fi
  proj="$work/project-$c"
  if [ ! -f "$proj/.ingested" ]; then
    rm -rf "$proj"
    mkdir -p "$proj/data"
    cp "$here/skew.yaml" "$proj/sluice.yaml"
    ln -s "$data/transactions.parquet" "$proj/data/transactions.parquet"
    ln -s "$data/spine.parquet" "$proj/data/spine.parquet"
    "$sluice" ingest -p "$proj" transactions spine >"$log/ingest-$c.log" 2>&1 ||
      { cat "$log/ingest-$c.log" >&2; exit 1; }
    touch "$proj/.ingested"
  fi
  n=$([ "$c" = zipf ] && echo "$zipf_rows" || echo "$hot_rows")
  m=$([ "$c" = zipf ] && echo "$zipf_spine" || echo "$hot_spine")
  sum1=""
  for t in $threads_list; do
    echo "$c: sluice training-set, $t thread(s) ..." >&2
    rm -rf "$proj/output-t$t"
    timed "$log/sluice-$c-t$t.log" "$sluice" training-set -p "$proj" bench --threads "$t" \
      -o "$proj/output-t$t"
    rows_out+=("$c $n $m sluice $t $wall $cpu $rss")
    s=$(sha256sum "$proj/output-t$t/bench.parquet" | cut -c1-16)
    if [ -z "$sum1" ]; then sum1=$s; elif [ "$s" != "$sum1" ]; then
      checks+=("$c: sluice output differs between thread counts -> FAIL"); failed=1
    fi
  done
  checks+=("$c: sluice Parquet output byte-identical for threads {$threads_list} (sha256 $sum1...)")
  first_t=$(echo $threads_list | cut -d' ' -f1)
  for t in $threads_list; do
    echo "$c: DuckDB window SQL, $t thread(s) ..." >&2
    out="$work/duckdb-$c-t$t.parquet"
    rm -f "$out"
    timed "$log/duckdb-$c-t$t.log" "$duckdb_sql" --threads "$t" \
      "$(duckdb_features_sql "$data/transactions.parquet" "$data/spine.parquet" "$out")"
    rows_out+=("$c $n $m duckdb $t $wall $cpu $rss")
    IFS=, read -r rows cm sm ni <<<"$(compare "$proj/output-t$first_t/bench.parquet" "$out")"
    ok=OK
    { [ "$rows" = "$m" ] && [ "$cm" = 0 ] && [ "$sm" = 0 ]; } || { ok=FAIL; failed=1; }
    checks+=("$c vs DuckDB at $t thread(s): $rows rows joined, count mismatches $cm, sum mismatches $sm, 7d sums not bit-identical $ni -> $ok")
  done
done

{
  echo "skewed-keys feature benchmark $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  printf '| %-5s | %9s | %9s | %-19s | %7s | %8s | %7s | %7s | %-23s |\n' case events spine tool \
    threads "wall s" "CPU s" "RSS MB" "DuckDB / sluice (wall, CPU)"
  echo "|-------|-----------|-----------|---------------------|---------|----------|---------|---------|-------------------------|"
  for line in "${rows_out[@]}"; do
    read -r c n m tool t w cp r <<<"$line"
    ratio=""
    if [ "$tool" = duckdb ]; then
      for o in "${rows_out[@]}"; do
        read -r c2 n2 m2 tool2 t2 w2 cp2 r2 <<<"$o"
        [ "$c2" = "$c" ] && [ "$tool2" = sluice ] && [ "$t2" = "$t" ] &&
          ratio=$(awk -v d="$w" -v s="$w2" -v dc="$cp" -v sc="$cp2" \
            'BEGIN{printf "%.1fx, %.1fx", d / (s > 0 ? s : 0.01), dc / (sc > 0 ? sc : 0.01)}')
      done
    fi
    name=$([ "$tool" = sluice ] && echo "sluice training-set" || echo "DuckDB window SQL")
    awk -v c="$c" -v n="$n" -v m="$m" -v name="$name" -v t="$t" -v w="$w" -v cp="$cp" -v r="$r" \
      -v ratio="$ratio" 'BEGIN{printf "| %-5s | %9d | %9d | %-19s | %7s | %8.2f | %7.2f | %7.0f | %-23s |\n",
        c, n, m, name, t, w, cp, r / 1024, ratio}'
  done
  echo
  for c in "${checks[@]}"; do echo "- $c"; done
} | tee "$work/results.md"
exit $failed
