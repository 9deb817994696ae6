#!/usr/bin/env bash
# soak.sh - the soak: half an hour of mixed load at half of what the
# server can answer, to show that nothing grows while it runs.
#
# The load (lua/soak.lua) mixes sign-ins, refresh grants, token checks
# (/users/me, introspection) and admin writes (a role created, described,
# deleted), paced at a fixed number of requests/s. A first unpaced run of
# the same mix (20 s) measures the capacity; the soak offers half of it.
# Each minute is one wrk run of 55 s and 5 s without requests, and gives
# a line: the rate offered and achieved, p50 and p99 latency, failed
# requests, gatehoused's resident memory (VmRSS) under load (50 s in) and
# idle (at the minute's end), its open descriptors (/proc/PID/fd, idle)
# and, on SQLite, the database and WAL file sizes.
#
# Why idle: argon2's working memory, 19 MiB per hashing thread, is handed
# back a second after the last hash and faulted in again by the next one,
# so under load RSS jumps by up to 38 MB with whether a sign-in ran in the
# last second. After 5 s idle those pages, the threads' caches (dropped
# after 1 s) and malloc's free memory (trimmed after 2 s) are gone, and
# what is left is what the process keeps: where a leak shows.
#
# Flat: the first SOAK_WARMUP minutes are warm-up (caches, SQLite's page
# cache, malloc arenas, the verified-token cache fill); over the minutes
# after them the least-squares slope of the idle figures is taken, and
# the soak passes when
#   - idle RSS grows by less than 64 KB a minute (RSS_SLOPE_KB), and
#   - descriptors do not grow: slope below 0.1 a minute and the last
#     sample no higher than the first,
# and no request failed (non-2xx, a wrong answer, a socket error). 64 KB
# a minute is 1.3 MB over 20 minutes: at the soak's thousands of requests
# a second, a leak of one byte on every request, or of 64 bytes on every
# admin write, is above it; the SQLite page cache and the caches are
# bounded, so once warm nothing else should move RSS by that much.
# The slope and last-minus-first are printed for both either way; exit
# status 1 when not flat or a request failed, 0 otherwise.
#
# Usage: bench/soak.sh [BUILDDIR]      (default ./build/check)
# Needs what run.sh needs (wrk, curl, python3); not part of `make check`.
# Knobs (environment): SOAK_MINUTES (30), SOAK_WARMUP (10; at least two
# minutes must follow it), SOAK_BACKEND=sqlite|postgres|postgres+redis
# (the last two on servers started by tests/servers.sh, unless
# GH_TEST_POSTGRES_URL / GH_TEST_REDIS_URL name running ones),
# BENCH_KEEP=1 (keep the temporary directory: config, daemon log, each
# minute's wrk output), BENCH_THREADS (2), BENCH_CONNS (32).

# shellcheck disable=SC2154 # the R_<run> results are set by parse() with printf -v
set -euo pipefail

MINUTES=${SOAK_MINUTES:-30}
WARMUP=${SOAK_WARMUP:-10}
RSS_SLOPE_KB=64
LOAD_SECONDS=55 IDLE_SECONDS=5 # a minute
SAMPLE_AT=50                   # the RSS under load: seconds into the load
CAPACITY_SECONDS=20
# weights per 1000 requests: argon2id makes a sign-in cost hundreds of
# token checks, so a small share
export SOAK_MIX="login:1 refresh:150 me:450 introspect:300 admin:99"

[ $((MINUTES - WARMUP)) -ge 2 ] || { echo "soak: SOAK_MINUTES must exceed SOAK_WARMUP by 2 or more" >&2; exit 1; }
case ${SOAK_BACKEND:=sqlite} in
sqlite) export BENCH_BACKEND=sqlite ;;
postgres) export BENCH_BACKEND=postgres ;;
postgres+redis) export BENCH_BACKEND=postgres BENCH_KV=redis ;;
*) echo "soak: SOAK_BACKEND: sqlite, postgres or postgres+redis, not $SOAK_BACKEND" >&2; exit 1 ;;
esac

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh" "${1:-}"

# the database servers, unless the caller's are named
SERVERS=()
[ "$BACKEND" = postgres ] && [ -z "${GH_TEST_POSTGRES_URL:-}" ] && SERVERS+=(postgres)
[ "${BENCH_KV:-}" = redis ] && [ -z "${GH_TEST_REDIS_URL:-}" ] && SERVERS+=(redis)
if [ ${#SERVERS[@]} -gt 0 ]; then
    # shellcheck source=tests/servers.sh
    . "$SRC/tests/servers.sh"
    servers_start "${SERVERS[@]}"
    trap 'cleanup; servers_stop' EXIT # servers.sh's trap replaced lib.sh's
fi

# ------------------------------------------------------------------ set-up
gatehoused_start
user_signup
admin_login
# two sessions per connection, as run.sh's refresh row (lua/soak.lua)
export BENCH_REFRESH_FILE="$TMP/refresh-tokens" BENCH_CHAINS=$((2 * WRK_CONNS / WRK_THREADS))
echo "soak: signed up $BENCH_EMAIL; logging in $((2 * WRK_CONNS)) times" >&2
refresh_tokens $((2 * WRK_CONNS)) "$BENCH_REFRESH_FILE"
export SOAK_THREADS=$WRK_THREADS

# soak_run NAME SECONDS RUN: one wrk run of the mix (at SOAK_RATE) with
# the admin's token renewed (it lives 15 minutes) and the refresh tokens
# the last run left dealt out
soak_run() {
    local lines
    admin_login
    lines=$(wc -l <"$BENCH_REFRESH_FILE")
    [ "$lines" -gt 0 ] || die "no refresh token left"
    BENCH_PER_THREAD=$(((lines + WRK_THREADS - 1) / WRK_THREADS)) DURATION=$2 SOAK_RUN=$3 \
        bench "$1" "$URL" soak.lua
}

# sent NAME: requests/s the script sent in run NAME (its MIX line over
# its RESULT line's duration)
sent() {
    awk '/^MIX / { for (i = 2; i <= NF; i++) { split($i, kv, "="); n += kv[2] } }
         /^RESULT / { d = $3 / 1e6 }
         END { printf "%.0f", n / d }' "$TMP/wrk-$1.txt"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$GH_PID/status"; }
fds() { find "/proc/$GH_PID/fd" -mindepth 1 | wc -l; }
# files: "DB_MB WAL_MB", the SQLite files' sizes ("- -" on a server)
files() {
    local db=- wal=-
    if [ "$BACKEND" = sqlite ]; then
        db=$(stat -c %s "$TMP/state/gatehouse.db" | awk '{ printf "%.1f", $1 / 1048576 }')
        wal=$(stat -c %s "$TMP/state/gatehouse.db-wal" 2>/dev/null | awk '{ printf "%.1f", $1 / 1048576 }') || true
    fi
    echo "$db ${wal:--}"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ------------------------------------------------------------------ capacity
echo "soak: gatehoused on $BACKEND${BENCH_KV:++$BENCH_KV}, $(nproc) cores; wrk $WRK_THREADS threads, $WRK_CONNS connections; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "soak: the mix, per 1000 requests: $SOAK_MIX"
SOAK_RATE=0 soak_run capacity "$CAPACITY_SECONDS" 0
read -r CAP_RPS CAP_P50 CAP_P99 CAP_BAD CAP_ERR <<<"$R_capacity"
echo "soak: capacity, unpaced for ${CAPACITY_SECONDS}s: $CAP_RPS req/s (p50 $CAP_P50 ms, p99 $CAP_P99 ms;" \
    "sent: $(sed -n 's/^MIX //p' "$TMP/wrk-capacity.txt"))"
[ $((CAP_BAD + CAP_ERR)) -eq 0 ] ||
    die "the capacity run failed: $CAP_BAD non-2xx or wrong answers, $CAP_ERR socket errors; see $TMP/wrk-capacity.txt (BENCH_KEEP=1)"
export SOAK_RATE=$((CAP_RPS / 2))
echo "soak: offering half of it, $SOAK_RATE req/s, for $MINUTES minutes ($WARMUP of warm-up)"

# ------------------------------------------------------------------ the soak
echo "soak: RSS in MB under load ($SAMPLE_AT s in) and idle (after $IDLE_SECONDS s without requests); fds idle"
printf '%6s %9s %9s %8s %8s %7s %7s %8s %8s %5s %7s %7s\n' minute offered/s achieved/s p50_ms p99_ms \
    non2xx sockerr RSS_load RSS_idle fds db_MB wal_MB
FAILED=0
: >"$TMP/series"
for m in $(seq 1 "$MINUTES"); do
    (sleep "$SAMPLE_AT" && rss_kb >"$TMP/rss-load") &
    SAMPLER=$!
    soak_run "m$m" "$LOAD_SECONDS" "$m"
    wait "$SAMPLER" || die "gatehoused could not be read in minute $m (did it die? see its log)"
    sleep "$IDLE_SECONDS"
    kill -0 "$GH_PID" 2>/dev/null || die "gatehoused died in minute $m; see its log"
    RSS=$(rss_kb) FDS=$(fds)
    read -r DB WAL <<<"$(files)"
    name="R_m$m"
    read -r RPS P50 P99 BAD ERR <<<"${!name}"
    FAILED=$((FAILED + BAD + ERR))
    printf '%6s %9s %9s %8s %8s %7s %7s %8s %8s %5s %7s %7s\n' "$m" "$(sent "m$m")" "$RPS" "$P50" "$P99" \
        "$BAD" "$ERR" "$(mb "$(cat "$TMP/rss-load")")" "$(mb "$RSS")" "$FDS" "$DB" "$WAL"
    echo "$m $RSS $FDS" >>"$TMP/series"
done

# ------------------------------------------------------------------ growth
# growth COLUMN: "slope last-minus-first" over the minutes after the
# warm-up, the slope by least squares, per minute
growth() {
    awk -v w="$WARMUP" -v c="$1" '$1 > w {
        n++; x = $1; y = $c; sx += x; sy += y; sxx += x * x; sxy += x * y
        if (n == 1) first = y; last = y }
        END { printf "%.2f %d", (n * sxy - sx * sy) / (n * sxx - sx * sx), last - first }' "$TMP/series"
}
read -r RSS_SLOPE RSS_DIFF <<<"$(growth 2)"
read -r FD_SLOPE FD_DIFF <<<"$(growth 3)"
FLAT=1
awk -v s="$RSS_SLOPE" -v max="$RSS_SLOPE_KB" 'BEGIN { exit !(s < max) }' || FLAT=0
awk -v s="$FD_SLOPE" -v d="$FD_DIFF" 'BEGIN { exit !(s < 0.1 && d <= 0) }' || FLAT=0
echo
echo "soak: growth over minutes $((WARMUP + 1))-$MINUTES (after $WARMUP of warm-up), at $SOAK_RATE req/s offered:"
printf '  RSS idle: %+.1f KB/min (least squares), %+d KB last minus first (flat: slope < %d KB/min)\n' \
    "$RSS_SLOPE" "$RSS_DIFF" "$RSS_SLOPE_KB"
printf '  fds idle: %+.2f /min (least squares), %+d last minus first (flat: slope < 0.1/min, last <= first)\n' \
    "$FD_SLOPE" "$FD_DIFF"
echo "  failed requests: $FAILED; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$FLAT" = 1 ] && [ "$FAILED" -eq 0 ]; then
    echo "soak: flat"
else
    echo "soak: NOT flat$([ "$FAILED" -eq 0 ] || echo ", and $FAILED requests failed")"
    exit 1
fi
