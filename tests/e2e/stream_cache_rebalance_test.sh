#!/usr/bin/env bash
# The state cache across a rebalance: a partition moves from worker A to worker B and back while
# B writes states of its entities. Phase 1: only A runs and consumes the first third of the
# events (its cache holds every entity). Phase 2: B joins, the group splits the partitions, and
# B consumes the second third for the partitions it got (entities A had cached). Phase 3: B
# stops (SIGTERM, drain), A gets every partition back and consumes the last third of events
# of the same entities. If A went on from the states it cached in phase 1 instead of the ones B
# stored, B's updates would be lost: the online values must equal a clean single-worker run's.
# (Checked: with the cache not emptied when partitions arrive or leave, StreamRuntime's Take and
# GiveUp, this test fails; either of the two alone keeps it green, as a revocation always comes
# before the partitions are given again.)
#
#   stream_cache_rebalance_test.sh SLUICE KAFKA_ENV REDIS_ENV
set -euo pipefail
sluice=$1
source "$2"
source "$3"
here=$(dirname "$0")
source "$here/assert.sh"
source "$here/stream_project.sh"
out="" err=""  # fail() prints them before any run

topic=stream_cache
db=14
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
    kill -9 "$w" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$tmp_root"
}
trap cleanup EXIT

# Partition = user_id % 4 (keyed by entity). The events in event-time order cut into three
# thirds (a, b, c), one per phase; every user must have events in each third, or a phase would
# not touch the entities the test is about. Event time is compressed into 24 days (order kept)
# so that the 30-day windows read at the end hold every phase's events: a lost phase shows.
sorted_transactions "$group/data/transactions.jsonl" >"$tmp_root/good.jsonl"
/usr/bin/python3 - "$tmp_root/good.jsonl" "$tmp_root/p" >"$tmp_root/split" <<'PY'
import json, sys
from datetime import datetime, timedelta
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def ts(r):
    return datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
first, last = ts(events[0]), ts(events[-1])
scale = min(1.0, timedelta(days=24) / (last - first))
for r in events:
    r["ts"] = (first + (ts(r) - first) * scale).strftime("%Y-%m-%dT%H:%M:%SZ")
rows = [json.dumps(r, separators=(",", ":")) for r in events]
third = len(rows) // 3
phases = {"a": rows[:third], "b": rows[third:2 * third], "c": rows[2 * third:]}
users = {json.loads(l)["user_id"] for l in rows}
for name, lines in phases.items():
    missing = users - {json.loads(l)["user_id"] for l in lines}
    if missing:
        sys.exit("users without events in phase %s: %s" % (name, sorted(missing)))
    for p in range(4):
        part = [l for l in lines if json.loads(l)["user_id"] % 4 == p]
        open("%s%d.%s" % (sys.argv[2], p, name), "w").write("".join(l + "\n" for l in part))
newest = json.loads(rows[-1])["ts"]
print(newest)
open(sys.argv[2] + "users", "w").write(" ".join(map(str, sorted(users))))
PY
users=$(cat "$tmp_root/pusers")
expect_eq "$(echo $users | wc -w)" 30 "the demo data: 30 users, each with events in every phase"
# wait_log FILE PATTERN N: until FILE has N lines matching PATTERN (20 s at most).
wait_log() {
  for _ in $(seq 1 200); do
    [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
    sleep 0.1
  done
  return 1
}

# Phase 1: A alone owns every partition and consumes the first third (its cache fills).
produce a
"$sluice" --log-level info stream -p "$group" >"$tmp_root/a.out" 2>"$tmp_root/a.err" &
worker_a=$!
if wait_seen a; then pass; else fail "A alone consumes the first third: $(tail -3 "$tmp_root/a.err")"; fi
expect_eq "$(grep -c "the group gave this worker 4 partition" "$tmp_root/a.err")" 1 "A owns every partition"

# Phase 2: B joins; once the group split the partitions, the second third is produced, so B
# updates the entities of the partitions it took from A.
"$sluice" --log-level info stream -p "$group" >"$tmp_root/b.out" 2>"$tmp_root/b.err" &
worker_b=$!
if wait_log "$tmp_root/b.err" "the group gave this worker [1-3] partition" 1 &&
  wait_log "$tmp_root/a.err" "the group gave this worker [1-3] partition" 1; then
  pass
else
  fail "the group splits the partitions: $(grep -h "group gave" "$tmp_root/a.err" "$tmp_root/b.err")"
fi
produce b
if wait_seen a b; then pass; else fail "A and B consume the second third: $(tail -3 "$tmp_root/a.err" "$tmp_root/b.err")"; fi

# Phase 3: B drains and leaves; A gets B's partitions back and consumes the last third.
kill -TERM "$worker_b"
status=0
wait "$worker_b" || status=$?
worker_b=""
expect_eq "$status" 0 "B stops cleanly on SIGTERM"
# Its latest assignment becomes all four. The group may have rebalanced more than once while B
# was there (slow joins under sanitizers), so the wait is for the last line, not the third.
a_has_all() {
  grep "the group gave this worker" "$tmp_root/a.err" | tail -1 | grep -q "gave this worker 4 partition"
}
given_back=""
for _ in $(seq 1 300); do
  a_has_all && given_back=1 && break
  sleep 0.1
done
if [ -n "$given_back" ]; then
  pass
else
  fail "A is given B's partitions back: $(grep -h "group gave" "$tmp_root/a.err")"
fi
produce c
if wait_seen a b c; then pass; else fail "A consumes the last third: $(tail -3 "$tmp_root/a.err")"; fi
kill -TERM "$worker_a"
status=0
wait "$worker_a" || status=$?
worker_a=""
expect_eq "$status" 0 "A stops cleanly on SIGTERM"
# The end of the input: a worker with --stop-at-end applies what waits for the watermark.
run "$sluice" stream -p "$group" --stop-at-end
expect_code 0 "the last run of the group"

total=$(cat "$tmp_root"/p?.? | wc -l)
run "$sluice" stream -p "$clean" --stop-at-end
expect_code 0 "the clean run"
expect_out "consumed $total messages" "the clean run consumes every message"

at=$(/usr/bin/python3 -c 'import sys
from datetime import datetime, timedelta
t = datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")) + timedelta(minutes=1)
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$(cat "$tmp_root/split")")  # windows hold values
features_of "$clean" spend_stream "$at" $users >"$tmp_root/online_clean"
features_of "$group" spend_stream "$at" $users >"$tmp_root/online_group"
if grep -q "no value" "$tmp_root/online_clean"; then fail "every user has online values"; else pass; fi
if cmp -s "$tmp_root/online_clean" "$tmp_root/online_group"; then
  pass
else
  fail "online state after the partitions moved away and back equals a clean run: $(diff "$tmp_root/online_clean" "$tmp_root/online_group" | head -6)"
fi
rcli FLUSHDB >/dev/null
finish
