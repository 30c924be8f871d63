#!/usr/bin/env bash
# Crash safety by named kill points (SLUICE_KILL_AT, docs/crash-testing.md): each verb is killed
# at every step where a crash could tear something (after staging, after writing a manifest,
# before and after the HISTORY rename, in the middle of the output copies, between the store
# write and the run record, inside gc), then the state is checked and the verb run again:
# every listed version whole, the user-facing copies equal to the lake's, no run left
# "running", and the rerun succeeds with the outcome the kill point implies.
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"

p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 2000 --formats csv
expect_code 0 "demo-data"
run "$sluice" ingest -p "$p"
expect_code 0 "first ingest"
run "$sluice" build -p "$p"
expect_code 0 "first build"

# check_state WHAT: the lake, the output copies and the registry are consistent.
check_state() {
  # What the next command finds: opening the project sweeps leftovers and marks the runs of dead
  # processes interrupted.
  "$sluice" versions -p "$p" >/dev/null 2>&1 || true
  if ! problems=$(/usr/bin/python3 - "$p" <<'PY'
import hashlib, json, os, sqlite3, sys
root = sys.argv[1]
lake = os.path.join(root, ".sluice/lake")
problems = []
def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
current = {}
for d in sorted(os.listdir(os.path.join(lake, "versions"))):
    hist = os.path.join(lake, "versions", d, "HISTORY")
    if not os.path.exists(hist):
        continue
    ids = [l for l in open(hist).read().split("\n") if l]
    for i in ids:
        mpath = os.path.join(lake, "versions", d, i + ".json")
        if not os.path.exists(mpath):
            problems.append(f"{d}: listed version {i[:12]} has no manifest")
            continue
        m = json.load(open(mpath))
        for f in m.get("outputs", []):
            if not os.path.exists(os.path.join(lake, "objects", f["sha256"][:2], f["sha256"])):
                problems.append(f"{d} {i[:12]}: output {f['name']} missing from the lake")
    if ids:
        current[d] = json.load(open(os.path.join(lake, "versions", d, ids[-1] + ".json")))
out = os.path.join(root, "output")
if os.path.isdir(out):
    for name in os.listdir(out):
        if name.startswith(".") and ".tmp-" in name:
            continue  # a dead run's temporary: never under a final name, swept by the next run
        ts = current.get("fraud_train")
        ext = os.path.splitext(name)[1]
        want = [o["sha256"] for o in (ts or {}).get("outputs", []) if o["name"].endswith(ext)]
        if want and sha(os.path.join(out, name)) not in want:
            problems.append(f"output/{name} differs from the current training set's {ext} file")
db = sqlite3.connect(os.path.join(root, ".sluice/registry.sqlite"))
for (n,) in db.execute("SELECT count(*) FROM runs WHERE status = 'running'"):
    if n:
        problems.append(f"{n} run(s) still marked running")
print("\n".join(problems))
PY
  ) || [ -n "$problems" ]; then
    fail "$1: the state check failed: $problems"
  else
    pass
  fi
}

versions_of() {  # versions_of DATASET: how many versions `sluice versions` lists
  "$sluice" versions -p "$p" "$1" 2>/dev/null | grep -c "^$1 " || true
}

# kill_then_recover VERB_ARGS POINT DATASET COMMITTED: runs the verb killed at POINT, checks the
# state (after a fresh open, which sweeps), reruns it and checks the version count: one new
# version in all; COMMITTED=1 when the point is past the commit (the rerun finds it unchanged).
kill_then_recover() {
  local args=$1 point=$2 dataset=$3 committed=$4
  local before
  before=$(versions_of "$dataset")
  # shellcheck disable=SC2086
  SLUICE_KILL_AT=$point run "$sluice" $args -p "$p"
  expect_code 86 "$args killed at $point"
  expect_err "killed at $point" "$args reached $point"
  expect_eq "$(versions_of "$dataset")" $((before + committed)) "$args at $point: versions after the kill"
  # shellcheck disable=SC2086
  run "$sluice" $args -p "$p"
  expect_code 0 "$args after a kill at $point"
  if [ "$committed" = 1 ]; then
    expect_out "unchanged" "$args at $point: the rerun finds the published version"
  fi
  expect_eq "$(versions_of "$dataset")" $((before + 1)) "$args at $point: one new version in all"
  check_state "$args at $point"
}

# New content for each round, so each round has something to publish.
round=0
grow() {  # grow FILE: append a row derived from the last one with a new id
  round=$((round + 1))
  /usr/bin/python3 - "$1" "$round" <<'PY'
import sys
path, n = sys.argv[1], sys.argv[2]
lines = open(path).read().rstrip("\n").split("\n")
cols = lines[-1].split(",")
cols[0] = f"crash-{n}"
open(path, "a").write(",".join(cols) + "\n")
PY
}

for point in ingest.after_staging lake.publish.after_manifest lake.publish.before_history_rename; do
  grow "$p/data/transactions.csv"
  kill_then_recover "ingest transactions" "$point" transactions 0
done
for point in lake.publish.after_history_rename ingest.before_run_record; do
  grow "$p/data/transactions.csv"
  kill_then_recover "ingest transactions" "$point" transactions 1
done

run "$sluice" training-set -p "$p" fraud_train
expect_code 0 "first training set"
for point in training_set.after_staging lake.publish.after_manifest \
  lake.publish.before_history_rename; do
  grow "$p/data/labels.csv"
  run "$sluice" ingest -p "$p" labels
  kill_then_recover "training-set fraud_train" "$point" fraud_train 0
done
for point in lake.publish.after_history_rename training_set.mid_output_copy \
  training_set.before_run_record; do
  grow "$p/data/labels.csv"
  run "$sluice" ingest -p "$p" labels
  kill_then_recover "training-set fraud_train" "$point" fraud_train 1
done
# The old copy stays whole while a kill interrupts the next one.
grow "$p/data/labels.csv"
run "$sluice" ingest -p "$p" labels
old_csv=$(sha256sum "$p/output/fraud_train.csv" | cut -d' ' -f1)
old_parquet=$(sha256sum "$p/output/fraud_train.parquet" | cut -d' ' -f1)
SLUICE_KILL_AT=training_set.mid_output_copy run "$sluice" training-set -p "$p" fraud_train
expect_code 86 "killed in the middle of a copy"
now_csv=$(sha256sum "$p/output/fraud_train.csv" | cut -d' ' -f1)
now_parquet=$(sha256sum "$p/output/fraud_train.parquet" | cut -d' ' -f1)
if [ "$now_csv" = "$old_csv" ] || [ "$now_parquet" = "$old_parquet" ]; then pass; else
  fail "a kill mid-copy changed both output files"
fi
for f in "$p"/output/*; do
  expect_eq "$(/usr/bin/python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.endswith(b"\n") or d.endswith(b"PAR1"))' "$f")" True "$f is a whole file"
done
run "$sluice" training-set -p "$p" fraud_train
expect_code 0 "training set after the mid-copy kill"
expect_eq "$(find "$p/output" -name '.*tmp-*' | wc -l)" 0 "the dead run's temporary is swept"
check_state "after the mid-copy kill"

# A model build: publish steps and the run record.
for point in lake.publish.after_manifest lake.publish.before_history_rename \
  lake.publish.after_history_rename build.before_run_record; do
  grow "$p/data/transactions.csv"
  run "$sluice" ingest -p "$p" transactions
  SLUICE_KILL_AT=$point run "$sluice" build -p "$p" daily_spend
  expect_code 86 "build killed at $point"
  check_state "build at $point"
  run "$sluice" build -p "$p" daily_spend
  expect_code 0 "build after a kill at $point"
  check_state "build rerun after $point"
done

# Materialize: killed between the store write and the run record.
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "first materialize"
grow "$p/data/transactions.csv"
run "$sluice" ingest -p "$p" transactions
SLUICE_KILL_AT=materialize.before_run_record run "$sluice" materialize -p "$p" user_spend
expect_code 86 "materialize killed after its store write"
check_state "materialize killed"
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "materialize after the kill"
expect_out "unchanged" "the store already holds the killed run's write"
run /usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM runs WHERE kind='materialize' AND status='interrupted'\").fetchone()[0])" "$p/.sluice/registry.sqlite"
expect_eq "$out" 1 "the killed materialize is recorded as interrupted"

# gc, killed at each step, then run again.
for point in gc.before_history_rename gc.after_history_rewrite gc.mid_manifest_delete \
  gc.mid_object_delete; do
  for _ in 1 2; do  # two versions to remove: the points between deletions are reached
    grow "$p/data/transactions.csv"
    run "$sluice" ingest -p "$p" transactions
  done
  SLUICE_KILL_AT=$point run "$sluice" gc -p "$p" --keep 1 --grace 0s
  expect_code 86 "gc killed at $point"
  expect_err "killed at $point" "gc reached $point"
  check_state "gc at $point"
  run "$sluice" gc -p "$p" --keep 1 --grace 0s
  expect_code 0 "gc after a kill at $point"
  check_state "gc rerun after $point"
done
# After all that the project still works end to end.
run "$sluice" training-set -p "$p" fraud_train
expect_code 0 "training set after the gc kills"
run "$sluice" materialize -p "$p" user_spend
expect_code 0 "materialize after the gc kills"
key=$(awk -F, 'NR == 2 {print $2}' "$p/data/transactions.csv")
run "$sluice" get -p "$p" user_spend "$key"
expect_code 0 "get after everything"
finish
