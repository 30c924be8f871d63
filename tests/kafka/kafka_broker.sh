#!/usr/bin/env bash
# Starts or stops a throw-away Kafka-protocol broker on loopback for the tests: librdkafka's
# mock cluster in a process of its own (tests/kafka/mock_broker.cpp).
#
#   kafka_broker.sh start DIR MOCK_BROKER [TOPIC:PARTITIONS...]   writes DIR/env
#   kafka_broker.sh stop DIR
#
# DIR/env holds `export KAFKA_BROKERS=127.0.0.1:PORT` for tests to read. The broker's pid and
# log live in DIR.
set -euo pipefail

readonly kReadyTries=100  # x 0.1 s

die() { printf 'kafka_broker.sh: %s\n' "$*" >&2; exit 1; }

stop_broker() {
  local dir=$1
  if [[ -f "$dir/broker.pid" ]]; then
    local pid
    pid=$(cat "$dir/broker.pid")
    # Only signal the process if it still is our broker (pids get reused).
    if [[ "$pid" =~ ^[0-9]+$ ]] && grep -q mock_broker "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f -- "$dir/broker.pid" "$dir/env" "$dir/bootstrap"
}

start_broker() {
  local dir=$1 binary=$2
  shift 2
  mkdir -p "$dir"
  stop_broker "$dir"  # a leftover from an interrupted run: start fresh
  [[ -x "$binary" ]] || die "no mock broker binary at '$binary'"
  # setsid: the broker must outlive this script (ctest waits for the fixture's process group).
  setsid "$binary" "$dir/bootstrap" "$@" >"$dir/broker.log" 2>&1 </dev/null &
  echo $! >"$dir/broker.pid"
  local i
  for ((i = 0; i < kReadyTries; i++)); do
    [[ -s "$dir/bootstrap" ]] && break
    kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null || { cat "$dir/broker.log" >&2; die "the broker exited"; }
    sleep 0.1
  done
  [[ -s "$dir/bootstrap" ]] || die "the broker did not start"
  echo "export KAFKA_BROKERS=$(cat "$dir/bootstrap")" >"$dir/env"
  echo "kafka_broker.sh: mock Kafka cluster at $(cat "$dir/bootstrap") (pid $(cat "$dir/broker.pid"))"
}

[[ $# -ge 2 ]] || die "usage: kafka_broker.sh start DIR MOCK_BROKER [TOPIC:PARTITIONS...] | stop DIR"
DIR=$(realpath -m -- "$2")
case "$1" in
  start)
    [[ $# -ge 3 ]] || die "usage: kafka_broker.sh start DIR MOCK_BROKER [TOPIC:PARTITIONS...]"
    start_broker "$DIR" "${@:3}"
    ;;
  stop) stop_broker "$DIR" ;;
  *) die "usage: kafka_broker.sh start DIR MOCK_BROKER [TOPIC:PARTITIONS...] | stop DIR" ;;
esac
