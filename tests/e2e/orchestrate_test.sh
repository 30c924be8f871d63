#!/usr/bin/env bash
# Orchestration end to end beyond `sluice run` (run_test.sh): backfills, the scheduler (cron and
# source-version triggers), lineage, the model registry, the Airflow export (compiled and
# inspected with python3's ast) and OpenLineage events received by an HTTP server on loopback.
set -euo pipefail
sluice=$1
source "$(dirname "$0")/assert.sh"
py=/usr/bin/python3

p="$tmp_root/fraud"
run "$sluice" init "$p"
run "$sluice" demo-data -p "$p" --transactions 3000 --formats csv
expect_code 0 "demo-data"
cat >>"$p/sluice.yaml" <<'YAML'
  - name: parts
    partition: day
    steps:
      - {name: mark, run: command, command: 'echo "$SLUICE_INTERVAL_START $SLUICE_INTERVAL_END" >> parts'}
  - name: tick
    schedule: "@every 1s"
    steps:
      - {name: t, run: command, command: 'echo "$SLUICE_RUN_ID" >> ticks'}
  - name: quality
    steps:
      - {name: profile, run: profile, sources: [transactions, labels]}
  - name: on_labels
    on_new_version: [labels]
    steps:
      - {name: t, run: command, command: 'echo run >> triggered'}
YAML
run "$sluice" check -p "$p"
expect_code 0 "project with the extra pipelines"

# --- backfill -------------------------------------------------------------------------------
run "$sluice" backfill parts -p "$p" --from 2026-01-01 --to 2026-01-11 --concurrency 3
expect_code 0 "backfill of 10 days"
expect_out "10 partitions, 0 already done, 10 succeeded, 0 failed" "backfill summary"
expect_eq "$(sort "$p/parts" | head -1)" "2026-01-01T00:00:00Z 2026-01-02T00:00:00Z" "first partition"
expect_eq "$(sort -u "$p/parts" | wc -l)" "10" "each partition once"
run "$sluice" backfill parts -p "$p" --from 2026-01-01 --to 2026-01-13
expect_code 0 "backfill resumed over a longer range"
expect_out "12 partitions, 10 already done, 2 succeeded" "only the new partitions ran"
expect_eq "$(wc -l <"$p/parts")" "12" "no partition ran twice"
run "$sluice" backfill tick -p "$p" --from 2026-01-01 --to 2026-01-02
expect_code 2 "backfill of an unpartitioned pipeline"
expect_err "declares no partition" "says why"

# --- scheduler: a 1-second schedule and a source-version trigger ------------------------------
run "$sluice" ingest -p "$p" labels
expect_code 0 "first labels version"
"$sluice" scheduler -p "$p" --poll 0.2 >/dev/null 2>"$tmp_root/scheduler.err" &
sched=$!
for _ in $(seq 1 150); do [ "$(cat "$p/ticks" 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
expect_eq "$([ "$(wc -l <"$p/ticks")" -ge 2 ] && echo yes)" "yes" "the 1s schedule fired twice"
[ ! -e "$p/triggered" ] && pass || fail "an existing version must not trigger a run"
sed -n 2p "$p/data/labels.csv" >>"$p/data/labels.csv"
run "$sluice" ingest -p "$p" labels
expect_code 0 "a new labels version"
for _ in $(seq 1 100); do [ -s "$p/triggered" ] && break; sleep 0.1; done
expect_file "$p/triggered" "the new version triggered on_labels"
kill -TERM "$sched"
wait "$sched" || true
run "$sluice" runs on_labels -p "$p" --json
expect_eq "$(printf '%s' "$out" | $py -c 'import json,sys; r=json.load(sys.stdin); print(len(r), r[0]["trigger"])')" \
  "1 source:labels" "one triggered run"
run "$sluice" runs tick -p "$p" --json
expect_eq "$(printf '%s' "$out" | $py -c '
import json, sys
r = json.load(sys.stdin)
print(all(x["trigger"] == "schedule" and any(p["name"] == "scheduled_at" for p in x["params"]) for x in r))')" \
  "True" "scheduled runs record their fire time"

# --- lineage and models on the example's pipeline ---------------------------------------------
run "$sluice" run daily -p "$p"
expect_code 0 "sluice run daily"
run "$sluice" run quality -p "$p"
expect_code 0 "a profile step over two sources (one shell line of two sluice profile calls)"
run "$sluice" runs quality -p "$p" --json
expect_eq "$(printf '%s' "$out" | $py -c 'import json,sys; print(json.load(sys.stdin)[0]["status"])')" \
  "succeeded" "the profile step succeeded"
run "$sluice" lineage fraud_train --upstream -p "$p"
expect_code 0 "lineage of the training set"
expect_out "fraud_train@" "names the training set version"
expect_out "<- transactions@" "reaches the source"
expect_out "<- file:data/transactions.csv@" "reaches the raw file"
run "$sluice" lineage transactions --downstream -p "$p"
expect_out "-> online_store:default/user_spend" "materialize records the source -> online store edge"
expect_out "-> fraud_train@" "and the training set"
run "$sluice" lineage online_store:default/user_spend --upstream -p "$p"
expect_out "<- transactions@" "an online store's upstream"
run "$sluice" lineage fraud_train --dot -p "$p"
expect_out "digraph lineage {" "DOT output"
run "$sluice" lineage nope -p "$p"
expect_code 1 "unknown node"

ts=$("$sluice" versions fraud_train -p "$p" | awk 'NR == 2 {print $2}')
echo "weights v1" >"$tmp_root/m1.bin"
echo "weights v2" >"$tmp_root/m2.bin"
run "$sluice" model register fraud -p "$p" --training-set "$ts" --artifact "$tmp_root/m1.bin" --metric auc=0.91
expect_code 0 "register v1"
expect_out "registered fraud v1" "v1"
run "$sluice" model register fraud -p "$p" --training-set "$ts" --artifact "$tmp_root/m2.bin"
expect_out "registered fraud v2" "v2"
run "$sluice" model list -p "$p"
expect_out "v2" "v2 is current"
run "$sluice" model rollback fraud -p "$p"
expect_code 0 "rollback"
expect_out "fraud: v1 is current again" "back to v1"
expect_out "$(sha256sum "$tmp_root/m1.bin" | cut -c1-64)" "prints the artifact hash"
expect_out "source        transactions" "needs the transactions version"
expect_out "input file" "and the raw files by hash"
expect_out "rebuild: sluice reproduce" "and how to rebuild"
run "$sluice" model rollback fraud -p "$p"
expect_code 1 "no version before v1"
run "$sluice" model register fraud -p "$p" --training-set "$ts" --artifact "$tmp_root/missing.bin"
expect_code 1 "missing artifact"
transactions=$("$sluice" versions transactions -p "$p" | awk 'NR == 2 {print $2}')
run "$sluice" model register fraud -p "$p" --training-set "$transactions" --artifact "$tmp_root/m1.bin"
expect_code 2 "a source version is not a training set"
run "$sluice" lineage model:fraud@v1 --upstream -p "$p"
expect_out "<- fraud_train@" "the model's lineage reaches its training set"

# --- Airflow export ------------------------------------------------------------------------------
run "$sluice" export airflow daily -p "$p" -o "$tmp_root/dag.py"
expect_code 0 "export airflow"
check=$($py - "$tmp_root/dag.py" <<'PY'
import ast, py_compile, sys
py_compile.compile(sys.argv[1], doraise=True)
tree = ast.parse(open(sys.argv[1]).read())
tasks, edges, schedule = {}, set(), None
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
            and getattr(node.value.func, "id", "") == "BashOperator":
        kw = {k.arg: k.value for k in node.value.keywords}
        tasks[node.targets[0].id] = (kw["task_id"].value, kw["retries"].value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
        edges.add((node.left.id, node.right.id))
    if isinstance(node, ast.keyword) and node.arg == "schedule":
        schedule = node.value.value
names = {v: t for v, (t, _) in tasks.items()}
print(sorted(t for t, _ in tasks.values()), sorted((names[a], names[b]) for a, b in edges),
      sorted({r for _, r in tasks.values()}), schedule)
PY
)
expect_eq "$check" "['build', 'ingest', 'online', 'train_set'] [('build', 'train_set'), ('ingest', 'build'), ('ingest', 'online')] [2] @daily" \
  "the DAG's tasks, dependencies, retries and schedule"

run "$sluice" export dagster daily -p "$p" -o "$tmp_root/job.py"
expect_code 0 "export dagster"
check=$($py - "$tmp_root/job.py" <<'PY'
import ast, py_compile, sys
py_compile.compile(sys.argv[1], doraise=True)
tree = ast.parse(open(sys.argv[1]).read())
ops, deps = [], set()
for node in tree.body:
    if isinstance(node, ast.FunctionDef):
        for d in node.decorator_list:
            if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "op":
                kw = {k.arg: k.value for k in d.keywords}
                ops.append(kw["name"].value)
            if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "job":
                for stmt in node.body:
                    for k in stmt.value.keywords:
                        deps.add((k.value.id[2:], stmt.targets[0].id[2:]))
print(sorted(ops), sorted(deps))
PY
)
expect_eq "$check" "['build', 'ingest', 'online', 'train_set'] [('build', 'train_set'), ('ingest', 'build'), ('ingest', 'online')]" \
  "the Dagster job's ops and dependencies"

# --- OpenLineage to an HTTP receiver on loopback -------------------------------------------------
$py - "$tmp_root/ol.port" "$tmp_root/ol.events" <<'PY' &
import http.server, sys
port_file, events = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(events, "ab") as f:
            f.write(body + b"\n")
        self.send_response(201)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(port_file, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
receiver=$!
for _ in $(seq 1 100); do [ -s "$tmp_root/ol.port" ] && break; sleep 0.05; done
sed -i "s|^  path: .sluice/registry.sqlite|  path: .sluice/registry.sqlite\n  openlineage_url: http://127.0.0.1:$(cat "$tmp_root/ol.port")/api/v1/lineage|" "$p/sluice.yaml"
run "$sluice" run parts -p "$p"
expect_code 0 "a run with OpenLineage on"
kill "$receiver"; wait "$receiver" 2>/dev/null || true
verdict=$($py - "$tmp_root/ol.events" <<'PY'
import json, re, sys, datetime
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
problems = []
for e in events:
    for key in ("eventType", "eventTime", "run", "job", "producer", "schemaURL"):
        if key not in e: problems.append("missing " + key)
    if e.get("eventType") not in ("START", "COMPLETE", "FAIL", "ABORT"): problems.append("eventType")
    datetime.datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00"))
    if not uuid.match(e["run"]["runId"]): problems.append("runId " + e["run"]["runId"])
    if not e["job"].get("namespace") or not e["job"].get("name"): problems.append("job")
    if not e["schemaURL"].startswith("https://openlineage.io/spec/"): problems.append("schemaURL")
seq = [e["job"]["name"] + ":" + e["eventType"] for e in events]
print(seq, problems)
PY
)
expect_eq "$verdict" "['parts:START', 'parts.mark:START', 'parts.mark:COMPLETE', 'parts:COMPLETE'] []" \
  "OpenLineage events with the spec's required fields"

# --- OpenLineage over https: TLS is spoken and the certificate verified --------------------------
# A receiver with a self-signed certificate (not in the system's CA store): the handshake must
# fail on verification, logged, and the run still succeeds (a collector never fails a run).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$tmp_root/tls.key" -out "$tmp_root/tls.crt" >/dev/null 2>&1
$py - "$tmp_root/tls.port" "$tmp_root/tls.events" "$tmp_root/tls.crt" "$tmp_root/tls.key" <<'PY' &
import http.server, ssl, sys
port_file, events, crt, key = sys.argv[1:5]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        open(events, "ab").write(b"event\n")
        self.send_response(201)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(crt, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(port_file, "w").write(str(s.server_address[1]))
while True:
    try:
        s.handle_request()
    except Exception:
        pass
PY
tls_receiver=$!
for _ in $(seq 1 100); do [ -s "$tmp_root/tls.port" ] && break; sleep 0.05; done
sed -i "s|^  openlineage_url: .*|  openlineage_url: https://127.0.0.1:$(cat "$tmp_root/tls.port")/api/v1/lineage|" "$p/sluice.yaml"
run "$sluice" check -p "$p"
expect_code 0 "an https OpenLineage URL is valid"
run "$sluice" run parts -p "$p"
expect_code 0 "a run whose https collector cannot be verified still succeeds"
expect_err "openlineage: " "the failed delivery is logged"
expect_err "https://127.0.0.1:$(cat "$tmp_root/tls.port")/api/v1/lineage: SSL certificate problem" \
  "it failed on certificate verification, so TLS was spoken"
[ ! -e "$tmp_root/tls.events" ] && pass || fail "no event may reach an unverified receiver"
kill "$tls_receiver"; wait "$tls_receiver" 2>/dev/null || true

finish
