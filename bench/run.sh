#!/usr/bin/env bash
# Runs the comparison benchmarks of this module several times and
# summarizes them: benchstat over all rounds, then the target ratios
# (go run ./cmd/ratios). Results go to bench/results/ (not committed).
#
#   bench/run.sh                  # 6 rounds of the whole suite, 1s per benchmark
#   ROUNDS=10 BENCHTIME=2s bench/run.sh
#   BENCH='Compare/RS256' bench/run.sh
#
# Each round runs every benchmark once (-count 1) from one compiled test
# binary, so the rounds interleave: a burst of load from other processes
# hits one round of every benchmark rather than every round of one, and
# cmd/ratios pairs two benchmarks' samples by round. COUNT > 1 runs each
# benchmark that many times in a row within a round instead.
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-6}
COUNT=${COUNT:-1}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
mkdir -p results
out=results/latest.txt

# benchstat is a tool of this module (go.mod "tool" line): go tool builds
# it on first use through the module proxy.
go tool -n benchstat >/dev/null

go test -c -o results/bench.test .
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
: > "$out"
for i in $(seq 1 "$ROUNDS"); do
  echo "== round $i of $ROUNDS" >&2
  ./results/bench.test -test.run '^$' -test.bench "$BENCH" -test.benchmem \
    -test.count "$COUNT" -test.benchtime "$BENCHTIME" | tee -a "$out" | grep -E '^Benchmark' >&2 || true
done
{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version) nproc=$(nproc) rounds=$ROUNDS count=$COUNT benchtime=$BENCHTIME"
  echo "# $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')"
  echo "# load average (1, 5, 15 min) at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
} >> "$out"

echo
echo "== benchstat $out"
go tool benchstat "$out" | tee results/benchstat.txt
echo
echo "== ratios"
go run ./cmd/ratios "$out" | tee results/ratios.md
