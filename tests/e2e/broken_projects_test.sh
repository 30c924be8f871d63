#!/usr/bin/env bash
# Each folder under broken/ is a project that `sluice check` must reject with exit code 2 and,
# on stderr, every line of its expected_errors.txt (as substrings, in any order).
set -euo pipefail
sluice=$1
cases=$2
source "$(dirname "$0")/assert.sh"

for dir in "$cases"/*/; do
  name=$(basename "$dir")
  run "$sluice" check -p "$dir"
  expect_code 2 "$name: check exits 2"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    expect_err "$line" "$name"
  done <"$dir/expected_errors.txt"
done

finish
