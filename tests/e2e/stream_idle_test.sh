#!/usr/bin/env bash
# Idle partitions: a partition that is caught up and silent for --idle-timeout stops holding the
# other partitions' events back; an event it receives later, older than what was applied
# meanwhile, is late (docs/streaming.md, "Idle partitions"). Without the timeout the silent
# partition holds everything newer than its watermark.
#
#   stream_idle_test.sh SLUICE KAFKA_ENV
set -euo pipefail
sluice=$1
source "$2"
here=$(dirname "$0")
source "$here/assert.sh"
source "$here/stream_project.sh"

topic=stream_idle
p="$tmp_root/idle"
make_stream_project "$p" "$topic" "$KAFKA_BROKERS" 0s
msg() {  # msg USER HOUR
  printf '{"txn_id":"t%s-%s","user_id":%s,"merchant_id":"m","amount":10.0,"ts":"2024-01-01T%02d:00:00Z"}\n' "$1" "$2" "$1" "$2"
}
msg 1 0 | kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p 1
for h in 1 2 3 4 5 6 7 8 9 10; do msg 2 "$h"; done | kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p 0

# live SECONDS ARGS...: runs a live stream for SECONDS once it is up (its metrics address
# printed), stops it with SIGTERM; prints its summary.
live() {
  local settle=$1
  shift
  "$sluice" stream -p "$p" --metrics 127.0.0.1:0 "$@" >"$tmp_root/live.out" 2>"$tmp_root/live.err" &
  local pid=$!
  local url=""
  for _ in $(seq 1 100); do
    url=$(grep -o "http://[^ ]*/metrics" "$tmp_root/live.err" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  sleep "$settle"
  kill -TERM "$pid"
  wait "$pid" || true
  cat "$tmp_root/live.out"
}

# Without an idle timeout: partition 1's only event (hour 0) is its watermark, so nothing (not
# even that event, which is not older than it) may be applied.
err=""
out=$(live 2 --idle-timeout 0)
expect_out "consumed 11 messages (applied 0, quarantined 0, late 0, buffered 11)" \
  "a silent partition holds the others back without an idle timeout"
# With one: both partitions are caught up and silent, so the newest watermark (hour 10) frees
# everything older. (The restart reads again the messages still waiting when the first run
# stopped; this run's counts include them, the stored counts do not count them twice.)
out=$(live 3 --idle-timeout 1)
expect_out "consumed 11 messages (applied 10, quarantined 0, late 0, buffered 1)" \
  "idle partitions stop holding events back"
# An event for the idle partition older than what was applied meanwhile is late; the end of the
# input applies the one event still waiting (hour 10).
msg 1 5 | kcat -P -b "$KAFKA_BROKERS" -t "$topic" -p 1
run "$sluice" stream -p "$p" --stop-at-end
expect_code 0 "the catch-up run"
expect_out "consumed 2 messages (applied 1, quarantined 0, late 1, buffered 0)" \
  "an idle partition's event older than what was applied is late; the end applies the rest"
finish
