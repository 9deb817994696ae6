#!/usr/bin/env bash
# refresh.sh [BUILDDIR] - refresh grants alone, on one SQL backend, with
# the CPU each grant costs gatehoused and the database server (issue 19).
#
# On a shared machine requests/s move with everyone else's load; the CPU
# seconds the two sides spend per grant move far less, so this prints
# both. Runs inside tests/servers.sh (which starts PostgreSQL and MariaDB
# on loopback and says where):
#
#   tests/servers.sh run bench/refresh.sh build/check
#
# Knobs (environment): BENCH_BACKEND (postgres, mysql or sqlite; default
# postgres), BENCH_DURATION (seconds of wrk, 10), BENCH_THREADS (2),
# BENCH_CONNS (32), BENCH_STATEMENTS=1: instead of the run, print what
# PostgreSQL logs (log_statement = all) for one refresh grant made after a
# few others on the same daemon, so with its statements prepared.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-./build/check}" 2>/dev/null && pwd) || {
    echo "bench: no build directory ${1:-./build/check}" >&2
    exit 1
}
BACKEND=${BENCH_BACKEND:-postgres}
DURATION=${BENCH_DURATION:-10}
WRK_THREADS=${BENCH_THREADS:-2}
WRK_CONNS=${BENCH_CONNS:-32}

die() { echo "bench: $*" >&2; exit 1; }
for tool in wrk curl; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[ -x "$BUILD/gatehoused" ] || die "$BUILD/gatehoused not found: build first (make)"

TMP=$(mktemp -d /tmp/gh-refresh-XXXXXX)
GH_PID=
cleanup() {
    [ -n "$GH_PID" ] && { kill "$GH_PID" 2>/dev/null; wait "$GH_PID" 2>/dev/null; }
    rm -rf "$TMP"
}
trap cleanup EXIT

# A fresh database on the server tests/servers.sh started, as run.sh does.
DBNAME="gh_refresh_$$"
case $BACKEND in
sqlite) STORAGE="" ;;
postgres)
    [ -n "${GH_TEST_POSTGRES_URL:-}" ] || die "run it inside tests/servers.sh"
    psql "$GH_TEST_POSTGRES_URL" -qc "CREATE DATABASE $DBNAME" >/dev/null
    STORAGE="storage: {plugin: postgres, options: {url: \"${GH_TEST_POSTGRES_URL%/*}/$DBNAME\"}}" ;;
mysql)
    [ -n "${GH_TEST_MYSQL_URL:-}" ] || die "run it inside tests/servers.sh"
    MY=${GH_TEST_MYSQL_URL#mysql://}
    MY_USER=${MY%%:*} MY_REST=${MY#*:}
    MY_PW=${MY_REST%%@*} MY_HOST=${MY_REST#*@}
    MY_HOST=${MY_HOST%/}
    mariadb --no-defaults -h"${MY_HOST%:*}" -P"${MY_HOST##*:}" -u"$MY_USER" -p"$MY_PW" \
        -e "CREATE DATABASE $DBNAME CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    STORAGE="storage: {plugin: mysql, options: {url: \"${GH_TEST_MYSQL_URL%/}/$DBNAME\"}}" ;;
*) die "BENCH_BACKEND: sqlite, postgres or mysql, not $BACKEND" ;;
esac

# a port nothing listens on (as run.sh: a race is possible but harmless)
PORT=
for _ in $(seq 1 100); do
    PORT=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
URL="http://127.0.0.1:$PORT"
mkdir -p "$TMP/state"
cat >"$TMP/gatehouse.yaml" <<YAML
server:
  listen: ["127.0.0.1:$PORT"]
  public_url: $URL
log:
  level: warning
  access_log: false
paths:
  state_dir: $TMP/state
auth:
  lockout:
    account_failures: 1000
    ip_failures: 1000000
$STORAGE
rate_limits: []
YAML
export GATEHOUSE_PLUGIN_DIR="$BUILD/plugins/.libs"
"$BUILD/gatehousectl" -c "$TMP/gatehouse.yaml" migrate up >/dev/null
"$BUILD/gatehoused" -c "$TMP/gatehouse.yaml" 2>"$TMP/gatehoused.log" &
GH_PID=$!
for _ in $(seq 1 100); do
    curl -fs -o /dev/null --max-time 1 "$URL/health" && break
    kill -0 "$GH_PID" 2>/dev/null || { cat "$TMP/gatehoused.log" >&2; die "gatehoused died"; }
    sleep 0.1
done

EMAIL="refresh-$$@example.com" PASSWORD="Refresh-$RANDOM-correct-horse-battery"
LOGIN="{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}"
field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"; }
post_json() { curl -fsS -H 'Content-Type: application/json' --data "$2" "$URL$1"; }
refresh() { curl -sS --data "grant_type=refresh_token&refresh_token=$1" "$URL/oauth2/token"; }
post_json /api/v1/auth/signup "$LOGIN" >/dev/null
login() { post_json /api/v1/auth/login "$LOGIN" | field refresh_token; echo; }

if [ "${BENCH_STATEMENTS:-0}" = 1 ]; then
    [ "$BACKEND" = postgres ] || die "BENCH_STATEMENTS=1 reads PostgreSQL's log"
    su_psql() { psql -h "$SERVERS_DIR/postgres" -p "$PG_PORT" -U postgres -qAt "$@" >/dev/null; }
    R=$(login)
    for _ in 1 2 3 4 5 6 7 8; do R=$(refresh "$R" | field refresh_token); done
    LOG="$SERVERS_DIR/postgres/server.log"
    su_psql -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()"
    sleep 0.5
    FROM=$(($(wc -l <"$LOG") + 1))
    refresh "$R" >/dev/null
    sleep 0.5
    su_psql -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()"
    # the statements, without their parameters (the token's digest)
    tail -n +"$FROM" "$LOG" | grep ' LOG: ' | grep -v 'ALTER SYSTEM\|pg_reload_conf\|SIGHUP\|log_statement' |
        sed 's/^.* LOG: *//'
    exit 0
fi

# Every token is used once (see lua/refresh.lua): two per connection.
: >"$TMP/tokens"
for _ in $(seq 1 $((2 * WRK_CONNS))); do login >>"$TMP/tokens"; done
export BENCH_LUA="$SRC/bench/lua" BENCH_REFRESH_FILE="$TMP/tokens"
export BENCH_PER_THREAD=$((2 * WRK_CONNS / WRK_THREADS))

# user + system CPU ticks of the given processes
ticks() {
    local t=0 pid
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
    done
    echo "$t"
}
# the server's processes: PostgreSQL's backends (the connections live for
# the whole run), MariaDB's one process; none for SQLite (in gatehoused)
db_pids() {
    case $BACKEND in
    postgres) pgrep -P "$(head -n 1 "$SERVERS_DIR/postgres/data/postmaster.pid")" ;;
    mysql) cat "$SERVERS_DIR/mysql/pid" ;;
    esac
}
HZ=$(getconf CLK_TCK)
echo "bench: refresh grants on $BACKEND; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# shellcheck disable=SC2046 # one pid a word
G0=$(ticks "$GH_PID") D0=$(ticks $(db_pids))
wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${DURATION}s" --timeout 10s \
    -s "$BENCH_LUA/refresh.lua" "$URL/oauth2/token" >"$TMP/wrk.txt" 2>&1 ||
    { cat "$TMP/wrk.txt" >&2; die "wrk failed"; }
# shellcheck disable=SC2046
G1=$(ticks "$GH_PID") D1=$(ticks $(db_pids))
grep '^RESULT ' "$TMP/wrk.txt" | awk -v b="$BACKEND" -v g=$((G1 - G0)) -v d=$((D1 - D0)) \
    -v hz="$HZ" -v ldavg="$(cut -d' ' -f1 /proc/loadavg)" '{
    printf "%s: %.0f grants/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d, errors %d; " \
           "CPU a grant: gatehoused %.0f us, database %.0f us; load after %s\n",
           b, $2 / ($3 / 1e6), $4 / 1000, $5 / 1000, $6, $7,
           g / hz * 1e6 / $2, d / hz * 1e6 / $2, ldavg }'
