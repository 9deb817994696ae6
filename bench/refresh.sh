#!/usr/bin/env bash
# refresh.sh [BUILDDIR] - refresh grants alone, on one SQL backend, with
# the CPU each grant costs gatehoused, the database server and wrk
# (issue 19).
#
# On a shared machine requests/s move with everyone else's load; the CPU
# seconds each side spends per grant move far less, so this prints both,
# and the grants/s that this machine's cores could give at those costs
# (cores x 1 s / the CPU of a grant, all sides summed). Runs inside
# tests/servers.sh (which starts PostgreSQL and MariaDB on loopback and
# says where):
#
#   tests/servers.sh run bench/refresh.sh build/check
#
# Knobs (environment): BENCH_BACKEND (postgres, mysql or sqlite; default
# postgres), BENCH_DURATION (seconds of wrk, 10), BENCH_THREADS (2),
# BENCH_CONNS (32), BENCH_KV=redis (kv on Redis), BENCH_STATEMENTS=1:
# instead of the run, print what the server logs of every statement
# (PostgreSQL's log_statement = all, MariaDB's general log) for one refresh
# grant made after a few others on the same daemon, so with its statements
# prepared.
set -euo pipefail
BENCH_BACKEND=${BENCH_BACKEND:-postgres}
DURATION=${BENCH_DURATION:-10}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh" "${1:-}"
[ "$BACKEND" = sqlite ] || [ -n "${SERVERS_DIR:-}" ] || die "run it inside tests/servers.sh"

gatehoused_start
user_signup
refresh() { curl -sS --data "grant_type=refresh_token&refresh_token=$1" "$URL/oauth2/token"; }

# statements_on / statements_off: what the database server logs of every
# statement in between, printed by statements_off
statements_on() {
    case $BACKEND in
    postgres)
        su_sql() { psql -h "$SERVERS_DIR/postgres" -p "$PG_PORT" -U postgres -qAt "$@" >/dev/null; }
        LOG="$SERVERS_DIR/postgres/server.log"
        su_sql -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" ;;
    mysql)
        su_sql() { mariadb --no-defaults -uroot -S "$SERVERS_DIR/mysql/sock" "$@"; }
        LOG="$TMP/general.log"
        : >"$LOG"
        chmod 666 "$LOG"
        su_sql -e "SET GLOBAL general_log_file = '$LOG'; SET GLOBAL general_log = ON" ;;
    *) die "BENCH_STATEMENTS=1 reads PostgreSQL's or MariaDB's log" ;;
    esac
    sleep 0.5
    FROM=$(($(wc -l <"$LOG") + 1))
}
statements_off() {
    sleep 0.5
    case $BACKEND in
    postgres)
        su_sql -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()"
        # the statements, without their parameters (the token's digest)
        tail -n +"$FROM" "$LOG" | grep ' LOG: ' |
            grep -v 'ALTER SYSTEM\|pg_reload_conf\|SIGHUP\|log_statement' | sed 's/^.* LOG: *//' ;;
    mysql)
        su_sql -e "SET GLOBAL general_log = OFF"
        # one line a command the server received (Execute: a prepared
        # statement run, with its values: cut at the first quote)
        tail -n +"$FROM" "$LOG" | grep -E '^[[:space:]0-9:TZ.-]*[0-9]+ (Query|Execute|Prepare|Close stmt|Reset stmt)' |
            grep -v 'general_log' | sed "s/^[[:space:]0-9:TZ.-]*[0-9]* //; s/'.*/.../" ;;
    esac
}

if [ "${BENCH_STATEMENTS:-0}" = 1 ]; then
    refresh_tokens 1 "$TMP/one"
    R=$(cat "$TMP/one")
    for _ in 1 2 3 4 5 6 7 8; do R=$(refresh "$R" | field refresh_token); done
    statements_on
    refresh "$R" >/dev/null
    statements_off
    exit 0
fi

# Every token is used once (see lua/refresh.lua): two per connection.
refresh_tokens $((2 * WRK_CONNS)) "$TMP/tokens"
export BENCH_REFRESH_FILE="$TMP/tokens" BENCH_PER_THREAD=$((2 * WRK_CONNS / WRK_THREADS))

# CPU seconds of this shell's finished children in a file `times` wrote
# (wrk's, between two of them: `times` of this very shell, so into a file
# rather than through a subshell)
child_cpu() { tail -n 1 "$1" | awk '{ gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }'; }
HZ=$(getconf CLK_TCK)
echo "bench: refresh grants on $BACKEND; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# shellcheck disable=SC2046 # one pid a word
G0=$(ticks "$GH_PID") D0=$(ticks $(db_pids))
times >"$TMP/times0"
bench refresh "$URL/oauth2/token" refresh.lua
times >"$TMP/times1"
# shellcheck disable=SC2046
G1=$(ticks "$GH_PID") D1=$(ticks $(db_pids))
grep '^RESULT ' "$TMP/wrk-refresh.txt" | awk -v b="$BACKEND" -v g=$((G1 - G0)) -v d=$((D1 - D0)) \
    -v w="$(echo "$(child_cpu "$TMP/times0") $(child_cpu "$TMP/times1")" | awk '{ print $2 - $1 }')" \
    -v hz="$HZ" \
    -v cores="$(nproc)" -v ldavg="$(cut -d' ' -f1 /proc/loadavg)" '{
    n = $2; gs = g / hz * 1e6 / n; ds = d / hz * 1e6 / n; ws = w * 1e6 / n
    printf "%s: %.0f grants/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d, errors %d; " \
           "CPU a grant: gatehoused %.0f us, database %.0f us, wrk %.0f us, " \
           "sum %.0f us (ceiling on %d cores: %.0f grants/s); load after %s\n",
           b, n / ($3 / 1e6), $4 / 1000, $5 / 1000, $6, $7, gs, ds, ws, gs + ds + ws,
           cores, cores * 1e6 / (gs + ds + ws), ldavg }'
