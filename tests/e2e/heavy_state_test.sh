#!/usr/bin/env bash
# A heavy entity's chunked online state (docs/online.md, "State layout") through the real
# binary, on RocksDB and on Redis: one user with 40000 events over two days (sealed chunks,
# several chunk groups, a complete one expired) beside ordinary users. A full materialize, an
# incremental one (the second day appended), then `sluice get` at instants whose 1h and 24h
# edges fall in the open chunk, in sealed chunks and between groups must equal the training
# set's values for the same (user, instant) bit for bit, and a `--force` full replay must give
# the same values again.
#
#   heavy_state_test.sh SLUICE REDIS_ENV
set -euo pipefail
sluice=$1
source "$2"  # REDIS_HOST, REDIS_PORT
source "$(dirname "$0")/assert.sh"

p="$tmp_root/heavy"
mkdir -p "$p/data/tx"
cat >"$p/sluice.yaml" <<YAML
name: heavy
sources:
  - name: tx
    type: file
    format: csv
    path: data/tx/*.csv
    event_time: ts
    columns:
      - {name: user_id, type: int64, nullable: false}
      - {name: amount, type: double}
      - {name: merchant, type: string}
      - {name: ts, type: timestamp, nullable: false}
  - name: spine
    type: file
    format: csv
    path: data/spine.csv
    event_time: ts
    columns:
      - {name: user_id, type: int64, nullable: false}
      - {name: ts, type: timestamp, nullable: false}
      - {name: label, type: int64}
entities:
  - {name: user, keys: [user_id]}
online_stores:
  - {name: rocks, type: rocksdb, path: .sluice/online}
  - {name: shared, type: redis, url: "redis://$REDIS_HOST:$REDIS_PORT/5"}
feature_views:
  - name: heavy_spend
    entity: user
    source: tx
    aggregations:
      - {name: n_1h, function: count, window: 1h}
      - {name: sum_1h, function: sum, column: amount, window: 1h}
      - {name: n_24h, function: count, window: 24h}
      - {name: sum_24h, function: sum, column: amount, window: 24h}
      - {name: mean_24h, function: mean, column: amount, window: 24h}
      - {name: sd_24h, function: stddev, column: amount, window: 24h}
      - {name: max_24h, function: max, column: amount, window: 24h}
      - {name: first_24h, function: first, column: merchant, window: 24h}
      - {name: last3_1h, function: last_k, column: merchant, k: 3, window: 1h}
      - {name: n_all, function: count, window: lifetime}
training_sets:
  - name: reads
    spine: spine
    timestamp: ts
    keys: [user_id]
    labels: [label]
    features: [heavy_spend]
    formats: [csv]
YAML
python3 - "$p/data" <<'PY'
import datetime, random, sys
random.seed(13)
out = sys.argv[1]
start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
rows = []
for i in range(40000):  # user 1: about one event every 4.3 s for two days, ties included
    rows.append((1, start + datetime.timedelta(seconds=random.randrange(0, 172800))))
for u in range(2, 40):
    for i in range(20):
        rows.append((u, start + datetime.timedelta(seconds=random.randrange(0, 172800))))
rows.sort(key=lambda r: r[1])
def line(r):
    amount = "" if random.random() < 0.1 else "%.2f" % (random.random() * 500 - 50)
    merchant = "" if random.random() < 0.1 else "m%d" % random.randrange(30)
    return "%d,%s,%s,%s\n" % (r[0], amount, merchant, r[1].strftime("%Y-%m-%dT%H:%M:%SZ"))
cut = start + datetime.timedelta(hours=30)
with open(out + "/tx/day-1.csv", "w") as f:
    f.write("user_id,amount,merchant,ts\n")
    f.writelines(line(r) for r in rows if r[1] < cut)
with open(out + "/day-2.csv.later", "w") as f:
    f.write("user_id,amount,merchant,ts\n")
    f.writelines(line(r) for r in rows if r[1] >= cut)
newest = max(r[1] for r in rows)
with open(out + "/spine.csv", "w") as f:
    f.write("user_id,ts,label\n")
    for user in (1, 2):
        for seconds in (0, 1, 600, 1800, 3599, 3600, 7000, 40000, 86399, 90000):
            t = newest + datetime.timedelta(seconds=seconds)
            f.write("%d,%s,0\n" % (user, t.strftime("%Y-%m-%dT%H:%M:%SZ")))
PY

# online FILE STORE: `sluice get` of every spine row, one JSON per line.
online() {
  : >"$1"
  tail -n +2 "$p/data/spine.csv" | while IFS=, read -r user ts _; do
    "$sluice" get -p "$p" heavy_spend "$user" --at "$ts" --store "$2" >>"$1" 2>&1 || echo "FAILED" >>"$1"
  done
}
# compare ONLINE TRAINING_CSV: every feature equal, numbers as the same double.
compare() {
  python3 - "$1" "$2" <<'PY'
import csv, json, math, sys
online = [json.loads(l) for l in open(sys.argv[1])]
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(online) == len(rows), (len(online), len(rows))
bad = 0
for got, want in zip(online, rows):
    for name, f in got["features"].items():
        w = want["heavy_spend__" + name]
        v = f["value"]
        if v is None:
            same = w == ""
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            same = w != "" and (float(w) == float(v) or (math.isnan(float(w)) and math.isnan(float(v))))
        else:
            same = str(v) == w
        if not same:
            bad += 1
            if bad < 10:
                print("mismatch", got["key"], got["at"], name, repr(v), repr(w))
print("compared", len(online), "reads,", bad, "mismatches")
sys.exit(1 if bad else 0)
PY
}

run "$sluice" ingest -p "$p" tx spine
expect_code 0 "ingest day 1 and the spine"
for store in rocks shared; do
  run "$sluice" materialize -p "$p" heavy_spend --store "$store" --force
  expect_code 0 "full materialize of day 1 into $store"
done
mv "$p/data/day-2.csv.later" "$p/data/tx/day-2.csv"
run "$sluice" ingest -p "$p" tx
expect_code 0 "ingest day 2"
run "$sluice" training-set -p "$p" reads -o "$tmp_root/training"
expect_code 0 "training set at the read instants"
training=$(ls "$tmp_root"/training/*.csv | head -1)
for store in rocks shared; do
  run "$sluice" materialize -p "$p" heavy_spend --store "$store"
  expect_code 0 "incremental materialize into $store"
  expect_out "updated" "only day 2 is applied to $store"
  online "$tmp_root/incremental-$store" "$store"
  run compare "$tmp_root/incremental-$store" "$training"
  expect_code 0 "$store after an incremental run equals the training set"
  expect_out "compared 20 reads, 0 mismatches" "every read compared"
  run "$sluice" materialize -p "$p" heavy_spend --store "$store" --force
  expect_code 0 "full replay into $store"
  online "$tmp_root/full-$store" "$store"
  if cmp -s "$tmp_root/incremental-$store" "$tmp_root/full-$store"; then pass; else
    out=$(diff "$tmp_root/incremental-$store" "$tmp_root/full-$store" | head -20)
    fail "$store: incremental and full replay read the same"
  fi
done
# The heavy user's state is in parts (chunks and groups) beside its head, and the expired
# group's parts are gone: 40000 events make 156 sealed chunks in 3 groups, the first expired.
parts=$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n 5 --scan --pattern 'sluice:s1/p/heavy_spend/*' |
  wc -l)
if [ "$parts" -gt 50 ] && [ "$parts" -lt 158 ]; then pass; else
  fail "the heavy user's state is stored in parts, expired ones deleted (found $parts parts)"
fi
# Both stores answer alike.
if cmp -s "$tmp_root/full-rocks" "$tmp_root/full-shared"; then pass; else
  out=$(diff "$tmp_root/full-rocks" "$tmp_root/full-shared" | head -20)
  fail "RocksDB and Redis read the same"
fi
finish
