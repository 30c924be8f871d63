#!/usr/bin/env bash
# Run values in model SQL end to end: a partitioned pipeline whose model filters by
# {{ interval_start }} / {{ interval_end }} and a {{ var() }}, backfilled day by day; each
# partition's model version holds only its day's rows. Also `sluice build` with and without the
# values, and a `monitor` step that fails the partition whose version trips a monitor.
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"
py=/usr/bin/python3

p="$tmp_root/parts"
mkdir -p "$p/data" "$p/models"
cat >"$p/sluice.yaml" <<'YAML'
name: parts
sources:
  - name: events
    type: file
    format: csv
    path: data/events.csv
    columns:
      - {name: id, type: int64, nullable: false}
      - {name: kind, type: string}
      - {name: amount, type: double}
      - {name: ts, type: timestamp}
models:
  configs:
    - {name: daily_events, materialized: table}
monitoring:
  profile_on_publish: true
  monitors:
    - {name: enough_rows, type: metric, dataset: daily_events, metric: rows, min: 3}
pipelines:
  - name: daily
    partition: day
    steps:
      - {name: build, run: build, models: [daily_events]}
      - {name: check_rows, run: monitor, monitors: [enough_rows], fail_on_alert: true, depends_on: [build]}
YAML
# Days 2026-01-01 (3 rows of kind a, one of kind x), 01-02 (2 rows), 01-03 (4 rows), and a row
# before and after the backfilled range.
cat >"$p/data/events.csv" <<'CSV'
id,kind,amount,ts
1,a,1.0,2025-12-31T23:59:59Z
2,a,2.0,2026-01-01T00:00:00Z
3,a,3.0,2026-01-01T08:00:00Z
4,x,4.0,2026-01-01T12:00:00Z
5,a,5.0,2026-01-01T23:59:59Z
6,a,6.0,2026-01-02T01:00:00Z
7,a,7.0,2026-01-02T02:00:00Z
8,a,8.0,2026-01-03T00:00:00Z
9,a,9.0,2026-01-03T05:00:00Z
10,a,10.0,2026-01-03T06:00:00Z
11,a,11.0,2026-01-03T23:00:00Z
12,a,12.0,2026-01-04T00:00:00Z
CSV
cat >"$p/models/daily_events.sql" <<'SQL'
SELECT id, kind, amount, ts
FROM {{ source('events') }}
WHERE ts >= {{ interval_start }} AND ts < {{ interval_end }}
  AND kind <> {{ var('skip_kind') }}
SQL
run "$sluice" check -p "$p"
expect_code 0 "the project is valid"
run "$sluice" ingest -p "$p" events
expect_code 0 "ingest"

# --- sluice build: the values are required, and checked before anything runs ------------------
run "$sluice" build -p "$p"
expect_code 2 "build without the interval and var"
expect_err "models/daily_events.sql:3:13: {{ interval_start }} has no value" "names the place"
expect_err "models/daily_events.sql:4:15: {{ var('skip_kind') }} has no value: pass --var skip_kind=VALUE" "names the var"
run "$sluice" build -p "$p" --interval-start 2026-01-02 --var skip_kind=x
expect_code 2 "half an interval"
expect_err "--interval-start and --interval-end go together" "says so"
run "$sluice" build -p "$p" --interval-start 2026-01-02 --interval-end 2026-01-01 --var skip_kind=x
expect_code 2 "an empty interval"
# A value that tries to close the string literal stays a string.
run "$sluice" build -p "$p" --interval-start 2026-01-01 --interval-end 2026-01-02 \
  --var "skip_kind=x' OR 1=1) --"
expect_code 0 "build with values"
expect_out "4 rows" "the day's four rows (no kind is that odd string)"

# --- backfill: one version per day, each with that day's rows only --------------------------
run "$sluice" backfill daily -p "$p" --from 2026-01-01 --to 2026-01-04 --concurrency 1 --var skip_kind=x
expect_code 1 "backfill: the monitor step fails the short day"
expect_out "3 partitions, 0 already done, 2 succeeded, 1 failed" "backfill summary"
run "$sluice" runs daily -p "$p" --json
runs_json=$out
expect_eq "$(printf '%s' "$runs_json" | $py -c '
import json, sys
runs = sorted(json.load(sys.stdin), key=lambda r: r["interval_start"])
print(" ".join(r["interval_start"][:10] + "=" + r["status"] for r in runs))')" \
  "2026-01-01=succeeded 2026-01-02=failed 2026-01-03=succeeded" "the short day failed"
failed=$(printf '%s' "$runs_json" | $py -c '
import json, sys
print([r["id"] for r in json.load(sys.stdin) if r["status"] == "failed"][0])')
run "$sluice" runs show "$failed" -p "$p" --json
expect_eq "$(printf '%s' "$out" | $py -c '
import json, sys
print(" ".join(a["step"] + "=" + a["status"] for a in json.load(sys.stdin)["attempts"]))')" \
  "build=succeeded check_rows=failed" "the build succeeded, the monitor step failed"

run "$sluice" versions -p "$p" daily_events
ids=$(printf '%s\n' "$out" | awk '$1 == "daily_events" {print $2}')
summary=""
for id in $ids; do
  run "$sluice" profile -p "$p" "$id" --json
  expect_code 0 "profile of version $id"
  summary+=$(printf '%s' "$out" | $py -c '
import json, sys
p = json.load(sys.stdin)
col = {c["name"]: c for c in p["columns"]}
print("%s..%s:%d" % (col["ts"]["min"], col["ts"]["max"], p["rows"]))')$'\n'
done
expect_eq "$(printf '%s' "$summary" | sort | tr '\n' ' ')" \
  "2026-01-01 00:00:00..2026-01-01 23:59:59:3 2026-01-01 00:00:00..2026-01-01 23:59:59:4 2026-01-02 01:00:00..2026-01-02 02:00:00:2 2026-01-03 00:00:00..2026-01-03 23:00:00:4 " \
  "one version per day, each holding only its day's rows (the 4-row one: the odd var kept kind x)"

# The last partition's values again: nothing to do. An earlier partition's values: rebuilt, and
# it is that partition's version again (same rows, same values: same id), not a new one.
run "$sluice" build -p "$p" --interval-start 2026-01-03 --interval-end 2026-01-04 --var skip_kind=x
expect_out "unchanged" "the last partition's values again: nothing to do"
run "$sluice" versions -p "$p" daily_events
day2=$(printf '%s\n' "$out" | awk '$1 == "daily_events" && $4 == 2 {print $2}')
run "$sluice" build -p "$p" --interval-start 2026-01-02 --interval-end 2026-01-03 --var skip_kind=x
expect_code 0 "day 2 again"
expect_eq "$(printf '%s\n' "$out" | awk '$1 == "daily_events" {print $5}')" "$day2" "day 2's own version again"
run "$sluice" versions -p "$p" daily_events
expect_eq "$(printf '%s\n' "$out" | awk '$1 == "daily_events" {print $2}' | sort -u | wc -l)" \
  "4" "the three days and the odd-var build, no more versions"

# --- sluice check: a pipeline without partition cannot give a model its interval --------------
cp "$p/sluice.yaml" "$tmp_root/sluice.yaml.good"
cat >>"$p/sluice.yaml" <<'YAML'
  - name: whole
    steps:
      - {name: b, run: build, models: [daily_events]}
YAML
run "$sluice" check -p "$p"
expect_code 2 "an unpartitioned pipeline building an interval model"
expect_err "pipelines[1].steps[0]: model 'daily_events' uses {{ interval_start }} (models/daily_events.sql:3:13), but pipeline 'whole' has no partition" \
  "check names the step and the use"
cp "$tmp_root/sluice.yaml.good" "$p/sluice.yaml"
printf 'SELECT {{ var(day) }}\n' >"$p/models/broken.sql"
run "$sluice" check -p "$p"
expect_code 2 "a bad template expression"
expect_err "models/broken.sql:1:8: unsupported template expression" "check reads model SQL too"
rm "$p/models/broken.sql"
run "$sluice" check -p "$p"
expect_code 0 "valid again"

finish
