#!/usr/bin/env bash
# `sluice run` end to end: the example's pipeline on real data, then command-step pipelines for
# retries, timeouts, parallel branches, skip-on-failure, resume, kill -9 then resume, and two
# runs of one pipeline at once.
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"
py=/usr/bin/python3

p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 3000 --formats csv
expect_code 0 "demo-data"

# --- the example's own pipeline (ingest -> build -> training set, ingest -> materialize) -------
run "$sluice" run daily -p "$p"
expect_code 0 "sluice run daily"
expect_out "run 1 of pipeline daily: succeeded" "the run summary"
expect_err "train_set: succeeded" "the training-set step ran"
run "$sluice" runs -p "$p" --json
status=$(printf '%s' "$out" | $py -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["status"], r[0]["pipeline"])')
expect_eq "$status" "succeeded daily" "runs --json"
run "$sluice" logs 1 ingest -p "$p"
expect_code 0 "logs of the ingest step"
expect_out "==> ingest attempt 1 (succeeded)" "the log header"

# --- command steps: retries, timeout, parallel branches, skip-on-failure ------------------------
cat >>"$p/sluice.yaml" <<'YAML'
  - name: e2e
    concurrency: 3
    retry_backoff: 100ms
    steps:
      - {name: flaky, run: command, retries: 2, command: 'n=$(cat tries 2>/dev/null || echo 0); echo $((n+1)) > tries; echo "try $((n+1)) of $SLUICE_STEP day=$SLUICE_VAR_day"; [ $n -ge 1 ]'}
      - {name: left, run: command, depends_on: [flaky], command: 'touch left.up; i=0; while [ ! -e right.up ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done; test -e right.up'}
      - {name: right, run: command, depends_on: [flaky], command: 'touch right.up; i=0; while [ ! -e left.up ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done; test -e left.up'}
      - {name: slow, run: command, timeout: 1s, command: 'test -e fast || sleep 30'}
      - {name: after_slow, run: command, depends_on: [slow], command: 'echo after >> after'}
      - {name: join, run: command, depends_on: [left, right, after_slow], command: 'echo join >> joined'}
  - name: long
    steps:
      - {name: wait, run: command, command: 'echo $$ > long.pid; test -e fast || sleep 30; echo done >> long.done'}
YAML
run "$sluice" check -p "$p"
expect_code 0 "the extended project is valid"

run "$sluice" run e2e -p "$p" --var day=2026-01-01
expect_code 1 "a run with a timed-out step fails"
expect_out "run 2 of pipeline e2e: failed" "summary of the failed run"
expect_err "flaky: retrying in" "the flaky step is retried"
expect_err "slow: timed out (attempt 1)" "the slow step times out"
expect_err "after_slow: skipped (upstream step 'slow' failed)" "its dependent is skipped"
expect_err "join: skipped (upstream step 'after_slow' was skipped)" "transitively"
run "$sluice" runs show 2 -p "$p" --json
summary=$($py - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
att = r["attempts"]
def of(step): return [a for a in att if a["step"] == step]
out = []
out.append(",".join(a["status"] for a in of("flaky")))
out.append(str([a["exit_code"] for a in of("flaky")]))
s = of("slow")[0]
out.append("%s %s %s" % (s["status"], s["timed_out"], s["exit_code"]))
out.append(",".join(a["status"] for a in of("left") + of("right")))
out.append(of("join")[0]["status"])
out.append(r["params"][0]["name"] + "=" + r["params"][0]["value"])
print("|".join(out))
PY
)
expect_eq "$summary" "failed,succeeded|[1, 0]|timed_out True None|succeeded,succeeded|skipped|var.day=2026-01-01" "attempts as recorded"
run "$sluice" logs 2 flaky -p "$p"
expect_out "try 2 of flaky day=2026-01-01" "the second attempt's log"
[ ! -e "$p/joined" ] && pass || fail "join must not have run"

# --- resume: only what did not succeed runs again ---------------------------------------------
touch "$p/fast"
run "$sluice" run e2e -p "$p" --resume
expect_code 0 "resume of run 2"
expect_out "run 3 of pipeline e2e: succeeded" "resume summary"
expect_err "flaky: not run again (succeeded in run 2)" "flaky reused"
expect_eq "$(cat "$p/tries")" "2" "flaky did not run a third time"
expect_eq "$(cat "$p/joined")" "join" "join ran once"
run "$sluice" run e2e -p "$p" --resume
expect_code 0 "resuming a run that succeeded"
expect_out "succeeded; nothing to resume" "says there is nothing to do"
run "$sluice" run e2e -p "$p" --resume 999
expect_code 1 "resuming an unknown run"
expect_err "no pipeline run 999" "names the run"

# --- kill -9 mid-run, then resume; a second run of the same pipeline meanwhile is refused ------
rm -f "$p/fast"
"$sluice" run long -p "$p" >/dev/null 2>&1 &
runner=$!
for _ in $(seq 1 500); do [ -s "$p/long.pid" ] && break; sleep 0.02; done
expect_file "$p/long.pid" "the long step started"
run "$sluice" run long -p "$p"
expect_code 1 "a second run of a running pipeline"
expect_err "pipeline 'long' is already running: run 4 by pid $runner on $(hostname)" "names the holder"
step_group=$(cat "$p/long.pid")
for _ in $(seq 1 500); do pgrep -g "$step_group" -x sleep >/dev/null && break; sleep 0.02; done
sleeper=$(pgrep -g "$step_group" -x sleep)
kill -9 "$runner"
wait "$runner" 2>/dev/null || true
sleep 0.2
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
alive "$sleeper" && pass || fail "the step's sleeper outlives the killed sluice run"
# The next sluice start marks the run interrupted and kills what its step left running.
run "$sluice" runs long -p "$p" --json
expect_eq "$(printf '%s' "$out" | $py -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["id"], r[0]["status"])')" \
  "4 interrupted" "a run killed with -9 is interrupted"
expect_err "killed what its step 'wait' left running: process group $step_group" "says what it killed"
for _ in $(seq 1 100); do alive "$sleeper" || alive "$step_group" || break; sleep 0.02; done
alive "$sleeper" && fail "the orphaned sleeper of the interrupted run still runs" || pass
alive "$step_group" && fail "the orphaned step shell still runs" || pass
run "$sluice" runs show 4 -p "$p"
expect_out "interrupted" "the attempt too"
touch "$p/fast"
run "$sluice" run long -p "$p" --resume
expect_code 0 "resume after kill -9"
expect_out "run 5 of pipeline long: succeeded" "the resumed run (a refused run is not recorded)"
expect_eq "$(cat "$p/long.done")" "done" "the step ran to the end once"
# A relative project folder: steps run inside it, so it must reach them absolute.
sluice_abs=$(readlink -f "$sluice")
(cd "$tmp_root" && "$sluice_abs" run long -p fraud >/dev/null 2>&1) && pass || fail "run with -p relative"
expect_eq "$(cat "$p/long.done")" "$(printf 'done\ndone')" "the step ran with a relative -p"

# --- SIGTERM stops a run cleanly --------------------------------------------------------------
rm -f "$p/fast" "$p/long.pid"
"$sluice" run long -p "$p" >/dev/null 2>&1 &
runner=$!
for _ in $(seq 1 500); do [ -s "$p/long.pid" ] && break; sleep 0.02; done
kill -TERM "$runner"
set +e; wait "$runner"; rc=$?; set -e
expect_eq "$rc" "1" "an interrupted run exits 1"
run "$sluice" runs long -p "$p" -n 1
expect_out "interrupted" "recorded as interrupted"

# --- bad input ------------------------------------------------------------------------------
run "$sluice" run nope -p "$p"
expect_code 2 "unknown pipeline"
expect_err "no pipeline 'nope'" "names it"
run "$sluice" run e2e -p "$p" --step nope
expect_code 2 "unknown step"
expect_err "pipeline 'e2e' has no step 'nope'" "names the step"
run "$sluice" run e2e -p "$p" --var "bad"
expect_code 2 "bad --var"
cat >>"$p/sluice.yaml" <<'YAML'
  - name: broken
    schedule: "0 25 * * *"
    steps:
      - {name: a, run: command, command: 'true', depends_on: [b]}
      - {name: b, run: command, command: 'true', depends_on: [a]}
      - {name: c, run: command, command: 'true', depends_on: [zz]}
YAML
run "$sluice" check -p "$p"
expect_code 2 "a broken pipeline fails check"
expect_err "sluice.yaml:" "with file:line:column"
expect_err "invalid schedule '0 25 * * *'" "bad cron"
expect_err "cycle in the steps of pipeline 'broken'" "cycle"
expect_err "unknown step in pipeline 'broken': 'zz'" "unknown step"

finish
