#!/usr/bin/env bash
# `sluice demo-data`: files in every format, same seed -> same bytes, consistent row counts.
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"

a="$tmp_root/a"
b="$tmp_root/b"
run "$sluice" demo-data -o "$a" --transactions 3000 --seed 7
expect_code 0 "demo-data"
for f in users.csv transactions.csv transactions.jsonl transactions.parquet labels.csv; do
  expect_file "$a/$f" "demo-data writes $f"
done
expect_out "generated 3000 transactions" "demo-data reports what it generated"
expect_eq "$(($(wc -l <"$a/transactions.csv") - 1))" 3000 "transactions.csv has one line per transaction"
expect_eq "$(wc -l <"$a/transactions.jsonl")" 3000 "transactions.jsonl has one line per transaction"
expect_eq "$(($(wc -l <"$a/labels.csv") - 1))" 3000 "one label per transaction"

run "$sluice" demo-data -o "$b" --transactions 3000 --seed 7
expect_code 0 "demo-data again"
for f in users.csv transactions.csv transactions.jsonl transactions.parquet labels.csv; do
  cmp -s "$a/$f" "$b/$f" && pass || fail "same seed gives the same bytes: $f"
done

run "$sluice" demo-data -o "$tmp_root/c" --transactions 3000 --seed 8
cmp -s "$a/transactions.csv" "$tmp_root/c/transactions.csv" && fail "another seed gives other data" || pass

run "$sluice" demo-data -o "$tmp_root/d" --transactions 2000 --formats csv
expect_code 0 "demo-data csv only"
[ ! -e "$tmp_root/d/transactions.parquet" ] && pass || fail "--formats csv writes no parquet"

run "$sluice" demo-data -o "$tmp_root/e" --transactions 10
expect_code 2 "too few transactions is a usage error"
run "$sluice" demo-data -o "$tmp_root/e" --formats xml
expect_code 2 "unknown format"
expect_err "unknown format 'xml'" "unknown format is named"
run "$sluice" demo-data -o /proc/sluice-cannot-write-here --transactions 1000
expect_code 1 "unwritable output is a runtime failure"
expect_err "/proc/sluice-cannot-write-here" "the unwritable path is named"

finish
