#!/usr/bin/env bash
# The reliability round (issue 15) through the real binary: the build version in manifests, a
# byte-order mark at the start of CSV and JSON Lines files, `defaults:` of the wrong type,
# messages (ragged rows, NUL bytes), concurrent ingests on a new project, concurrent
# materializations, failed runs in the registry, and derived features under another time zone.
set -euo pipefail
sluice=$1
source_dir=$2
source "$(dirname "$0")/assert.sh"
out=""
err=""

registry_query() {  # registry_query PROJECT SQL: one value
  /usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
    "$1/.sluice/registry.sqlite" "$2"
}

# --- the build version -----------------------------------------------------------------------
# One source of truth: no version literal in the code, and every manifest says what
# `sluice --version` says.
literals=$(grep -rnE '"[0-9]+\.[0-9]+\.[0-9]+"' "$source_dir/src" --include='*.cpp' --include='*.h' |
  grep -v '/tests/' || true)
expect_eq "$literals" "" "no hard-coded version in src/"
run "$sluice" --version
version=${out#sluice }
p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 2000 --formats csv
run "$sluice" ingest -p "$p"
expect_code 0 "ingest"
run "$sluice" build -p "$p" daily_spend
expect_code 0 "build"
run "$sluice" training-set -p "$p" fraud_train
expect_code 0 "training set"
for manifest in "$p"/.sluice/lake/versions/{transactions,daily_spend,fraud_train}/*.json; do
  case "$(basename "$manifest")" in *.*.json) continue ;; esac # a sidecar (profile), not a manifest
  expect_eq "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sluice_version"])' "$manifest")" \
    "$version" "$(basename "$(dirname "$manifest")") manifest carries the build version"
done

# --- byte-order marks ------------------------------------------------------------------------
b="$tmp_root/bom"
mkdir -p "$b/data"
cat >"$b/sluice.yaml" <<'YAML'
name: bom
sources:
  - name: c
    type: file
    format: csv
    path: data/c.csv
    columns:
      - {name: txn_id, type: string, nullable: false}
      - {name: amount, type: double}
  - name: j
    type: file
    format: jsonl
    path: data/j.jsonl
    columns:
      - {name: txn_id, type: string, nullable: false}
      - {name: amount, type: double}
YAML
printf '\xef\xbb\xbftxn_id,amount\nt1,1.5\nt2,2.5\n' >"$b/data/c.csv"
printf '\xef\xbb\xbf{"txn_id": "t1", "amount": 1.5}\n{"txn_id": "t2", "amount": 2.5}\n' >"$b/data/j.jsonl"
run "$sluice" ingest -p "$b"
expect_code 0 "files with a byte-order mark are ingested"
expect_out "read 2  loaded 2  quarantined 0" "every row of the BOM files is loaded"
for s in c j; do
  id=$("$sluice" versions -p "$b" "$s" | awk -v s="$s" '$1 == s {print $2}')
  run "$sluice" show -p "$b" "$id"
  expect_out '"utf8_bom": true' "the manifest of $s records the byte-order mark"
done
run "$sluice" ingest -p "$b"
expect_eq "$(grep -c unchanged <<<"$out")" 2 "an unchanged BOM file is unchanged"

# --- defaults of the wrong type --------------------------------------------------------------
d="$tmp_root/defaults"
cp -r "$p" "$d"
sed -i 's/      txn_count_1h: 0/      txn_count_1h: abc/' "$d/sluice.yaml"
run "$sluice" check -p "$d"
expect_code 2 "check rejects a default that is not an integer"
line=$(grep -n 'txn_count_1h: abc' "$d/sluice.yaml" | cut -d: -f1)
expect_err "sluice.yaml:$line:7: feature_views[0].defaults.txn_count_1h: 'abc' is not an integer, and feature 'txn_count_1h' (count) is int64" \
  "the bad default is named with its location"
# A derived feature's type is known only to DuckDB: `get` says what is wrong (no abort).
cp -r "$p" "$d.2"
sed -i 's/      txn_count_24h: 0/      txn_count_24h: 0\n      spend_ratio_1h_30d: lots/' "$d.2/sluice.yaml"
run "$sluice" check -p "$d.2"
expect_code 0 "check cannot type a derived feature"
run "$sluice" materialize -p "$d.2" user_spend
expect_code 0 "materialize with a bad derived default"
run "$sluice" get -p "$d.2" user_spend 999999999
expect_code 2 "get with a bad derived default is a configuration error"
expect_err "defaults.spend_ratio_1h_30d: 'lots' is not a number, and feature 'spend_ratio_1h_30d' is double" \
  "get names the bad default"

# The server does not abort or answer 500: the view is not ready, and says why.
"$sluice" serve -p "$d.2" --address 127.0.0.1:0 >"$tmp_root/serve.out" 2>"$tmp_root/serve.err" &
serve_pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$tmp_root/serve.out" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp_root/serve.out")
run curl -s -o "$tmp_root/reply" -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/features" \
  -H 'Content-Type: application/json' -d '{"view": "user_spend", "entities": [{"user_id": 1}]}'
expect_eq "$out" 503 "the server answers 503 for a view with a bad default"
case "$(cat "$tmp_root/reply")" in
  *not_ready*"spend_ratio_1h_30d: 'lots' is not a number"*) pass ;;
  *) fail "the 503 names the bad default: $(cat "$tmp_root/reply")" ;;
esac
kill "$serve_pid"
wait "$serve_pid" || true

# --- gc keeps what the online store serves ---------------------------------------------------
g="$tmp_root/gc"
cp -r "$p" "$g"
run "$sluice" materialize -p "$g" user_spend
served=$(/usr/bin/python3 -c 'print(open(__import__("sys").argv[1]).read().split()[-1][:12])' \
  "$g/.sluice/lake/versions/transactions/HISTORY")
printf 'extra-1,1,m1,food,5.0,USD,US,web,2024-01-01T00:00:00Z\n' >>"$g/data/transactions.csv"
run "$sluice" ingest -p "$g" transactions
expect_code 0 "a newer transactions version"
run "$sluice" gc -p "$g" --keep 1 --dry-run
expect_code 0 "gc --dry-run"
expect_out "kept    transactions             $served: online store 'default' serves view 'user_spend' from it" \
  "gc keeps the version the online store was materialized from"
expect_out "gc (dry run): would remove 0 versions" "nothing else to remove"

# --- messages --------------------------------------------------------------------------------
m="$tmp_root/messages"
mkdir -p "$m/data"
cat >"$m/sluice.yaml" <<'YAML'
name: messages
sources:
  - name: t
    type: file
    format: csv
    path: data/t.csv
    error_budget: 90%
    columns:
      - {name: id, type: int64, nullable: false}
      - {name: name, type: string}
      - {name: amount, type: double}
YAML
printf 'id,name,amount\n1,a,1.5\n2,b,3,4,5,6,7,8\n3,c,1\0x\n' >"$m/data/t.csv"
run "$sluice" ingest -p "$m"
expect_code 0 "ingest with bad rows"
ragged=$(grep 't.csv:3' <<<"$out" || true)
expect_eq "$(grep -o 'Expected' <<<"$ragged" | wc -l)" 1 "a ragged row's reason says it once"
expect_out "t.csv:3: Expected Number of Columns: 3 Found: 8" "the ragged row's real column count"
nul=$(grep 't.csv:4' <<<"$out" || true)
case "$nul" in *'1\0x'*) pass ;; *) fail "a NUL byte is escaped in the reason: '$nul'" ;; esac
id=$("$sluice" versions -p "$m" t | awk '$1 == "t" {print $2}')
run "$sluice" show -p "$m" "$id"
case "$out" in *'1\0x'*) pass ;; *) fail "show escapes the NUL byte too" ;; esac

run "$sluice" materialize -p "$p" user_spend
run "$sluice" get -p "$p" user_spend 99999999999999999999999
expect_code 2 "a key past 64 bits"
expect_err "key column 'user_id' is int64: '99999999999999999999999' is out of the int64 range" \
  "a key past 64 bits is out of range, not fractional"

# --- concurrency -----------------------------------------------------------------------------
# Two ingests of a brand-new project at once: one version and one `unchanged`, no raw SQLite
# "database is locked".
for i in 1 2 3; do
  c="$tmp_root/concurrent-$i"
  run "$sluice" init "$c"
  run "$sluice" demo-data -p "$c" --transactions 1000 --formats csv
  "$sluice" ingest -p "$c" transactions >"$tmp_root/a.out" 2>"$tmp_root/a.err" &
  a=$!
  "$sluice" ingest -p "$c" transactions >"$tmp_root/b.out" 2>"$tmp_root/b.err" &
  b=$!
  ca=0
  cb=0
  wait $a || ca=$?
  wait $b || cb=$?
  out=$(cat "$tmp_root/a.out" "$tmp_root/b.out")
  err=$(cat "$tmp_root/a.err" "$tmp_root/b.err")
  expect_eq "$ca$cb" "00" "round $i: both concurrent ingests succeed"
  expect_eq "$(grep -c 'new version' <<<"$out")" 1 "round $i: one new version"
  expect_eq "$(grep -c 'unchanged' <<<"$out")" 1 "round $i: one unchanged"
  expect_eq "$("$sluice" versions -p "$c" transactions | grep -c '^transactions ')" 1 "round $i: one version"
done

# Two materializations at once, 20 times: the loser always gets the clear lock error, never a
# RocksDB file error, and its failed run is in the registry.
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "first materialize"
clear=0
for i in $(seq 1 20); do
  "$sluice" materialize -p "$p" --force user_spend >"$tmp_root/a.out" 2>"$tmp_root/a.err" &
  a=$!
  "$sluice" materialize -p "$p" --force user_spend >"$tmp_root/b.out" 2>"$tmp_root/b.err" &
  b=$!
  wait $a || true
  wait $b || true
  err=$(cat "$tmp_root/a.err" "$tmp_root/b.err")
  out=$(cat "$tmp_root/a.out" "$tmp_root/b.out")
  case "$err" in
    *LOG.old* | *"No such file"*) fail "round $i: a RocksDB file error instead of the lock error" ;;
    "" | *"another process has it open for writing"*) clear=$((clear + 1)) ;;
    *) fail "round $i: unexpected error" ;;
  esac
done
expect_eq "$clear" 20 "every concurrent materialize ends in success or the clear lock error"
failed=$(registry_query "$p" "SELECT count(*) FROM runs WHERE kind = 'materialize' AND status = 'failed' AND error LIKE '%another process has it open for writing%'")
losers=$(grep -c . <<<"$(seq 1 20)")
if [ "$failed" -ge 1 ] && [ "$failed" -le "$losers" ]; then pass; else
  fail "failed materializations are recorded in the registry (found $failed)"
fi

# --- derived features and the machine's time zone --------------------------------------------
z="$tmp_root/tz"
cp -r "$p" "$z"
sed -i 's|      - {name: spend_ratio_1h_30d, expr: "amount_sum_1h / nullif(amount_mean_30d, 0)"}|&\n      - {name: local_hour, expr: "hour(to_timestamp(epoch(as_of)))"}|' "$z/sluice.yaml"
run "$sluice" materialize -p "$z" user_spend
expect_code 0 "materialize with a time function"
# The newest event's user, read 15:00 UTC on the day after it (inside the view's TTL).
read -r key at < <(/usr/bin/python3 - "$z/data/transactions.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
last = max(rows, key=lambda r: r["ts"])
print(last["user_id"], last["ts"][:10] + "T15:00:00Z")
PY
)
# The next day, so every event is before `at`.
at=$(/usr/bin/python3 -c 'import datetime,sys; d=datetime.date.fromisoformat(sys.argv[1][:10])+datetime.timedelta(days=1); print(d.isoformat()+"T15:00:00Z")' "$at")
TZ=UTC run "$sluice" get -p "$z" user_spend "$key" --at "$at" --features local_hour
utc=$out
TZ=America/New_York run "$sluice" get -p "$z" user_spend "$key" --at "$at" --features local_hour
expect_code 0 "get under another time zone"
expect_eq "$out" "$utc" "a derived time function reads the same under TZ=America/New_York"
case "$utc" in *'"value":15'*) pass ;; *) fail "the hour is read in UTC: $utc" ;; esac
finish
