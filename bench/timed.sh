# Sourced by the benchmark scripts.
# timed OUTFILE CMD... : runs CMD under GNU time (Debian's `time` package, scripts/setup) with
# its output in OUTFILE; sets wall (s), rss (KiB) and cpu (user + system s: on a shared machine
# the steadier measure of work done). A failing CMD stops the benchmark with its output.
timed() {
  local out=$1 tf user sys
  shift
  tf=$(mktemp)
  if ! "${timer:-/usr/bin/time}" -f '%e %M %U %S' -o "$tf" "$@" >"$out" 2>&1; then
    echo "$(basename "$0"): failed: $*" >&2
    cat "$out" >&2
    rm -f "$tf"
    exit 1
  fi
  read -r wall rss user sys <"$tf"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u + s}')
  rm -f "$tf"
}
