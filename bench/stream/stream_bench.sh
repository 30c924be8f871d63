#!/usr/bin/env bash
# bench/stream: `sluice stream` throughput and freshness on librdkafka's mock broker.
#
#   bench/stream/stream_bench.sh SLUICE MOCK_BROKER [EVENTS] [RATE] [SECONDS]
#
# 1. Throughput: EVENTS JSON transactions (the example's columns) in one partition, consumed
#    spread by user over 16 partitions (the mock broker keeps about 5 MB per partition), consumed
#    to the end by `sluice stream --stop-at-end` (contract check, DuckDB row SQL, the example
#    view's 6 aggregations, RocksDB writes, the lake archive) and, in the same run, by kcat
#    (librdkafka's consumer alone, messages to /dev/null): the input's physical limit. Both
#    under /usr/bin/time; events/s per core = events / (user + system CPU seconds).
# 2. Freshness: a producer sends RATE events/s stamped with the time they are sent, for
#    SECONDS, while `sluice stream` follows live; sluice prints event-to-online p50/p99.
set -euo pipefail
sluice=$(realpath "$1")
broker_bin=$(realpath "$2")
events=${3:-200000}
rate=${4:-50000}
seconds=${5:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'bash "$here/../../tests/kafka/kafka_broker.sh" stop "$root/kafka" >/dev/null; rm -rf "$root"' EXIT
bash "$here/../../tests/kafka/kafka_broker.sh" start "$root/kafka" "$broker_bin" bench_tp:16 \
  bench_live:1 >/dev/null
source "$root/kafka/env"
source "$here/../../tests/e2e/stream_project.sh"

p="$root/p"
make_stream_project "$p" bench_tp "$KAFKA_BROKERS" 0s
"$sluice" demo-data -p "$p" --transactions "$events" --formats jsonl >/dev/null
sorted_transactions "$p/data/transactions.jsonl" >"$root/messages.jsonl"
for part in $(seq 0 15); do
  /usr/bin/python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if json.loads(l)["user_id"] % 16 == int(sys.argv[2]): sys.stdout.write(l)' "$root/messages.jsonl" "$part" |
    kcat -P -b "$KAFKA_BROKERS" -t bench_tp -p "$part"
done
n=$(wc -l <"$root/messages.jsonl")

timed() {  # timed OUT CMD...: "wall cpu" of CMD into OUT
  /usr/bin/time -f '%e %U %S' -o "$1.time" "${@:2}" >"$1.out" 2>"$1.err"
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$1.time"
}
read -r raw_wall raw_cpu < <(timed "$root/raw" kcat -C -b "$KAFKA_BROKERS" -t bench_tp -o beginning -e -q)
read -r sl_wall sl_cpu < <(timed "$root/sluice" "$sluice" stream -p "$p" spend_stream --stop-at-end)
grep -q "consumed $n messages" "$root/sluice.out" || { cat "$root/sluice.out" "$root/sluice.err"; exit 1; }
rate_of() { awk -v n="$n" -v s="$1" 'BEGIN{printf "%.0f", (s > 0 ? n / s : 0)}'; }
echo
echo "| path ($n events, 16 partitions) | wall s | CPU s | events/s (wall) | events/s per core (CPU) |"
echo "|---|---|---|---|---|"
echo "| kcat: librdkafka consume only | $raw_wall | $raw_cpu | $(rate_of "$raw_wall") | $(rate_of "$raw_cpu") |"
echo "| sluice stream (spend_stream, RocksDB, lake) | $sl_wall | $sl_cpu | $(rate_of "$sl_wall") | $(rate_of "$sl_cpu") |"

# Live: events stamped with the time they are sent, at a steady rate.
sed -i "s/topic: bench_tp/topic: bench_live/" "$p/sluice.yaml"
rm -rf "$p/.sluice/online" "$p/.sluice/lake/versions/tx_stream"
"$sluice" stream -p "$p" spend_stream >"$root/live.out" 2>"$root/live.err" &
pid=$!
sleep 2
/usr/bin/python3 - "$rate" "$seconds" <<'PY' | kcat -P -b "$KAFKA_BROKERS" -t bench_live -p 0 -X linger.ms=1
import json, sys, time
from datetime import datetime, timezone
rate, seconds = int(sys.argv[1]), float(sys.argv[2])
tick = 0.01
per_tick = max(1, int(rate * tick))
start = time.time()
n = 0
while time.time() - start < seconds:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = []
    for i in range(per_tick):
        n += 1
        out.append('{"txn_id":"t%d","user_id":%d,"merchant_id":"m%d","merchant_category":"food",'
                   '"amount":10.5,"currency":"EUR","country":"DE","channel":"web","ts":"%s"}'
                   % (n, n % 5000, n % 300, now))
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()
    next_tick = start + (n / per_tick) * tick
    time.sleep(max(0, next_tick - time.time()))
PY
sleep 2
kill -TERM "$pid"
wait "$pid" || true
echo
echo "live, $rate events/s for ${seconds}s:"
grep -E "consumed|freshness" "$root/live.out" || cat "$root/live.err"
