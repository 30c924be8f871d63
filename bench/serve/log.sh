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
# Then the steadier figure (SLOG_PAIRS > 0): one server with the log and one without, both
# started once and left running (both on CPU 0 with SLOG_PIN=1), loaded in turn by short wrk runs
# in ABBA order, SLOG_PAIRS pairs of SLOG_PAIR_SECONDS each; for each run the server's CPU time
# (the sum of its threads' run time from /proc, nanoseconds) per request it answered. The log's
# writer publishes a run's rows up to a second later (flush_interval 1s), often during the next
# run, so each "on" run is charged its other threads' CPU plus the writer's CPU per request
# averaged over all runs. Each pair gives the ratio on/off of CPU per request; printed: their
# median, quartiles and range, and the totals (all CPU each server used from the first run to
# after the last run's rows were published, per request), with 95% intervals from resampling the
# pairs (for the median ratio, and for the pooled ratio: all resampled pairs' CPU over their
# requests). On a saturated core, the throughput lost is 1 - off/on CPU per request.
#
# SLOG_BLOCKS (default 1) repeats the paired phase with a fresh pair of servers each time (the
# one started first alternating): one server instance can be a few percent cheaper or dearer than
# another for reasons of its own (memory layout, ...), which pairs within one pair of instances
# cannot cancel. The intervals then resample the blocks first, then the pairs within each.
#
# SLOG_CONCURRENT=1 loads both servers at the same time instead (2 connections each, both on the
# same core when pinned): a pair then sees the same moment of the machine. SLOG_AA=1 is the
# control: the "on" server runs without the log too, so the ratios show the method's own spread.
#
# Environment: SLOG_ENTITIES (default 100000), SLOG_SECONDS per wrk run (default 10),
# SLOG_ROUNDS (default 3; 0 skips the table of separately started servers), SLOG_PAIRS (default
# 0), SLOG_PAIR_SECONDS (default 3), SLOG_RATE sample rate when on (default 1.0), SLOG_DIR work
# folder,
# SLOG_PIN=1 to run the server on CPU 0 and wrk on CPU 1 (taskset): the server then has one core
# and requests/s is its throughput on that core, not a share of two cores fought over with wrk
# (which is what makes unpinned pairs swing by tens of percent).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: log.sh BUILD_DIR}" && pwd)
sluice=$build/bin/sluice
entities=${SLOG_ENTITIES:-100000}
pairs=${SLOG_PAIRS:-0}
pair_seconds=${SLOG_PAIR_SECONDS:-3}
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
pair_pids=()
cleanup() {
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null
  for p in "${pair_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  return 0
}
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
    flush_rows: 50000
    flush_interval: 1s
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

# Starts sluice serve with flags $2..., waits until it is ready; sets started_pid/started_port.
start_server() {
  local log=$1
  shift
  started_port=$(free_port)
  "${pin_server[@]}" "$sluice" serve -p "$project" --store rocksdb \
    --address "127.0.0.1:$started_port" "$@" >"$log" 2>&1 &
  started_pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$started_port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "log bench: sluice serve never became ready:" >&2
  cat "$log" >&2
  exit 1
}
# Run time of process $1's threads so far, nanoseconds (se.sum_exec_runtime, in ms with six
# decimals: finer than /proc/PID/stat's clock ticks): "ALL WRITER", WRITER being the serving log's
# writer thread's (named serving-log) share.
cpu_ns() {
  local t all=0 writer=0 v
  for t in /proc/"$1"/task/*; do
    v=$(awk '$1 == "se.sum_exec_runtime" {printf "%.0f", $3 * 1e6}' "$t/sched" 2>/dev/null)
    [ -n "$v" ] || continue
    all=$((all + v))
    [ "$(cat "$t/comm" 2>/dev/null)" = serving-log ] && writer=$((writer + v))
  done
  echo "$all $writer"
}
pair_rows=()
# Both servers loaded at the same time, 2 connections each (SLOG_CONCURRENT=1): appends an "off"
# and an "on" row for the same interval.
pair_run_both() {  # pair_run_both OFF_PID OFF_PORT ON_PID ON_PORT
  local b_off b_on a_off a_on r_off r_on
  b_off=($(cpu_ns "$1")) b_on=($(cpu_ns "$3"))
  "${pin_wrk[@]}" wrk -t1 -c2 -d"${pair_seconds}s" -s "$here/features.lua" \
    "http://127.0.0.1:$2" -- 1 "$entities" "$at" >"$work/wrk-off.out" &
  local w1=$!
  "${pin_wrk[@]}" wrk -t1 -c2 -d"${pair_seconds}s" -s "$here/features.lua" \
    "http://127.0.0.1:$4" -- 1 "$entities" "$at" >"$work/wrk-on.out" &
  local w2=$!
  wait "$w1" "$w2"
  a_off=($(cpu_ns "$1")) a_on=($(cpu_ns "$3"))
  for side in off on; do
    local r f=$work/wrk-$side.out
    r=$(grep '^RESULT' "$f")
    if [ $side = off ]; then
      pair_rows+=("off $(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$r") $((a_off[0] - b_off[0])) 0 $(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r") $(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$r") $block")
    else
      pair_rows+=("on $(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$r") $((a_on[0] - b_on[0])) $((a_on[1] - b_on[1])) $(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r") $(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$r") $block")
    fi
    echo "pair run: ${pair_rows[-1]}" >&2
  done
}
pair_run() {  # pair_run SIDE PID PORT: one wrk run; appends "SIDE requests cpu_ns writer_ns rps p99_us"
  local side=$1 pid=$2 port=$3 before after out r
  before=($(cpu_ns "$pid"))
  out=$("${pin_wrk[@]}" wrk -t2 -c4 -d"${pair_seconds}s" -s "$here/features.lua" \
    "http://127.0.0.1:$port" -- 1 "$entities" "$at")
  after=($(cpu_ns "$pid"))
  r=$(grep '^RESULT' <<<"$out")
  pair_rows+=("$side $(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$r") $((after[0] - before[0])) $((after[1] - before[1])) $(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$r") $(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$r") $block")
  echo "pair run: ${pair_rows[-1]}" >&2
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
load_mid=$(cut -d' ' -f1-3 /proc/loadavg)
blocks=${SLOG_BLOCKS:-1}
block_totals=()  # per block: "OFF_NS ON_NS ON_WRITER_NS"
dropped=0 sampled=0
if [ "$pairs" -gt 0 ]; then
  for block in $(seq 1 "$blocks"); do
    # A fresh pair of servers per block, the one started first alternating: a server instance
    # has a cost of its own (memory layout, which server the machine favours), which pairs within
    # one instance cannot cancel; across blocks it averages out and the intervals include it.
    if [ $((block % 2)) = 1 ]; then
      start_server "$work/serve-off.log" --no-serving-log
      off_pid=$started_pid off_port=$started_port
    fi
    if [ "${SLOG_AA:-0}" = 1 ]; then
      start_server "$work/serve-on.log" --no-serving-log  # the control: no log on either side
    else
      start_server "$work/serve-on.log"
    fi
    on_pid=$started_pid on_port=$started_port
    if [ $((block % 2)) = 0 ]; then
      start_server "$work/serve-off.log" --no-serving-log
      off_pid=$started_pid off_port=$started_port
    fi
    pair_pids=("$off_pid" "$on_pid")
    for p in "$off_port" "$on_port"; do
      "${pin_wrk[@]}" wrk -t2 -c4 -d2s -s "$here/features.lua" "http://127.0.0.1:$p" -- 1 \
        "$entities" "$at" >/dev/null
    done
    sleep 2  # the warm-up's rows published before the first measured run
    off_start=($(cpu_ns "$off_pid")) on_start=($(cpu_ns "$on_pid"))
    for i in $(seq 1 "$pairs"); do
      if [ "${SLOG_CONCURRENT:-0}" = 1 ]; then
        pair_run_both "$off_pid" "$off_port" "$on_pid" "$on_port"
      elif [ $((i % 2)) = 1 ]; then
        pair_run off "$off_pid" "$off_port"
        pair_run on "$on_pid" "$on_port"
      else
        pair_run on "$on_pid" "$on_port"
        pair_run off "$off_pid" "$off_port"
      fi
    done
    sleep 2  # the last run's rows published
    off_end=($(cpu_ns "$off_pid")) on_end=($(cpu_ns "$on_pid"))
    block_totals+=("$((off_end[0] - off_start[0])) $((on_end[0] - on_start[0])) $((on_end[1] - on_start[1]))")
    on_metrics=$(curl -s "http://127.0.0.1:$on_port/metrics")
    d=$(sed -n 's/^sluice_serve_log_dropped_total \([0-9]*\)/\1/p' <<<"$on_metrics")
    s=$(sed -n 's/^sluice_serve_log_sampled_total \([0-9]*\)/\1/p' <<<"$on_metrics")
    dropped=$((dropped + ${d:-0})) sampled=$((sampled + ${s:-0}))
    kill -TERM "$off_pid" "$on_pid"
    wait "$off_pid" "$on_pid" || true
    pair_pids=()
  done
fi
echo
[ "${SLOG_PIN:-0}" = 1 ] && echo "Pinned: sluice serve on CPU 0, wrk on CPU 1."
if [ "$rounds" -gt 0 ]; then
  echo "Load average (1, 5, 15 min) before: $load_before, after: $load_mid"
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
fi
if [ "$pairs" -gt 0 ]; then
  echo
  how="in turn (ABBA)"
  [ "${SLOG_CONCURRENT:-0}" = 1 ] && how="at the same time, 2 connections each"
  [ "${SLOG_AA:-0}" = 1 ] && how="$how; CONTROL: the log off in both servers"
  echo "Paired runs: $blocks block(s) of $pairs pairs of ${pair_seconds} s ($how), rate $rate, a fresh" \
    "pair of servers per block running throughout it (load average before: $load_mid, after:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)); sampled $sampled, dropped $dropped."
  echo
  { printf 'total %s\n' "${block_totals[@]}"; printf '%s\n' "${pair_rows[@]}"; } | python3 -c '
import random, statistics, sys
lines = [line.split() for line in sys.stdin if line.strip()]
totals = [[int(v) for v in line[1:]] for line in lines if line[0] == "total"]  # per block
runs = [line for line in lines if line[0] != "total"]
blocks = len(totals)
off = [[r for r in runs if r[0] == "off" and int(r[6]) == b + 1] for b in range(blocks)]
on = [[r for r in runs if r[0] == "on" and int(r[6]) == b + 1] for b in range(blocks)]
# The writer publishes a run'"'"'s rows up to a second later, often during the next run (of either
# server): per run, the on server is charged its request threads'"'"' CPU plus its writer'"'"'s
# average per request over its block (all it used, up to the block'"'"'s last rows published).
writer = [totals[b][2] / 1e3 / max(1, sum(int(r[1]) for r in on[b])) for b in range(blocks)]
cpu = lambda r: int(r[2]) / 1e3 / max(1, int(r[1]))
cpu_on = lambda r: (int(r[2]) - int(r[3])) / 1e3 / max(1, int(r[1])) + writer[int(r[6]) - 1]
pairs = [list(zip(off[b], on[b])) for b in range(blocks)]
print("| block | pair | off: requests/s, CPU per request, p99 | on: requests/s, CPU per request (request threads + writer), p99 | on/off CPU per request |")
print("|---|---|---|---|---|")
ratios = []
for b in range(blocks):
    for i, (x, y) in enumerate(pairs[b], 1):
        ratio = cpu_on(y) / cpu(x)
        ratios.append(ratio)
        print(f"| {b + 1} | {i} | {int(x[4])}, {cpu(x):.2f} us, {int(x[5]) / 1000:.2f} ms | "
              f"{int(y[4])}, {cpu_on(y) - writer[b]:.2f} + {writer[b]:.2f} us, {int(y[5]) / 1000:.2f} ms | {ratio:.3f} |")
q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
loss = lambda r: (1 - 1 / r) * 100
print(f"\nOn/off CPU per request: median {q[1]:.3f} (quartiles {q[0]:.3f}-{q[2]:.3f}, range "
      f"{min(ratios):.3f}-{max(ratios):.3f}): throughput lost on a saturated core "
      f"{loss(q[1]):.1f}% (quartiles {loss(q[0]):.1f}% to {loss(q[2]):.1f}%).")
off_total = sum(t[0] for t in totals)
on_total = sum(t[1] for t in totals)
n_off = sum(int(r[1]) for b in off for r in b)
n_on = sum(int(r[1]) for b in on for r in b)
w = sum(t[2] for t in totals) / 1e3 / max(1, n_on)
a, c = off_total / 1e3 / n_off, on_total / 1e3 / n_on
print(f"Totals: off {off_total / 1e9:.2f} CPU s for {n_off} requests ({a:.2f} us each), on "
      f"{on_total / 1e9:.2f} CPU s for {n_on} ({c:.2f} us each, of which the writer {w:.2f} us): "
      f"on/off {c / a:.3f}, throughput lost {loss(c / a):.1f}%.")
def pooled(sample):  # all CPU over all requests of (block, pairs) resampled
    off_ns = sum(int(x[2]) for _, ps in sample for x, _ in ps)
    off_n = sum(int(x[1]) for _, ps in sample for x, _ in ps)
    on_us = sum((int(y[2]) - int(y[3])) / 1e3 + writer[b] * int(y[1]) for b, ps in sample for _, y in ps)
    on_n = sum(int(y[1]) for _, ps in sample for _, y in ps)
    return (on_us / on_n) / (off_ns / 1e3 / off_n)
# 95% intervals by resampling (bootstrap, fixed seed): the blocks (server instances), then the
# pairs within each drawn block, for the median ratio and for the pooled ratio.
rng = random.Random(16)
medians, pooled_ratios = [], []
for _ in range(2000):
    sample = []
    for _ in range(blocks):
        b = rng.randrange(blocks)
        sample.append((b, [pairs[b][rng.randrange(len(pairs[b]))] for _ in pairs[b]]))
    medians.append(statistics.median(cpu_on(y) / cpu(x) for _, ps in sample for x, y in ps))
    pooled_ratios.append(pooled(sample))
medians.sort()
pooled_ratios.sort()
lo, hi = int(0.025 * len(medians)), int(0.975 * len(medians)) - 1
p = pooled(list(enumerate(pairs)))
print(f"95% intervals (bootstrap over blocks, then pairs): median on/off {medians[lo]:.3f}-{medians[hi]:.3f} "
      f"(throughput lost {loss(medians[lo]):.1f}% to {loss(medians[hi]):.1f}%); pooled on/off "
      f"{p:.3f}, {pooled_ratios[lo]:.3f}-{pooled_ratios[hi]:.3f} (throughput lost {loss(p):.1f}%, "
      f"{loss(pooled_ratios[lo]):.1f}% to {loss(pooled_ratios[hi]):.1f}%).")
if blocks > 1:
    per_block = [pooled([(b, pairs[b])]) for b in range(blocks)]
    print("Pooled on/off per block: " + ", ".join(f"{r:.3f}" for r in per_block) + ".")
allo = [r for b in off for r in b]
allon = [r for b in on for r in b]
print(f"Median requests/s off {statistics.median(int(r[4]) for r in allo):.0f}, on "
      f"{statistics.median(int(r[4]) for r in allon):.0f}; median p99 off "
      f"{statistics.median(int(r[5]) for r in allo) / 1000:.2f} ms, on "
      f"{statistics.median(int(r[5]) for r in allon) / 1000:.2f} ms.")
'
fi
