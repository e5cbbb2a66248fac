#!/usr/bin/env bash
# Loopback HTTP load test: apiguard without and with the verified-token
# cache, and go-jwt-middleware v2, all serving GET /api/private in this one
# process on 127.0.0.1. Bounded: DURATION per server and round, ROUNDS
# interleaved rounds, WORKERS connections. Prints requests/s and ratios;
# the report is also written to bench/results/load.md.
#
#   bench/load.sh
#   DURATION=10s WORKERS=16 ROUNDS=5 bench/load.sh
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p results
go run ./load -duration "${DURATION:-5s}" -workers "${WORKERS:-8}" -rounds "${ROUNDS:-3}" "$@" | tee results/load.md
