#!/usr/bin/env bash
# The command line: help, version, exit codes, init and check on the example project.
set -euo pipefail
sluice=$1
repo=$2
source "$(dirname "$0")/assert.sh"

run "$sluice" --version
expect_code 0 "--version"
expect_out "sluice 0.1.0" "--version prints the version"

run "$sluice" --help
expect_code 0 "--help"
for verb in init check demo-data; do expect_out "$verb" "--help lists $verb"; done
expect_out "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error" "--help documents exit codes"

for verb in init check demo-data; do
  run "$sluice" "$verb" --help
  expect_code 0 "$verb --help"
  expect_out "Usage" "$verb --help shows usage"
done

run "$sluice"
expect_code 2 "no subcommand is a usage error"
run "$sluice" frobnicate
expect_code 2 "unknown subcommand"
run "$sluice" check --no-such-flag
expect_code 2 "unknown flag"
run "$sluice" --log-level loud check -p "$repo/examples/fraud"
expect_code 2 "bad log level"
expect_err "unknown log level 'loud'" "bad log level is named"

run "$sluice" check -p "$repo/examples/fraud"
expect_code 0 "the example project is valid"
expect_out "project 'fraud' is valid" "check reports the project"

project="$tmp_root/new project"
run "$sluice" init "$project"
expect_code 0 "init"
expect_file "$project/sluice.yaml" "init writes sluice.yaml"
expect_file "$project/models/daily_spend.sql" "init writes the models"
cmp -s "$project/sluice.yaml" "$repo/examples/fraud/sluice.yaml" && pass ||
  fail "init writes the example project's sluice.yaml"

run "$sluice" check -p "$project"
expect_code 0 "a freshly initialised project is valid"

echo "# my edits" >>"$project/sluice.yaml"
run "$sluice" init "$project"
expect_code 2 "init refuses to overwrite"
expect_err "already exists (use --force to overwrite)" "init names the clash"
grep -q "# my edits" "$project/sluice.yaml" && pass || fail "init left the user's file alone"
run "$sluice" init --force "$project"
expect_code 0 "init --force overwrites"

touch "$tmp_root/a-file"
run "$sluice" init "$tmp_root/a-file"
expect_code 2 "init into a file"
expect_err "is not a folder" "init into a file is explained"

run "$sluice" check -p "$tmp_root/nowhere"
expect_code 2 "check on a folder without a project"
expect_err "sluice.yaml" "check names the missing project file"

finish
