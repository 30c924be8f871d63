#!/usr/bin/env bash
# `sluice serve` end to end: the real binary on the example project. The API (features for
# known and unknown entities, a feature service, every 4xx with its message, auth, metrics,
# readiness before and after materialization, SIGTERM), the zero-skew invariant (online values
# equal a training set built on a spine of the same (user, t) pairs, fitted transforms
# included), and readers hammering the server while `sluice materialize` writes new state (no
# 5xx, no torn reads).
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"
source "$(dirname "$0")/serve_process.sh"
command -v curl >/dev/null || { echo "curl is required"; exit 1; }

# http METHOD PATH [BODY-FILE] [CURL-ARGS...]: sets $status and $out (the body).
http() {
  local method=$1 path=$2 data=${3:-}
  shift 3 2>/dev/null || shift $#
  local args=(-s -o "$tmp_root/body" -w '%{http_code}' -X "$method" "$@")
  if [ -n "$data" ]; then args+=(--data-binary "@$data" -H 'Content-Type: application/json'); fi
  status=$(curl "${args[@]}" "$base$path")
  out=$(cat "$tmp_root/body")
  err=""
}
# post JSON [CURL-ARGS...]: POST /v1/features with the JSON text.
post() {
  local body=$1
  shift
  printf '%s' "$body" >"$tmp_root/request.json"
  http POST /v1/features "$tmp_root/request.json" "$@"
}
expect_status() {  # expect_status N description
  if [ "$status" = "$1" ]; then pass; else fail "$2: HTTP $status, expected $1"; fi
}

# --- a project, served before it is materialized ------------------------------------------
p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 5000 --formats csv
expect_code 0 "demo-data"
run "$sluice" ingest -p "$p"
expect_code 0 "ingest"
run "$sluice" training-set -p "$p" fraud_train
expect_code 0 "training set (fits the transform the view serves)"

start_server
http GET /healthz
expect_status 200 "healthz before materialization"
expect_out '{"status":"ok"}' "healthz body"
http GET /readyz
expect_status 503 "readyz before materialization"
expect_out '"ready":false' "readyz says not ready"
post '{"view": "user_spend", "entities": [{"user_id": 1}]}'
expect_status 503 "features before materialization"
expect_out '"kind":"not_ready"' "not_ready kind"

run "$sluice" materialize -p "$p"
expect_code 0 "materialize while the server runs"
# /readyz re-checks the store, so the new materialization is seen without waiting.
http GET /readyz
expect_status 200 "readyz after materialization"
expect_out '"ready":true' "ready"
expect_out '"view":"user_spend"' "readyz lists the view"

# --- features ---------------------------------------------------------------------------
at="2024-04-16T00:00:00Z"
post "{\"view\": \"user_spend\", \"entities\": [{\"user_id\": 1}, {\"user_id\": 999999}], \"at\": \"$at\"}"
expect_status 200 "features for a known and an unknown entity"
features=$out
run "$sluice" get -p "$p" user_spend 1 --at "$at"
expect_code 0 "sluice get"
get_out=$out
python3 - "$features" "$get_out" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "server and sluice get agree"; }
import json, sys
served = json.loads(sys.argv[1])
got = json.loads(sys.argv[2])
assert served["at"] == "2024-04-16T00:00:00Z", served["at"]
known, unknown = served["results"]
assert known["entity"] == {"user_id": 1}, known["entity"]
assert unknown["entity"] == {"user_id": 999999}, unknown["entity"]
assert len(known["features"]) == len(got["features"]) == 10
for name, f in got["features"].items():
    s = known["features"]["user_spend:" + name]
    assert s == f, (name, s, f)
assert known["features"]["user_spend:txn_count_7d"]["status"] == "present"
assert all(f["status"] == "missing" for f in unknown["features"].values()), unknown
# Declared defaults fill missing values; undeclared ones stay null.
assert unknown["features"]["user_spend:txn_count_1h"]["value"] == 0
assert unknown["features"]["user_spend:txn_count_7d"]["value"] is None
assert "+" in known["features"]["user_spend:amount_sum_24h"]["version"]  # transform artifact
PY

post "{\"view\": \"user_spend\", \"features\": [\"txn_count_24h\"], \"entities\": [{\"user_id\": 1}], \"at\": \"$at\"}"
expect_status 200 "a feature subset"
expect_out '"features":{"user_spend:txn_count_24h":{' "only the requested feature"

post "{\"service\": \"fraud_model\", \"entities\": [{\"user_id\": 1}], \"at\": \"$at\"}"
expect_status 200 "feature service"
expect_out '"service":"fraud_model"' "the service is named"
expect_out '"user_spend:txn_count_1h":' "service feature 1"
expect_out '"user_spend:amount_sum_24h":' "service feature 2"
expect_out '"user_spend:spend_ratio_1h_30d":' "service feature 3"
expect_eq "$(grep -o '"status"' <<<"$out" | wc -l)" 3 "exactly the service's three features"

post '{"view": "user_spend", "entities": [{"user_id": 1}]}'
expect_status 200 "at defaults to now"
expect_out '"status":"expired"' "months after the data, the 30d TTL has expired every value"

# --- every refusal, with the problem named ----------------------------------------------
post '{"view": "user_spend", "entities": [{"user_id": 1}'
expect_status 400 "malformed JSON"
expect_out '"kind":"invalid_request"' "malformed JSON kind"
expect_out 'malformed JSON' "malformed JSON message"
post '{"view": "nope", "entities": [{"user_id": 1}]}'
expect_status 400 "unknown view"
expect_out "no feature view 'nope'" "unknown view named"
expect_out '"kind":"unknown_name"' "unknown view kind"
post '{"view": "user_spend", "features": ["nope"], "entities": [{"user_id": 1}]}'
expect_status 400 "unknown feature"
expect_out "feature view 'user_spend' has no feature 'nope'" "unknown feature named"
post '{"service": "nope", "entities": [{"user_id": 1}]}'
expect_status 400 "unknown service"
expect_out "no feature service 'nope'" "unknown service named"
post '{"view": "user_spend", "entities": [{"user_id": "1"}]}'
expect_status 400 "wrong key type"
expect_out "key column 'user_id': expected int64 (a JSON integer), got a string" "wrong key type named"
expect_out '"kind":"bad_entity_key"' "wrong key type kind"
post '{"view": "user_spend", "entities": [{"user": 1}]}'
expect_status 400 "wrong key column"
expect_out "unknown key column 'user'" "wrong key column named"
post '{"view": "user_spend", "entities": [{}]}'
expect_status 400 "missing key column"
expect_out "missing key column 'user_id'" "missing key column named"
post '{"view": "user_spend", "entities": [{"user_id": 1}], "extra": 1}'
expect_status 400 "unknown field"
expect_out "unknown field 'extra'" "unknown field named"
post '{"view": "user_spend", "entities": [{"user_id": 1}], "at": "2024-01-01T00:00:00Z"}'
expect_status 400 "at before the newest event"
expect_out "online reads answer as of its newest event or later" "at before the newest event explained"
python3 -c 'print("{\"view\": \"user_spend\", \"entities\": [" + ",".join("{\"user_id\": %d}" % i for i in range(1001)) + "]}")' >"$tmp_root/many.json"
http POST /v1/features "$tmp_root/many.json"
expect_status 400 "too many entities"
expect_out "too many entities: 1001 in one request, the limit is 1000" "too many entities named"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$tmp_root/big.json"
http POST /v1/features "$tmp_root/big.json"
expect_status 413 "oversized body"
expect_out "exceeds the limit of 1048576 bytes" "oversized body named"
expect_out '"kind":"body_too_large"' "oversized body kind"
http GET /v1/features
expect_status 405 "GET on the POST endpoint"
http GET /nope
expect_status 404 "unknown route"
expect_out '"kind":"not_found"' "unknown route JSON"

# --- metrics ------------------------------------------------------------------------------
http GET /metrics
expect_status 200 "metrics"
for series in \
  'sluice_serve_requests_total{endpoint="/v1/features",code="200"}' \
  'sluice_serve_requests_total{endpoint="/v1/features",code="400"}' \
  'sluice_serve_requests_total{endpoint="/v1/features",code="413"}' \
  'sluice_serve_requests_total{endpoint="/v1/features",code="503"}' \
  'sluice_serve_requests_total{endpoint="/healthz",code="200"}' \
  'sluice_serve_request_duration_seconds_bucket{endpoint="/v1/features",le="+Inf"}' \
  'sluice_serve_request_duration_seconds_count{endpoint="/v1/features"}' \
  'sluice_serve_store_duration_seconds_bucket{store="default",le="0.001"}' \
  'sluice_serve_errors_total{kind="invalid_request"}' \
  'sluice_serve_errors_total{kind="unknown_name"}' \
  'sluice_serve_errors_total{kind="bad_entity_key"}' \
  'sluice_serve_errors_total{kind="body_too_large"}' \
  'sluice_serve_errors_total{kind="not_ready"}' \
  'sluice_serve_features_total{view="user_spend",status="present"}' \
  'sluice_serve_view_freshness_seconds{view="user_spend",store="default"}' \
  'sluice_serve_view_entities{view="user_spend",store="default"} 100' \
  'sluice_serve_view_ready{view="user_spend",store="default"} 1'; do
  expect_out "$series" "metrics has $series"
done

# --- zero skew: online values equal a training set on a spine of the same (user, t) --------
cat >"$tmp_root/make_spine.py" <<'PY'
import csv, datetime, random, sys
src, spine = sys.argv[1:3]
last = {}
for row in csv.DictReader(open(src)):
    t = datetime.datetime.strptime(row["ts"], "%Y-%m-%dT%H:%M:%SZ")
    u = int(row["user_id"])
    last[u] = max(last.get(u, t), t)
rng = random.Random(6)
users = sorted(last)
with open(spine, "w") as s:
    s.write("user_id,ts\n")
    for i in range(300):
        if i % 50 == 49:
            u, t = 100000 + i, max(last.values())  # never seen
        else:
            u = rng.choice(users)
            # At the last event itself, within the windows, and past the 30d TTL.
            offset = rng.choice([0, 1, 59, 3600, 86399, 86400 * 3, 86400 * 29, 86400 * 31])
            t = last[u] + datetime.timedelta(seconds=offset + rng.randint(0, 600) * (offset > 0))
        s.write(f"{u},{t:%Y-%m-%d %H:%M:%S}\n")
PY
python3 "$tmp_root/make_spine.py" "$p/data/transactions.csv" "$p/skew_spine.csv"
cat >"$p/skew.yaml" <<'YAML'
training_sets:
  - name: skew_check
    spine_path: skew_spine.csv
    timestamp: ts
    keys: [user_id]
    features: [user_spend]
    formats: [csv]
YAML
echo "include: [skew.yaml]" >>"$p/sluice.yaml"
run "$sluice" training-set -p "$p" skew_check -o "$tmp_root/skew_out"
expect_code 0 "training set on the skew spine"
cat >"$tmp_root/skew.py" <<'PY'
import csv, http.client, json, sys
port, training = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port)
rows = list(csv.DictReader(open(training)))
checked = present = 0
for row in rows:
    t = row["ts"].replace(" ", "T") + "Z"
    body = json.dumps({"view": "user_spend", "entities": [{"user_id": int(row["user_id"])}], "at": t})
    conn.request("POST", "/v1/features", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, (r.status, data)
    features = json.loads(data)["results"][0]["features"]
    for column, offline in row.items():
        if not column.startswith("user_spend__"):
            continue
        online = features["user_spend:" + column[len("user_spend__"):]]
        checked += 1
        if online["status"] == "present":
            present += 1
            assert offline != "", (row, column, online)
            assert float(offline) == float(online["value"]), (row, column, offline, online)
        else:
            # Missing and expired values are NULL in training sets (online: the declared default).
            assert offline == "", (row, column, offline, online)
assert present > checked // 4, (present, checked)
print(f"zero skew: {len(rows)} (user, t) pairs, {checked} values, {present} present")
PY
run python3 "$tmp_root/skew.py" "$port" "$tmp_root/skew_out/skew_check.csv"
expect_code 0 "online values equal the training set's for 300 random (user, t) pairs"
echo "$out"
expect_out "zero skew: 300 (user, t) pairs, 3000 values" "every pair and feature compared"

# --- readers while a materialization writes: the old state or the new, never a mix ---------
max_ts() {  # the newest event time in a transactions CSV
  python3 -c 'import sys; print(max(l.rsplit(",", 1)[1].strip() for l in list(open(sys.argv[1]))[1:]))' "$1"
}
old_newest=$(max_ts "$p/data/transactions.csv")
# New data (another seed) for the same users: a new source version with different values.
run "$sluice" demo-data -p "$p" --transactions 5000 --formats csv --seed 7
expect_code 0 "demo-data, second version"
# One instant after every event of both versions, so both states answer for it.
t_fixed=$(python3 -c 'import sys; print(max(sys.argv[1:]))' "$old_newest" "$(max_ts "$p/data/transactions.csv")")
run "$sluice" ingest -p "$p" transactions
expect_code 0 "ingest, second version"
cat >"$tmp_root/hammer.py" <<'PY'
import http.client, json, os, sys, threading
port, at, started_file, done_file, result_file = int(sys.argv[1]), sys.argv[2], *sys.argv[3:6]
body = json.dumps({"view": "user_spend", "entities": [{"user_id": u} for u in range(1, 101)], "at": at})
def fetch(conn):
    conn.request("POST", "/v1/features", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()
responses, lock = [], threading.Lock()
def reader():
    conn = http.client.HTTPConnection("127.0.0.1", port)
    after = 0
    while after < 30:  # keep reading until well after the write is visible
        status, data = fetch(conn)
        with lock:
            responses.append((status, data))
            if len(responses) == 15:
                open(started_file, "w").close()  # the writer may start now
        if os.path.exists(done_file):
            after += 1
threads = [threading.Thread(target=reader) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
json.dump([[s, d.decode()] for s, d in responses], open(result_file, "w"))
PY
# The old state, then readers running while materialize writes the new one.
post "{\"view\": \"user_spend\", \"entities\": [$(seq -s, 1 100 | sed 's/\([0-9]*\)/{"user_id": \1}/g')], \"at\": \"$t_fixed\"}"
expect_status 200 "the state before"
printf '%s' "$out" >"$tmp_root/state_a.json"
python3 "$tmp_root/hammer.py" "$port" "$t_fixed" "$tmp_root/reading" "$tmp_root/materialized" \
  "$tmp_root/hammer.json" &
hammer_pid=$!
for _ in $(seq 1 600); do [ -e "$tmp_root/reading" ] && break; sleep 0.05; done
run "$sluice" materialize -p "$p" --force
expect_code 0 "materialize while readers read"
http GET /readyz  # catches the server's read-only store up with the write at once
touch "$tmp_root/materialized"
set +e
wait "$hammer_pid"
hammer_code=$?
set -e
expect_eq "$hammer_code" 0 "readers finished"
post "{\"view\": \"user_spend\", \"entities\": [$(seq -s, 1 100 | sed 's/\([0-9]*\)/{"user_id": \1}/g')], \"at\": \"$t_fixed\"}"
expect_status 200 "the state after"
printf '%s' "$out" >"$tmp_root/state_b.json"
cat >"$tmp_root/torn.py" <<'PY'
import json, sys
def entities(text):
    return [json.dumps(r["features"], sort_keys=True) for r in json.loads(text)["results"]]
a = entities(open(sys.argv[1]).read())
b = entities(open(sys.argv[2]).read())
differ = sum(x != y for x, y in zip(a, b))
assert differ > 10, f"only {differ} entities differ between the two states"
seen = {"old": 0, "new": 0}
for status, data in json.load(open(sys.argv[3])):
    assert status == 200, (status, data)
    got = entities(data)
    for e, g in enumerate(got):
        assert g in (a[e], b[e]), f"entity {e}: a value from neither materialization: {g}"
    # One MultiGet is one point in time of the store: a whole response is old or new.
    if got == a:
        seen["old"] += 1
    elif got == b:
        seen["new"] += 1
    else:
        raise AssertionError("a response mixes the old and the new materialization")
assert seen["old"] > 0 and seen["new"] > 0, seen
print(f"no torn reads: {seen['old']} old and {seen['new']} new responses, {differ} entities changed")
PY
run python3 "$tmp_root/torn.py" "$tmp_root/state_a.json" "$tmp_root/state_b.json" "$tmp_root/hammer.json"
expect_code 0 "every read during the write saw the old or the new state, all 200"
expect_out "no torn reads" "torn-read check ran"
echo "$out"

stop_server
expect_code 0 "SIGTERM exits 0"
expect_out "stopped (SIGTERM)" "graceful stop reported"

# --- bearer-token auth; the token never appears in output --------------------------------
token="t0ken-$RANDOM-secret"
export SLUICE_E2E_TOKEN=$token
start_server --token-env SLUICE_E2E_TOKEN
out=$(cat "$tmp_root/serve.out")
expect_out "bearer token required" "auth announced"
post '{"view": "user_spend", "entities": [{"user_id": 1}]}'
expect_status 401 "no token"
expect_out '"kind":"unauthorized"' "unauthorized kind"
post '{"view": "user_spend", "entities": [{"user_id": 1}]}' -H "Authorization: Bearer wrong"
expect_status 401 "wrong token"
post '{"view": "user_spend", "entities": [{"user_id": 1}]}' -H "Authorization: Bearer $token"
expect_status 200 "right token"
http GET /metrics
expect_status 401 "metrics need the token"
http GET /healthz
expect_status 200 "healthz needs no token"
stop_server
expect_code 0 "SIGTERM exits 0 (auth)"
case "$out$err" in *"$token"*) fail "the token was printed" ;; *) pass ;; esac
unset SLUICE_E2E_TOKEN
run "$sluice" serve -p "$p" --address 127.0.0.1:0 --token-env SLUICE_E2E_NO_SUCH_VAR
expect_code 2 "token variable unset"
expect_err "'SLUICE_E2E_NO_SUCH_VAR' is not set or empty" "unset token variable named"
run "$sluice" serve -p "$p" --address nowhere
expect_code 2 "bad address"
expect_err "expected HOST:PORT" "bad address explained"

finish
