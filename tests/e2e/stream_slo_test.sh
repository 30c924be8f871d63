#!/usr/bin/env bash
# The ingestion-to-servable freshness SLO of a streamed view, end to end on the kafka fixture:
# `sluice stream --metrics` exports the declared SLO and counts every event that became servable
# later than it (old demo events: years late; events stamped seconds ago: within the hour), and
# `sluice serve` then reports the view's ingestion-to-servable latency (store write - newest
# event, for streamed views) and event age in /metrics against the same SLO.
#
#   stream_slo_test.sh SLUICE KAFKA_ENV
set -euo pipefail
sluice=$1
source "$2"
here=$(dirname "$0")
source "$here/assert.sh"
source "$here/stream_project.sh"
command -v curl >/dev/null || { echo "curl is required"; exit 1; }

stream_pid=""
serve_pid=""
cleanup() {
  if [ -n "$stream_pid" ]; then kill -TERM "$stream_pid" 2>/dev/null || true; fi
  if [ -n "$serve_pid" ]; then kill -TERM "$serve_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

topic=stream_slo
p="$tmp_root/slo"
make_stream_project "$p" "$topic" "$KAFKA_BROKERS" 0s
cat >>"$p/sluice.yaml" <<'YAML'
monitoring:
  freshness:
    - {view: spend_stream, max_ingest_latency: 1h, max_event_age: 1h}
YAML
run "$sluice" check -p "$p"
expect_code 0 "check accepts the streamed view's SLO"

# The demo transactions (2024: each becomes servable years after its event), then FRESH events
# stamped a few seconds ago, and one last at "now" that moves the watermark past them.
sorted_transactions "$p/data/transactions.jsonl" >"$tmp_root/old.jsonl"
old=$(wc -l <"$tmp_root/old.jsonl")
fresh=5
/usr/bin/python3 - "$tmp_root/old.jsonl" "$fresh" >"$tmp_root/fresh.jsonl" <<'PY'
import datetime, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
for i in range(n + 1):
    r = dict(rows[i])
    r["txn_id"] = f"fresh-{i}"
    r["amount"] = 10.0 + i
    t = now - datetime.timedelta(seconds=10 * (n - i))  # the last one: now
    r["ts"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps(r, separators=(",", ":")))
PY
cat "$tmp_root/old.jsonl" "$tmp_root/fresh.jsonl" | kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p 0
total=$((old + fresh + 1))

"$sluice" stream -p "$p" --metrics 127.0.0.1:0 >"$tmp_root/stream.out" 2>"$tmp_root/stream.err" &
stream_pid=$!
metrics=""
for _ in $(seq 1 300); do
  port=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$tmp_root/stream.err")
  if [ -n "$port" ]; then
    metrics=$(curl -s "http://127.0.0.1:$port/metrics" || true)
    # Every message consumed, every old one applied (and counted late), and the fresh ones
    # behind the last applied too.
    applied=$(sed -n 's/^sluice_stream_freshness_seconds_count{source="tx_stream"} \([0-9]*\)$/\1/p' <<<"$metrics")
    case "$metrics" in
      *"outcome=\"consumed\"} $total"*"view=\"spend_stream\",slo=\"ingest_latency\"} $old"*)
        [ "${applied:-0}" -ge $((old + fresh)) ] && break ;;
    esac
  fi
  sleep 0.1
done
out=$metrics
err=$(cat "$tmp_root/stream.err")
expect_out "sluice_stream_messages_total{source=\"tx_stream\",outcome=\"consumed\"} $total" \
  "every message consumed"
expect_out 'sluice_stream_freshness_slo_seconds{source="tx_stream",view="spend_stream",slo="ingest_latency"} 3600' \
  "/metrics: the declared ingestion-to-servable SLO"
echo "$metrics" >"$tmp_root/stream_metrics.txt"
/usr/bin/python3 - "$tmp_root/stream_metrics.txt" "$old" "$fresh" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "stream SLO violations count exactly the late events"; }
import re, sys
text = open(sys.argv[1]).read()
old, fresh = int(sys.argv[2]), int(sys.argv[3])
def value(pattern):
    m = re.search(pattern + r" ([0-9.e+]+)\n", text)
    assert m, pattern
    return float(m.group(1))
violations = value(r'sluice_stream_freshness_slo_violations_total\{source="tx_stream",view="spend_stream",slo="ingest_latency"\}')
applied = value(r'sluice_stream_freshness_seconds_count\{source="tx_stream"\}')
# The demo data are filtered by the view ("amount > 0") only in its features, not in what is
# applied: every old event is late, every fresh one within the SLO.
assert violations == old, (violations, old)
within = applied - violations
# The watermark releases the fresh events behind the last one (which it may still hold).
assert fresh <= within <= fresh + 1, (applied, violations)
# And the histogram puts them in the buckets below an hour.
print("violations", violations, "within the SLO", within)
PY
cat "$tmp_root/cmp"
kill -TERM "$stream_pid"
code=0
wait "$stream_pid" || code=$?
stream_pid=""
expect_eq "$code" 0 "stream drains and stops on SIGTERM"

# `sluice serve` over the store the stream wrote: the view's newest event is seconds old.
"$sluice" serve -p "$p" --address 127.0.0.1:0 --freshness-interval 0s \
  >"$tmp_root/serve.out" 2>"$tmp_root/serve.err" &
serve_pid=$!
for _ in $(seq 1 400); do
  grep -q "listening on" "$tmp_root/serve.out" 2>/dev/null && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.05
done
sport=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp_root/serve.out")
run curl -s "http://127.0.0.1:$sport/metrics"
echo "$out" >"$tmp_root/serve_metrics.txt"
expect_out 'sluice_serve_view_freshness_slo_violated{view="spend_stream",store="default",slo="ingest_latency"} 0' \
  "serve: the streamed view's ingestion-to-servable SLO is met"
expect_out 'sluice_serve_view_freshness_slo_violated{view="spend_stream",store="default",slo="event_age"} 0' \
  "serve: its newest event is within the event-age SLO"
/usr/bin/python3 - "$tmp_root/serve_metrics.txt" >"$tmp_root/cmp" 2>&1 <<'PY' && pass || { out=$(cat "$tmp_root/cmp"); fail "serve's ingest latency of the streamed view is the seconds since its newest event"; }
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r'sluice_serve_view_ingest_latency_seconds\{view="spend_stream",store="default"\} ([0-9.]+)', text)
assert m, "no ingest latency for spend_stream"
latency = float(m.group(1))
# The newest applied event was stamped at most ~60 s before the stream wrote it.
assert 0 <= latency < 600, latency
print("ingest latency", latency)
PY
cat "$tmp_root/cmp"
kill -TERM "$serve_pid"
wait "$serve_pid" || true
serve_pid=""

finish
