#!/usr/bin/env bash
# Starts or stops a throw-away Redis server on loopback for the tests.
#
#   redis_server.sh start DIR   a fresh server on 127.0.0.1 only, on a free port from 26379 up,
#                               without persistence; writes DIR/env
#   redis_server.sh stop DIR    stops the server and removes its runtime directory
#
# DIR/env holds `export REDIS_HOST=... REDIS_PORT REDIS_SERVER` lines for tests to read
# (REDIS_SERVER is the redis-server binary, for tests that start private servers). The server's
# working directory, pid file and log live in a mktemp directory named in DIR/runtime. Redis
# runs fine as root, so unlike tests/pg/pg_server.sh no user switch is needed.
set -euo pipefail

readonly kFirstPort=26379
readonly kPortTries=50
readonly kReadyTries=100  # x 0.1 s

die() { printf 'redis_server.sh: %s\n' "$*" >&2; exit 1; }

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_server() {
  local dir=$1
  [[ -f "$dir/runtime" ]] || return 0
  local runtime
  runtime=$(cat "$dir/runtime")
  if [[ -f "$runtime/redis.pid" ]]; then
    local pid
    pid=$(cat "$runtime/redis.pid")
    # Only signal the process if it still is our redis-server (pids get reused).
    if [[ "$pid" =~ ^[0-9]+$ ]] && grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  # Only ever remove what we created: the runtime path must be one of our mktemp directories.
  case "$runtime" in
    */sluice-redis.*) rm -rf -- "$runtime" ;;
    *) die "refusing to remove unexpected runtime directory '$runtime'" ;;
  esac
  rm -f -- "$dir/runtime" "$dir/env"
}

start_server() {
  local dir=$1
  mkdir -p "$dir"
  stop_server "$dir"  # a leftover from an interrupted run: start fresh

  local runtime
  runtime=$(mktemp -d "${TMPDIR:-/tmp}/sluice-redis.XXXXXX")
  echo "$runtime" >"$dir/runtime"
  chmod 700 "$runtime"

  local port=$kFirstPort tries=0 started=0
  while ((tries < kPortTries)); do
    if ! port_in_use "$port"; then
      rm -f "$runtime/redis.pid"
      # --save '' and --appendonly no: nothing is persisted; the data dies with the server.
      if "$SERVER" --port "$port" --bind 127.0.0.1 --protected-mode yes --save '' \
        --appendonly no --dir "$runtime" --daemonize yes --pidfile "$runtime/redis.pid" \
        --logfile "$runtime/redis.log" --databases 16 >/dev/null 2>&1; then
        local i
        for ((i = 0; i < kReadyTries; i++)); do
          if [[ "$("$CLI" -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then
            started=1
            break
          fi
          # A server that lost the race for the port exits: try the next port.
          [[ -f "$runtime/redis.pid" ]] && ! kill -0 "$(cat "$runtime/redis.pid")" 2>/dev/null &&
            break
          sleep 0.1
        done
        ((started == 1)) && break
      fi
    fi
    port=$((port + 1))
    tries=$((tries + 1))
  done
  if ((started == 0)); then
    cat "$runtime/redis.log" >&2 2>/dev/null || true
    die "could not start redis-server on any port in $kFirstPort..$((kFirstPort + kPortTries - 1))"
  fi

  cat >"$dir/env" <<ENV
export REDIS_HOST=127.0.0.1
export REDIS_PORT=$port
export REDIS_SERVER=$SERVER
ENV
  echo "redis_server.sh: Redis listening on 127.0.0.1:$port (runtime $runtime)"
}

[[ $# == 2 ]] || die "usage: redis_server.sh start|stop DIR"
SERVER=${SLUICE_REDIS_SERVER:-$(command -v redis-server || true)}
CLI=$(command -v redis-cli || true)
[[ -n "$SERVER" && -x "$SERVER" && -n "$CLI" ]] ||
  die "no redis-server/redis-cli found (install the Debian package 'redis-server')"
readonly SERVER CLI
DIR=$(realpath -m -- "$2")

case "$1" in
  start) start_server "$DIR" ;;
  stop) stop_server "$DIR" ;;
  *) die "usage: redis_server.sh start|stop DIR" ;;
esac
