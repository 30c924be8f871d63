# A sluice server (`sluice serve`, `sluice ui`) as a child process of an end-to-end test, on a
# free loopback port. Source it after assert.sh, with $sluice and $p (the project directory) set
# before starting one. Its EXIT trap kills a server the test left running (a failed start or an
# early exit) and removes $tmp_root; a test with more to clean up sets its own trap and calls
# kill_server in it. One server at a time.

server_pid=""
server_name=""
port=""
base=""

# kill_server: kills a server still running (SIGKILL: nothing is left to check).
kill_server() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
trap 'kill_server; rm -rf "$tmp_root"' EXIT

# start_listening NAME COMMAND...: runs COMMAND (a server that prints "listening on
# http://127.0.0.1:PORT"), its output in $tmp_root/NAME.out and NAME.err; sets $server_pid, $port
# and $base once it listens. A server that does not listen within a minute (sanitizer builds start
# slowly) fails the test and ends it.
start_listening() {
  server_name=$1
  shift
  "$@" >"$tmp_root/$server_name.out" 2>"$tmp_root/$server_name.err" &
  server_pid=$!
  port=""
  # The output file may not exist yet when the first look comes.
  for _ in $(seq 1 1200); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp_root/$server_name.out" 2>/dev/null || true)
    if [ -n "$port" ] || ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  base="http://127.0.0.1:$port"
  if [ -z "$port" ]; then
    out=$(cat "$tmp_root/$server_name.out")
    err=$(cat "$tmp_root/$server_name.err")
    fail "sluice $server_name did not start"
    finish
    exit 1
  fi
}

# start_server [ARGS...]: `sluice serve -p $p --address 127.0.0.1:0 --refresh-ms 100 ARGS`, as
# start_listening (output in serve.out and serve.err). Environment for the server goes before the
# call (VAR=value start_server).
start_server() {
  start_listening serve "$sluice" serve -p "$p" --address 127.0.0.1:0 --refresh-ms 100 "$@"
}

# wait_server: waits for the server's end; its exit code, stdout and stderr in $code, $out, $err.
wait_server() {
  set +e
  wait "$server_pid"
  code=$?
  set -e
  server_pid=""
  out=$(cat "$tmp_root/$server_name.out")
  err=$(cat "$tmp_root/$server_name.err")
}

# stop_server: SIGTERM (a graceful stop), then as wait_server.
stop_server() {
  kill -TERM "$server_pid"
  wait_server
}
