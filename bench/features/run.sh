#!/usr/bin/env bash
# Feature benchmark (issue 5): point-in-time count and sum(amount) over 1h, 24h and 7d per user
# (6 features) for every spine row, computed by
#   - `sluice training-set` (sluice's own engine), and
#   - the same features as DuckDB window-function SQL (UNION ALL of events and spine rows,
#     RANGE BETWEEN INTERVAL ... PRECEDING AND CURRENT ROW, partitioned by user),
# on the same data, with the same thread counts, in the same run; both write Parquet. The
# results are compared row by row (joined on the spine row id). A pandas groupby-rolling
# reference runs on the small size. Run by `make bench-features`; see bench/features/README.md.
#
#   bench/features/run.sh BUILD_DIR
#
# Environment:
#   FBENCH_ROWS         transactions of the main size (default 10000000)
#   FBENCH_SPINE        spine rows of the main size (default FBENCH_ROWS/10)
#   FBENCH_SMALL_ROWS   transactions of the small size, where pandas also runs (default 1000000;
#                       0 = no small size and no pandas)
#   FBENCH_SMALL_SPINE  spine rows of the small size (default FBENCH_SMALL_ROWS/10)
#   FBENCH_THREADS      thread counts, space-separated (default "1 2")
#   FBENCH_PANDAS       1 = run the pandas reference at the small size (default 1)
#   FBENCH_REPEAT       runs per measurement; the fastest wall time is reported (default 1)
#   FBENCH_DIR          work folder: generated data (kept and reused), projects, outputs
#                       (default BUILD_DIR/fbench-work)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
sluice=$build/bin/sluice
duckdb_sql=$build/bin/duckdb_sql
python=/usr/bin/python3  # Debian's python3 with python3-pandas, whatever is first on PATH
timer=/usr/bin/time      # Debian's `time`: wall seconds and peak RSS
rows=${FBENCH_ROWS:-10000000}
spine_rows=${FBENCH_SPINE:-$((rows / 10))}
small=${FBENCH_SMALL_ROWS:-1000000}
small_spine=${FBENCH_SMALL_SPINE:-$((small / 10))}
threads_list=${FBENCH_THREADS:-1 2}
run_pandas=${FBENCH_PANDAS:-1}
repeat=${FBENCH_REPEAT:-1}
work=${FBENCH_DIR:-$build/fbench-work}

for tool in "$sluice" "$duckdb_sql" "$timer"; do
  [ -x "$tool" ] || { echo "features bench: missing $tool (run \`make bench-features\`)" >&2; exit 2; }
done
if [ "$small" -gt 0 ] && [ "$run_pandas" = 1 ] && ! "$python" -c 'import pandas' 2>/dev/null; then
  echo "features bench: $python has no pandas (apt-get install python3-pandas)" >&2
  exit 2
fi
mkdir -p "$work"
log=$work/log
mkdir -p "$log"

# Deterministic transactions (fixed seed), generated once per size and reused by later runs.
data_for() {  # data_for ROWS FORMATS -> folder
  local dir="$work/data-$1"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    echo "generating $1 transactions in $dir ..." >&2
    "$sluice" demo-data -o "$dir" --transactions "$1" --formats "$2" >&2
    touch "$dir/.complete"
  fi
  echo "$dir"
}

# The spine: SPINE rows drawn from the labels (one per chosen transaction, by a fixed hash
# order), numbered 0.. by spine_id, each with its timestamp moved by one of five rules so that
# every boundary case occurs often: at the transaction's own time (an event exactly at t: IN),
# exactly 1h, 24h or 7d later (that event exactly w before t: OUT of the w window, IN the
# longer ones), or at a random microsecond up to 3 days later.
spine_for() {  # spine_for DATA_DIR SPINE -> writes DATA_DIR/spine-SPINE.{parquet,csv}
  local dir=$1 m=$2
  [ -f "$dir/spine-$m.complete" ] && return
  echo "making a spine of $m rows in $dir ..." >&2
  "$duckdb_sql" --threads 1 "COPY (
      WITH l AS (
        SELECT txn_id, user_id, ts, is_fraud, hash(txn_id) AS h
        FROM read_csv('$dir/labels.csv', header = true, columns = {
          'txn_id': 'VARCHAR', 'user_id': 'BIGINT', 'ts': 'TIMESTAMP', 'is_fraud': 'BOOLEAN'})),
      s AS (SELECT * FROM l ORDER BY h, txn_id LIMIT $m)
      SELECT CAST(row_number() OVER (ORDER BY h, txn_id) - 1 AS BIGINT) AS spine_id, user_id,
        CASE (h >> 20) % 5
          WHEN 0 THEN ts
          WHEN 1 THEN ts + INTERVAL 1 HOUR
          WHEN 2 THEN ts + INTERVAL 24 HOUR
          WHEN 3 THEN ts + INTERVAL 7 DAY
          ELSE ts + to_microseconds(CAST((h >> 32) % 259200000000 AS BIGINT)) END AS ts,
        is_fraud
      FROM s ORDER BY spine_id) TO '$dir/spine-$m.parquet' (FORMAT parquet, COMPRESSION zstd)" \
    "COPY (SELECT * FROM read_parquet('$dir/spine-$m.parquet') ORDER BY spine_id)
      TO '$dir/spine-$m.csv' (FORMAT csv, HEADER true)" 2>"$log/spine.log"
  touch "$dir/spine-$m.complete"
}

# A project per size: the template, `data` with the transactions and that size's spine, the
# lake filled by `sluice ingest` once (not measured: the benchmark is the training set).
project_for() {  # project_for ROWS SPINE FORMATS -> folder
  local n=$1 m=$2 data proj
  data=$(data_for "$n" "$3")
  spine_for "$data" "$m"
  proj="$work/project-$n-$m"
  if [ ! -f "$proj/.ingested" ]; then
    rm -rf "$proj"
    mkdir -p "$proj/data"
    cp "$here/sluice.yaml" "$proj/sluice.yaml"
    ln -s "$data/transactions.parquet" "$proj/data/transactions.parquet"
    ln -s "$data/spine-$m.parquet" "$proj/data/spine.parquet"
    echo "ingesting $n transactions and $m spine rows into $proj ..." >&2
    "$sluice" ingest -p "$proj" transactions spine >"$log/ingest-$n.log" 2>&1 || {
      cat "$log/ingest-$n.log" >&2
      exit 1
    }
    touch "$proj/.ingested"
  fi
  echo "$proj"
}

# timed OUTFILE CMD...: see bench/timed.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../timed.sh"

# best_of LOG CMD... : timed, FBENCH_REPEAT times; the fastest wall time (with its CPU time)
# and the largest RSS.
best_of() {
  local out=$1 bw="" bc="" br=0 r
  shift
  for ((r = 0; r < repeat; r++)); do
    timed "$out" "$@"
    if [ -z "$bw" ] || awk "BEGIN{exit !($wall < $bw)}"; then bw=$wall bc=$cpu; fi
    ((rss > br)) && br=$rss
  done
  wall=$bw cpu=$bc rss=$br
}

# The DuckDB side: the same 6 features in window-function SQL. An event at ts is in the window
# (t - w, t] of a spine row at t iff ts >= t - (w - 1us) and ts <= t: a RANGE frame of w minus
# one microsecond PRECEDING AND CURRENT ROW (timestamps are microseconds). CURRENT ROW in a
# RANGE frame includes the row's peers, so a spine row sees the events at its own instant.
# Only event rows are counted and summed (`ev` and `amount` are NULL on spine rows).
duckdb_features_sql() {  # duckdb_features_sql TRANSACTIONS SPINE OUT
  local w1="INTERVAL '3599999999 microseconds'" w24="INTERVAL '86399999999 microseconds'"
  local w7="INTERVAL '604799999999 microseconds'"
  echo "COPY (
    WITH u AS (
      SELECT user_id, ts, amount, 1 AS ev, CAST(NULL AS BIGINT) AS spine_id,
             CAST(NULL AS BOOLEAN) AS is_fraud
      FROM read_parquet('$1')
      UNION ALL
      SELECT user_id, ts, CAST(NULL AS DOUBLE), CAST(NULL AS INTEGER), spine_id, is_fraud
      FROM read_parquet('$2')),
    f AS (
      SELECT spine_id, user_id, ts, is_fraud,
        count(ev) OVER w1 AS tx__txn_count_1h,
        count(ev) OVER w24 AS tx__txn_count_24h,
        count(ev) OVER w7 AS tx__txn_count_7d,
        sum(amount) OVER w1 AS tx__amount_sum_1h,
        sum(amount) OVER w24 AS tx__amount_sum_24h,
        sum(amount) OVER w7 AS tx__amount_sum_7d
      FROM u
      WINDOW
        w1 AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN $w1 PRECEDING AND CURRENT ROW),
        w24 AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN $w24 PRECEDING AND CURRENT ROW),
        w7 AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN $w7 PRECEDING AND CURRENT ROW))
    SELECT * FROM f WHERE spine_id IS NOT NULL ORDER BY spine_id
  ) TO '$3' (FORMAT parquet, COMPRESSION zstd)"
}

# Compares an output with sluice's, joined on spine_id: one CSV line per feature with
#   feature, rows_a, rows_b, rows_joined, key_mismatches, mismatches (counts: any difference;
#   sums: NULL on one side only or relative difference > 1e-9), not_bit_identical, max_abs_diff,
#   max_rel_diff.
compare_sql() {  # compare_sql SLUICE_RELATION OTHER_RELATION OUT_CSV KEYS(1|0)
  local a=$1 b=$2 out=$3 keys=$4 parts="" f key_check="0"
  [ "$keys" = 1 ] && key_check="count(*) FILTER (WHERE a.user_id IS DISTINCT FROM b.user_id
                                  OR a.ts IS DISTINCT FROM b.ts)"
  for f in txn_count_1h txn_count_24h txn_count_7d amount_sum_1h amount_sum_24h amount_sum_7d; do
    local x="a.tx__$f" y="b.tx__$f"
    parts+="${parts:+ UNION ALL }SELECT '$f' AS feature,
      (SELECT count(*) FROM $a), (SELECT count(*) FROM $b), count(*), $key_check,
      count(*) FILTER (WHERE ($x IS NULL) <> ($y IS NULL)
        OR abs($x - $y) > 1e-9 * greatest(abs($x), abs($y))),
      count(*) FILTER (WHERE $x IS DISTINCT FROM $y),
      coalesce(max(abs($x - $y)), 0),
      coalesce(max(abs($x - $y) / nullif(greatest(abs($x), abs($y)), 0)), 0)
      FROM $a a JOIN $b b USING (spine_id)"
  done
  echo "COPY ($parts) TO '$out' (FORMAT csv, HEADER false)"
}

results=()   # "n m tool threads wall rss cpu"
checks=()    # text lines
# check_compare LABEL CSV [counts] : reads compare_sql output; records the summary; returns 1 on
# failure. With `counts`, only the counts must agree (pandas' rolling sums add and subtract).
check_compare() {
  local label=$1 csv=$2 only=${3:-} ok=1 line feature ra rb rj km mm ni mad mrd
  local bad_counts=0 bad_sums=0 not_ident=0 max_abs=0 max_rel=0 rows_a rows_b joined keys_bad
  while IFS=, read -r feature ra rb rj km mm ni mad mrd; do
    if [ "$ra" != "$rb" ] || [ "$rj" != "$ra" ] || [ "$km" != 0 ]; then ok=0; fi
    rows_a=$ra rows_b=$rb joined=$rj keys_bad=$km
    case $feature in
      txn_count_*) bad_counts=$((bad_counts + mm)) ;;
      *) bad_sums=$((bad_sums + mm)); not_ident=$((not_ident + ni))
         max_abs=$(awk -v a="$max_abs" -v b="$mad" 'BEGIN{print (b > a) ? b : a}')
         max_rel=$(awk -v a="$max_rel" -v b="$mrd" 'BEGIN{print (b > a) ? b : a}') ;;
    esac
  done <"$csv"
  [ "$bad_counts" = 0 ] || ok=0
  [ "$only" = counts ] || [ "$bad_sums" = 0 ] || ok=0
  line="$label: rows $rows_a vs $rows_b, joined $joined, key mismatches $keys_bad; count mismatches $bad_counts;"
  line+=" sum mismatches (>1e-9 rel or NULL on one side) $bad_sums; sums not bit-identical"
  line+=" $not_ident, max abs diff $max_abs, max rel diff $max_rel -> $([ $ok = 1 ] && echo OK || echo FAIL)"
  checks+=("$line")
  echo "$line" >&2
  [ $ok = 1 ]
}

failed=0
measure() {  # measure ROWS SPINE WITH_PANDAS
  local n=$1 m=$2 with_pandas=$3 data proj t out sum1=""
  local formats=parquet
  [ "$with_pandas" = 1 ] && formats=csv,parquet  # pandas reads CSV (no pyarrow in Debian)
  proj=$(project_for "$n" "$m" "$formats")
  data="$work/data-$n"
  for t in $threads_list; do
    echo "sluice training-set, $n events, $m spine rows, $t thread(s) ..." >&2
    out="$proj/output-t$t"
    rm -rf "$out"
    best_of "$log/sluice-$n-t$t.log" "$sluice" training-set -p "$proj" bench --threads "$t" -o "$out"
    results+=("$n $m sluice $t $wall $rss $cpu")
    grep -q "$m rows" "$log/sluice-$n-t$t.log" ||
      { echo "sluice did not write $m rows:" >&2; cat "$log/sluice-$n-t$t.log" >&2; exit 1; }
    local s
    s=$(sha256sum "$out/bench.parquet" | cut -c1-16)
    if [ -z "$sum1" ]; then
      sum1=$s
    elif [ "$s" != "$sum1" ]; then
      checks+=("sluice $n: output differs between thread counts ($sum1 vs $s at $t threads) -> FAIL")
      failed=1
    fi
  done
  [ -n "$sum1" ] && checks+=("sluice $n: Parquet output bit-identical for threads {$threads_list} (sha256 $sum1...)")
  local first_t
  first_t=$(echo $threads_list | cut -d' ' -f1)
  local sluice_out="read_parquet('$proj/output-t$first_t/bench.parquet')"
  for t in $threads_list; do
    echo "DuckDB window SQL, $n events, $m spine rows, $t thread(s) ..." >&2
    rm -f "$work/duckdb-$n-t$t.parquet"
    best_of "$log/duckdb-$n-t$t.log" "$duckdb_sql" --threads "$t" \
      "$(duckdb_features_sql "$data/transactions.parquet" "$data/spine-$m.parquet" \
        "$work/duckdb-$n-t$t.parquet")"
    results+=("$n $m duckdb $t $wall $rss $cpu")
    "$duckdb_sql" --threads 2 "$(compare_sql "$sluice_out" \
      "read_parquet('$work/duckdb-$n-t$t.parquet')" "$work/compare-duckdb-$n-t$t.csv" 1)" \
      2>"$log/compare.log" || { cat "$log/compare.log" >&2; exit 1; }
    check_compare "sluice vs DuckDB ($n events, DuckDB $t thread(s))" \
      "$work/compare-duckdb-$n-t$t.csv" || failed=1
  done
  if [ "$with_pandas" = 1 ]; then
    echo "pandas groupby-rolling, $n events, $m spine rows ..." >&2
    best_of "$log/pandas-$n.log" "$python" "$here/pandas_features.py" "$data/transactions.csv" \
      "$data/spine-$m.csv" "$work/pandas-$n.csv"
    results+=("$n $m pandas 1 $wall $rss $cpu")
    checks+=("pandas $n: $(cat "$log/pandas-$n.log") (of $wall s wall, incl. interpreter start)")
    "$duckdb_sql" --threads 2 "$(compare_sql "$sluice_out" \
      "read_csv('$work/pandas-$n.csv', header = true)" "$work/compare-pandas-$n.csv" 0)" \
      2>"$log/compare.log" || { cat "$log/compare.log" >&2; exit 1; }
    check_compare "sluice vs pandas ($n events)" "$work/compare-pandas-$n.csv" counts || failed=1
  fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$small" -gt 0 ] && [ "$small" != "$rows" ]; then
  measure "$small" "$small_spine" "$run_pandas"
  measure "$rows" "$spine_rows" 0
else
  measure "$rows" "$spine_rows" "$run_pandas"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "feature benchmark $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), best of $repeat"
  echo "load average before: $load_before, after: $load_after"
  echo "6 features: count and sum(amount) over 1h, 24h, 7d per user; events/s = transactions / wall;"
  echo "wall, CPU (user + sys) and peak RSS of the whole process (GNU time %e, %U + %S, %M);"
  echo "every tool writes its result (one row per spine row) to a file: Parquet (pandas: CSV)"
  echo
  printf '| %10s | %9s | %-22s | %7s | %8s | %7s | %11s | %7s | %-26s |\n' \
    events spine tool threads "wall s" "CPU s" "events/s" "RSS MB" "DuckDB / sluice (wall, CPU)"
  printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------ ----------- ------------------------ \
    --------- ---------- --------- ------------- --------- ----------------------------
  for line in "${results[@]}"; do
    read -r n m tool t w r c <<<"$line"
    ratio=""
    if [ "$tool" = duckdb ]; then
      for other in "${results[@]}"; do
        read -r n2 m2 tool2 t2 w2 r2 c2 <<<"$other"
        if [ "$n2" = "$n" ] && [ "$tool2" = sluice ] && [ "$t2" = "$t" ]; then
          ratio=$(awk -v d="$w" -v s="$w2" -v dc="$c" -v sc="$c2" \
            'BEGIN{printf "%.1fx, %.1fx", d / (s > 0 ? s : 0.01), dc / (sc > 0 ? sc : 0.01)}')
        fi
      done
    fi
    case $tool in
      sluice) name="sluice training-set" ;;
      duckdb) name="DuckDB window SQL" ;;
      pandas) name="pandas groupby-rolling" ;;
    esac
    awk -v n="$n" -v m="$m" -v name="$name" -v t="$t" -v w="$w" -v r="$r" -v c="$c" \
      -v ratio="$ratio" 'BEGIN {
      printf "| %10d | %9d | %-22s | %7s | %8.2f | %7.2f | %11.0f | %7.0f | %-26s |\n",
        n, m, name, t, w, c, n / (w > 0 ? w : 0.01), r / 1024, ratio }'
  done
  echo
  for c in "${checks[@]}"; do echo "- $c"; done
} | tee "$work/results.md"
exit $failed
