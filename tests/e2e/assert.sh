# Tiny assertion library for end-to-end tests. Source it; call `finish` at the end.
# run CMD...: runs a command, capturing $out, $err and $code.
failures=0
passes=0
tmp_root=$(mktemp -d)
trap 'rm -rf "$tmp_root"' EXIT

run() {
  set +e
  "$@" >"$tmp_root/out" 2>"$tmp_root/err"
  code=$?
  set -e
  out=$(cat "$tmp_root/out")
  err=$(cat "$tmp_root/err")
}

fail() {
  failures=$((failures + 1))
  printf 'FAIL: %s\n  command output:\n%s\n  stderr:\n%s\n' "$1" "$out" "$err" >&2
}
pass() { passes=$((passes + 1)); }

expect_code() {  # expect_code N description
  if [ "$code" -eq "$1" ]; then pass; else fail "$2: exit code $code, expected $1"; fi
}
expect_out() {  # expect_out SUBSTRING description
  case "$out" in *"$1"*) pass ;; *) fail "$2: stdout lacks '$1'" ;; esac
}
expect_err() {
  case "$err" in *"$1"*) pass ;; *) fail "$2: stderr lacks '$1'" ;; esac
}
expect_file() {
  if [ -s "$1" ]; then pass; else fail "$2: missing or empty file $1"; fi
}
expect_eq() {  # expect_eq ACTUAL EXPECTED description
  if [ "$1" = "$2" ]; then pass; else fail "$3: got '$1', expected '$2'"; fi
}

finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
