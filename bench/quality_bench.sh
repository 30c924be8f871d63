#!/usr/bin/env bash
# Profile and drift of ROWS x 20 columns (10 numeric, 10 categorical): `sluice profile` and
# `sluice drift` against pandas + SciPy computing the same statistics on the same data, in the same
# run. See bench/README.md.
#
#   bench/quality_bench.sh BUILD_DIR        (BENCH_ROWS, default 10000000; BENCH_DIR work folder)
#
# QBENCH_LAKE_COMPRESSION=zstd|lz4|snappy|none sets the project's lake.compression (unset: the
# default, zstd). Each codec has its own project (and lake) beside the default one, over the same
# generated files, so changing it ingests again instead of finding the version unchanged.
# Likewise a lake ingested by an older sluice keeps its Parquet files (a source version's id does
# not cover their bytes): remove $BENCH_DIR/quality-ROWS/p/.sluice to measure the current format
# (zstd lakes are Parquet format 2 since issue 16's fourth round; docs/ingest.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: quality_bench.sh BUILD_DIR}" && pwd)
sluice=${BENCH_SLUICE:-$build/bin/sluice}
duckdb_sql=$build/bin/duckdb_sql
rows=${BENCH_ROWS:-10000000}
work=${BENCH_DIR:-$build/bench-work}/quality-$rows
timer=/usr/bin/time
mkdir -p "$work/p/data"

gen() {  # gen FILE SEED SHIFT: x0..x9 normal-ish doubles, c0..c9 categories
  [ -s "$1" ] && return
  local cols="" i shift
  for i in 0 1 2 3 4 5 6 7 8 9; do  # odd columns of the current data are shifted
    shift=0; [ $((i % 2)) -eq 1 ] && shift=$3
    cols+="round((random() + random() + random() - 1.5) * 10 + $i + $shift, 6) AS x$i, "
  done
  for i in 0 1 2 3 4 5 6 7 8 9; do
    shift=0; [ $((i % 2)) -eq 1 ] && shift=$3
    cols+="'v' || CAST(floor(pow(random(), 1 + $shift) * (5 + $i * 10)) AS INT) AS c$i, "
  done
  "$duckdb_sql" "SELECT setseed($2)" "COPY (SELECT ${cols%, } FROM range($rows) r(i)) TO '$1' (HEADER true)" >/dev/null
}
gen "$work/p/data/ref.csv" 0.1 0
gen "$work/p/data/cur.csv" 0.2 0.3

codec=${QBENCH_LAKE_COMPRESSION:-}
project=$work/p
if [ -n "$codec" ]; then
  project=$work/p-$codec
  mkdir -p "$project"
  ln -sfn ../p/data "$project/data"
fi
{
  echo "name: qbench"
  [ -z "$codec" ] || echo "lake: {compression: $codec}"
  echo "sources:"
  for s in ref cur; do
    printf '  - name: %s\n    type: file\n    format: csv\n    path: data/%s.csv\n    columns:\n' "$s" "$s"
    for i in 0 1 2 3 4 5 6 7 8 9; do echo "      - {name: x$i, type: double}"; done
    for i in 0 1 2 3 4 5 6 7 8 9; do echo "      - {name: c$i, type: string}"; done
  done
  echo "monitoring: {profile_on_publish: false}"
} >"$project/sluice.yaml"
"$sluice" ingest -p "$project" >/dev/null
# The ingest's Parquet files may still be written back to disk: not the profile's time.
sync
parquet() {  # parquet DATASET: the Parquet file of its current version
  /usr/bin/python3 - "$project/.sluice/lake" "$1" <<'PY'
import glob, json, os, sys
lake, name = sys.argv[1:3]
current = open(os.path.join(lake, "versions", name, "HISTORY")).read().split()[-1]
m = json.load(open(os.path.join(lake, "versions", name, current + ".json")))
sha = [o for o in m["outputs"] if o["name"] == "data"][0]["sha256"]
print(os.path.join(lake, "objects", sha[:2], sha))
PY
}
# This VM pages out memory that nothing touched for about a minute (a DAMON pageout scheme on
# physical memory, page cache included), and the ingest above spends longer than that on the CSV
# files: read the lake's files once, so the timed runs do not read them from disk (pandas' timed
# compute never reads its data either).
cat "$(parquet ref)" "$(parquet cur)" >/dev/null

measure() {  # measure NAME CMD...: wall and CPU seconds, peak MB
  local name=$1
  shift
  "$timer" -f '%e %U %S %M' -o "$work/time" "$@" >"$work/$name.out"
  read -r wall user sys rss <"$work/time"
  printf '%s %s %s\n' "$wall" "$(echo "$user + $sys" | bc)" "$((rss / 1024))"
}
load=$(cut -d' ' -f1 /proc/loadavg)
read -r p_wall p_cpu p_mb < <(measure profile "$sluice" profile -p "$project" ref --recompute --json)
read -r d_wall d_cpu d_mb < <(measure drift "$sluice" drift -p "$project" --reference ref --current cur --json)

# The floor under any profile of these files: DuckDB alone decoding the same Parquet columns
# (the lake's data files) on 2 threads and folding them into sums, nothing else.
sums=""
for i in 0 1 2 3 4 5 6 7 8 9; do sums+="sum(x$i), sum(length(c$i)), "; done
floor_sql() { echo "CREATE TABLE f AS SELECT ${sums%, } FROM read_parquet('$1')"; }
read -r f1_wall f1_cpu _ < <(measure floor1 "$duckdb_sql" --threads 2 "$(floor_sql "$(parquet ref)")")
read -r f2_wall f2_cpu _ < <(measure floor2 "$duckdb_sql" --threads 2 "$(floor_sql "$(parquet ref)")" "$(floor_sql "$(parquet cur)" | sed 's/TABLE f /TABLE g /')")
py=$(/usr/bin/python3 "$here/quality/pandas_scipy.py" "$work/p/data/ref.csv" "$work/p/data/cur.csv" "$work/drift.out" "$work/profile.out")
read -r pd_read pd_profile pd_drift pd_profile_cpu pd_drift_cpu diff p_diff p_bad < <(/usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['read_s'], d['profile_s'], d['drift_s'], d['profile_cpu_s'], d['drift_cpu_s'], d['max_relative_difference'], d['profile_max_relative_difference'], d['profile_mismatches'])" "$py")

{
  echo "| $rows rows x 20 columns | sluice wall (CPU), peak memory | pandas + SciPy wall (CPU), compute only | ratio wall (CPU) |"
  echo "|---|---|---|---|"
  printf '| profile of ref | %.2f s (%.2f s), %s MB | %.2f s (%.2f s) | %.1fx (%.1fx) |\n' "$p_wall" "$p_cpu" "$p_mb" "$pd_profile" "$pd_profile_cpu" "$(echo "$pd_profile / $p_wall" | bc -l)" "$(echo "$pd_profile_cpu / $p_cpu" | bc -l)"
  printf '| drift ref -> cur | %.2f s (%.2f s), %s MB | %.2f s (%.2f s) | %.1fx (%.1fx) |\n' "$d_wall" "$d_cpu" "$d_mb" "$pd_drift" "$pd_drift_cpu" "$(echo "$pd_drift / $d_wall" | bc -l)" "$(echo "$pd_drift_cpu / $d_cpu" | bc -l)"
  printf '| DuckDB alone: decode of the same Parquet columns (ref; ref and cur) | %.2f s (%.2f s); %.2f s (%.2f s) | | |\n' "$f1_wall" "$f1_cpu" "$f2_wall" "$f2_cpu"
  printf '\npandas read_csv of both files (not counted above): %.1f s. Largest relative difference of a drift statistic, sluice vs SciPy: %s; of a profile number (mean, stddev, min, max, quantiles) vs numpy: %s; profile counts, distinct counts, histogram bins and top values that differ from pandas: %s. Load average before the run: %s. Lake codec: %s\n' "$pd_read" "$diff" "$p_diff" "$p_bad" "$load" "${codec:-zstd (default)}"
} | tee "$work/results.md"
