#!/usr/bin/env bash
# Reprocessing: a streaming view whose definition changed is rebuilt into a new generation from
# the lake archive and the topic's tail; readers keep the old generation until the new one has
# caught up and replaces it in one store write. The new values equal `sluice materialize` of the
# same events (file twin, same new definition) and the training sets over the archive.
#
#   stream_rebuild_test.sh SLUICE KAFKA_ENV
set -euo pipefail
sluice=$1
source "$2"
here=$(dirname "$0")
source "$here/assert.sh"
source "$here/stream_project.sh"

topic=stream_rebuild
p="$tmp_root/rebuild"
make_stream_project "$p" "$topic" "$KAFKA_BROKERS" 0s
# The file twin holds every message; the topic gets two thirds now and the tail later.
sorted_transactions "$p/data/transactions.jsonl" >"$p/data/tx_file.jsonl"
total=$(wc -l <"$p/data/tx_file.jsonl")
head_n=$((total * 2 / 3))
to_partitions() {  # to_partitions LINES...: user_id % 2 picks the partition
  for part in 0 1; do
    /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    if json.loads(l)["user_id"] % 2 == int(sys.argv[1]): sys.stdout.write(l)' "$part" <"$1" |
      kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p "$part"
  done
}
head -n "$head_n" "$p/data/tx_file.jsonl" >"$tmp_root/head.jsonl"
tail -n +"$((head_n + 1))" "$p/data/tx_file.jsonl" >"$tmp_root/tail.jsonl"
to_partitions "$tmp_root/head.jsonl"
run "$sluice" stream -p "$p" --stop-at-end --segment-rows 300
expect_code 0 "stream the first two thirds"
at="2024-05-28T13:00:00Z"  # just after the newest event: windows hold values
users=$(seq 1 30)
features_of "$p" spend_stream "$at" $users >"$tmp_root/old"
if grep -q "no value" "$tmp_root/old"; then fail "every user has online values"; else pass; fi

# The definition changes (a narrower filter, a shorter window), in both twins alike.
cp "$p/sluice.yaml" "$tmp_root/old.yaml"
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

cp "$p/sluice.yaml" "$tmp_root/new.yaml"

# A rebuild that dies just before the switch leaves the old generation served, untouched: a
# reader that loaded the old definition (as a running `sluice serve` has) reads the old values,
# and one that loaded the new definition is told the store holds another one, never a
# half-built view.
status=0
SLUICE_KILL_AT=stream.before_generation_switch "$sluice" stream -p "$p" --stop-at-end \
  >/dev/null 2>&1 || status=$?
expect_eq "$status" 86 "the rebuild dies at the switch"
run "$sluice" get -p "$p" spend_stream 1 --at "$at"
expect_err "changed since it was materialized" \
  "a reader of the new definition is not served the old generation"
expect_err "run \`sluice stream\`" "the hint names the verb that rebuilds a streaming view"
cp "$tmp_root/old.yaml" "$p/sluice.yaml"
features_of "$p" spend_stream "$at" $users >"$tmp_root/during"
cp "$tmp_root/new.yaml" "$p/sluice.yaml"
if cmp -s "$tmp_root/old" "$tmp_root/during"; then
  pass
else
  fail "readers keep the old generation until the switch: $(diff "$tmp_root/old" "$tmp_root/during" | head -4)"
fi

# The rebuild again, to the end: the archive replayed, the tail consumed, then the switch.
run "$sluice" stream -p "$p" --stop-at-end
expect_code 0 "the rebuild"
expect_out "feature view spend_stream: changed definition rebuilt into a new generation" \
  "the summary names the rebuilt view"
tail_n=$((total - head_n))
expect_out "consumed $tail_n messages" "the tail consumed once (the archive is not read again from the topic)"
run "$sluice" stream -p "$p" --stop-at-end
expect_code 0 "a run after the switch"
expect_out "consumed 0 messages" "nothing left to rebuild or consume"
case "$out" in *rebuilt*) fail "no second rebuild" ;; *) pass ;; esac

# The new generation equals materialize of the same events with the same definition, and the
# training sets over the archive and over the file.
run "$sluice" ingest -p "$p" tx_file labels
expect_code 0 "ingest the file twin and the labels"
run "$sluice" materialize -p "$p" spend_file
expect_code 0 "materialize the file twin"
features_of "$p" spend_stream "$at" $users >"$tmp_root/new"
features_of "$p" spend_file "$at" $users >"$tmp_root/file"
if cmp -s "$tmp_root/new" "$tmp_root/old"; then fail "the definition change changes values"; else pass; fi
if cmp -s "$tmp_root/new" "$tmp_root/file"; then
  pass
else
  fail "the rebuilt generation equals materialize of the same events: $(diff "$tmp_root/new" "$tmp_root/file" | head -6)"
fi
run "$sluice" training-set -p "$p" stream_train --out "$tmp_root/ts_stream"
expect_code 0 "training set over the archive"
run "$sluice" training-set -p "$p" file_train --out "$tmp_root/ts_file"
expect_code 0 "training set over the file"
training_values "$(ls "$tmp_root"/ts_stream/*.csv | head -1)" >"$tmp_root/train_stream"
training_values "$(ls "$tmp_root"/ts_file/*.csv | head -1)" >"$tmp_root/train_file"
if [ "$(wc -l <"$tmp_root/train_stream")" -gt 10 ] && cmp -s "$tmp_root/train_stream" "$tmp_root/train_file"; then
  pass
else
  fail "training set values over the archive equal those over the file: $(diff "$tmp_root/train_stream" "$tmp_root/train_file" | head -5)"
fi
finish
