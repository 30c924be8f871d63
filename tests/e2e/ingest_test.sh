#!/usr/bin/env bash
# `sluice ingest`, `versions` and `show` on the example data and on a corpus of bad inputs:
# every row is loaded or quarantined with a reason, shape changes stop the ingest, a killed
# ingest leaves the lake as it was.
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"

# --- the example project -------------------------------------------------------------------
p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 5000 --formats csv
expect_code 0 "demo-data"
run "$sluice" ingest -p "$p"
expect_code 0 "ingest all sources"
expect_out "transactions     new version" "transactions get a version"
expect_out "read 5000  loaded 5000  quarantined 0" "every transaction is loaded"
run "$sluice" ingest -p "$p" transactions
expect_code 0 "ingest again"
expect_out "unchanged" "unchanged input makes no new version"
run "$sluice" versions -p "$p" transactions
expect_code 0 "versions"
expect_eq "$(grep -c '^transactions ' <<<"$out")" 1 "one version of transactions"
version=$(awk '$1 == "transactions" {print $2}' <<<"$out")
run "$sluice" versions -p "$p" transactions --json
expect_code 0 "versions --json"
expect_eq "$(/usr/bin/python3 -c '
import json, sys
v = json.load(sys.stdin)
print(len(v), v[0]["dataset"], v[0]["id"][:12], v[0]["rows"], v[0]["quarantined"], v[0]["kind"],
      v[0]["data_bytes"] > 0)' <<<"$out")" "1 transactions $version 5000 0 source True" \
  "versions --json lists the version with its full id and counts"
run "$sluice" versions -p "$p" nosuchdataset --json
expect_code 2 "versions --json of an unknown dataset"
expect_eq "$out" "" "a failed versions --json prints no partial JSON"
run "$sluice" show -p "$p" "$version"
expect_code 0 "show"
expect_out '"dataset": "transactions"' "show prints the manifest"
expect_out '"loaded": 5000' "the manifest counts rows"
run "$sluice" show -p "$p" ffffffffffff
expect_code 1 "show of an unknown version"
expect_err "no dataset version 'ffffffffffff'" "the unknown version is named"
run "$sluice" ingest -p "$p" nosuchsource
expect_code 2 "unknown source"
expect_err "no source 'nosuchsource'" "the unknown source is named"

# A renamed column stops the ingest and names it; the published version is untouched.
sed -i '1s/merchant_category/category/' "$p/data/transactions.csv"
run "$sluice" ingest -p "$p" transactions
expect_code 1 "renamed column"
expect_err "declared column 'merchant_category' is missing and the data has an unexpected column 'category'" "rename is reported"
run "$sluice" versions -p "$p" transactions
expect_eq "$(grep -c '^transactions ' <<<"$out")" 1 "still one version after the failure"

# --- the bad-input corpus ------------------------------------------------------------------
# Each case: name, format, file content (printf format), exit code, loaded, quarantined, text
# expected on stdout or stderr.
c="$tmp_root/corpus"
mkdir -p "$c/data"
corpus_project() {  # corpus_project FORMAT
  cat >"$c/sluice.yaml" <<YAML
name: corpus
sources:
  - name: t
    type: file
    format: $1
    path: data/input.*
    columns:
      - {name: id, type: int64, nullable: false}
      - {name: name, type: string}
      - {name: amount, type: double}
      - {name: ts, type: timestamp}
    error_budget: 100%
YAML
}
check_case() {  # check_case NAME EXIT LOADED QUARANTINED TEXT
  rm -rf "$c/.sluice"
  run "$sluice" ingest -p "$c"
  expect_code "$2" "$1: exit code"
  if [ "$2" -eq 0 ]; then
    case "$out" in *"loaded $3  quarantined $4 "*) pass ;; *) fail "$1: expected loaded $3 quarantined $4" ;; esac
  fi
  case "$out$err" in *"$5"*) pass ;; *) fail "$1: output lacks '$5'" ;; esac
}
csv_case() {  # csv_case NAME CONTENT EXIT LOADED QUARANTINED TEXT
  rm -f "$c"/data/input.*
  corpus_project csv
  printf "$2" >"$c/data/input.csv"
  check_case "$1" "$3" "$4" "$5" "$6"
}
json_case() {
  rm -f "$c"/data/input.*
  corpus_project jsonl
  printf "$2" >"$c/data/input.jsonl"
  check_case "$1" "$3" "$4" "$5" "$6"
}
H='id,name,amount,ts\n'
csv_case ragged          "${H}1,a,1.5,2024-01-01\n2,b\n3,c,3.5,2024-01-01,x\n"     0 1 2 "input.csv:3: Expected Number of Columns: 4 Found: 2"
csv_case unterminated    "${H}1,a,1.5,2024-01-01\n2,\"b,2.5,2024-01-01\n"            0 1 1 "unterminated quote"
csv_case swallowed_lines "${H}1,a,1.5,2024-01-01\n2,\"b,2.5,2024-01-01\n3,c,3.5,2024-01-01\n4,d,4.5,2024-01-01\n" 0 1 3 "2 following line(s) were read into the unterminated quoted value"
csv_case bad_utf8        "${H}1,a,1.5,2024-01-01\n2,\xff\xfe,2.5,2024-01-01\n"     0 1 1 "Invalid unicode"
csv_case wrong_type      "${H}1,a,lots,2024-01-01\n2,b,2.5,2024-01-01\n"            0 1 1 "input.csv:2: Error when converting column \"amount\""
csv_case bad_timestamp   "${H}1,a,1.5,yesterday\n2,b,2.5,2024-01-01\n"              0 1 1 "column 'ts': cannot read 'yesterday' as TIMESTAMP"
csv_case missing_id      "${H},a,1.5,2024-01-01\n2,b,2.5,2024-01-01\n"              0 1 1 "column 'id': missing required value"
csv_case empty_file      ""                                                        0 0 0 "the file is empty (0 bytes)"
csv_case header_only     "${H}"                                                    0 0 0 "read 0"
csv_case bad_header      "id,na\xffme,amount,ts\n1,a,1.5,2024-01-01\n"             1 0 0 "header line (line 1) is not valid UTF-8"
csv_case retyped         "${H}1,a,cheap,2024-01-01\n2,b,dear,2024-01-01\n"         1 0 0 "column 'amount' was retyped"
csv_case removed_column  "id,name,ts\n1,a,2024-01-01\n"                            1 0 0 "declared column 'amount' is missing from the data"
big=$(head -c 3000000 /dev/zero | tr '\0' x)
csv_case huge_field      "${H}1,${big},1.5,2024-01-01\n2,b,2.5,2024-01-01\n"        0 1 1 "Maximum line size"
json_case truncated_json '{"id":1,"name":"a","amount":1.5,"ts":"2024-01-01"}\n{"id":2,"name":"b","am' 0 1 1 "input.jsonl:2: malformed JSON"
json_case not_an_object  '{"id":1,"name":"a","amount":1.5,"ts":"2024-01-01"}\n[1,2]\n"text"\n' 0 1 2 "input.jsonl:3: malformed JSON"
json_case json_types     '{"id":"x","name":"a","amount":1.5,"ts":"2024-01-01"}\n{"id":2,"name":"b","amount":2,"ts":"2024-01-01T00:00:00+02:00"}\n' 0 1 1 "column 'id': cannot read 'x' as BIGINT"

# Truncated Parquet: the file cannot be read at all, so nothing is published.
rm -f "$c"/data/input.*
corpus_project parquet
run "$sluice" demo-data -o "$tmp_root/pq" --transactions 1000 --formats parquet
head -c 2000 "$tmp_root/pq/transactions.parquet" >"$c/data/input.parquet"
check_case truncated_parquet 1 0 0 "cannot read"

# --- a kill during ingest leaves the previous state; the next run recovers by itself ---------
k="$tmp_root/kill"
run "$sluice" init "$k"
run "$sluice" demo-data -p "$k" --transactions 400000 --formats csv
"$sluice" ingest -p "$k" transactions >/dev/null 2>&1 &
pid=$!
sleep 0.4
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
run "$sluice" versions -p "$k" transactions
lines=$(grep -c '^transactions ' <<<"$out" || true)
[ "$lines" -le 1 ] && pass || fail "a killed ingest publishes at most one whole version"
run "$sluice" ingest -p "$k" transactions
expect_code 0 "ingest after a kill"
case "$out" in *"read 400000  loaded 400000"*|*unchanged*) pass ;; *) fail "the re-run loads every row once" ;; esac
run "$sluice" versions -p "$k" transactions
expect_eq "$(grep -c '^transactions ' <<<"$out")" 1 "exactly one version after recovery"
leftover=$(find "$k/.sluice/lake/staging" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
expect_eq "$leftover" 0 "no staging leftovers after recovery"

finish
