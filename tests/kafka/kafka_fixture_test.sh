#!/usr/bin/env bash
# The mock broker of the kafka fixture reaches other processes over loopback: kcat produces to
# both partitions of topic kafka_fixture and another kcat reads every message back.
set -euo pipefail
source "$1"
for p in 0 1; do
  for i in 1 2 3; do echo "p$p-m$i"; done | kcat -P -b "$KAFKA_BROKERS" -t kafka_fixture -p "$p"
done
got=$(kcat -C -b "$KAFKA_BROKERS" -t kafka_fixture -o beginning -e -q -f '%p:%s\n' | sort)
want=$(printf '0:p0-m1\n0:p0-m2\n0:p0-m3\n1:p1-m1\n1:p1-m2\n1:p1-m3\n')
if [[ "$got" != "$want" ]]; then
  printf 'kafka_fixture_test: expected\n%s\ngot\n%s\n' "$want" "$got" >&2
  exit 1
fi
echo "kafka_fixture_test: ok"
