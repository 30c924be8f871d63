# Shared by the stream end-to-end tests: make_stream_project DIR TOPIC BROKERS LATENESS creates
# the fraud example with `sluice init`, small demo data (JSON Lines), and beside the example:
#   tx_stream    a kafka source on TOPIC (same contract as transactions)
#   tx_file      a JSON Lines file source (data/tx_file.jsonl), for comparisons
#   spend_stream / spend_file   the same feature view over each
#   stream_train / file_train   training sets of each (CSV), spine: labels
#   stream_all                  a training set whose spine is the stream's archive itself
make_stream_project() {
  local dir=$1 topic=$2 brokers=$3 lateness=$4
  "$sluice" init "$dir" >/dev/null
  "$sluice" demo-data -p "$dir" --transactions 1500 --formats jsonl >/dev/null
  /usr/bin/python3 - "$dir/sluice.yaml" "$topic" "$brokers" "$lateness" <<'PY'
import sys
path, topic, brokers, lateness = sys.argv[1:5]
text = open(path).read()
columns = """    columns:
      - {name: txn_id, type: string, nullable: false}
      - {name: user_id, type: int64, nullable: false}
      - {name: merchant_id, type: string, nullable: false}
      - {name: merchant_category, type: string}
      - {name: amount, type: double, nullable: false}
      - {name: currency, type: string}
      - {name: country, type: string}
      - {name: channel, type: string}
      - {name: ts, type: timestamp, nullable: false}
"""
sources = f"""sources:
  - name: tx_stream
    type: kafka
    brokers: {brokers}
    topic: {topic}
    allowed_lateness: {lateness}
    event_time: ts
    entity_keys: [user_id]
{columns}  - name: tx_file
    type: file
    format: jsonl
    path: data/tx_file.jsonl
    event_time: ts
    entity_keys: [user_id]
{columns}"""
def view(name, source):
    return f"""  - name: {name}
    entity: user
    source: {source}
    filter: "amount > 0"
    columns:
      - {{name: is_night, expr: "CASE WHEN hour(ts) < 5 THEN 1 ELSE 0 END"}}
    aggregations:
      - {{name: txn_count_1h, function: count, window: 1h}}
      - {{name: amount_sum_24h, function: sum, column: amount, window: 24h}}
      - {{name: amount_mean_30d, function: mean, column: amount, window: 30d}}
      - {{name: night_txn_24h, function: sum, column: is_night, window: 24h}}
      - {{name: last_merchant, function: last, column: merchant_id, window: 30d}}
      - {{name: amount_max_7d, function: max, column: amount, window: 7d}}
"""
def training(name, spine, features):
    return f"""  - name: {name}
    spine: {spine}
    timestamp: ts
    keys: [user_id]
    features: [{features}]
    formats: [csv]
"""
text = text.replace("sources:\n", sources, 1)
text = text.replace("feature_views:\n", "feature_views:\n" + view("spend_stream", "tx_stream")
                    + view("spend_file", "tx_file"), 1)
text = text.replace("training_sets:\n", "training_sets:\n" + training("stream_train", "labels",
                    "spend_stream") + training("file_train", "labels", "spend_file")
                    + training("stream_all", "tx_stream", "spend_stream"), 1)
open(path, "w").write(text)
PY
}

# The demo transactions as Kafka messages, in event-time order, one JSON object per line.
# use_group_store DIR TOPIC REDIS_URL: the project in DIR reads and writes the Redis store
# first (the one `stream` and `get` take), and its consumer has a short session timeout, so a
# dead or stalled worker's partitions move to the others within seconds.
use_group_store() {
  /usr/bin/python3 - "$1/sluice.yaml" "$3" "$2" <<'PY'
import sys
path, url, topic = sys.argv[1:4]
text = open(path).read()
text = text.replace("online_stores:\n", "online_stores:\n  - {name: shared, type: redis, url: %s}\n" % url, 1)
text = text.replace("    topic: %s\n" % topic, """    topic: %s
    properties:
      session.timeout.ms: "3000"
      heartbeat.interval.ms: "200"
      max.poll.interval.ms: "3000"
""" % topic, 1)
open(path, "w").write(text)
PY
}

# For the group tests (4 partitions, parts split into $tmp_root/p<P>.<SUFFIX>, a Redis store
# read through rcli). produce SUFFIX: each partition's part to $topic.
produce() {
  for p in 0 1 2 3; do kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p "$p" <"$tmp_root/p$p.$1"; done
}
# seen P: how far the stored cursor of partition P has consumed (0: none yet).
seen() {
  rcli GET "sluice:s1/x/spend_stream/stream.tx_stream.$1" |
    /usr/bin/python3 -c 'import json,sys
t = sys.stdin.read().strip()
print(json.loads(t)["partitions"][0]["seen_through"] if t else 0)'
}
# wait_seen SUFFIXES...: until every partition's cursor covers those parts (60 s at most).
wait_seen() {
  local want
  for _ in $(seq 1 600); do
    local ok=1
    for p in 0 1 2 3; do
      want=$(cat "${@/#/$tmp_root/p$p.}" | wc -l)
      if [ "$(seen "$p")" -lt "$want" ]; then ok=0; fi
    done
    [ "$ok" -eq 1 ] && return 0
    sleep 0.1
  done
  return 1
}

sorted_transactions() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows.sort(key=lambda r: r["ts"])
for r in rows:
    print(json.dumps(r, separators=(",", ":")))
PY
}

# features DIR VIEW AT USERS...: `sluice get` of each user, the feature values only.
features_of() {
  local dir=$1 view=$2 at=$3
  shift 3
  for u in "$@"; do
    "$sluice" get -p "$dir" "$view" "$u" --at "$at" 2>&1 |
      /usr/bin/python3 -c 'import json,sys
d = json.loads(sys.stdin.read())
print(json.dumps({k: v.get("value") if isinstance(v, dict) else v for k, v in d["features"].items()}, sort_keys=True))' 2>&1 || echo "user $u: no value"
  done
}

# training_values CSV: the training set's rows with feature columns named without their view.
training_values() {
  /usr/bin/python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header = [h.split("__")[-1].split(":")[-1] for h in rows[0]]
print(",".join(header))
for r in rows[1:]:
    print(",".join(r))
PY
}

# latest_version DIR DATASET: the id of the dataset's newest version.
latest_version() {
  "$sluice" versions -p "$1" "$2" | awk 'NR == 2 {print $2}'
}
