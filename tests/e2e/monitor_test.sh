#!/usr/bin/env bash
# `sluice monitor` end to end: metric rules across versions, a drift monitor, alerts to a webhook
# receiver on loopback (with retries) and to the log, de-duplication, the registry's record.
set -euo pipefail
sluice=$1
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/assert.sh"
py=/usr/bin/python3

receiver_pid=""
cleanup() { [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true; rm -rf "$tmp_root"; }
trap cleanup EXIT

"$py" "$here/webhook_receiver.py" "$tmp_root/port" "$tmp_root/bodies" 2 &
receiver_pid=$!
for _ in $(seq 100); do [ -s "$tmp_root/port" ] && break; sleep 0.1; done
port=$(cat "$tmp_root/port")

p="$tmp_root/m"
mkdir -p "$p/data"
write_data() {  # write_data FILE MEAN SEED
  "$py" - "$1" "$2" "$3" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(int(sys.argv[3]))
with open(sys.argv[1], "w") as f:
    f.write("id,amount,country\n")
    for i in range(3000):
        country = rng.choice(["DE", "FR", "US"]) if float(sys.argv[2]) < 150 else "US"
        f.write(f"{i},{rng.normal(float(sys.argv[2]), 10):.4f},{country}\n")
PY
}
cat >"$p/sluice.yaml" <<YAML
name: m
sources:
  - name: t
    type: file
    format: csv
    path: data/t.csv
    columns:
      - {name: id, type: int64}
      - {name: amount, type: double}
      - {name: country, type: string}
  - name: base
    type: file
    format: csv
    path: data/base.csv
    columns:
      - {name: id, type: int64}
      - {name: amount, type: double}
      - {name: country, type: string}
monitoring:
  sinks:
    - {name: hook, type: webhook, url: "http://127.0.0.1:$port/alerts", retries: 3, timeout: 20s}
    - {name: logged, type: log}
  monitors:
    - {name: amount_z, type: metric, dataset: t, column: amount, metric: mean, max_zscore: 8, window: 3}
    - {name: amount_jump, type: metric, dataset: t, column: amount, metric: mean, max_change: 0.5, sinks: [logged]}
    - {name: amount_bounds, type: metric, dataset: t, column: amount, metric: p50, min: 50, max: 150, severity: critical}
    - {name: rows, type: metric, dataset: t, metric: rows, min: 1}
    - {name: t_drift, type: drift, dataset: t, reference: base}
YAML
write_data "$p/data/base.csv" 100 1
for seed in 2 3 4; do
  write_data "$p/data/t.csv" 100 $seed
  run "$sluice" ingest -p "$p"
  expect_code 0 "ingest version $seed"
done
run "$sluice" monitor -p "$p" --fail-on-alert
expect_code 0 "no alert on steady data"
expect_out "5 monitors: 0 alerts, 0 errors" "every monitor ran"
expect_eq "$(cat "$tmp_root/bodies" 2>/dev/null | wc -l)" 0 "nothing was posted"

write_data "$p/data/t.csv" 200 5
run "$sluice" ingest -p "$p" t
expect_code 0 "ingest the shifted version"
run "$sluice" --log-level warn monitor -p "$p" --fail-on-alert
expect_code 1 "--fail-on-alert exits 1"
expect_out "amount_z                 alert" "the z-score rule fires"
expect_out "amount_jump              alert" "the relative-change rule fires"
expect_out "amount_bounds            alert" "the bounds rule fires"
expect_out "rows                     ok" "the row count is fine"
expect_out "t_drift                  alert" "the drift monitor fires"
expect_out "webhook hook: HTTP 200 after 3 attempts" "503s were retried"
expect_err "alert [warning] amount_jump" "the log sink logged"
expect_eq "$(wc -l <"$tmp_root/bodies")" 3 "three alerts posted (amount_jump goes to the log only)"
run "$py" - "$tmp_root/bodies" <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
names = sorted(a["monitor"] for a in alerts)
assert names == ["amount_bounds", "amount_z", "t_drift"], names
for a in alerts:
    assert a["dataset"] == "t" and len(a["version"]) == 64 and a["message"], a
assert [a for a in alerts if a["monitor"] == "amount_bounds"][0]["severity"] == "critical"
print("ok")
PY
expect_code 0 "webhook payloads ($out)"

run "$sluice" monitor -p "$p"
expect_code 0 "without --fail-on-alert the exit is 0"
expect_out "already raised for this version: not sent again" "repeats are de-duplicated"
expect_eq "$(wc -l <"$tmp_root/bodies")" 3 "nothing posted again"
run "$py" - "$p/.sluice/registry.sqlite" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT monitor, occurrences, delivery FROM alerts ORDER BY monitor").fetchall()
assert [r[0] for r in rows] == ["amount_bounds", "amount_jump", "amount_z", "t_drift"], rows
assert all(r[1] == 2 for r in rows), rows
assert "HTTP 200" in dict((r[0], r[2]) for r in rows)["amount_z"], rows
print("ok")
PY
expect_code 0 "every alert is in the registry, counted ($out)"

# A dead receiver: delivery gives up within the sink's timeout and says so.
kill "$receiver_pid"; wait "$receiver_pid" 2>/dev/null || true; receiver_pid=""
sed -i 's/retries: 3, timeout: 20s/retries: 2, timeout: 3s/' "$p/sluice.yaml"
write_data "$p/data/t.csv" 300 6
run "$sluice" ingest -p "$p" t
run "$sluice" monitor -p "$p" amount_bounds
expect_code 0 "a dead webhook does not fail the run"
expect_out "webhook hook: not delivered after" "the failed delivery is reported"

# Monitors run by the publishing command itself.
sed -i 's/^monitoring:$/monitoring:\n  monitor_on_publish: true/' "$p/sluice.yaml"
write_data "$p/data/t.csv" 400 7
run "$sluice" ingest -p "$p" t
expect_code 0 "an alert does not fail the ingest"
expect_err "alert: monitor amount_bounds: p50 of amount" "the ingest ran the dataset's monitors"
case "$err" in *"monitor t_drift"*) pass ;; *) fail "drift monitor of t ran at ingest" ;; esac

# Configuration errors name the place.
run "$sluice" monitor -p "$p" nosuch
expect_code 2 "unknown monitor"
sed -i 's/metric: p50, min: 50/metric: p51, min: 50/' "$p/sluice.yaml"
run "$sluice" monitor -p "$p"
expect_code 2 "unknown metric"
expect_err "sluice.yaml:" "the error names the file"
expect_err "unknown metric 'p51'" "and the metric"
sed -i 's/metric: p51, min: 50/metric: p50, minimum: 50/' "$p/sluice.yaml"
run "$sluice" monitor -p "$p"
expect_code 2 "unknown key"
expect_err "minimum" "the unknown key is named"

finish
