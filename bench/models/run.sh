#!/usr/bin/env bash
# What sluice adds around a SQL model run, against running the same SQL directly in DuckDB.
#
#   bench/models/run.sh BUILD_DIR [ROWS]     (ROWS transactions, default 10000000)
#
# BUILD_DIR must hold bin/sluice and bin/duckdb_sql (configure with -DSLUICE_BUILD_BENCH=ON).
# The example project (examples/fraud) with ROWS generated transactions is ingested once; then,
# REPEAT times each (median reported):
#   direct        duckdb_sql: CREATE TABLE daily_spend AS <the model's SQL> in a database file,
#                 reading the same Parquet parts sluice's source version holds
#   direct+export the same plus COPY (... ORDER BY ALL) TO parquet, the export sluice does
#   sluice        sluice build daily_spend --full-refresh (plan, hash, expose the source, build,
#                 export sorted Parquet, hash it, publish the version, record the run), tests off
#   sluice+tests  the same with the model's three tests (not_null, row_count, relationships)
#   unchanged     sluice build daily_spend with nothing changed (load, plan, compare, no work)
# and then sluice's own phase breakdown of one build of each kind (`--log-level info`).
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [ROWS]}
rows=${2:-10000000}
repeat=${REPEAT:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
case "$build" in /*) ;; *) build="$here/$build" ;; esac
sluice="$build/bin/sluice"
duckdb_sql="$build/bin/duckdb_sql"
[ -x "$sluice" ] && [ -x "$duckdb_sql" ] || { echo "need $sluice and $duckdb_sql" >&2; exit 2; }
work="$build/bench-models-$rows"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

if [ ! -f "$work/.ready" ]; then
  rm -rf "$work"
  "$sluice" init "$work" >/dev/null
  # Profiles of published versions are benchmarked apart (bench/quality_bench.sh).
  printf '\nmonitoring: {profile_on_publish: false}\n' >>"$work/sluice.yaml"
  echo "generating $rows transactions..." >&2
  "$sluice" demo-data -p "$work" --transactions "$rows" --formats csv >/dev/null
  echo "ingesting..." >&2
  "$sluice" ingest -p "$work" transactions users >/dev/null
  touch "$work/.ready"
fi
# Two copies of the project: with the model's tests and without.
notests="$work-notests"
rm -rf "$notests" && mkdir -p "$notests"
cp -r "$work/models" "$notests/"
ln -sfn "$work/data" "$notests/data"
python3 - "$work/sluice.yaml" "$notests/sluice.yaml" "$work/.sluice/lake" <<'PY'
import re, sys
src, dst, lake = sys.argv[1:4]
text = open(src).read()
# Same lake (same source versions), its own registry and warehouse; daily_spend without tests.
text = text.replace("path: .sluice/lake", "path: " + lake)
text = re.sub(r"(    - name: daily_spend\n      materialized: table\n)      tests:\n(        - .*\n)+",
              r"\1", text)
open(dst, "w").write(text)
PY

# The Parquet parts of the current transactions version, for the direct run.
parts=$(python3 - "$work/.sluice/lake" <<'PY'
import json, os, sys
lake = sys.argv[1]
vdir = os.path.join(lake, "versions", "transactions")
vid = open(os.path.join(vdir, "HISTORY")).read().split()[-1]
m = json.load(open(os.path.join(vdir, vid + ".json")))
paths = [os.path.join(lake, "objects", o["sha256"][:2], o["sha256"]) for o in m["outputs"] if o["name"] == "data"]
print(", ".join("'%s'" % p for p in paths))
PY
)
source_sql="(SELECT txn_id, user_id, merchant_id, merchant_category, amount, currency, country, channel, ts FROM read_parquet([$parts]))"
model_sql=$(sed "s|{{ source('transactions') }}|$source_sql|" "$work/models/daily_spend.sql")

time_direct() {  # time_direct EXPORT(0/1)
  local db="$work/direct.duckdb" t0 t1
  rm -f "$db" "$db.wal" "$work/direct.parquet"
  local stmts=("ATTACH '$db' AS w" "USE w" "SET TimeZone = 'UTC'" "CREATE TABLE daily_spend AS $model_sql")
  if [ "$1" = 1 ]; then
    stmts+=("COPY (SELECT * FROM daily_spend ORDER BY ALL) TO '$work/direct.parquet' (FORMAT parquet, COMPRESSION zstd)")
  fi
  stmts+=("CHECKPOINT")
  t0=$(now)
  "$duckdb_sql" "${stmts[@]}" 2>/dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
time_sluice() {  # time_sluice PROJECT ARGS...
  local project=$1 t0 t1
  shift
  t0=$(now)
  "$sluice" build -p "$project" daily_spend "$@" >/dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

"$sluice" build -p "$notests" daily_spend >/dev/null  # warm the page cache, create the tables
"$sluice" build -p "$work" daily_spend >/dev/null
declare -A results
for i in $(seq "$repeat"); do
  results[direct]+="$(time_direct 0)"$'\n'
  results[direct_export]+="$(time_direct 1)"$'\n'
  results[sluice]+="$(time_sluice "$notests" --full-refresh)"$'\n'
  results[sluice_tests]+="$(time_sluice "$work" --full-refresh)"$'\n'
  results[unchanged]+="$(time_sluice "$work")"$'\n'
done
out_rows=$("$sluice" versions -p "$work" daily_spend | awk '$1 == "daily_spend" {print $4; exit}')
direct=$(printf '%s' "${results[direct]}" | median)

printf '\n%s transactions -> daily_spend (%s rows), %s cores, median of %s runs\n\n' \
  "$rows" "$out_rows" "$(nproc)" "$repeat"
printf '| run | seconds | vs direct |\n|---|---|---|\n'
for k in direct direct_export sluice sluice_tests unchanged; do
  m=$(printf '%s' "${results[$k]}" | median)
  printf '| %s | %.2f | %+.2f s |\n' "$k" "$m" "$(echo "$m - $direct" | bc -l)"
done

printf '\nphases of one build (sluice --log-level info):\n'
for project in "$notests" "$work"; do
  "$sluice" --log-level info build -p "$project" daily_spend --full-refresh 2>&1 >/dev/null |
    sed -n 's/^info [^ ]* /  /p'
done
