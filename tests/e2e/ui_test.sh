#!/usr/bin/env bash
# `sluice ui` end to end: the real binary on the example project (demo data with one row whose
# text is an HTML injection, ingest, build, training set, materialize), every page loaded in
# Debian's headless chromium by ui_browser.py (no JavaScript error, no console error, no
# dialog, the project's datasets, versions and runs on the pages, the look-up form answering),
# screenshots kept in SHOT_DIR; then routes, HEAD, 404s and the token over plain HTTP.
# usage: ui_test.sh SLUICE SHOT_DIR
set -euo pipefail
sluice=$1
shots=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/assert.sh"
command -v curl >/dev/null || { echo "curl is required"; exit 1; }
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "chromium is required (scripts/setup installs it)"; exit 1; }

source "$here/serve_process.sh"
start_ui() {  # start_ui [ARGS...]: sets $server_pid and $base (serve_process.sh)
  start_listening ui "$sluice" ui -p "$p" --address 127.0.0.1:0 "$@"
}
http() {  # http PATH [CURL-ARGS...]: sets $status and $out
  local path=$1
  shift
  status=$(curl -s -o "$tmp_root/body" -w '%{http_code}' "$@" "$base$path")
  out=$(cat "$tmp_root/body")
  err=""
}

p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 3000 --formats csv
expect_code 0 "demo-data"
# One row the contract quarantines, whose text would run a script if a page did not escape it.
echo 'tx_evil,1,m1,<img src=x onerror=alert(1)>,"<script>alert(2)</script>",EUR,DE,web,2024-03-01T00:00:00Z' \
  >>"$p/data/transactions.csv"
# A monitor that fires (a row count the demo data cannot reach) and one that does not.
cat >>"$p/sluice.yaml" <<'YAML'

monitoring:
  sinks:
    - {name: logged, type: log}
  monitors:
    - {name: txn_rows, type: metric, dataset: transactions, metric: rows, min: 1000000, severity: critical}
    - {name: txn_drift, type: drift, dataset: transactions, reference: transactions}
YAML
for step in "ingest" "build" "training-set fraud_train" "materialize" "monitor"; do
  # shellcheck disable=SC2086
  run "$sluice" $step -p "$p"
  expect_code 0 "sluice $step"
done
run "$sluice" versions -p "$p" transactions
txn_version=$(awk 'NR == 2 {print $2}' <<<"$out")
run "$sluice" versions -p "$p" fraud_train
ts_version=$(awk 'NR == 2 {print $2}' <<<"$out")
[ -n "$txn_version" ] && [ -n "$ts_version" ] || { fail "no versions listed"; finish; exit 1; }
# The declared pipeline run once by the orchestrator (runs, attempts, logs in the registry), and
# a model registered on the training set.
run "$sluice" run -p "$p" daily
expect_code 0 "sluice run daily"
echo "model bytes" >"$tmp_root/model.bin"
run "$sluice" model register -p "$p" fraud_lr --training-set "$ts_version" --artifact "$tmp_root/model.bin"
expect_code 0 "sluice model register"
user=$(awk -F, 'NR == 2 {print $2}' "$p/data/transactions.csv")
newest=$(awk -F, 'NR > 1 && $9 > m {m = $9} END {print m}' "$p/data/transactions.csv")

start_ui
# The log of the first attempt the pipelines page links to.
log_link=$(curl -s "$base/pipelines" | grep -o 'href="/logs?[^"]*"' | head -1 | sed 's/^href="//; s/"$//; s/&amp;/\&/g')
[ -n "$log_link" ] || { fail "the pipelines page links no step log"; }
# The pages, what each must show, and the look-up form driven on the view's page.
cat >"$tmp_root/pages.json" <<JSON
[
 {"name": "overview", "url": "$base/",
  "expect": ["transactions", "users", "labels", "daily_spend", "fraud_train", "user_spend",
             "$txn_version", "$ts_version", "entities, newest event", "succeeded", "daily",
             "Registered models", "fraud_lr"]},
 {"name": "datasets", "url": "$base/datasets",
  "expect": ["transactions", "users", "labels", "daily_spend", "user_summary", "fraud_train",
             "$txn_version"]},
 {"name": "dataset", "url": "$base/datasets/transactions",
  "expect": ["Versions over time", "$txn_version", "ingest", "succeeded"]},
 {"name": "version", "url": "$base/versions/$txn_version",
  "expect": ["Quarantined rows", "tx_evil", "<script>alert(2)</script>", "Manifest",
             "data/transactions.csv", "rows profiled", "merchant_category"]},
 {"name": "training_set", "url": "$base/versions/$ts_version",
  "expect": ["training_set", "Derived from", "Lineage records", "$ts_version"]},
 {"name": "lineage", "url": "$base/lineage",
  "expect": ["data/transactions.csv", "transactions", "daily_spend", "user_spend",
             "fraud_train", "default", "$txn_version"]},
 {"name": "views", "url": "$base/views", "expect": ["user_spend", "entities, newest event"]},
 {"name": "view", "url": "$base/views/user_spend",
  "expect": ["amount_sum_24h", "hour(ts)", "minmax", "fraud_train", "Look up"],
  "script": "document.querySelector('#lookup input[name=user_id]').value = '$user'; document.querySelector('#lookup input[name=at]').value = '$newest'; document.querySelector('#lookup button').click(); true",
  "wait_for": "#lookup-result table"},
 {"name": "pipelines", "url": "$base/pipelines",
  "expect": ["Pipeline daily", "train_set", "Recent runs", "materialize", "training_set",
             "succeeded", "$ts_version", "Attempts of run", "manual"]},
 {"name": "log", "url": "$base$log_link", "expect": ["Step log", "attempt", "succeeded"]},
 {"name": "runs", "url": "$base/runs?target=transactions",
  "expect": ["Runs of transactions", "ingest", "succeeded"], "absent": ["fraud_train"]},
 {"name": "monitoring", "url": "$base/monitoring",
  "expect": ["Freshness", "user_spend", "Monitors", "txn_rows", "txn_drift", "critical",
             "Alerts and drift", "$txn_version"]}
]
JSON
set +e
/usr/bin/python3 "$here/ui_browser.py" "$chromium" "$tmp_root/pages.json" "$shots" \
  >"$tmp_root/browser.out" 2>&1
code=$?
set -e
out=$(cat "$tmp_root/browser.out")
err=""
echo "$out"
expect_code 0 "every page loads in chromium without errors and shows the project"
for name in overview datasets dataset version lineage views view pipelines log runs monitoring; do
  expect_file "$shots/$name.png" "screenshot of $name"
done

# Escaping, checked on the HTML itself: the injected row is text, never markup.
http "/versions/$txn_version"
expect_eq "$status" 200 "version page"
case "$out" in *"<script>alert(2)"* | *"<img src=x"*) fail "injected markup rendered unescaped" ;; *) pass ;; esac
expect_out "&lt;script&gt;alert(2)&lt;/script&gt;" "the injected text is escaped"
# The look-up endpoint is the serving API's, answered in-process.
status=$(curl -s -o "$tmp_root/body" -w '%{http_code}' -X POST "$base/v1/features" \
  -d "{\"view\":\"user_spend\",\"entities\":[{\"user_id\":$user}],\"at\":\"$newest\"}")
out=$(cat "$tmp_root/body")
expect_eq "$status" 200 "POST /v1/features on the console"
expect_out '"status":"present"' "look-up values are present"
http "/no/such/page"
expect_eq "$status" 404 "unknown route"
http "/datasets/no_such_dataset"
expect_eq "$status" 404 "unknown dataset"
expect_out "no dataset" "unknown dataset page says so"
http "/assets/console.css"
expect_eq "$status" 200 "stylesheet"
status=$(curl -s -o /dev/null -w '%{http_code}' -I "$base/lineage")
expect_eq "$status" 200 "HEAD of a page"
stop_server
expect_code 0 "sluice ui stops on SIGTERM"

# With a token: pages need it (header or cookie), the log-in page and assets do not.
export SLUICE_UI_TOKEN=tok-123
start_ui --token-env SLUICE_UI_TOKEN
http "/"
expect_eq "$status" 401 "a page without the token"
expect_out 'href="/login"' "the 401 page links to the log-in page"
http "/login"
expect_eq "$status" 200 "the log-in page"
http "/" -H "Authorization: Bearer tok-123"
expect_eq "$status" 200 "a page with the bearer token"
http "/datasets" -H "Cookie: theme=dark; sluice_token=tok-123"
expect_eq "$status" 200 "a page with the token cookie"
http "/datasets" -H "Cookie: sluice_token=wrong"
expect_eq "$status" 401 "a wrong cookie"
stop_server
run "$sluice" ui -p "$p" --token-env SLUICE_UI_UNSET_VARIABLE
expect_code 2 "--token-env naming an unset variable"
run "$sluice" ui -p "$p" --address nonsense
expect_code 2 "a bad --address"

finish
