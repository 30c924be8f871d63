#!/usr/bin/env bash
# Drift over a time range of a streamed source whose events landed in several versions (two
# `sluice stream` runs, each archiving its own segments): the range reads every segment of the
# current version, so it equals the same range of a file source holding the same events (zero
# drift, same row counts), and a range spanning both runs against one inside the first equals
# SciPy's statistics on those events.
#
#   stream_drift_test.sh SLUICE KAFKA_ENV
set -euo pipefail
sluice=$1
source "$2"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/assert.sh"
source "$here/stream_project.sh"
py=/usr/bin/python3

topic=stream_drift
p="$tmp_root/drift"
make_stream_project "$p" "$topic" "$KAFKA_BROKERS" 0s
sorted_transactions "$p/data/transactions.jsonl" >"$tmp_root/all.jsonl"
cp "$tmp_root/all.jsonl" "$p/data/tx_file.jsonl"
total=$(wc -l <"$tmp_root/all.jsonl")
half=$((total / 2))
head -n "$half" "$tmp_root/all.jsonl" >"$tmp_root/first.jsonl"
tail -n +"$((half + 1))" "$tmp_root/all.jsonl" >"$tmp_root/second.jsonl"

kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p 0 <"$tmp_root/first.jsonl"
run "$sluice" stream -p "$p" spend_stream --stop-at-end
expect_code 0 "first stream run"
first_versions=$("$sluice" versions -p "$p" tx_stream | tail -n +2 | grep -c .)
kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p 0 <"$tmp_root/second.jsonl"
run "$sluice" stream -p "$p" spend_stream --stop-at-end
expect_code 0 "second stream run"
versions=$("$sluice" versions -p "$p" tx_stream | tail -n +2 | grep -c .)
if [ "$versions" -gt "$first_versions" ] && [ "$first_versions" -ge 1 ]; then pass; else
  fail "the runs landed in separate versions ($first_versions, then $versions)"
fi
run "$sluice" ingest -p "$p" tx_file
expect_code 0 "the same events from a file"

# Ranges: [a, c) spans both runs, [a, b) lies inside the first.
read -r a b c < <("$py" - "$tmp_root/all.jsonl" <<'PY'
import json, sys
ts = [json.loads(l)["ts"] for l in open(sys.argv[1])]
n = len(ts)
print(ts[n // 8], ts[3 * n // 8], ts[7 * n // 8])
PY
)
cols=amount,merchant_category,channel,country
run "$sluice" drift -p "$p" --reference "tx_file[$a,$c)" --current "tx_stream[$a,$c)" --columns "$cols" --json
expect_code 0 "drift of a range spanning both runs"
echo "$out" >"$tmp_root/same.json"
"$py" - "$tmp_root/same.json" "$tmp_root/all.jsonl" "$a" "$c" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "the stream's range holds every event of both runs"; }
import json, sys
r = json.load(open(sys.argv[1]))
a, c = sys.argv[3], sys.argv[4]
n = sum(1 for l in open(sys.argv[2]) if a <= json.loads(l)["ts"] < c)
assert r["reference_rows"] == n and r["current_rows"] == n, (r["reference_rows"], r["current_rows"], n)
assert r["drifted_columns"] == 0 and r["compared_columns"] == 4, r
for col in r["columns"]:
    assert col["statistic"] == 0, col
print("rows in range", n)
PY
cat "$tmp_root/cmp"

run "$sluice" drift -p "$p" --reference "tx_stream[$a,$b)" --current "tx_stream[$a,$c)" --columns amount --json
expect_code 0 "drift of the stream's own ranges"
echo "$out" >"$tmp_root/ranges.json"
"$py" - "$tmp_root/ranges.json" "$tmp_root/all.jsonl" "$a" "$b" "$c" "$here" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "statistics over segments of both runs equal SciPy's"; }
import json, sys
import pandas as pd
sys.path.insert(0, sys.argv[6])
from quality_oracle import close, expected_drift
r = json.load(open(sys.argv[1]))
a, b, c = sys.argv[3:6]
rows = pd.DataFrame([json.loads(l) for l in open(sys.argv[2])])
ref = rows[(rows["ts"] >= a) & (rows["ts"] < b)]
cur = rows[(rows["ts"] >= a) & (rows["ts"] < c)]
assert r["reference_rows"] == len(ref) and r["current_rows"] == len(cur), r
(col,) = r["columns"]
method, statistic, p = expected_drift(ref, cur, "amount", True)
errors = []
assert col["method"] == method, (col["method"], method)
close(col["statistic"], float(statistic), 1e-9, "amount statistic", errors)
if p is not None:
    close(col["p_value"], float(p), 1e-6, "amount p_value", errors)
assert not errors, errors
print(method, col["statistic"])
PY
cat "$tmp_root/cmp"

finish
