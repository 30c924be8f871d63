#!/usr/bin/env bash
# Fencing in a consumer group: worker A stalls (it stops itself with SIGSTOP just before a
# store write, SLUICE_STALL_AT) past the group's session timeout; the group gives its
# partitions to worker B, which consumes and writes them. When A is continued, its pending
# write (states and cursors of partitions it no longer owns) is refused by the store, nothing
# of it is written, and A stops saying why. The end state equals a clean single-worker run's.
#
#   stream_fence_test.sh SLUICE KAFKA_ENV REDIS_ENV
set -euo pipefail
sluice=$1
source "$2"
source "$3"
here=$(dirname "$0")
source "$here/assert.sh"
source "$here/stream_project.sh"

topic=stream_fence
db=13
group="$tmp_root/group"
clean="$tmp_root/clean"
make_stream_project "$group" "$topic" "$KAFKA_BROKERS" 0s
make_stream_project "$clean" "$topic" "$KAFKA_BROKERS" 0s
cp "$group/data/transactions.jsonl" "$clean/data/transactions.jsonl"
rcli() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$db" "$@"; }
rcli FLUSHDB >/dev/null
use_group_store "$group" "$topic" "redis://$REDIS_HOST:$REDIS_PORT/$db"

worker_a=""
worker_b=""
cleanup() {
  for w in $worker_a $worker_b; do
    kill -CONT "$w" 2>/dev/null || true
    kill -9 "$w" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$tmp_root"
}
trap cleanup EXIT

# Partition = user_id % 4 (keyed by entity); two halves, the second produced after A stopped.
sorted_transactions "$group/data/transactions.jsonl" >"$tmp_root/good.jsonl"
/usr/bin/python3 - "$tmp_root/good.jsonl" "$tmp_root/p" <<'PY'
import json, sys
parts = {p: [] for p in range(4)}
for l in open(sys.argv[1]):
    parts[json.loads(l)["user_id"] % 4].append(l.rstrip("\n"))
for p, lines in parts.items():
    half = len(lines) // 2
    open("%s%d.a" % (sys.argv[2], p), "w").write("\n".join(lines[:half]) + "\n")
    open("%s%d.b" % (sys.argv[2], p), "w").write("\n".join(lines[half:]) + "\n")
PY

produce a
SLUICE_STALL_AT=stream.before_group_store_write "$sluice" --log-level info stream -p "$group" \
  >"$tmp_root/a.out" 2>"$tmp_root/a.err" &
worker_a=$!
for _ in $(seq 1 300); do
  grep -q "stalled at stream.before_group_store_write" "$tmp_root/a.err" && break
  sleep 0.1
done
if grep -q "stalled at" "$tmp_root/a.err"; then pass; else fail "worker A stalls before its first write: $(tail -3 "$tmp_root/a.err")"; fi
expect_eq "$(seen 0)$(seen 1)$(seen 2)$(seen 3)" "0000" "nothing written before the stall"

"$sluice" --log-level info stream -p "$group" >"$tmp_root/b.out" 2>"$tmp_root/b.err" &
worker_b=$!
# A is stopped: after the session timeout the group gives B every partition.
if wait_seen a; then pass; else fail "worker B takes the stalled worker's partitions: $(tail -5 "$tmp_root/b.err")"; fi
if grep -q "the group gave this worker 4 partition" "$tmp_root/b.err"; then pass; else fail "B owns every partition"; fi
before=$(rcli --raw GET "sluice:s1/x/spend_stream/stream.tx_stream.0" | md5sum)

# A goes on with its pending write: refused, A stops, nothing of it is stored.
kill -CONT "$worker_a"
status=0
for _ in $(seq 1 300); do
  kill -0 "$worker_a" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$worker_a" 2>/dev/null; then
  kill -9 "$worker_a"
  status="still running 30 s after it was continued"
fi
rc=0
wait "$worker_a" 2>/dev/null || rc=$?
if [ "$status" = 0 ]; then status=$rc; fi
worker_a=""
expect_eq "$status" 1 "the stale worker stops with an error"
err=$(cat "$tmp_root/a.err")
expect_err "another worker of the consumer group wrote partition cursors" "it says why"
expect_err "nothing was written" "and that nothing was written"
expect_eq "$(rcli --raw GET "sluice:s1/x/spend_stream/stream.tx_stream.0" | md5sum)" "$before" \
  "the new owner's cursor is untouched"

produce b
if wait_seen a b; then pass; else fail "B goes on: $(tail -5 "$tmp_root/b.err")"; fi
kill -TERM "$worker_b"
status=0
wait "$worker_b" || status=$?
worker_b=""
expect_eq "$status" 0 "B stops cleanly"
run "$sluice" stream -p "$group" --stop-at-end
expect_code 0 "the last run of the group"

run "$sluice" stream -p "$clean" --stop-at-end
expect_code 0 "the clean run"
at="2024-05-28T13:00:00Z"  # just after the newest event: windows hold values
users=$(seq 1 24)
features_of "$clean" spend_stream "$at" $users >"$tmp_root/online_clean"
features_of "$group" spend_stream "$at" $users >"$tmp_root/online_group"
if grep -q "no value" "$tmp_root/online_clean"; then fail "every user has online values"; else pass; fi
if cmp -s "$tmp_root/online_clean" "$tmp_root/online_group"; then
  pass
else
  fail "online state after the fenced write equals a clean run: $(diff "$tmp_root/online_clean" "$tmp_root/online_group" | head -6)"
fi
rcli FLUSHDB >/dev/null
finish
