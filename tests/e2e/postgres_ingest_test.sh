#!/usr/bin/env bash
# `sluice ingest` of a PostgreSQL table against a real server (the ctest fixture "pg"): full
# and incremental extraction across runs with inserts between them, contract checks against
# the live table, and no password in any output or manifest.
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

sql "DROP TABLE e2e_events"
finish
