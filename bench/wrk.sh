#!/usr/bin/env bash
# The load test of load.sh with wrk (Debian's package) as the load
# generator, in its own process: the servers run in ./load -serve, wrk
# loads each in turn over loopback, in interleaved rounds, and the script
# prints the median requests/s per server and the ratios. wrk's C event
# loop costs far less CPU per request than the Go load generator, so on a
# 2-core machine more of the CPU goes to the servers under test.
#
#   bench/wrk.sh
#   DURATION=5s WORKERS="2 8 16 32" ROUNDS=5 bench/wrk.sh
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v wrk >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
mkdir -p results
go build -o results/load ./load
DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-5}

# The servers live as long as this script holds their stdin open (and at
# most 30 minutes).
coproc SERVE { ./results/load -serve 30m; }
declare -A url
token=
while read -r kind a b <&"${SERVE[0]}"; do
  case $kind in
    server) url[$a]=$b ;;
    token) token=$a; break ;;
  esac
done
names=(apiguard apiguard-cached go-jwt-middleware)

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

out=results/wrk.md
: > "$out"
for w in ${WORKERS:-16}; do
  declare -A rps=()
  for round in $(seq 1 "$ROUNDS"); do
    for n in "${names[@]}"; do
      r=$(wrk -t1 -c"$w" -d"$DURATION" -H "Authorization: Bearer $token" "${url[$n]}/api/private" |
        awk '/^Requests\/sec:/ {print $2}')
      echo "$w connections, round $round, $n: $r req/s" >&2
      rps[$n]="${rps[$n]:-} $r"
    done
  done
  {
    echo "== $w connections, wrk -t1, $DURATION per server and round, $ROUNDS rounds; median requests/s"
    declare -A med=()
    for n in "${names[@]}"; do
      med[$n]=$(echo "${rps[$n]}" | tr ' ' '\n' | grep . | median)
      printf '%-18s %10.0f req/s   (rounds:%s)\n' "$n" "${med[$n]}" "${rps[$n]}"
    done
    awk -v c="${med[apiguard-cached]}" -v u="${med[apiguard]}" -v g="${med[go-jwt-middleware]}" 'BEGIN {
      r = c / u; printf "apiguard-cached / apiguard: %.2fx (target >= 2x: %s)\n", r, (r >= 2 ? "PASS" : "FAIL")
      printf "apiguard / go-jwt-middleware: %.2fx\n", u / g }'
  } | tee -a "$out"
  unset rps med
done
exec {SERVE[1]}>&-
wait "$SERVE_PID" 2>/dev/null || true
echo "# load average (1, 5, 15 min) at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
