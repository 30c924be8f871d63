#!/usr/bin/env bash
# Where `sluice training-set` spends its time on the feature benchmark's data: perf with DWARF
# call graphs, split into the build's phases by perf_phases.py. Run bench/features/run.sh first
# (it makes the project); see bench/features/README.md.
#
#   bench/features/profile.sh BUILD_DIR [ROWS [SPINE [THREADS]]]   (default 10000000 1000000 1)
#
# The phases are found through the call sites in src/engine/training_set.cpp, so the binary must
# be built from that file as it is in the tree (checked by modification time).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: profile.sh BUILD_DIR [ROWS [SPINE [THREADS]]]}" && pwd)
rows=${2:-10000000}
spine=${3:-$((rows / 10))}
threads=${4:-1}
work=${FBENCH_DIR:-$build/fbench-work}
proj=$work/project-$rows-$spine
freq=${PERF_FREQ:-400}
command -v perf >/dev/null || { echo "profile: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
[ -f "$proj/.ingested" ] || { echo "profile: no $proj; run bench/features/run.sh first" >&2; exit 2; }
if [ "$root/src/engine/training_set.cpp" -nt "$build/bin/sluice" ]; then
  echo "profile: src/engine/training_set.cpp is newer than $build/bin/sluice; rebuild it first" >&2
  exit 2
fi
data=$work/perf-$rows-t$threads.data
echo "perf record at $freq Hz, $rows events, $spine spine rows, $threads thread(s) ..." >&2
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' \
  perf record -q -F "$freq" --call-graph dwarf,32768 -o "$data" \
  "$build/bin/sluice" training-set -p "$proj" bench --threads "$threads" -o "$work/perf-out" >&2
perf script -i "$data" -F comm,tid,ip,sym,dso 2>/dev/null >"$data.txt"
PERF_FREQ=$freq /usr/bin/python3 "$here/perf_phases.py" "$data.txt" "$build/bin/sluice" \
  "$root/src/engine/training_set.cpp"
rm -f "$data" "$data.txt"
