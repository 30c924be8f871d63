#!/usr/bin/env bash
# Backfill overhead: `sluice backfill` of N trivial hourly partitions (each a recorded pipeline
# run whose one step runs `true` in /bin/sh), beside the floor: a shell loop running the same
# `/bin/sh -c true` N times. Usage: bench/orchestrate/run.sh BUILD_DIR [N]  (default 2000).
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [N]}
n=${2:-2000}
sluice="$(cd "$build" && pwd)/bin/sluice"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../timed.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/sluice.yaml" <<'YAML'
name: bench
pipelines:
  - name: p
    partition: hour
    steps:
      - {name: step, run: command, command: 'true'}
YAML
to=$(/usr/bin/python3 -c "import datetime; print((datetime.datetime(2026,1,1) + datetime.timedelta(hours=$n)).isoformat() + 'Z')")

printf '| what | partitions | wall s | CPU s | per partition ms |\n|---|---:|---:|---:|---:|\n'
row() { awk -v w="$1" -v c="$2" -v n="$n" -v what="$3" \
  'BEGIN{printf "| %s | %d | %.2f | %.2f | %.2f |\n", what, n, w, c, w * 1000 / n}'; }

timed "$work/loop.out" bash -c "for i in \$(seq $n); do /bin/sh -c true; done"
row "$wall" "$cpu" "shell loop: /bin/sh -c true"

for c in 1 4; do
  rm -rf "$work/.sluice"
  timed "$work/backfill.out" "$sluice" backfill p -p "$work" --from 2026-01-01 --to "$to" --concurrency "$c"
  grep -q "$n succeeded" "$work/backfill.out" || { cat "$work/backfill.out" >&2; exit 1; }
  row "$wall" "$cpu" "sluice backfill --concurrency $c"
done

# Resuming a finished backfill: every partition is skipped from the run history.
timed "$work/resume.out" "$sluice" backfill p -p "$work" --from 2026-01-01 --to "$to"
grep -q "$n already done" "$work/resume.out" || { cat "$work/resume.out" >&2; exit 1; }
row "$wall" "$cpu" "sluice backfill again (all done)"
