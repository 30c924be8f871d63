#!/usr/bin/env bash
# `sluice ingest` of a PostgreSQL table against a real server (the ctest fixture "pg"): full
# and incremental extraction across runs with inserts between them, contract checks against
# the live table, no password in any output or manifest, and kill -9 during extraction and
# during loading, full and incremental, followed by clean re-runs (nothing skipped or doubled).
set -euo pipefail
sluice=$1
env_file=$2
source "$(dirname "$0")/assert.sh"
[ -s "$env_file" ] || { echo "no PostgreSQL env file at $env_file (pg_start failed?)" >&2; exit 1; }
source "$env_file"
export SLUICE_TEST_PG_PASSWORD="$PGPASSWORD"
sql() { psql -v ON_ERROR_STOP=1 -qAt -c "$1"; }

sql "DROP TABLE IF EXISTS e2e_events; CREATE TABLE e2e_events (
       id bigint PRIMARY KEY, user_id bigint NOT NULL, amount double precision,
       note text, created_at timestamptz NOT NULL)"
sql "INSERT INTO e2e_events SELECT i, i % 7, i * 1.5, 'n' || i,
       TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 minute'
     FROM generate_series(1, 1000) i"

p="$tmp_root/pg"
mkdir -p "$p"
cat >"$p/sluice.yaml" <<YAML
name: pgtest
sources:
  - name: events
    type: postgres
    table: e2e_events
    cursor: id
    connection: {host: $PGHOST, port: $PGPORT, database: $PGDATABASE, user: $PGUSER, password_env: SLUICE_TEST_PG_PASSWORD}
    event_time: created_at
    columns:
      - {name: id, type: int64, nullable: false}
      - {name: user_id, type: int64, nullable: false}
      - {name: amount, type: double}
      - {name: note, type: string}
      - {name: created_at, type: timestamp, nullable: false}
YAML

run "$sluice" ingest -p "$p"
expect_code 0 "first ingest"
expect_out "read 1000  loaded 1000  quarantined 0" "all rows on the first run"
run "$sluice" ingest -p "$p"
expect_out "unchanged" "no new rows, no new version"

for round in 1 2 3; do
  start=$((1000 + (round - 1) * 100 + 1))
  sql "INSERT INTO e2e_events SELECT i, i % 7, i * 1.5, 'n' || i,
         TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 minute'
       FROM generate_series($start, $((start + 99))) i"
  run "$sluice" ingest -p "$p"
  expect_code 0 "incremental ingest $round"
  expect_out "read 100  loaded 100" "round $round reads only the 100 new rows"
done

run "$sluice" versions -p "$p" events
expect_eq "$(grep -c '^events ' <<<"$out")" 4 "one version per run that found new rows"
latest=$(awk '$1 == "events" {print $2; exit}' <<<"$out")
run "$sluice" show -p "$p" "$latest"
expect_out '"loaded": 1300' "the latest version holds every row once"
expect_out '"column": "id"' "the cursor column is recorded"
expect_out '"value": "1300"' "the cursor is where extraction stopped"
case "$out" in *"$PGPASSWORD"*) fail "the manifest must not contain the password" ;; *) pass ;; esac
if grep -rq -- "$PGPASSWORD" "$p/.sluice/lake/versions"; then fail "no password in the lake"; else pass; fi

# The data a version names is exactly the table's rows, no duplicates, none missing.
python3 - "$out" <<'PY' && pass || fail "manifest parses"
import json, sys
m = json.loads(sys.argv[1].split("\n\nquarantined")[0])
assert m["rows"]["read"] == m["rows"]["loaded"] + m["rows"]["quarantined"]
PY

# A retyped column in the live table stops the ingest before extraction.
sql "ALTER TABLE e2e_events ALTER COLUMN amount TYPE text USING amount::text"
run "$sluice" ingest -p "$p"
expect_code 1 "retyped column in postgres"
expect_err "column 'amount' was retyped: declared double, the data has VARCHAR" "the retype is named"

# A wrong password is an error that says where, never what.
SLUICE_TEST_PG_PASSWORD=wrong-secret-123 run "$sluice" ingest -p "$p"
expect_code 1 "bad password"
case "$err" in *wrong-secret-123*) fail "the password must not be printed" ;; *) pass ;; esac
expect_err "$PGHOST:$PGPORT" "the failing server is named"

# --- kill -9 while extracting and while loading; the re-run neither skips nor doubles rows ----
sql "DROP TABLE IF EXISTS e2e_big; CREATE TABLE e2e_big (
       id bigint PRIMARY KEY, user_id bigint NOT NULL, amount double precision,
       note text, created_at timestamptz NOT NULL)"
big_rows() {  # big_rows FIRST LAST
  sql "INSERT INTO e2e_big SELECT i, i % 1000, i * 0.25, repeat('x', 40) || i,
         TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 second'
       FROM generate_series($1, $2) i"
}
big_rows 1 600000
k="$tmp_root/pgkill"
mkdir -p "$k"
sed -e 's/e2e_events/e2e_big/' "$p/sluice.yaml" >"$k/sluice.yaml"
# kill_when PATTERN: starts an ingest, kills it with SIGKILL as soon as a staging file matching
# PATTERN exists (or when it ends by itself), and reports whether the kill came first.
kill_when() {
  "$sluice" ingest -p "$k" >/dev/null 2>&1 &
  local pid=$! i
  killed=no
  for i in $(seq 1 600); do
    if compgen -G "$k/.sluice/lake/staging/*/$1" >/dev/null; then
      kill -9 "$pid" 2>/dev/null && killed=yes
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  wait "$pid" 2>/dev/null || true
}
versions_of_big() {
  run "$sluice" versions -p "$k" events
  grep -c '^events ' <<<"$out" || true
}
kill_when extract.csv
expect_eq "$killed" yes "killed while extracting the first time"
expect_eq "$(versions_of_big)" 0 "a first ingest killed while extracting publishes nothing"
kill_when 'rows-*.parquet'
expect_eq "$killed" yes "killed while loading the first time"
expect_eq "$(versions_of_big)" 0 "a first ingest killed while loading publishes nothing"
run "$sluice" ingest -p "$k"
expect_code 0 "first ingest after two kills"
expect_out "read 600000  loaded 600000  quarantined 0" "every row once after the kills"

big_rows 600001 900000
kill_when extract.csv
expect_eq "$killed" yes "killed while extracting incrementally"
kill_when 'rows-*.parquet'
expect_eq "$killed" yes "killed while loading incrementally"
expect_eq "$(versions_of_big)" 1 "killed incremental runs publish nothing"
run "$sluice" ingest -p "$k"
expect_code 0 "incremental ingest after two kills"
expect_out "read 300000  loaded 300000" "the re-run extracts exactly the rows after the cursor"
run "$sluice" versions -p "$k" events
latest=$(awk '$1 == "events" {print $2; exit}' <<<"$out")
run "$sluice" show -p "$k" "$latest"
expect_out '"loaded": 900000' "the latest version holds every row exactly once"
expect_out '"value": "900000"' "the cursor is the last extracted id"
leftover=$(find "$k/.sluice/lake/staging" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
expect_eq "$leftover" 0 "no staging leftovers after recovery"
sql "DROP TABLE e2e_big"
sql "DROP TABLE e2e_events"
finish
