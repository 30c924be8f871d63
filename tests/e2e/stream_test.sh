#!/usr/bin/env bash
# `sluice stream` end to end on the kafka fixture's mock broker: messages from a topic through
# the contract, the watermark and the engine into the online store and the lake; zero skew
# between stream-fed online reads, `sluice materialize` of the same events from a file, and the
# training sets over each; bad, late and duplicate messages counted and archived, never applied.
#
#   stream_test.sh SLUICE KAFKA_ENV
set -euo pipefail
sluice=$1
source "$2"
here=$(dirname "$0")
source "$here/assert.sh"
source "$here/stream_project.sh"

topic=stream_e2e
p="$tmp_root/fraud"
make_stream_project "$p" "$topic" "$KAFKA_BROKERS" 0s

# The messages: the transactions in event-time order, with bad ones mixed in. The file source
# gets exactly the messages that must be applied, in the same order.
sorted_transactions "$p/data/transactions.jsonl" >"$tmp_root/good.jsonl"
/usr/bin/python3 - "$tmp_root/good.jsonl" "$tmp_root/messages.txt" "$p/data/tx_file.jsonl" <<'PY'
import json, sys
good = [l.rstrip("\n") for l in open(sys.argv[1])]
messages, applied = [], []
for i, line in enumerate(good):
    messages.append(line)
    applied.append(line)
    if i == 100:
        messages.append('{"txn_id": "broken"')                       # not JSON
        messages.append('{"txn_id":"x1","user_id":"seven","merchant_id":"m","amount":1,'
                        '"ts":"2024-01-01T00:00:00Z"}')              # wrong type
        messages.append('{"txn_id":"x2","merchant_id":"m","amount":1,'
                        '"ts":"2024-01-01T00:00:00Z"}')              # missing user_id
        messages.append('{"txn_id":"x3","user_id":1,"merchant_id":"m","amount":1,'
                        '"ts":"2024-01-01T00:00:00Z","extra":true}')  # undeclared field
    if i == 200:
        late = json.loads(good[50])                                   # older than the watermark
        late["txn_id"] = "late-1"
        messages.append(json.dumps(late, separators=(",", ":")))
    if i == 300:                                                      # a duplicate delivery
        messages.append(line)
        applied.append(line)
open(sys.argv[2], "w").write("\n".join(messages) + "\n")
open(sys.argv[3], "w").write("\n".join(applied) + "\n")
PY
total=$(wc -l <"$tmp_root/messages.txt")
kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p 0 <"$tmp_root/messages.txt"

# Bad usage first: a view over a file source, a streaming view for materialize.
run "$sluice" stream -p "$p" spend_file --stop-at-end
expect_code 2 "stream of a file-source view"
expect_err "not a kafka source" "says why"
run "$sluice" materialize -p "$p" spend_stream
expect_code 2 "materialize of a streaming view"
expect_err "is a streaming view" "says what to do"
run "$sluice" training-set -p "$p" stream_train
expect_code 1 "training set before anything was streamed"
expect_err "run \`sluice stream spend_stream\`" "says what to do"

run "$sluice" stream -p "$p" --stop-at-end --segment-rows 500
expect_code 0 "stream to the end"
expect_out "consumed $total messages" "every message consumed"
expect_out "quarantined 4, late 1, buffered 0" "bad and late messages counted, nothing left waiting"
applied=$(wc -l <"$p/data/tx_file.jsonl")
expect_out "applied $applied," "consumed = applied + quarantined + late"
first_run_out=$out

# Running again finds nothing new and changes nothing.
run "$sluice" stream -p "$p" --stop-at-end
expect_code 0 "stream again"
expect_out "consumed 0 messages" "resumes from the stored offsets"

# The archive: versions of tx_stream with data, late and quarantine files.
run "$sluice" versions -p "$p" tx_stream
expect_code 0 "versions of the archive"
run "$sluice" show -p "$p" "$(latest_version "$p" tx_stream)"
expect_code 0 "show the archive"
expect_out '"late"' "late events archived apart"
expect_out '"quarantine"' "quarantined messages archived"
expect_out "kafka:$topic[0]@0.." "offset ranges in the manifest"

# The archive's profile per hour of landing, merged from its segments' own profiles: every
# applied event is in exactly one period.
run "$sluice" profile -p "$p" tx_stream --by hour --json
expect_code 0 "profile of the archive by hour"
by_hour_rows=$(printf '%s' "$out" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(p["profile"]["rows"] for p in d["periods"]))')
expect_eq "$by_hour_rows" "$(wc -l <"$p/data/tx_file.jsonl")" "rows over the hours = applied events"
run "$sluice" profile -p "$p" tx_stream --by week
expect_code 2 "--by week refused"
expect_err "one of hour, day" "--by names its choices"
run "$sluice" profile -p "$p" "$(latest_version "$p" tx_stream)" --by day
expect_code 2 "--by on a version id refused"
expect_err "needs a dataset name" "--by says it wants a dataset"

# Zero skew: stream-fed online values = materialize of the same events from a file.
run "$sluice" ingest -p "$p" tx_file labels
expect_code 0 "ingest the file twin and the labels"
run "$sluice" materialize -p "$p" spend_file
expect_code 0 "materialize the file twin"
at="2031-01-01T00:00:00Z"
users=$(seq 1 30)
features_of "$p" spend_stream "$at" $users >"$tmp_root/online_stream"
features_of "$p" spend_file "$at" $users >"$tmp_root/online_file"
if grep -q "no value" "$tmp_root/online_stream"; then fail "every user has online values"; else pass; fi
if cmp -s "$tmp_root/online_stream" "$tmp_root/online_file"; then
  pass
else
  fail "stream-fed online values equal materialize from the file: $(diff "$tmp_root/online_stream" "$tmp_root/online_file" | head -5)"
fi

# ...and equal the training sets: the one over the stream's archive and the one over the file.
run "$sluice" training-set -p "$p" stream_train --out "$tmp_root/ts_stream"
expect_code 0 "training set over the stream archive"
run "$sluice" training-set -p "$p" file_train --out "$tmp_root/ts_file"
expect_code 0 "training set over the file"
training_values "$(ls "$tmp_root"/ts_stream/*.csv | head -1)" >"$tmp_root/train_stream"
training_values "$(ls "$tmp_root"/ts_file/*.csv | head -1)" >"$tmp_root/train_file"
if [ "$(wc -l <"$tmp_root/train_stream")" -gt 10 ] && cmp -s "$tmp_root/train_stream" "$tmp_root/train_file"; then
  pass
else
  fail "training set values over the archive equal those over the file: $(diff "$tmp_root/train_stream" "$tmp_root/train_file" | head -5)"
fi
# Live on three partitions: /metrics while running, SIGTERM drains and commits, and a restart
# with --stop-at-end finishes the events the watermark held back, none counted twice.
live="$tmp_root/live"
make_stream_project "$live" stream_multi "$KAFKA_BROKERS" 0s
sorted_transactions "$live/data/transactions.jsonl" >"$tmp_root/live.jsonl"
for part in 0 1 2; do
  /usr/bin/python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if json.loads(l)["user_id"] % 3 == int(sys.argv[2]): sys.stdout.write(l)' "$tmp_root/live.jsonl" "$part" |
    kcat -P -b "$KAFKA_BROKERS" -t stream_multi -p "$part"
done
live_total=$(wc -l <"$tmp_root/live.jsonl")
# Created here: the background process opens it only once it is scheduled, and the loop below
# may read it first (a loaded machine made that a failing `sed`).
: >"$tmp_root/live.err"
"$sluice" stream -p "$live" --metrics 127.0.0.1:0 >"$tmp_root/live.out" 2>"$tmp_root/live.err" &
live_pid=$!
metrics=""
for _ in $(seq 1 200); do
  port=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$tmp_root/live.err")
  if [ -n "$port" ]; then
    metrics=$(curl -s "http://127.0.0.1:$port/metrics" || true)
    case "$metrics" in *"outcome=\"consumed\"} $live_total"*) break ;; esac
  fi
  sleep 0.1
done
out=$metrics err=$(cat "$tmp_root/live.err")
expect_out "sluice_stream_messages_total{source=\"tx_stream\",outcome=\"consumed\"} $live_total" \
  "/metrics counts every message consumed"
expect_out 'sluice_stream_lag{source="tx_stream",partition="2"} 0' "/metrics: lag per partition"
expect_out "sluice_stream_freshness_seconds_bucket" "/metrics: freshness histogram"
expect_out "sluice_stream_store_write_seconds_count" "/metrics: store write latency"
kill -TERM "$live_pid"
live_code=0
wait "$live_pid" || live_code=$?
out=$(cat "$tmp_root/live.out") err=$(cat "$tmp_root/live.err")
expect_eq "$live_code" 0 "SIGTERM: drains, commits and exits 0"
expect_out "consumed $live_total messages" "the live run consumed every message"
run "$sluice" stream -p "$live" --stop-at-end
expect_code 0 "restart to the end"
expect_out "buffered 0" "nothing left waiting"
read_rows=$("$sluice" show -p "$live" --quarantine 0 "$(latest_version "$live" tx_stream)" |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"]["read"])')
expect_eq "$read_rows" "$live_total" "the archive holds every message once across the restart"

finish
