#!/usr/bin/env bash
# A running `sluice serve` follows a generation switch: the view's definition changes,
# `sluice stream` rebuilds it and switches the store to the new generation, and the server,
# never restarted, answers every request polled in a loop meanwhile: the old definition's
# values until the switch, the new one's after, never an error and never going back.
#
#   stream_serve_switch_test.sh SLUICE KAFKA_ENV TOPIC [REDIS_ENV]
# Without REDIS_ENV the store is RocksDB (the server follows the stream's writes as a
# secondary); with it, a Redis database shared by both.
set -euo pipefail
sluice=$1
source "$2"
topic=$3
here=$(dirname "$0")
source "$here/assert.sh"
source "$here/stream_project.sh"

p="$tmp_root/switch"
make_stream_project "$p" "$topic" "$KAFKA_BROKERS" 0s
if [ $# -ge 4 ]; then
  source "$4"
  db=12
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$db" FLUSHDB >/dev/null
  /usr/bin/python3 - "$p/sluice.yaml" "redis://$REDIS_HOST:$REDIS_PORT/$db" <<'PY'
import sys
path, url = sys.argv[1:3]
text = open(path).read()
text = text.replace("online_stores:\n", "online_stores:\n  - {name: shared, type: redis, url: %s}\n" % url, 1)
open(path, "w").write(text)
PY
  stream_flags=(--no-group)  # one worker with every partition: the rebuild needs it
else
  stream_flags=()
fi

server_pid=""
late_pid=""
poller_pid=""
cleanup() {
  if [ -n "$poller_pid" ]; then kill "$poller_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  if [ -n "$late_pid" ]; then kill -TERM "$late_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp_root"
}
trap cleanup EXIT

sorted_transactions "$p/data/transactions.jsonl" >"$tmp_root/all.jsonl"
total=$(wc -l <"$tmp_root/all.jsonl")
head -n $((total * 2 / 3)) "$tmp_root/all.jsonl" >"$tmp_root/head.jsonl"
tail -n +$((total * 2 / 3 + 1)) "$tmp_root/all.jsonl" >"$tmp_root/tail.jsonl"
to_partitions() {  # to_partitions FILE: user_id % 2 picks the partition
  for part in 0 1; do
    /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    if json.loads(l)["user_id"] % 2 == int(sys.argv[1]): sys.stdout.write(l)' "$part" <"$1" |
      kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p "$part"
  done
}
to_partitions "$tmp_root/head.jsonl"
run "$sluice" stream -p "$p" --stop-at-end "${stream_flags[@]}"
expect_code 0 "stream the first two thirds"

start_serve() {  # start_serve NAME: a server on a free port; sets $started_pid and $port
  "$sluice" serve -p "$p" --address 127.0.0.1:0 --refresh-ms 100 \
    >"$tmp_root/$1.out" 2>"$tmp_root/$1.err" &
  started_pid=$!
  for _ in $(seq 1 200); do
    grep -q "listening on" "$tmp_root/$1.out" 2>/dev/null && break
    kill -0 "$started_pid" 2>/dev/null || break
    sleep 0.05
  done
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp_root/$1.out")
  if [ -z "$port" ]; then
    out=$(cat "$tmp_root/$1.out")
    err=$(cat "$tmp_root/$1.err")
    fail "sluice serve starts"
    finish
  fi
}
start_serve serve
server_pid=$started_pid
base="http://127.0.0.1:$port"
ready_definition() {  # ready_definition [BASE]: the definition /readyz reports for spend_stream
  curl -s "${1:-$base}/readyz" | /usr/bin/python3 -c 'import json,sys
d = json.load(sys.stdin)
print([v.get("definition", "") + ("" if v["ready"] else " not ready") for v in d["views"] if v["view"] == "spend_stream"][0])'
}
old_definition=$(ready_definition)
case "$old_definition" in *"not ready"* | "") fail "the view is ready before the change: $old_definition" ;; *) pass ;; esac

# The poller: the same request in a loop on one keep-alive connection, every answer recorded
# (HTTP status, then each entity's feature values and versions), until the stop file appears.
at="2024-05-28T13:00:00Z"
cat >"$tmp_root/poll.py" <<'PY'
import http.client, json, os, sys
port, at, out_path, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = json.dumps({"view": "spend_stream", "at": at,
                   "entities": [{"user_id": u} for u in range(1, 31)]})
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
with open(out_path, "w") as out:
    while not os.path.exists(stop):
        conn.request("POST", "/v1/features", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read().decode()
        if r.status != 200:
            out.write("%d %s\n" % (r.status, data.strip()))
        else:
            d = json.loads(data)
            out.write("200 %s\n" % json.dumps([e["features"] for e in d["results"]], sort_keys=True))
        out.flush()
PY
/usr/bin/python3 "$tmp_root/poll.py" "$port" "$at" "$tmp_root/answers" "$tmp_root/stop" &
poller_pid=$!
for _ in $(seq 1 100); do
  [ -s "$tmp_root/answers" ] && break
  sleep 0.05
done

# The definition changes (a narrower filter, a shorter window) while the server runs; the
# store still holds the old generation, so the server keeps serving it.
/usr/bin/python3 - "$p/sluice.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
text = text.replace('filter: "amount > 0"', 'filter: "amount > 40"')
text = text.replace("{name: amount_sum_24h, function: sum, column: amount, window: 24h}",
                    "{name: amount_sum_24h, function: sum, column: amount, window: 6h}")
open(path, "w").write(text)
PY
to_partitions "$tmp_root/tail.jsonl"
sleep 0.5
expect_eq "$(ready_definition)" "$old_definition" "the old generation is served while the files changed"
# A server started now loads the new definition, which the store does not hold yet: not ready
# (never the old generation read with the new plan), until the switch.
start_serve late
late_pid=$started_pid
late_base="http://127.0.0.1:$port"
expect_eq "$(ready_definition "$late_base")" "$old_definition not ready" \
  "a server started with the new files is not ready before the switch"

if [ ${#stream_flags[@]} -gt 0 ]; then
  # A worker of the consumer group refuses to rebuild, saying exactly what to run instead.
  run "$sluice" stream -p "$p" --stop-at-end
  expect_code 1 "a group worker refuses the changed view"
  expect_err "stop every worker of the group, run \`sluice stream -p $p --no-group --stop-at-end\` once" \
    "the refusal names the command that rebuilds"
fi
run "$sluice" stream -p "$p" --stop-at-end "${stream_flags[@]}"
expect_code 0 "the rebuild and switch"
expect_out "feature view spend_stream: changed definition rebuilt into a new generation" \
  "the stream rebuilt the view"
new_definition=""
for _ in $(seq 1 100); do
  new_definition=$(ready_definition)
  [ "$new_definition" != "$old_definition" ] && break
  sleep 0.05
done
case "$new_definition" in
  *"not ready"* | "$old_definition") fail "the server switched to the new definition: $new_definition" ;;
  *) pass ;;
esac
# A few more answers after the switch, then the poller stops.
lines=$(wc -l <"$tmp_root/answers")
for _ in $(seq 1 100); do
  [ "$(wc -l <"$tmp_root/answers")" -ge $((lines + 20)) ] && break
  sleep 0.05
done
touch "$tmp_root/stop"
wait "$poller_pid"
poller_pid=""
kill -0 "$server_pid" 2>/dev/null && pass || fail "the server kept running (no restart)"
expect_eq "$(ready_definition "$late_base")" "$new_definition" \
  "the server started with the new files is ready after the switch"
kill -TERM "$late_pid"
wait "$late_pid" 2>/dev/null || true
late_pid=""

# What each generation answers: the old from the answers' first line, the new from `sluice get`
# with the new definition (same "at", same users).
features_of "$p" spend_stream "$at" $(seq 1 30) >"$tmp_root/new_get"
/usr/bin/python3 - "$tmp_root/answers" "$tmp_root/new_get" >"$tmp_root/verdict" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/verdict"); err=$(tail -5 "$tmp_root/serve.err"); fail "answers: old values, then new ones, never an error"; }
import json, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1])]
new_get = [json.loads(l) for l in open(sys.argv[2])]
assert len(lines) > 20, len(lines)
errors = [l for l in lines if not l.startswith("200 ")]
assert not errors, "%d errors, first: %s" % (len(errors), errors[0][:300])
answers = [json.loads(l[4:]) for l in lines]
def values(answer):
    return [{k.split(":", 1)[1]: f.get("value") for k, f in e.items()} for e in answer]
old, new = answers[0], answers[-1]
assert values(new) == new_get, "the last answer equals sluice get with the new definition"
assert values(old) != values(new), "the definition change changes values"
assert all(f["version"] != g["version"] for f, g in zip(old[0].values(), new[0].values()))
kinds = ["old" if a == old else "new" if a == new else "other" for a in answers]
assert "other" not in kinds, "answer %d is neither generation" % kinds.index("other")
first_new = kinds.index("new")
assert all(k == "new" for k in kinds[first_new:]), "an old answer after a new one"
print("%d answers: %d old, then %d new" % (len(kinds), first_new, len(kinds) - first_new))
PY
cat "$tmp_root/verdict"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
expect_eq "$status" 0 "the server stops cleanly"
finish
