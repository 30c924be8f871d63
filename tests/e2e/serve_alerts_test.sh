#!/usr/bin/env bash
# `sluice serve` raises freshness SLO alerts itself: a breached monitoring.freshness SLO of a
# served view goes to the declared webhook (a receiver on loopback) once, while requests keep
# being answered; repeated checks do not send it again, and `sluice monitor` finds it already
# raised (one fingerprint, recorded in the registry). Bad --freshness-interval values are
# refused.
set -euo pipefail
sluice=$1
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/assert.sh"
source "$here/serve_process.sh"
py=/usr/bin/python3
command -v curl >/dev/null || { echo "curl is required"; exit 1; }
receiver_pid=""
cleanup() {
  kill_server
  if [ -n "$receiver_pid" ]; then kill "$receiver_pid" 2>/dev/null || true; fi
  rm -rf "$tmp_root"
}
trap cleanup EXIT

"$py" "$here/webhook_receiver.py" "$tmp_root/port" "$tmp_root/bodies" &
receiver_pid=$!
for _ in $(seq 1 400); do [ -f "$tmp_root/port" ] && break; sleep 0.05; done
hook_port=$(cat "$tmp_root/port")

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
# The demo data ends in 2024: the newest event is far older than an hour (the event-age SLO is
# breached), while the materialization followed the ingest within an hour (latency met).
cat >>"$p/sluice.yaml" <<YAML
monitoring:
  sinks:
    - {name: hook, type: webhook, url: "http://127.0.0.1:$hook_port/alerts", timeout: 10s}
  freshness:
    - {view: user_spend, max_event_age: 1h, max_ingest_latency: 1h, severity: critical}
YAML
run "$sluice" check -p "$p"
expect_code 0 "check accepts the sink and the SLO"

run "$sluice" serve -p "$p" --address 127.0.0.1:0 --freshness-interval soon
expect_code 2 "a --freshness-interval that is not a duration"
expect_err "--freshness-interval: 'soon' is not a duration" "the error names the flag and value"

start_server --freshness-interval 100ms

for _ in $(seq 1 600); do [ -s "$tmp_root/bodies" ] && break; sleep 0.05; done
# Requests are answered while the checker runs (it never holds a request thread).
for _ in $(seq 1 20); do
  run curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/features" \
    -H 'Content-Type: application/json' -d '{"view":"user_spend","entities":[{"user_id":1}]}'
  [ "$out" = "200" ] || break
done
expect_eq "$out" "200" "requests answered while freshness is checked"
# Many more check intervals: the same breach is not sent again.
sleep 1
run curl -s "http://127.0.0.1:$port/metrics"
expect_out 'sluice_serve_view_freshness_slo_violated{view="user_spend",store="default",slo="event_age"} 1' "the gauge agrees"
stop_server
expect_code 0 "serve stops on SIGTERM"
expect_err "alert [critical] freshness:user_spend" "serve reports the alert it raised"
expect_err "webhook hook: HTTP 200 after 1 attempt" "and its delivery"

"$py" - "$tmp_root/bodies" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "one webhook payload for the breach"; }
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 1, f"{len(lines)} payloads: {lines}"
a = json.loads(lines[0])
assert a["monitor"] == "freshness:user_spend", a
assert a["severity"] == "critical", a
assert a["fingerprint"].startswith("freshness:user_spend:max_event_age@default@"), a
d = a["details"]
assert d["view"] == "user_spend" and d["store"] == "default", d
assert d["event_age_seconds"] > 3600 and d["max_event_age_seconds"] == 3600, d
assert "the newest event behind the served values is" in a["message"], a
print("payload ok", a["fingerprint"])
PY
cat "$tmp_root/cmp"

# `sluice monitor` judges the same store write: the alert is already in the registry.
run "$sluice" monitor -p "$p" freshness:user_spend
expect_code 0 "monitor runs"
expect_out "already raised for this version" "serve's alert de-duplicates monitor's"
lines=$(grep -c . "$tmp_root/bodies")
expect_eq "$lines" "1" "still one payload after sluice monitor"

finish
