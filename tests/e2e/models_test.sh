#!/usr/bin/env bash
# `sluice build` and `sluice test` on the example project with the embedded DuckDB warehouse:
# dependency order, lake versions with lineage, no work when nothing changed, incremental
# models, selection, failing tests stopping downstream models, and warehouse errors reported at
# the model file's line and column.
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"

# --- the example project -------------------------------------------------------------------
p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 5000 --formats csv
expect_code 0 "demo-data"

run "$sluice" build -p "$p"
expect_code 1 "build before any ingest"
expect_err "reads source 'transactions', which has no version in the lake yet; run \`sluice ingest transactions\` first" "missing source version is named"

run "$sluice" ingest -p "$p"
expect_code 0 "ingest"
run "$sluice" build -p "$p"
expect_code 0 "first build"
expect_out "daily_spend          table        built" "daily_spend is built"
expect_out "user_summary         table        built" "user_summary is built"
expect_out "daily_totals         incremental  built" "daily_totals is built"
expect_out "tests 4/4 passed" "user_summary's tests run"
expect_out "build: 3 built, 0 unchanged, 0 failed, 0 skipped" "summary"
# user_summary reads daily_spend: it finishes after it.
order=$(awk '$2 == "table" || $2 == "incremental" {print $1}' <<<"$out" | tr '\n' ' ')
case "$order" in *daily_spend*user_summary*) pass ;; *) fail "daily_spend before user_summary: $order" ;; esac

# Each table is a lake version whose parents are the versions it read.
run "$sluice" versions -p "$p"
tx=$(awk '$1 == "transactions" {print $2}' <<<"$out")
users=$(awk '$1 == "users" {print $2}' <<<"$out")
spend=$(awk '$1 == "daily_spend" {print $2}' <<<"$out")
summary=$(awk '$1 == "user_summary" {print $2}' <<<"$out")
[ -n "$spend" ] && [ -n "$summary" ] && pass || fail "model versions are listed"
run "$sluice" show -p "$p" "$spend"
expect_out '"kind": "model"' "a model version"
expect_out "\"$tx" "daily_spend's parent is the transactions version"
run "$sluice" show -p "$p" "$summary"
expect_out "\"$users" "user_summary's parents include the users version"
expect_out "\"$spend" "user_summary's parents include the daily_spend version"

# Nothing changed: nothing is done.
run "$sluice" build -p "$p"
expect_code 0 "second build"
expect_out "build: 0 built, 3 unchanged, 0 failed, 0 skipped" "unchanged inputs and SQL do no work"
run "$sluice" test -p "$p"
expect_code 0 "tests pass"
expect_out "test: 3 models passed, 0 failed" "test summary"

# Selection: +user_summary is it and its upstream; after a SQL change only it is rebuilt.
printf '\n-- a comment changes the SQL text\n' >>"$p/models/user_summary.sql"
run "$sluice" build -p "$p" +user_summary
expect_code 0 "selected build"
expect_out "daily_spend          table        unchanged" "upstream is selected, unchanged"
expect_out "user_summary         table        built" "changed model is rebuilt"
case "$out" in *daily_totals*) fail "daily_totals is not selected" ;; *) pass ;; esac
run "$sluice" build -p "$p" nosuchmodel
expect_code 2 "unknown model"
expect_err "no model 'nosuchmodel'" "unknown model named"

# Incremental: two more days of transactions; daily_totals adds only the new days.
python3 - "$p/data/transactions.csv" <<'PY'
import sys
path = sys.argv[1]
with open(path, "a") as f:
    for i in range(20):
        day = "2024-06-%02d" % (1 + i // 10)
        f.write("tx_e2e%010d,1,m_e2e,grocery,10.00,USD,US,pos,%sT12:00:%02dZ\n" % (i, day, i % 60))
PY
run "$sluice" ingest -p "$p" transactions
expect_code 0 "ingest more transactions"
run "$sluice" build -p "$p"
expect_code 0 "build after new data"
expect_out "(+2 new)" "two new days are merged into daily_totals"
expect_out "daily_spend          table        built" "daily_spend is rebuilt from the new version"

# --- errors and failing tests --------------------------------------------------------------
e="$tmp_root/errors"
mkdir -p "$e/data" "$e/models"
printf 'id,kind\n1,a\n2,b\n3,b\n' >"$e/data/things.csv"
cat >"$e/sluice.yaml" <<'YAML'
name: errors
sources:
  - name: things
    type: file
    format: csv
    path: data/things.csv
    columns:
      - {name: id, type: int64}
      - {name: kind, type: string}
models:
  configs:
    - name: base
      materialized: table
      tests:
        - {type: accepted_values, column: kind, values: [a]}
    - {name: after, materialized: table}
YAML
printf 'SELECT id, kind FROM {{ source(%s) }}\n' "'things'" >"$e/models/base.sql"
printf 'SELECT count(*) AS n FROM {{ ref(%s) }}\n' "'base'" >"$e/models/after.sql"
printf -- '-- one\nSELECT id,\n       amount\nFROM {{ source(%s) }}\n' "'things'" >"$e/models/broken.sql"
run "$sluice" ingest -p "$e"
expect_code 0 "ingest things"
run "$sluice" build -p "$e"
expect_code 1 "a failing test and a broken model fail the build"
expect_err "test accepted_values(kind) (sluice.yaml:15:11) failed: 2 failing rows" "failing test and count"
expect_err "id=2, kind=b" "a failing row is shown"
expect_out "upstream model 'base' failed" "the downstream model is skipped"
expect_err "models/broken.sql:3:8: model 'broken': Binder Error: Referenced column \"amount\" not found" "error at the model file's line and column"
expect_err "  3 |        amount" "the line is shown"
expect_out "build: 0 built, 0 unchanged, 2 failed, 1 skipped" "summary counts failures"
run "$sluice" versions -p "$e" base
case "$out" in *"base "*) fail "a model whose tests fail is not published" ;; *) pass ;; esac

# Unknown references and cycles are configuration errors (exit 2) with positions.
rm "$e/models/broken.sql"
printf 'SELECT *\nFROM {{ ref(%s) }}\n' "'bas'" >"$e/models/typo.sql"
run "$sluice" build -p "$e"
expect_code 2 "unknown ref"
expect_err "models/typo.sql:2:6: model 'typo' refers to unknown model 'bas' (did you mean 'base'?)" "unknown ref with hint"
printf 'SELECT * FROM {{ ref(%s) }}\n' "'loop_b'" >"$e/models/loop_a.sql"
printf 'SELECT * FROM {{ ref(%s) }}\n' "'loop_a'" >"$e/models/loop_b.sql"
rm "$e/models/typo.sql"
run "$sluice" build -p "$e"
expect_code 2 "cycle"
expect_err "closes a cycle: loop_a -> loop_b -> loop_a" "the cycle is named"

finish
