#!/usr/bin/env bash
# The example project's SQL models built in a real PostgreSQL server (the ctest fixture "pg")
# and in embedded DuckDB: the same portable SQL gives the same tables, down to the bytes of the
# lake versions; sources are loaded into the server once per version; no work when nothing
# changed; incremental models; errors at the model file's line and column; no password printed.
set -euo pipefail
sluice=$1
env_file=$2
source "$(dirname "$0")/assert.sh"
[ -s "$env_file" ] || { echo "no PostgreSQL env file at $env_file (pg_start failed?)" >&2; exit 1; }
source "$env_file"
export SLUICE_TEST_PG_PASSWORD="$PGPASSWORD"
schema="models_e2e_$$"
sql() { psql -v ON_ERROR_STOP=1 -qAt -c "$1"; }
trap 'sql "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; rm -rf "$tmp_root"' EXIT

# One project on DuckDB, a copy on PostgreSQL, the same data and lake contents.
d="$tmp_root/duck"
run "$sluice" init "$d"
run "$sluice" demo-data -p "$d" --transactions 5000 --formats csv
expect_code 0 "demo-data"
p="$tmp_root/pg"
cp -r "$d" "$p"
python3 - "$p/sluice.yaml" "$schema" <<'PY'
import os, sys
path, schema = sys.argv[1], sys.argv[2]
text = open(path).read()
old = "warehouse:\n  type: duckdb\n  path: .sluice/warehouse.duckdb\n"
assert old in text
text = text.replace(old, (
    "warehouse:\n  type: postgres\n  host: {h}\n  port: {p}\n  database: {db}\n  user: {u}\n"
    "  password_env: SLUICE_TEST_PG_PASSWORD\n  schema: {s}\n").format(
        h=os.environ["PGHOST"], p=os.environ["PGPORT"], db=os.environ["PGDATABASE"],
        u=os.environ["PGUSER"], s=schema))
open(path, "w").write(text)
PY

for project in "$d" "$p"; do
  run "$sluice" ingest -p "$project"
  expect_code 0 "ingest $project"
  run "$sluice" build -p "$project"
  expect_code 0 "build $project"
  expect_out "build: 3 built, 0 unchanged, 0 failed, 0 skipped" "every model built in $project"
done
case "$out$err" in *"$PGPASSWORD"*) fail "the password must not be printed" ;; *) pass ;; esac

# The tables are in the server's schema, next to each source version loaded once.
tx=$(awk '$1 == "transactions" {print $2}' <<<"$("$sluice" versions -p "$p" transactions)")
expect_eq "$(sql "SELECT count(*) FROM $schema.daily_spend")" \
  "$(sql "SELECT count(*) FROM (SELECT DISTINCT user_id, CAST(ts AS date) FROM $schema.sluice_src_transactions_$tx) AS t")" \
  "daily_spend has one row per user and day"
expect_eq "$(sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$schema' AND table_name LIKE 'sluice_src_%'")" 2 \
  "transactions and users are loaded, once each"

# Portable SQL, same rows: DuckDB and PostgreSQL publish the same daily_spend version.
duck_spend=$(awk '$1 == "daily_spend" {print $2}' <<<"$("$sluice" versions -p "$d" daily_spend)")
pg_spend=$(awk '$1 == "daily_spend" {print $2}' <<<"$("$sluice" versions -p "$p" daily_spend)")
expect_eq "$pg_spend" "$duck_spend" "daily_spend is byte-identical from both warehouses"
duck_totals=$(awk '$1 == "daily_totals" {print $2}' <<<"$("$sluice" versions -p "$d" daily_totals)")
pg_totals=$(awk '$1 == "daily_totals" {print $2}' <<<"$("$sluice" versions -p "$p" daily_totals)")
expect_eq "$pg_totals" "$duck_totals" "daily_totals is byte-identical from both warehouses"

run "$sluice" build -p "$p"
expect_out "build: 0 built, 3 unchanged, 0 failed, 0 skipped" "no work when nothing changed"
run "$sluice" test -p "$p"
expect_code 0 "tests pass on PostgreSQL"
expect_out "test: 3 models passed, 0 failed" "test summary"

# Incremental on PostgreSQL: two new days merge into daily_totals.
python3 - "$p/data/transactions.csv" <<'PY'
import sys
with open(sys.argv[1], "a") as f:
    for i in range(20):
        day = "2024-06-%02d" % (1 + i // 10)
        f.write("tx_e2e%010d,1,m_e2e,grocery,10.00,USD,US,pos,%sT12:00:%02dZ\n" % (i, day, i % 60))
PY
run "$sluice" ingest -p "$p" transactions
run "$sluice" build -p "$p"
expect_code 0 "incremental build"
expect_out "(+2 new)" "two new days"
expect_eq "$(sql "SELECT count(*) FROM $schema.daily_totals WHERE day >= DATE '2024-06-01'")" 2 "merged rows are in the table"
expect_eq "$(sql "SELECT count(*) - count(DISTINCT day) FROM $schema.daily_totals")" 0 "no duplicate days"
# The new transactions version replaced the old copy in the server: one table per source.
expect_eq "$(sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$schema' AND table_name LIKE 'sluice_src_transactions_%'")" 1 \
  "the previous version's copy of transactions was dropped"

# Errors carry the model file's position, from PostgreSQL's error position.
printf -- '-- broken on purpose\nSELECT user_id,\n       amountx\nFROM {{ source(%s) }}\n' "'users'" >"$p/models/broken.sql"
run "$sluice" build -p "$p" broken
expect_code 1 "broken model"
expect_err "models/broken.sql:3:8: model 'broken': column \"amountx\" does not exist" "position from PostgreSQL"
expect_err "  3 |        amountx" "the line is shown"
rm "$p/models/broken.sql"

# A failing test rolls back: the previous table stays.
before=$(sql "SELECT count(*) FROM $schema.user_summary")
python3 - "$p/sluice.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
text = text.replace("values: [standard, premium, business, student]", "values: [standard]")
open(path, "w").write(text)
PY
printf '\n-- changed\n' >>"$p/models/user_summary.sql"
run "$sluice" build -p "$p" user_summary
expect_code 1 "failing accepted_values"
expect_err "test accepted_values(segment)" "the failing test is named"
expect_err "failing rows; first 5:" "a sample of failing rows"
expect_eq "$(sql "SELECT count(*) FROM $schema.user_summary")" "$before" "the table is as before"

finish
