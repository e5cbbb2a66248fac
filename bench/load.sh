#!/usr/bin/env bash
# Loopback HTTP load test: apiguard without and with the verified-token
# cache, and go-jwt-middleware v2, all serving GET /api/private in this one
# process on 127.0.0.1. Bounded: DURATION per server and round, ROUNDS
# interleaved rounds, WORKERS connections (a list runs once per value).
# Prints requests/s, CPU per request and ratios; the report is also written
# to bench/results/load.md.
#
#   bench/load.sh
#   DURATION=5s WORKERS="2 8 16 32" ROUNDS=9 bench/load.sh
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p results
go build -o results/load ./load
: > results/load.md
for w in ${WORKERS:-16}; do
  echo "== $w workers" | tee -a results/load.md
  ./results/load -duration "${DURATION:-3s}" -workers "$w" -rounds "${ROUNDS:-5}" "$@" | tee -a results/load.md
done
echo "# load average (1, 5, 15 min) at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" | tee -a results/load.md
