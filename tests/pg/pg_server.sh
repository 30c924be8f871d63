#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL server on loopback for the tests.
#
#   pg_server.sh start DIR   fresh cluster, listening on 127.0.0.1 only, on a free port from
#                            25432 up; database sluice_test and a password role; writes DIR/env
#   pg_server.sh stop DIR    stops the server and removes the cluster
#
# DIR/env holds `export PGHOST=... PGPORT PGUSER PGDATABASE PGPASSWORD` lines for tests to source.
# The cluster itself (data and unix socket) lives in a mktemp directory named in DIR/runtime:
# when run as root (CI) the server must run as the `postgres` user, which may not be able to
# reach a build tree under a root-only path, and a unix socket path must stay under ~100 bytes.
set -euo pipefail

readonly kFirstPort=25432
readonly kPortTries=50
readonly kDatabase=sluice_test
readonly kRole=sluice_test

die() { printf 'pg_server.sh: %s\n' "$*" >&2; exit 1; }

find_bindir() {
  if [[ -n "${SLUICE_PG_BINDIR:-}" ]]; then
    echo "$SLUICE_PG_BINDIR"
    return
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && echo "$d"
  done | sort -V | tail -n 1
}

# Runs a server binary as the postgres user when we are root (PostgreSQL refuses to run as root).
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_server() {
  local dir=$1
  [[ -f "$dir/runtime" ]] || return 0
  local runtime
  runtime=$(cat "$dir/runtime")
  if [[ -d "$runtime/data" ]]; then
    as_pg "$BINDIR/pg_ctl" -D "$runtime/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  # Only ever remove what we created: the runtime path must be one of our mktemp directories.
  case "$runtime" in
    */sluice-pg.*) rm -rf -- "$runtime" ;;
    *) die "refusing to remove unexpected runtime directory '$runtime'" ;;
  esac
  rm -f -- "$dir/runtime" "$dir/env"
}

start_server() {
  local dir=$1
  mkdir -p "$dir"
  stop_server "$dir"  # a leftover from an interrupted run: start fresh

  local runtime
  runtime=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pg.XXXXXX")
  echo "$runtime" >"$dir/runtime"
  if [[ "$(id -u)" == 0 ]]; then
    getent passwd postgres >/dev/null || die "running as root but there is no 'postgres' user"
    chown postgres: "$runtime"
  fi
  chmod 700 "$runtime"

  local password
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  # initdb reads the superuser password from a file; the test role gets its own below.
  as_pg "$BINDIR/initdb" -D "$runtime/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$runtime/initdb.log" 2>&1 ||
    { cat "$runtime/initdb.log" >&2; die "initdb failed"; }

  local port=$kFirstPort tries=0 started=0
  while ((tries < kPortTries)); do
    if ! port_in_use "$port"; then
      if as_pg "$BINDIR/pg_ctl" -D "$runtime/data" -l "$runtime/server.log" -w -t 30 \
        -o "-p $port -k $runtime -c listen_addresses=127.0.0.1 -c fsync=off \
            -c max_connections=30 -c shared_buffers=16MB" start >/dev/null 2>&1; then
        started=1
        break
      fi
    fi
    port=$((port + 1))
    tries=$((tries + 1))
  done
  if ((started == 0)); then
    cat "$runtime/server.log" >&2 2>/dev/null || true
    die "could not start PostgreSQL on any port in $kFirstPort..$((kFirstPort + kPortTries - 1))"
  fi

  # Over the unix socket as the superuser (trust), create the test role and database. The
  # password (hex, so safe inside quotes) travels on stdin, never on a command line that `ps`
  # would show. CREATEROLE lets tests make a role with an awkward password.
  as_pg "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$runtime" -p "$port" -U postgres -d postgres \
    >/dev/null <<SQL ||
CREATE ROLE $kRole LOGIN CREATEROLE PASSWORD '$password';
CREATE DATABASE $kDatabase OWNER $kRole;
SQL
    die "could not create the test role and database (see $runtime/server.log)"

  umask 077
  cat >"$dir/env" <<ENV
export PGHOST=127.0.0.1
export PGPORT=$port
export PGUSER=$kRole
export PGDATABASE=$kDatabase
export PGPASSWORD=$password
ENV
  echo "pg_server.sh: PostgreSQL listening on 127.0.0.1:$port (cluster $runtime)"
}

[[ $# == 2 ]] || die "usage: pg_server.sh start|stop DIR"
BINDIR=$(find_bindir)
[[ -n "$BINDIR" && -x "$BINDIR/pg_ctl" ]] ||
  die "no PostgreSQL server binaries found (install the Debian package 'postgresql')"
readonly BINDIR
DIR=$(realpath -m -- "$2")

case "$1" in
  start) start_server "$DIR" ;;
  stop) stop_server "$DIR" ;;
  *) die "usage: pg_server.sh start|stop DIR" ;;
esac
