#!/usr/bin/env bash
# Drift of served features against a training set, end to end: `sluice serve` logs what it
# served (monitoring.serving_log), and `sluice drift --reference fraud_train --current
# serving_log` compares each logged feature (the log's JSON turned into typed columns named as
# the training set names them) with the training set's column; statistics equal SciPy's on the
# values the client received. Time ranges of the log select by served_at.
set -euo pipefail
sluice=$1
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/assert.sh"
source "$here/serve_process.sh"
py=/usr/bin/python3

p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 3000 --formats csv
expect_code 0 "demo-data"
run "$sluice" ingest -p "$p"
expect_code 0 "ingest"
run "$sluice" training-set -p "$p" fraud_train --out "$tmp_root/ts"
expect_code 0 "training set"
run "$sluice" materialize -p "$p"
expect_code 0 "materialize"
cat >>"$p/sluice.yaml" <<'YAML'
monitoring:
  serving_log:
    sample_rate: 1.0
    flush_interval: 1h
YAML

run "$sluice" drift -p "$p" --reference fraud_train --current serving_log
expect_code 1 "no log yet"
expect_err "serving_log" "the error names the dataset"

start_server

# The model's requests: users at instants after their last event (online reads are "now"), a
# few per user, recording exactly what the server answered.
"$py" - "$port" "$p/data/transactions.csv" "$tmp_root/served.csv" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "requests answered"; }
import csv, datetime, http.client, json, random, sys
port, transactions, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
last = {}
for row in csv.DictReader(open(transactions)):
    t = datetime.datetime.strptime(row["ts"], "%Y-%m-%dT%H:%M:%SZ")
    u = int(row["user_id"])
    last[u] = max(last.get(u, t), t)
rng = random.Random(4)
conn = http.client.HTTPConnection("127.0.0.1", port)
served = []
for i in range(600):
    u = rng.choice(sorted(last))
    t = last[u] + datetime.timedelta(seconds=rng.choice([0, 60, 3600, 86400, 86400 * 3]))
    body = {"view": "user_spend", "entities": [{"user_id": u}],
            "at": t.strftime("%Y-%m-%dT%H:%M:%SZ")}
    conn.request("POST", "/v1/features", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    assert resp.status == 200, data
    (result,) = data["results"]
    served.append({k.replace(":", "__"): v["value"] for k, v in result["features"].items()})
names = sorted(served[0])
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(names)
    for s in served:
        w.writerow(["" if s[n] is None else s[n] for n in names])
print(len(served), "served")
PY
stop_server
served=$(($(wc -l <"$tmp_root/served.csv") - 1))
expect_eq "$(grep -c "serving log 'serving_log': $served rows" "$tmp_root/serve.out")" 1 \
  "every request logged"

columns=$(head -1 "$tmp_root/served.csv")
run "$sluice" drift -p "$p" --reference fraud_train --current serving_log --columns "$columns" --json
expect_code 0 "drift of the served features against the training set"
echo "$out" >"$tmp_root/drift.json"
run "$py" "$here/served_drift_oracle.py" "$(ls "$tmp_root"/ts/*.csv | head -1)" "$tmp_root/served.csv" \
  "$tmp_root/drift.json"
expect_code 0 "statistics equal SciPy's on what was served"
echo "$out" | tail -1

# Every column of the log: the served features (typed) and nothing of the log's own bookkeeping.
run "$sluice" drift -p "$p" --reference serving_log --current serving_log --json
expect_code 0 "the log against itself"
echo "$out" >"$tmp_root/self.json"
"$py" - "$tmp_root/self.json" "$columns" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "log columns are the served features"; }
import json, sys
r = json.load(open(sys.argv[1]))
names = sorted(c["name"] for c in r["columns"])
assert names == sorted(sys.argv[2].split(",")), names
assert r["drifted_columns"] == 0 and r["compared_columns"] >= 8, r
assert all(c["type"] == "numeric" for c in r["columns"] if c["method"] != "none"), r["columns"]
print("log columns", len(names))
PY
cat "$tmp_root/cmp"

# Time ranges of the log: by served_at.
run "$sluice" drift -p "$p" --reference fraud_train --current 'serving_log@-1h' --columns "$columns" --json
expect_code 0 "the last hour of the log"
expect_out "\"current_rows\": $served" "everything was served within the hour"
run "$sluice" drift -p "$p" --reference fraud_train --current 'serving_log[2000-01-01,2000-01-02)' --columns "$columns" --json
expect_code 0 "a range with nothing served"
expect_out '"current_rows": 0' "no rows in 2000"

finish
