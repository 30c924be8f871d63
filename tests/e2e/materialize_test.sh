#!/usr/bin/env bash
# `sluice materialize` after the first run: only the events a new source version appends are
# applied to the stored states, and the online values are then exactly what a full replay
# (`--force`) gives. A new version that does not only append (a file sorting before the old
# ones, a late event) falls back to a full replay and says why.
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"

p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 6000 --formats csv
expect_code 0 "demo-data"
# The transactions as a glob of files, split by time: part-1 first, part-2 later.
mkdir -p "$p/data/tx"
sed -i 's|path: data/transactions.csv|path: data/tx/*.csv|' "$p/sluice.yaml"
python3 - "$p/data/transactions.csv" "$p/data" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header, body = rows[0], rows[1:]
ts = header.index("ts")
body.sort(key=lambda r: r[ts])
cut = len(body) * 2 // 3
def write(name, part):
    with open(name, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(part)
write(sys.argv[2] + "/part-2.csv.later", body[cut:])
write(sys.argv[2] + "/tx/part-1.csv", body[:cut])
# A user's event in the past of everything stored, in a file sorting after the others.
late = list(body[cut])
late[header.index("txn_id")] = "late-1"
late[ts] = body[0][ts]
late[header.index("amount")] = "10.0"  # the view keeps amount > 0
write(sys.argv[2] + "/part-3.csv.late", [late])
PY
at="2031-01-01T00:00:00Z"

run "$sluice" ingest -p "$p" transactions labels
expect_code 0 "ingest part 1 and the labels"
run "$sluice" training-set -p "$p" fraud_train
expect_code 0 "training set (fits the transform the view serves)"
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "first materialize"
expect_out "materialized" "the first run replays everything"

# snapshot NAME: the online features of the first 40 users, as `sluice get` prints them.
snapshot() {
  : >"$tmp_root/$1"
  for u in $(seq 1 40); do
    "$sluice" get -p "$p" user_spend "$u" --at "$at" >>"$tmp_root/$1" 2>&1 || true
  done
}

run "$sluice" materialize -p "$p" user_spend
expect_code 0 "materialize again"
expect_out "unchanged" "nothing new: nothing written"

mv "$p/data/part-2.csv.later" "$p/data/tx/part-2.csv"
run "$sluice" ingest -p "$p" transactions
expect_code 0 "ingest part 2"
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "incremental materialize"
expect_out "updated" "only the appended events are applied"
expect_out "new events" "the run says how many events it applied"
incremental_line=$out
snapshot incremental
if grep -q '"value"' "$tmp_root/incremental"; then pass; else
  out=$(head -c 2000 "$tmp_root/incremental"); fail "sluice get printed features"; fi

run "$sluice" materialize -p "$p" user_spend --force
expect_code 0 "full replay with --force"
expect_out "materialized" "--force replays everything"
snapshot full
if cmp -s "$tmp_root/incremental" "$tmp_root/full"; then pass; else
  out=$(diff "$tmp_root/incremental" "$tmp_root/full" | head -40)
  fail "incremental state gives the same online values as a full replay ($incremental_line)"
fi

# A file sorting before the stored ones: not an append, so a full replay, with the reason.
# ... holding the only event of a new user, 987654.
head -n 2 "$p/data/tx/part-1.csv" | sed '2s/^[^,]*,[^,]*,/early-1,987654,/' >"$p/data/tx/part-0.csv"
run "$sluice" ingest -p "$p" transactions
expect_code 0 "ingest a file sorting first"
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "materialize after a non-append"
expect_out "full replay: source version" "says why it replays everything"
expect_out "does not only append" "names the reason"
run "$sluice" get -p "$p" user_spend 987654 --at "$at"
expect_out '"status":"expired"' "the new user is stored (expired at a read years later)"
rm "$p/data/tx/part-0.csv"
run "$sluice" ingest -p "$p" transactions
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "back to parts 1 and 2"
# The full replay holds every entity the source still has: the user that left is not served.
run "$sluice" get -p "$p" user_spend 987654 --at "$at"
expect_code 0 "get a user that left the source"
case "$out" in *'"status":"expired"'*|*'"status":"present"'*) fail "a user that left the source is still served" ;; *) pass ;; esac
expect_out '"status":"missing"' "the user that left the source is missing"

# A late event (older than its user's newest stored event) in an appended file.
mv "$p/data/part-3.csv.late" "$p/data/tx/part-3.csv"
run "$sluice" ingest -p "$p" transactions
expect_code 0 "ingest a late event"
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "materialize with a late event"
expect_out "full replay: a late event" "a late event forces a full replay, said so"
expect_out "before its newest stored event" "names the late event"

finish
