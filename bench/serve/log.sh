#!/usr/bin/env bash
# Serving with the serving log on and off (issue 16): the same project, store and wrk load
# (1 entity x 10 features per request, 4 connections), `sluice serve` started alternately with
# monitoring.serving_log at sample_rate 1.0 (every request logged) and with --no-serving-log,
# SLOG_ROUNDS times each, in one run. Prints a Markdown table: requests/s, p50/p99, server CPU
# per request (utime + stime from /proc over the measured run), the serving log's writer thread's
# CPU (named serving-log; "-" for a sluice that does not name it) from the start of the measured
# run to its end at the stop, per row it published in that time, rows logged and dropped.
#
#   bench/serve/log.sh BUILD_DIR
#
# Environment: SLOG_ENTITIES (default 100000), SLOG_SECONDS per wrk run (default 10),
# SLOG_ROUNDS (default 3), SLOG_RATE sample rate when on (default 1.0), SLOG_DIR work folder,
# SLOG_PIN=1 to run the server on CPU 0 and wrk on CPU 1 (taskset): the server then has one core
# and requests/s is its throughput on that core, not a share of two cores fought over with wrk
# (which is what makes unpinned pairs swing by tens of percent).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: log.sh BUILD_DIR}" && pwd)
sluice=$build/bin/sluice
entities=${SLOG_ENTITIES:-100000}
seconds=${SLOG_SECONDS:-10}
rounds=${SLOG_ROUNDS:-3}
rate=${SLOG_RATE:-1.0}
work=${SLOG_DIR:-$build/slog-work}
pin_server=()
pin_wrk=()
if [ "${SLOG_PIN:-0}" = 1 ]; then
  pin_server=(taskset -c 0)
  pin_wrk=(taskset -c 1)
fi
at="2024-06-01T00:00:00Z"
for tool in "$sluice" wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "log bench: missing $tool" >&2; exit 2; }
done

serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

project=$work/project-$entities
mkdir -p "$project/data"
if [ ! -f "$project/data/.complete" ]; then
  python3 - "$entities" "$project/data/events.csv" <<'PY'
import random, sys, datetime
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(6)
base = int((datetime.datetime(2024, 6, 1) - datetime.datetime(1970, 1, 1)).total_seconds())
with open(path, "w") as f:
    f.write("account_id,amount,ts\n")
    for a in range(1, n + 1):
        for _ in range(3):
            t = base - rng.randint(1, 7 * 86400)
            ts = datetime.datetime.utcfromtimestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")
            f.write(f"{a},{rng.randint(100, 50000) / 100},{ts}\n")
PY
  touch "$project/data/.complete"
fi
# The serve bench's project without Redis, plus the serving log.
sed '/type: redis/d' "$here/sluice.yaml" >"$project/sluice.yaml"
cat >>"$project/sluice.yaml" <<YAML
monitoring:
  serving_log:
    sample_rate: $rate
    flush_rows: 100000
    flush_interval: 10s
YAML
"$sluice" ingest -p "$project" >&2
if [ ! -f "$project/.materialized" ]; then
  "$sluice" materialize -p "$project" --store rocksdb --force >&2
  touch "$project/.materialized"
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The serving log's writer thread (named serving-log) of process $1: its /proc task folder, or
# nothing.
writer_task() {
  local t
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = serving-log ] && echo "$t" && return
  done
  return 0
}
rows=()
measure() {  # measure LABEL [SERVE-FLAGS...]
  local label=$1
  shift
  local port
  port=$(free_port)
  "${pin_server[@]}" "$sluice" serve -p "$project" --store rocksdb --address "127.0.0.1:$port" "$@" \
    >"$work/serve.log" 2>&1 &
  serve_pid=$!
  local ready=""
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && ready=1 && break
    sleep 0.1
  done
  # A server that answers every request with 503 would look fast: measure only a ready one
  # (e.g. a work folder materialized by an older sluice needs SLOG_DIR removed).
  if [ -z "$ready" ]; then
    echo "log bench: sluice serve never became ready:" >&2
    curl -s "http://127.0.0.1:$port/readyz" >&2 || cat "$work/serve.log" >&2
    exit 1
  fi
  "${pin_wrk[@]}" wrk -t2 -c4 -d2s -s "$here/features.lua" "http://127.0.0.1:$port" -- 1 "$entities" "$at" \
    >/dev/null
  local before after out r rps p50 p99 requests metrics
  before=$(cpu_ticks "$serve_pid")
  local writer writer_before="" writer_last="" published_before
  writer=$(writer_task "$serve_pid")
  [ -n "$writer" ] && writer_before=$(awk '{print $14 + $15}' "$writer/stat")
  published_before=$(curl -s "http://127.0.0.1:$port/metrics" |
    sed -n 's/^sluice_serve_log_rows_total \([0-9]*\)/\1/p')
  out=$("${pin_wrk[@]}" wrk -t2 -c4 -d"${seconds}s" -s "$here/features.lua" "http://127.0.0.1:$port" \
    -- 1 "$entities" "$at")
  after=$(cpu_ticks "$serve_pid")
  metrics=$(curl -s "http://127.0.0.1:$port/metrics")
  kill -TERM "$serve_pid"
  # The writer's CPU up to its end, the last part written at the stop included.
  if [ -n "$writer" ]; then
    local v
    while v=$(awk '{print $14 + $15}' "$writer/stat" 2>/dev/null) && [ -n "$v" ]; do
      writer_last=$v
      sleep 0.01
    done
  fi
  wait "$serve_pid" || true
  serve_pid=""
  r=$(grep '^RESULT' <<<"$out")
  rps=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r")
  p50=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$r")
  p99=$(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$r")
  requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$r")
  local hz cpu_us sampled dropped writer_us="-"
  hz=$(getconf CLK_TCK)
  cpu_us=$(python3 -c "print(f'{($after - $before) * 1e6 / $hz / max(1, $requests):.1f}')")

  sampled=$(sed -n 's/^sluice_serve_log_sampled_total \([0-9]*\)/\1/p' <<<"$metrics")
  dropped=$(sed -n 's/^sluice_serve_log_dropped_total \([0-9]*\)/\1/p' <<<"$metrics")
  local logged
  logged=$(sed -n "s/.*serving log 'serving_log': \([0-9]*\) rows.*/\1/p" "$work/serve.log")
  # Per row the writer published from the start of the measured run to the stop.
  if [ -n "$writer_before" ] && [ -n "$writer_last" ] && [ -n "$logged" ] &&
    [ "$logged" -gt "${published_before:-0}" ]; then
    writer_us="$(python3 -c "print(f'{($writer_last - $writer_before) * 1e6 / $hz / ($logged - ${published_before:-0}):.2f}')") us"
  fi
  rows+=("| $label | $rps | $(python3 -c "print(f'{$p50/1000:.3f} / {$p99/1000:.3f}')") ms | $cpu_us us | $writer_us | ${sampled:--} | ${dropped:--} | ${logged:--} |")
  echo "${rows[-1]}" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Rounds in ABBA order (off, on, then on, off): the machine drifts over a run (the first
# servers are slower than the last), and alternating which side goes first cancels a steady
# drift out of the medians.
for i in $(seq 1 "$rounds"); do
  if [ $((i % 2)) = 1 ]; then
    measure "off (round $i)" --no-serving-log
    measure "on, rate $rate (round $i)"
  else
    measure "on, rate $rate (round $i)"
    measure "off (round $i)" --no-serving-log
  fi
done
echo
[ "${SLOG_PIN:-0}" = 1 ] && echo "Pinned: sluice serve on CPU 0, wrk on CPU 1."
echo "Load average (1, 5, 15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| serving log | requests/s | p50 / p99 | server CPU per request | log writer CPU per row | sampled | dropped | rows published at stop |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
# Medians of each side's requests/s and server CPU per request, and on against off.
printf '%s\n' "${rows[@]}" | python3 -c '
import statistics, sys
side = {"off": ([], []), "on": ([], [])}
for line in sys.stdin:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    key = "off" if cells[0].startswith("off") else "on"
    side[key][0].append(float(cells[1]))
    side[key][1].append(float(cells[3].split()[0]))
(off_rps, off_cpu), (on_rps, on_cpu) = side["off"], side["on"]
if off_rps and on_rps:
    a, b = statistics.median(off_rps), statistics.median(on_rps)
    c, d = statistics.median(off_cpu), statistics.median(on_cpu)
    print(f"\nMedians: requests/s off {a:.0f}, on {b:.0f} ({(b - a) / a * 100:+.1f}%); "
          f"server CPU per request off {c:.1f} us, on {d:.1f} us ({(d - c) / c * 100:+.1f}%).")
'
