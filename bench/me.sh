#!/usr/bin/env bash
# me.sh [BUILDDIR] - the quick form of run.sh's first figure: GET
# /api/v1/users/me with one token next to the bare evhttp ceiling (bare
# measured before and after, the mean taken), and the CPU each process
# used meanwhile (pidstat: gatehoused, wrk and, on BENCH_KV=redis,
# redis-server), so that a figure below the goal says where the time went;
# with Redis, how many MGETs each read of its sockets brought (reads sent
# together by a loop arrive together).
# Same knobs as run.sh (BENCH_BACKEND, BENCH_KV, BENCH_DURATION ...) and
# BENCH_LOOPS, gatehoused's event loops (lib.sh).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh" "${1:-}"
DURATION=${BENCH_DURATION:-10}
CORES=$(nproc)
command -v pidstat >/dev/null || die "pidstat is not installed (apt-get install sysstat)"

# shellcheck disable=SC2046 # pkg-config's output is meant to be split
cc $(pkg-config --cflags libevent libevent_pthreads) -pthread -O2 -o "$TMP/bare" \
    "$SRC/bench/bare.c" $(pkg-config --libs libevent libevent_pthreads)
BARE_PORT=$(free_port)
"$TMP/bare" "$BARE_PORT" "$CORES" 2>"$TMP/bare.log" &
BARE_PID=$!
PIDS+=("$BARE_PID")
wait_up "http://127.0.0.1:$BARE_PORT/" "$BARE_PID" "$TMP/bare.log"
bench bare1 "http://127.0.0.1:$BARE_PORT/" get.lua

gatehoused_start
user_signup
BENCH_TOKEN=$(post /api/v1/auth/login "$LOGIN" | field access_token)
[ -n "$BENCH_TOKEN" ] || die "login returned no access_token"
export BENCH_TOKEN
# CPU per process over the run, in % of one core (pidstat's average line)
REDIS_PID=$(pgrep -f "redis-server.*:${REDIS_PORT:-none}" | head -1 || true)
# "mget reads": Redis' MGET calls and reads of client sockets so far
redis_counts() {
    [ -n "$REDIS_PID" ] || return 0
    redis-cli -u "$GH_TEST_REDIS_URL" --no-auth-warning info all |
        awk -F'[:=,]' '/^cmdstat_mget:/ { m = $3 } /^total_reads_processed:/ { r = $2 }
                       END { printf "%d %d", m, r }'
}
REDIS0=$(redis_counts)
pidstat -u -p "$GH_PID${REDIS_PID:+,$REDIS_PID}" 1 "$DURATION" >"$TMP/pidstat.txt" 2>&1 &
STAT_PID=$!
pidstat -u -C '^wrk$' 1 "$DURATION" >"$TMP/pidstat-wrk.txt" 2>&1 &
STAT_WRK=$!
bench me "$URL/api/v1/users/me" get.lua
wait "$STAT_PID" "$STAT_WRK" || true
REDIS1=$(redis_counts)
# where the requests were answered (the loop's asynchronous reads: api/job.c)
LOOP=$(curl -s "$URL/metrics" | awk '/^gatehouse_loop_(jobs|async_reads)_total/ {
    sub(/^gatehouse_/, ""); sub(/_total/, ""); printf "%s%s", sep, $0; sep = ", " }')
bench bare2 "http://127.0.0.1:$BARE_PORT/" get.lua

BARE_RPS=$(awk -v a="${R_bare1%% *}" -v b="${R_bare2%% *}" 'BEGIN { printf "%.0f", (a + b) / 2 }')
read -r RPS P50 P99 BAD ERR <<<"$R_me"
echo "users/me on $BACKEND${BENCH_KV:++$BENCH_KV}, ${BENCH_LOOPS:-0} loops (0: one per core), $CORES cores; wrk $WRK_THREADS threads, $WRK_CONNS connections, ${DURATION}s; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'bare %s req/s (%s, %s); users/me %s req/s = %s%% of bare; p50 %s ms, p99 %s ms; %s non-2xx, %s errors\n' \
    "$BARE_RPS" "${R_bare1%% *}" "${R_bare2%% *}" "$RPS" \
    "$(awk -v r="$RPS" -v b="$BARE_RPS" 'BEGIN { printf "%.0f", 100 * r / b }')" "$P50" "$P99" "$BAD" "$ERR"
echo "loop: $LOOP"
# a wrk of someone else's on the machine is listed too
awk '/^Average:/ && $NF != "Command" { printf "cpu %s (pid %s) %s%% of a core\n", $NF, $3, $(NF-2) }' \
    "$TMP/pidstat.txt" "$TMP/pidstat-wrk.txt"
if [ -n "$REDIS_PID" ]; then
    read -r M0 R0 <<<"$REDIS0"
    read -r M1 R1 <<<"$REDIS1"
    awk -v m=$((M1 - M0)) -v r=$((R1 - R0)) 'BEGIN {
        printf "redis: %d MGET in %d reads of its client sockets: %.2f a read\n", m, r, m / (r > 0 ? r : 1) }'
fi
