#!/usr/bin/env bash
# bench/stream: `sluice stream` throughput and freshness on librdkafka's mock broker.
#
#   bench/stream/stream_bench.sh SLUICE MOCK_BROKER [EVENTS] [RATE] [SECONDS] [PARTITIONS]
#
# MOCK_BROKER's folder (build/tests) also holds live_producer (tests/kafka/live_producer.cpp).
# 1. Throughput: EVENTS example transactions (JSON, the columns of examples/fraud) spread by
#    user over PARTITIONS partitions (default 16; the mock broker keeps about 5 MB per partition,
#    so at most about 25,000 events per partition), consumed to the end by `sluice stream --stop-at-end` (contract check, DuckDB
#    row SQL, the example view's 6 aggregations, RocksDB writes, the lake archive) and, in the
#    same run, by kcat (librdkafka's consumer alone, messages to /dev/null): the input's physical
#    limit. Both under /usr/bin/time; events/s per core = events / (user + system CPU seconds).
#    A second `sluice stream` with nothing left to consume measures start-up and shutdown.
# 2. Freshness (skipped when SECONDS is 0): live_producer sends RATE events/s, keyed by user
#    over 4 partitions, each stamped with the time it is sent, for SECONDS, while `sluice stream`
#    follows live; on SIGTERM sluice prints event-to-online p50/p99 (event time to the store
#    write that made the event servable).
set -euo pipefail
sluice=$(realpath "$1")
broker_bin=$(realpath "$2")
producer=$(dirname "$broker_bin")/live_producer
events=${3:-200000}
rate=${4:-50000}
seconds=${5:-10}
partitions=${6:-16}
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
live_pid=
cleanup() {
  [[ -n "$live_pid" ]] && kill -TERM "$live_pid" 2>/dev/null
  bash "$here/../../tests/kafka/kafka_broker.sh" stop "$root/kafka" >/dev/null
  rm -rf "$root"
}
trap cleanup EXIT
bash "$here/../../tests/kafka/kafka_broker.sh" start "$root/kafka" "$broker_bin" "bench_tp:$partitions" \
  bench_live:4 >/dev/null
source "$root/kafka/env"
source "$here/../../tests/e2e/stream_project.sh"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

p="$root/p"
make_stream_project "$p" bench_tp "$KAFKA_BROKERS" 0s
"$sluice" demo-data -p "$p" --transactions "$events" --formats jsonl >/dev/null
sorted_transactions "$p/data/transactions.jsonl" >"$root/messages.jsonl"
/usr/bin/python3 - "$root/messages.jsonl" "$root" "$partitions" <<'PY'
import json, sys
n = int(sys.argv[3])
parts = [open(f"{sys.argv[2]}/part{i}", "w") for i in range(n)]
for line in open(sys.argv[1]):
    parts[json.loads(line)["user_id"] % n].write(line)
PY
for part in $(seq 0 $((partitions - 1))); do
  kcat -P -b "$KAFKA_BROKERS" -t bench_tp -p "$part" <"$root/part$part"
done
n=$(wc -l <"$root/messages.jsonl")

timed() {  # timed OUT CMD...: "wall cpu" of CMD into OUT
  /usr/bin/time -f '%e %U %S' -o "$1.time" "${@:2}" >"$1.out" 2>"$1.err"
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$1.time"
}
read -r raw_wall raw_cpu < <(timed "$root/raw" kcat -C -b "$KAFKA_BROKERS" -t bench_tp -o beginning -e -q)
read -r sl_wall sl_cpu < <(timed "$root/sluice" "$sluice" stream -p "$p" spend_stream --stop-at-end)
grep -q "consumed $n messages" "$root/sluice.out" || { cat "$root/sluice.out" "$root/sluice.err"; exit 1; }
read -r idle_wall idle_cpu < <(timed "$root/idle" "$sluice" stream -p "$p" spend_stream --stop-at-end)
grep -q "consumed 0 messages" "$root/idle.out" || { cat "$root/idle.out" "$root/idle.err"; exit 1; }
rate_of() { awk -v n="$n" -v s="$1" 'BEGIN{printf "%.0f", (s > 0 ? n / s : 0)}'; }
work_cpu=$(awk -v a="$sl_cpu" -v b="$idle_cpu" 'BEGIN{printf "%.2f", a - b}')
echo
echo "| path ($n events, $partitions partitions) | wall s | CPU s | events/s (wall) | events/s per core (CPU) |"
echo "|---|---|---|---|---|"
echo "| kcat: librdkafka consume only | $raw_wall | $raw_cpu | $(rate_of "$raw_wall") | $(rate_of "$raw_cpu") |"
echo "| sluice stream (spend_stream, RocksDB, lake) | $sl_wall | $sl_cpu | $(rate_of "$sl_wall") | $(rate_of "$sl_cpu") |"
echo "| sluice stream, nothing to consume (start-up, shutdown) | $idle_wall | $idle_cpu | | |"
echo "| sluice stream less start-up and shutdown | | $work_cpu | | $(rate_of "$work_cpu") |"

[[ "$seconds" == 0 ]] && exit 0
# Live: events stamped with the time they are sent, at a steady rate, on a fresh view and archive.
sed -i "s/topic: bench_tp/topic: bench_live/" "$p/sluice.yaml"
rm -rf "$p/.sluice/online" "$p/.sluice/lake/versions/tx_stream"
"$sluice" stream -p "$p" spend_stream >"$root/live.out" 2>"$root/live.err" &
live_pid=$!
sleep 2
"$producer" "$KAFKA_BROKERS" bench_live "$rate" "$seconds" >"$root/producer.out"
sleep 2
# CPU seconds of sluice while it followed the stream (utime + stime, in clock ticks).
live_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$live_pid/stat")
kill -TERM "$live_pid"
wait "$live_pid" || true
live_pid=
echo
echo "live, asked $rate events/s for ${seconds}s: $(cat "$root/producer.out")"
echo "sluice used $live_cpu CPU s while following; load average $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "consumed|freshness" "$root/live.out" || cat "$root/live.err"
