#!/usr/bin/env bash
# Scale-out: two `sluice stream` workers in one consumer group share a topic of four partitions
# on a Redis store; one is killed with SIGKILL mid-stream and the survivor takes its partitions
# over, resuming from the cursors stored with their states. The end state (online values, the
# archive's rows and offset ranges, training sets) equals one clean single-worker run's. Also:
# RocksDB allows one writer, so a second worker on a RocksDB store fails with a clear error.
#
#   stream_group_test.sh SLUICE KAFKA_ENV REDIS_ENV
set -euo pipefail
sluice=$1
source "$2"
source "$3"
here=$(dirname "$0")
source "$here/assert.sh"
source "$here/stream_project.sh"

topic=stream_group
db=11
group="$tmp_root/group"
clean="$tmp_root/clean"
make_stream_project "$group" "$topic" "$KAFKA_BROKERS" 1h
make_stream_project "$clean" "$topic" "$KAFKA_BROKERS" 1h
cp "$group/data/transactions.jsonl" "$clean/data/transactions.jsonl"
rcli() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$db" "$@"; }
rcli FLUSHDB >/dev/null
use_group_store "$group" "$topic" "redis://$REDIS_HOST:$REDIS_PORT/$db"

# Partition = user_id % 4 (keyed by entity, as scale-out needs); inside each partition
# neighbours swapped (out of order inside the hour allowed), duplicates, late copies and
# malformed messages. Two halves: the second is produced after the kill.
sorted_transactions "$group/data/transactions.jsonl" >"$tmp_root/good.jsonl"
/usr/bin/python3 - "$tmp_root/good.jsonl" "$tmp_root/p" <<'PY'
import json, sys
from datetime import datetime, timedelta
good = [json.loads(l) for l in open(sys.argv[1])]
parts = {p: [] for p in range(4)}
for r in good:
    parts[r["user_id"] % 4].append(r)
def ts(r):
    return datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
for p, rows in parts.items():
    out, i = [], 0
    while i < len(rows):
        if i + 1 < len(rows) and i % 5 == 0 and ts(rows[i + 1]) - ts(rows[i]) < timedelta(minutes=30):
            out += [rows[i + 1], rows[i]]
            i += 2
        else:
            out.append(rows[i])
            i += 1
    lines = []
    for n, r in enumerate(out):
        lines.append(json.dumps(r, separators=(",", ":")))
        if n % 97 == 0:
            lines.append(lines[-1])
        if n % 150 == 149:
            late = dict(r)
            late["txn_id"] = "late-%d-%d" % (p, n)
            late["ts"] = (ts(r) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines.append(json.dumps(late, separators=(",", ":")))
        if n % 211 == 3:
            lines.append('{"txn_id": 12, "garbage"')
    half = len(lines) // 2
    open("%s%d.a" % (sys.argv[2], p), "w").write("\n".join(lines[:half]) + "\n")
    open("%s%d.b" % (sys.argv[2], p), "w").write("\n".join(lines[half:]) + "\n")
PY

produce a
"$sluice" --log-level info stream -p "$group" >"$tmp_root/a.out" 2>"$tmp_root/a.err" &
worker_a=$!
"$sluice" --log-level info stream -p "$group" >"$tmp_root/b.out" 2>"$tmp_root/b.err" &
worker_b=$!
if wait_seen a; then pass; else fail "two workers consume the first half: $(tail -3 "$tmp_root/a.err" "$tmp_root/b.err")"; fi
# Both got partitions: each logged what the group gave it (the first to join may have had all
# four until the second joined, then gave them back). The second's join may finish after the
# first half was consumed: wait for it (20 s at most).
shared() {
  grep -q "the group gave this worker [1-3] partition" "$tmp_root/a.err" &&
    grep -q "the group gave this worker [1-3] partition" "$tmp_root/b.err"
}
for _ in $(seq 1 200); do
  shared && break
  sleep 0.1
done
if grep -q "the group gave this worker [1-3] partition" "$tmp_root/a.err" &&
  grep -q "the group gave this worker [1-3] partition" "$tmp_root/b.err"; then
  pass
else
  fail "the workers share the partitions: $(grep -h "group gave" "$tmp_root/a.err" "$tmp_root/b.err")"
fi
kill -9 "$worker_a"
wait "$worker_a" 2>/dev/null || true
produce b
# Only the survivor is left: every partition reaching the end is its work (after the session
# timeout the group gives it the dead worker's partitions).
if wait_seen a b; then pass; else fail "the survivor takes the dead worker's partitions over: $(tail -5 "$tmp_root/b.err")"; fi
if grep -q "the group gave this worker 4 partition" "$tmp_root/b.err"; then
  pass
else
  fail "the survivor owns every partition: $(grep -h "group gave" "$tmp_root/b.err")"
fi
kill -TERM "$worker_b"
status=0
wait "$worker_b" || status=$?
expect_eq "$status" 0 "the survivor stops cleanly on SIGTERM"
# The end of the input: a worker with --stop-at-end applies what waits for the watermark.
run "$sluice" stream -p "$group" --stop-at-end
expect_code 0 "the last run of the group"

total=$(cat "$tmp_root"/p?.a "$tmp_root"/p?.b | wc -l)
run "$sluice" stream -p "$clean" --stop-at-end --segment-rows 100
expect_code 0 "the clean run"
expect_out "consumed $total messages" "the clean run consumes every message"

at="2031-01-01T00:00:00Z"
users=$(seq 1 24)
features_of "$clean" spend_stream "$at" $users >"$tmp_root/online_clean"
features_of "$group" spend_stream "$at" $users >"$tmp_root/online_group"
if grep -q "no value" "$tmp_root/online_clean"; then fail "every user has online values"; else pass; fi
if cmp -s "$tmp_root/online_clean" "$tmp_root/online_group"; then
  pass
else
  fail "online state of the group equals a clean run: $(diff "$tmp_root/online_clean" "$tmp_root/online_group" | head -6)"
fi

counts() { "$sluice" show -p "$1" --quarantine 0 "$(latest_version "$1" tx_stream)" | /usr/bin/python3 -c 'import json,sys
m = json.load(sys.stdin)
kinds = {}
for o in m["outputs"]:
    kinds[o["name"]] = kinds.get(o["name"], 0) + o["rows"]
print(m["rows"], sorted(kinds.items()))'; }
expect_eq "$(counts "$group")" "$(counts "$clean")" "archive counts of the group equal a clean run"
for d in clean group; do
  "$sluice" ingest -p "$tmp_root/$d" labels >/dev/null
  "$sluice" training-set -p "$tmp_root/$d" stream_train --out "$tmp_root/train_$d" >/dev/null
  "$sluice" training-set -p "$tmp_root/$d" stream_all --out "$tmp_root/all_$d" >/dev/null
done
if cmp -s "$(ls "$tmp_root"/train_clean/*.csv | head -1)" "$(ls "$tmp_root"/train_group/*.csv | head -1)"; then
  pass
else
  fail "the group's training set equals a clean run's"
fi
# The archive as rows (two writers interleave their segments, so the files' order differs).
if cmp -s <(sort "$(ls "$tmp_root"/all_clean/*.csv | head -1)") <(sort "$(ls "$tmp_root"/all_group/*.csv | head -1)"); then
  pass
else
  fail "the group's archived events equal a clean run's"
fi
"$sluice" show -p "$group" --quarantine 0 "$(latest_version "$group" tx_stream)" | /usr/bin/python3 -c '
import json, re, sys
m = json.load(sys.stdin)
ranges = {}
for i in m["inputs"]:
    t, p, a, b = re.match(r"kafka:(.*)\[(\d+)\]@(\d+)\.\.(\d+)", i["path"]).groups()
    ranges.setdefault(int(p), []).append((int(a), int(b)))
ends = []
for p in sorted(ranges):
    end = 0
    for a, b in ranges[p]:
        assert a == end, f"partition {p}: range {a}..{b} after {end - 1}"
        end = b + 1
    ends.append(end)
print("contiguous", len(ranges))' >"$tmp_root/ranges" 2>&1 || true
expect_eq "$(cat "$tmp_root/ranges")" "contiguous 4" "offset ranges of two writers contiguous"

# RocksDB: one writer per store. A second worker fails at once, naming the reason.
# (--metrics prints its address once the store is open and the stream runs.)
"$sluice" stream -p "$clean" --metrics 127.0.0.1:0 >"$tmp_root/one.out" 2>"$tmp_root/one.err" &
first=$!
for _ in $(seq 1 100); do
  grep -q "metrics on" "$tmp_root/one.err" 2>/dev/null && break
  sleep 0.1
done
run "$sluice" stream -p "$clean"
expect_code 1 "a second worker on a RocksDB store fails"
expect_err "another process has it open for writing" "the error says why"
kill -TERM "$first"
status=0
wait "$first" || status=$?
expect_eq "$status" 0 "the first RocksDB worker is not disturbed"
rcli FLUSHDB >/dev/null
finish
