#!/usr/bin/env bash
# Live monitoring end to end: `sluice serve` logs what it served to the lake (sampled, flushed on
# SIGTERM), `sluice skew` recomputes every logged value with the training-set path and finds
# zero skew, then a real skew (the view's definition changed without re-materializing and
# restarting the server) reported with entity, feature, online and offline value; freshness
# SLOs in /metrics and as alerts of `sluice monitor`; config errors of the new keys.
set -euo pipefail
sluice=$1
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/assert.sh"
source "$here/serve_process.sh"
py=/usr/bin/python3
command -v curl >/dev/null || { echo "curl is required"; exit 1; }

# --- a served project with a serving log and freshness SLOs ---------------------------------
p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 4000 --formats csv
expect_code 0 "demo-data"
# Timestamp- and date-valued features too (derived from the row's instant): skew compares them
# as instants, the others as numbers.
sed -i 's/^\(\s*\)- {name: spend_ratio_1h_30d, expr: .*}$/&\n\1- {name: served_hour, expr: "date_trunc('"'"'hour'"'"', as_of)"}\n\1- {name: served_day, expr: "CAST(as_of AS DATE)"}/' \
  "$p/sluice.yaml"
expect_eq "$(grep -c 'name: served_hour\|name: served_day' "$p/sluice.yaml")" 2 "the timestamp and date features are declared"
# Aggregations that keep a timestamp, date or boolean input's type, and a derived feature of one.
sed -i 's/^\(\s*\)- {name: is_weekend, expr: .*}$/&\n\1- {name: txn_day, expr: "CAST(ts AS DATE)"}\n\1- {name: big, expr: "amount > 100"}/' \
  "$p/sluice.yaml"
sed -i 's/^\(\s*\)- {name: merchants_7d, function: .*}$/&\n\1- {name: last_txn_at, function: max, column: ts, window: lifetime}\n\1- {name: first_day_7d, function: min, column: txn_day, window: 7d}\n\1- {name: any_big_24h, function: max, column: big, window: 24h}/' \
  "$p/sluice.yaml"
sed -i 's/^\(\s*\)- {name: served_day, expr: .*}$/&\n\1- {name: idle_s, expr: "epoch(as_of) - epoch(last_txn_at)"}/' \
  "$p/sluice.yaml"
sed -i 's/^\(\s*\)txn_count_24h: 0$/&\n\1first_day_7d: "1970-01-01"/' "$p/sluice.yaml"
expect_eq "$(grep -c 'name: txn_day\|name: big\|name: last_txn_at\|name: first_day_7d\|name: any_big_24h\|name: idle_s\|first_day_7d: "1970' "$p/sluice.yaml")" 7 "the typed extremes are declared"
run "$sluice" ingest -p "$p"
expect_code 0 "ingest"
run "$sluice" training-set -p "$p" fraud_train
expect_code 0 "training set (fits the served transform)"
run "$sluice" materialize -p "$p"
expect_code 0 "materialize"
# The typed extremes as served: a timestamp and a date as text, a boolean, seconds since.
at=$("$py" -c 'import csv,sys; print(max(r["ts"] for r in csv.DictReader(open(sys.argv[1])) if r["user_id"] == "7"))' "$p/data/transactions.csv")
run "$sluice" get -p "$p" user_spend 7 --at "$at"
expect_code 0 "get user 7 at its last transaction"
expect_out "\"last_txn_at\":{\"value\":\"$at\",\"status\":\"present\"" "max(ts) served as that instant"
expect_out "\"idle_s\":{\"value\":0," "no time since the last transaction"
grep -q '"first_day_7d":{"value":"20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]",' <<<"$out" && pass || fail "min(date) served as a date: $out"
grep -q '"any_big_24h":{"value":\(true\|false\),' <<<"$out" && pass || fail "max(bool) served as a boolean: $out"
cp "$p/sluice.yaml" "$tmp_root/sluice.yaml.orig"

# Bad config first: each new key is checked with its place in the file.
cat "$tmp_root/sluice.yaml.orig" >"$p/sluice.yaml"
cat >>"$p/sluice.yaml" <<'YAML'
monitoring:
  serving_log:
    sample_rate: 1.5
    flush_every: 10s
    queue: 5
    flush_rows: 10
  freshness:
    - {view: user_spendd, max_event_age: 1h}
    - {view: user_spend}
YAML
run "$sluice" check -p "$p"
expect_code 2 "check refuses the bad monitoring keys"
expect_err "serving_log.sample_rate" "sample rate out of range named"
expect_err "must be between 0 and 1" "sample rate message"
expect_err "flush_every" "unknown key named"
expect_err "must not exceed serving_log.queue (5 rows)" "flush_rows above the queue bound"
expect_err "unknown feature view 'user_spendd'" "unknown view named"
expect_err "needs max_event_age or max_ingest_latency" "an SLO without a limit"
line=$(grep -n "sample_rate: 1.5" "$p/sluice.yaml" | cut -d: -f1)
expect_err "sluice.yaml:$line:18" "the sample rate's error points at its value (line $line, column 18)"
line=$(grep -n "flush_every: 10s" "$p/sluice.yaml" | cut -d: -f1)
expect_err "sluice.yaml:$line:5" "the unknown key's error points at it (line $line, column 5)"

cat "$tmp_root/sluice.yaml.orig" >"$p/sluice.yaml"
cat >>"$p/sluice.yaml" <<'YAML'
monitoring:
  sinks:
    - {name: logged, type: log}
  serving_log:
    sample_rate: 1.0
    flush_rows: 50
    flush_interval: 1h
  freshness:
    - {view: user_spend, max_event_age: 1h, max_ingest_latency: 1h, severity: critical}
YAML
run "$sluice" check -p "$p"
expect_code 0 "check accepts the serving log and SLO"

# Without serve's own freshness alerts, so `sluice monitor` below raises the alert first
# (serve raising it is tests/e2e/serve_alerts_test.sh).
start_server --freshness-interval 0s
# Requests at instants after each user's last event (online reads are "now"), as a model would
# send them, for known and unknown users, by view and by feature service.
cat >"$tmp_root/requests.py" <<'PY'
import csv, datetime, http.client, json, random, sys
port, src = int(sys.argv[1]), sys.argv[2]
last = {}
for row in csv.DictReader(open(src)):
    t = datetime.datetime.strptime(row["ts"], "%Y-%m-%dT%H:%M:%SZ")
    u = int(row["user_id"])
    last[u] = max(last.get(u, t), t)
rng = random.Random(16)
users = sorted(last)
conn = http.client.HTTPConnection("127.0.0.1", port)
sent = entities = 0
for i in range(120):
    if i % 40 == 39:
        keys, t = [{"user_id": 500000 + i}], max(last.values())
    else:
        chosen = rng.sample(users, 1 + i % 3)
        t = max(last[u] for u in chosen) + datetime.timedelta(
            seconds=rng.choice([0, 1, 59, 3600, 86400 * 3, 86400 * 31]))
        keys = [{"user_id": u} for u in chosen]
    body = {"entities": keys, "at": t.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if i % 5 == 0:
        body["service"] = "fraud_model"
    else:
        body["view"] = "user_spend"
    conn.request("POST", "/v1/features", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, (r.status, data)
    sent += 1
    entities += len(keys)
print(f"sent {sent} requests, {entities} entities")
PY
run "$py" "$tmp_root/requests.py" "$port" "$p/data/transactions.csv"
expect_code 0 "requests answered"
expect_out "sent 120 requests" "every request sent"
logged_rows=$(echo "$out" | sed -n 's/.*requests, \([0-9]*\) entities/\1/p')

run curl -s "http://127.0.0.1:$port/metrics"
expect_out "sluice_serve_log_sampled_total 120" "every request sampled at rate 1"
expect_out "sluice_serve_log_dropped_total 0" "nothing dropped"
expect_out '# TYPE sluice_serve_log_rows_total counter' "rows counter exported"
# The demo data ends in 2024: the newest event is far older than an hour; materialized right
# after ingestion, well within an hour of it.
expect_out 'sluice_serve_view_freshness_slo_seconds{view="user_spend",store="default",slo="event_age"} 3600.000000' "event-age SLO exported"
expect_out 'sluice_serve_view_freshness_slo_violated{view="user_spend",store="default",slo="event_age"} 1' "event-age SLO violated"
expect_out 'sluice_serve_view_freshness_slo_violated{view="user_spend",store="default",slo="ingest_latency"} 0' "ingest-latency SLO met"
expect_out 'sluice_serve_view_ingest_latency_seconds{view="user_spend",store="default"}' "ingest latency exported"

stop_server
expect_code 0 "serve stops on SIGTERM"
expect_out "serving log 'serving_log': $logged_rows rows" "the log is flushed on shutdown, one row per entity"
run "$sluice" versions -p "$p" serving_log
expect_code 0 "the serving log is a dataset of the lake"

# --- zero skew -------------------------------------------------------------------------------
run "$sluice" skew -p "$p" --json --fail-on-skew
expect_code 0 "no skew on what was served"
echo "$out" >"$tmp_root/skew0.json"
"$py" - "$tmp_root/skew0.json" "$logged_rows" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "zero-skew report"; }
import json, sys
r = json.load(open(sys.argv[1]))
rows = int(sys.argv[2])
assert r["skew"] is False and r["skewed_values"] == 0, r
assert r["rows"] == rows, (r["rows"], rows)
# 4 of 5 requests ask for the view's 17 features (6 added above), 1 of 5 for the service's 3.
assert r["values"] > 3 * rows and r["values"] < 17 * rows, r["values"]
assert r["differences"] == [], r["differences"][:3]
(v,) = r["views"]
assert v["view"] == "user_spend" and v["definition_changed"] is False, v
print("zero skew", r["rows"], r["values"])
PY
cat "$tmp_root/cmp"
run "$sluice" skew -p "$p" --since 1h --view user_spend --json
expect_code 0 "--since and --view"
expect_out "\"rows\": $logged_rows," "everything was served within the hour"
run "$sluice" skew -p "$p" --since 0s
expect_code 2 "--since needs a positive duration"
run "$sluice" skew -p "$p"
expect_code 0 "table output"
expect_out "no skew: every served value equals its recomputation" "the table says no skew"

# --- a real skew: the definition changed, the server kept serving the old one --------------
sed -i 's/{name: txn_count_7d, function: count, window: 7d}/{name: txn_count_7d, function: count, window: 2d}/' "$p/sluice.yaml"
grep -q "txn_count_7d, function: count, window: 2d" "$p/sluice.yaml" || { fail "sed changed the view"; }
run "$sluice" skew -p "$p" --json --fail-on-skew
expect_code 1 "--fail-on-skew exits 1 on skew"
echo "$out" >"$tmp_root/skew1.json"
"$py" - "$tmp_root/skew1.json" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "skew report names entity, feature, online and offline value"; }
import json, sys
r = json.load(open(sys.argv[1]))
assert r["skew"] is True and r["skewed_values"] > 0, r
assert r["skewed_values"] == len(r["differences"]), r["skewed_values"]
(v,) = r["views"]
assert v["definition_changed"] is True, v
for d in r["differences"]:
    # Only the changed window differs, and a 2-day count is never above the 7-day one.
    assert d["view"] == "user_spend" and d["feature"] == "txn_count_7d", d
    assert set(d["entity"]) == {"user_id"}, d
    assert d["online_status"] == "present", d
    assert isinstance(d["online"], int) and isinstance(d["offline"], int), d
    assert d["offline"] < d["online"], d
    assert d["at"].endswith("Z") and d["served_at"].endswith("Z"), d
print(len(r["differences"]), "differences")
PY
cat "$tmp_root/cmp"
run "$sluice" skew -p "$p"
expect_code 0 "without --fail-on-skew the exit code stays 0"
expect_out "SKEW: served values differ" "the table says skew"
expect_out "txn_count_7d" "the table names the feature"
expect_out "(changed since: now" "the table says the definition changed"
echo "$out" | head -8
run "$sluice" skew -p "$p" --log transactions
expect_code 2 "a dataset that is not a serving log"
expect_err "not a serving log" "says why"
run "$sluice" skew -p "$p" --log no_such_log
expect_code 1 "an unknown log"
expect_err "no serving log 'no_such_log'" "says which"

# --- freshness SLO alerts ------------------------------------------------------------------
run "$sluice" monitor -p "$p" freshness:user_spend --fail-on-alert
expect_code 1 "the event-age SLO fires"
expect_out "freshness:user_spend" "the SLO is a monitor"
expect_out "the newest event behind the served values is" "the alert says what"
expect_err "alert [critical] freshness:user_spend" "the log sink got it"
run "$sluice" monitor -p "$p" freshness:user_spend
expect_code 0 "without --fail-on-alert"
expect_out "already raised for this version" "de-duplicated"


# --- a view without a TTL: an unknown entity's facts -----------------------------------------
# Served with status "missing" but real values (a count of 0), which the training-set path
# recomputes alike: no skew. (Under a TTL, above, an unknown entity's values are NULL.)
q="$tmp_root/nottl"
run "$sluice" init "$q"
run "$sluice" demo-data -p "$q" --transactions 1000 --formats csv
expect_code 0 "demo-data (no TTL)"
sed -i '/^    ttl: 30d$/d' "$q/sluice.yaml"
expect_eq "$(grep -c 'ttl:' "$q/sluice.yaml")" 0 "the view has no TTL"
printf 'monitoring:\n  serving_log: {sample_rate: 1.0, flush_rows: 50, flush_interval: 1h}\n' >>"$q/sluice.yaml"
run "$sluice" ingest -p "$q"
expect_code 0 "ingest (no TTL)"
run "$sluice" training-set -p "$q" fraud_train
expect_code 0 "training set (no TTL; fits the served transform)"
run "$sluice" materialize -p "$q"
expect_code 0 "materialize (no TTL)"
p=$q start_server
run curl -s -X POST "$base/v1/features" -H 'Content-Type: application/json' \
  -d '{"view": "user_spend", "entities": [{"user_id": 1}, {"user_id": 987654}], "at": "2030-01-01T00:00:00Z"}'
expect_out '"user_spend:txn_count_7d":{"value":0,"status":"missing"' "an unknown entity's count is served as 0, missing"
stop_server
run "$sluice" skew -p "$q" --json --fail-on-skew
expect_code 0 "no skew for an unknown entity's facts"
expect_out '"rows": 2,' "both entities were checked"

finish
