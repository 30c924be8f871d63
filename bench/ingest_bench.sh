#!/usr/bin/env bash
# Ingest throughput: `sluice ingest` against DuckDB's plain `COPY (SELECT * FROM read_X(f)) TO
# 'x.parquet' (FORMAT parquet)` on the same files, in the same run, with the same thread count.
# Run by `make bench`; see bench/README.md.
#
#   bench/ingest_bench.sh BUILD_DIR
#
# Environment:
#   BENCH_ROWS        rows of the main run (default 10000000)
#   BENCH_SMALL_ROWS  rows of the second size for the memory check (default BENCH_ROWS/10; 0 = skip)
#   BENCH_THREADS     DuckDB threads on both sides (default: nproc)
#   BENCH_FORMATS     comma-separated subset of csv,jsonl,parquet (default: all)
#   BENCH_REPEAT      runs per measurement; the fastest is reported (default 1)
#   BENCH_DIR         work folder: generated data (kept and reused), lakes, outputs
#                     (default BUILD_DIR/bench-work)
#   BENCH_SLUICE      the sluice binary to measure (default BUILD_DIR/bin/sluice), e.g. an
#                     older build for before/after numbers
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: ingest_bench.sh BUILD_DIR}" && pwd)
sluice=${BENCH_SLUICE:-$build/bin/sluice}
duckdb_sql=$build/bin/duckdb_sql
rows=${BENCH_ROWS:-10000000}
small=${BENCH_SMALL_ROWS:-$((rows / 10))}
threads=${BENCH_THREADS:-$(nproc)}
formats=${BENCH_FORMATS:-csv,jsonl,parquet}
repeat=${BENCH_REPEAT:-1}
work=${BENCH_DIR:-$build/bench-work}
timer=/usr/bin/time  # Debian's `time` package (scripts/setup): wall seconds and peak RSS

for tool in "$sluice" "$duckdb_sql" "$timer"; do
  [ -x "$tool" ] || { echo "ingest_bench: missing $tool (run \`make bench\`)" >&2; exit 2; }
done
mkdir -p "$work"

# Deterministic data (fixed seed), generated once per size and reused by later runs.
data_for() {  # data_for ROWS -> folder
  local dir="$work/data-$1"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    echo "generating $1 transactions in $dir ..." >&2
    "$sluice" demo-data -o "$dir" --transactions "$1" --formats csv,jsonl,parquet >&2
    touch "$dir/.complete"
  fi
  echo "$dir"
}

# timed OUTFILE CMD...: see bench/timed.sh.
source "$(dirname "${BASH_SOURCE[0]}")/timed.sh"

reader_for() {  # reader_for FORMAT FILE -> DuckDB table function call
  case $1 in
    csv) echo "read_csv('$2')" ;;
    jsonl) echo "read_json('$2')" ;;
    parquet) echo "read_parquet('$2')" ;;
  esac
}

results=()
measure() {  # measure ROWS FORMAT
  local n=$1 fmt=$2 data file bytes proj best_d rss_d best_s rss_s cpu_d cpu_s got
  data=$(data_for "$n")
  file="$data/transactions.$fmt"
  bytes=$(stat -c %s "$file")
  proj="$work/project-$n"
  mkdir -p "$proj"
  cp "$here/project/sluice.yaml" "$proj/sluice.yaml"
  ln -sfn "$data" "$proj/data"
  best_d="" rss_d=0 best_s="" rss_s=0
  for ((r = 0; r < repeat; r++)); do
    # DuckDB alone: the plain copy.
    rm -f "$work/plain.parquet"
    timed "$work/duckdb.log" "$duckdb_sql" --threads "$threads" \
      "COPY (SELECT * FROM $(reader_for "$fmt" "$file")) TO '$work/plain.parquet' (FORMAT parquet)"
    if [ -z "$best_d" ] || awk "BEGIN{exit !($wall < $best_d)}"; then best_d=$wall cpu_d=$cpu; fi
    ((rss > rss_d)) && rss_d=$rss
    got=$("$duckdb_sql" "SELECT count(*) FROM read_parquet('$work/plain.parquet')" 2>/dev/null)
    [ "$got" = "$n" ] || { echo "ingest_bench: DuckDB copied $got rows, expected $n" >&2; exit 1; }
    # sluice: the real binary on a fresh lake.
    rm -rf "$proj/.sluice"
    timed "$work/sluice.log" "$sluice" ingest -p "$proj" --threads "$threads" "tx_$fmt"
    if ! grep -q "read $n  loaded $n  quarantined 0 " "$work/sluice.log"; then
      echo "ingest_bench: sluice did not load all $n rows:" >&2
      cat "$work/sluice.log" >&2
      exit 1
    fi
    if [ -z "$best_s" ] || awk "BEGIN{exit !($wall < $best_s)}"; then best_s=$wall cpu_s=$cpu; fi
    ((rss > rss_s)) && rss_s=$rss
  done
  rm -rf "$proj/.sluice" "$work/plain.parquet"
  results+=("$n $fmt $bytes $best_d $rss_d $best_s $rss_s $cpu_d $cpu_s")
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
sizes=()
[ "$small" -gt 0 ] && [ "$small" != "$rows" ] && sizes+=("$small")
sizes+=("$rows")
for n in "${sizes[@]}"; do
  for fmt in ${formats//,/ }; do
    echo "measuring $fmt at $n rows ..." >&2
    measure "$n" "$fmt"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "ingest benchmark $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), threads=$threads, best of $repeat"
  echo "sluice: $sluice; load average before: $load_before, after: $load_after"
  echo "MB = 10^6 bytes of input file; RSS = peak resident set (GNU time %M); CPU s = user + system"
  echo
  printf '| %10s | %-7s | %8s | %-18s | %8s | %11s | %8s | %8s | %8s | %-34s |\n' \
    rows format "input MB" tool "wall s" "rows/s" "MB/s" "CPU s" "RSS MB" "sluice/DuckDB"
  printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------ --------- ---------- -------------------- \
    ---------- ------------- ---------- ---------- ---------- ------------------------------------
  for line in "${results[@]}"; do
    read -r n fmt bytes wd rd ws rs cd cs <<<"$line"
    awk -v n="$n" -v fmt="$fmt" -v b="$bytes" -v wd="$wd" -v rd="$rd" -v ws="$ws" -v rs="$rs" \
      -v cd="$cd" -v cs="$cs" '
      function row(tool, w, r, c, ratio) {
        if (w <= 0) w = 0.01
        printf "| %10d | %-7s | %8.1f | %-18s | %8.2f | %11.0f | %8.1f | %8.2f | %8.0f | %-34s |\n",
          n, fmt, b / 1e6, tool, w, n / w, b / 1e6 / w, c, r / 1024, ratio
      }
      BEGIN {
        row("duckdb plain copy", wd, rd, cd, "")
        row("sluice ingest", ws, rs, cs, sprintf("%.2fx time, %.2fx CPU, %.2fx RSS",
          ws / (wd > 0 ? wd : 0.01), cs / (cd > 0 ? cd : 0.01), rs / rd))
      }'
  done
} | tee "$work/results.md"
