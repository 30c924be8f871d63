#!/usr/bin/env bash
# The serving log's lake publish under named kill points (SLUICE_KILL_AT, docs/crash-testing.md):
# `sluice serve` is killed in its serving-log writer while it publishes a part (after the
# manifest, in the middle of the HISTORY rewrite, after the HISTORY rename). After each kill the
# log dataset must hold exactly what was published before (plus the part whose HISTORY rename
# completed), every listed version whole; a restarted server adds its rows on top, and
# `sluice skew` finds no skew in the whole log.
set -euo pipefail
sluice=$1
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/assert.sh"
source "$here/serve_process.sh"
py=/usr/bin/python3
command -v curl >/dev/null || { echo "curl is required"; exit 1; }


p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 2000 --formats csv
expect_code 0 "demo-data"
run "$sluice" ingest -p "$p"
expect_code 0 "ingest"
run "$sluice" training-set -p "$p" fraud_train
expect_code 0 "training set (fits the served transform)"
run "$sluice" materialize -p "$p"
expect_code 0 "materialize"
# Parts of 20 rows, published as soon as 20 are pending.
cat >>"$p/sluice.yaml" <<'YAML'
monitoring:
  serving_log:
    sample_rate: 1.0
    flush_rows: 20
    flush_interval: 1h
YAML

# send N: up to N one-entity requests, one at a time, stopping at the first that gets no answer
# (the server died); prints how many were answered.
send() {
  "$py" - "$port" "$1" <<'PY'
import http.client, json, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
answered = 0
for i in range(n):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        body = {"entities": [{"user_id": 1 + i % 200}], "view": "user_spend"}
        conn.request("POST", "/v1/features", json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            print(f"request {i}: HTTP {r.status}", file=sys.stderr)
            break
        answered += 1
        conn.close()
    except OSError:
        break
print(answered)
PY
}

# logged_rows: the rows the serving log's current version holds (0 without a version), from its
# profile, which reads every part of the version (a missing or torn part is an error).
logged_rows() {
  if [ "$(check_lake)" = 0 ]; then
    echo 0
    return
  fi
  "$sluice" profile -p "$p" serving_log --recompute --json |
    "$py" -c 'import json, sys; print(json.load(sys.stdin)["columns"][0]["count"])'
}

# check_lake: every version the serving log's HISTORY lists has its manifest, and every file a
# manifest names is in the object store; no HISTORY temporary left under the final name.
check_lake() {
  "$py" - "$p/.sluice/lake" <<'PY'
import json, os, sys
lake = sys.argv[1]
d = os.path.join(lake, "versions", "serving_log")
if not os.path.isdir(d):
    print(0)
    sys.exit(0)
hist = os.path.join(d, "HISTORY")
ids = [l for l in open(hist).read().split("\n") if l] if os.path.exists(hist) else []
for i in ids:
    m = json.load(open(os.path.join(d, i + ".json")))
    for f in m.get("outputs", []):
        obj = os.path.join(lake, "objects", f["sha256"][:2], f["sha256"])
        assert os.path.exists(obj), f"{i[:12]}: {f['name']} missing from the lake"
print(len(ids))
PY
}

published=0
for point in lake.publish.after_manifest lake.publish.before_history_rename \
  lake.publish.after_history_rename; do
  versions_before=$(check_lake)
  SLUICE_KILL_AT="$point" start_server
  answered=$(send 400)
  wait_server
  expect_code 86 "serve is killed at $point"
  # The writer takes the pending rows once 20 are there (it looks every 50 ms, so a part may hold
  # more); the last of them may be logged before its answer is sent.
  if [ "$answered" -lt 19 ] || [ "$answered" -ge 400 ]; then
    fail "$point: $answered requests answered before the kill (expected about one part of 20+)"
  else
    pass
  fi
  run check_lake
  expect_code 0 "every listed serving-log version is whole after a kill at $point"
  versions_after=$out
  rows=$(logged_rows)
  if [ "$point" = lake.publish.after_history_rename ]; then
    # The part's HISTORY rename is the commit: that part (20 rows or a few more) is in.
    expect_eq "$versions_after" "$((versions_before + 1))" "$point: the committed part is listed"
    if [ "$rows" -ge "$((published + 20))" ] && [ "$rows" -le "$((published + answered + 1))" ]; then
      pass
    else
      fail "$point: the log holds $rows rows, expected $published + one part of 20..$((answered + 1))"
    fi
    published=$rows
  else
    expect_eq "$versions_after" "$versions_before" "$point: no version listed"
    expect_eq "$rows" "$published" "$point: the log holds what was published before"
  fi
done

# A clean run on top: every request logged, the parts added to what survived.
start_server
answered=$(send 45)
expect_eq "$answered" 45 "the restarted server answers"
stop_server
expect_code 0 "serve stops on SIGTERM"
expect_out "serving log 'serving_log': 45 rows" "the restarted server publishes all its rows"
run check_lake
expect_code 0 "the serving log is whole after the clean run"
expect_eq "$(logged_rows)" "$((published + 45))" "the log holds the surviving parts and the new rows"
run "$sluice" skew -p "$p" --json --fail-on-skew
expect_code 0 "no skew in a log that went through kills"

finish
