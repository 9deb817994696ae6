#!/usr/bin/env bash
# trips.sh [BUILDDIR] [N] - what one token-checked GET /api/v1/users/me
# costs in round trips on the scale-out set-up: gatehoused on real
# PostgreSQL (and MariaDB) servers with kv on a real Redis, all started by
# tests/servers.sh on loopback. Sends N requests (default 1000) with one
# token over one keep-alive connection, then prints per request:
#   sql      statements the SQL server ran (PostgreSQL: log_statement
#            lines; MariaDB: the Questions counter)
#   redis    commands Redis ran (INFO commandstats), and which
#   loop     requests answered on the event loop (/metrics), the others
#            went loop -> worker -> loop (two thread hand-offs); and of
#            them, those whose Redis read the loop did not wait for
# Counts, not timings: they do not depend on the machine's load.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-./build/check}" && pwd)
N=${2:-1000}
die() { echo "trips: $*" >&2; exit 1; }
[ -x "$BUILD/gatehoused" ] || die "$BUILD/gatehoused not found: build first"
. "$SRC/tests/servers.sh"
servers_start postgres mysql redis
TMP=$(mktemp -d /tmp/gh-trips-XXXXXX)
GH_PID=
cleanup() {
    [ -n "$GH_PID" ] && kill "$GH_PID" 2>/dev/null && wait "$GH_PID" 2>/dev/null
    rm -rf "$TMP"
    servers_stop
}
trap cleanup EXIT
export GATEHOUSE_PLUGIN_DIR="$BUILD/plugins/.libs"

rcli() { redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$SERVERS_PASSWORD" "$@"; }
# "cmd=calls" lines of INFO commandstats
rstats() { rcli info commandstats | sed -n 's/^cmdstat_\([a-z]*\):calls=\([0-9]*\).*/\1=\2/p' | sort; }
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
pg_su() { _pg_as "$(_pg_bin)/psql" -h "$SERVERS_DIR/postgres" -p "$PG_PORT" -U postgres -qAt "$@"; }
my_questions() { _mysql_cli -N -e "SHOW GLOBAL STATUS LIKE 'Questions'" | awk '{ print $2 }'; }

# measure NAME STORAGE-YAML: one daemon on a fresh database, N requests
measure() {
    local name=$1 storage=$2 port pg_lines0 my0 loop0 moved0 code
    port=$(_srv_port)
    URL="http://127.0.0.1:$port"
    cat >"$TMP/gh.yaml" <<YAML
server: {listen: ["127.0.0.1:$port"], public_url: "$URL"}
log: {level: warning, access_log: false}
paths: {state_dir: $TMP/state-$name}
auth: {password: {argon2: {memory_kib: 1024, iterations: 1}}}
rate_limits: []
$storage
kv: {plugin: redis, options: {url: "$GH_TEST_REDIS_URL", key_prefix: "gh-trips-$name:"}}
YAML
    mkdir -p "$TMP/state-$name"
    "$BUILD/gatehousectl" -c "$TMP/gh.yaml" migrate up >"$TMP/ctl.log" 2>&1 ||
        { cat "$TMP/ctl.log" >&2; die "migrate failed"; }
    "$BUILD/gatehoused" -c "$TMP/gh.yaml" 2>"$TMP/gh-$name.log" &
    GH_PID=$!
    for _ in $(seq 1 200); do curl -fs -o /dev/null "$URL/health" && break; sleep 0.05; done
    curl -fs -o /dev/null -H 'Content-Type: application/json' \
        --data '{"email":"trips@example.com","password":"Trips-correct-horse-7"}' \
        "$URL/api/v1/auth/signup" || die "signup failed"
    TOKEN=$(curl -fs -H 'Content-Type: application/json' \
        --data '{"email":"trips@example.com","password":"Trips-correct-horse-7"}' \
        "$URL/api/v1/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$TOKEN" ] || die "login failed"
    # one request first: caches filled, connections open
    curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/me"
    sleep 1.5 # idle checks and start-up writes done
    pg_lines0=$(wc -l <"$SERVERS_DIR/postgres/server.log")
    my0=$(my_questions)
    rstats >"$TMP/r0"
    loop0=$(metric 'gatehouse_loop_jobs_total{moved="no"}')
    moved0=$(metric 'gatehouse_loop_jobs_total{moved="yes"}')
    async0=$(metric 'gatehouse_loop_async_reads_total{result="answered"}')
    for _ in $(seq 1 "$N"); do echo "url = \"$URL/api/v1/users/me\""; echo 'output = "/dev/null"'; done \
        >"$TMP/curl.cfg"
    code=$(curl -s -H "Authorization: Bearer $TOKEN" -w '%{http_code}\n' -K "$TMP/curl.cfg" | sort | uniq -c)
    rstats >"$TMP/r1"
    echo "== $name: $N x GET /api/v1/users/me, answers: $(echo "$code" | tr -s ' \n' ' ')"
    if [ "${storage#*postgres}" != "$storage" ]; then
        # the statements of this run's database only
        awk -v s="$pg_lines0" 'NR > s' "$SERVERS_DIR/postgres/server.log" |
            grep -E 'LOG:  (statement|execute [^:]*):' >"$TMP/pg" || true
        awk -v n="$N" 'END { printf "sql statements/request: %.2f\n", NR / n }' "$TMP/pg"
        sed -E 's/.*LOG:  (statement|execute [^:]*): //' "$TMP/pg" | cut -c1-60 | sort | uniq -c |
            awk -v n="$N" '{ c = $1; $1 = ""; printf "  %6.2f %s\n", c / n, $0 }' | sort -rn
    else
        awk -v a="$my0" -v b="$(my_questions)" -v n="$N" \
            'BEGIN { printf "sql statements/request: %.2f (Questions; the count query itself included)\n", (b - a - 1) / n }'
    fi
    join -t= -a2 -e0 -o 0,1.2,2.2 "$TMP/r0" "$TMP/r1" |
        awk -F= -v n="$N" '($3 - $2) / n >= 0.005 && $1 != "info" { t += $3 - $2; s = s sprintf(" %s %.2f", $1, ($3 - $2) / n) }
            END { printf "redis commands/request: %.2f (%s )\n", t / n, s }'
    awk -v a="$loop0" -v b="$(metric 'gatehouse_loop_jobs_total{moved="no"}')" \
        -v c="$moved0" -v d="$(metric 'gatehouse_loop_jobs_total{moved="yes"}')" -v n="$N" \
        'BEGIN { printf "answered on the loop: %.2f; loop -> worker -> loop: %.2f\n", (b - a) / n, 1 - (b - a) / n }'
    awk -v a="${async0:-0}" -v b="$(metric 'gatehouse_loop_async_reads_total{result="answered"}')" -v n="$N" \
        'BEGIN { printf "  of them after a Redis read the loop did not wait for: %.2f\n", (b - a) / n }'
    kill "$GH_PID"
    wait "$GH_PID" 2>/dev/null || true
    GH_PID=
}

DB="gh_trips_$$"
pg_su -c "CREATE DATABASE $DB OWNER gatehouse" -c "ALTER DATABASE $DB SET log_statement = 'all'"
measure pg+redis "storage: {plugin: postgres, options: {url: \"${GH_TEST_POSTGRES_URL%/*}/$DB\"}}"
_mysql_cli -e "CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
measure my+redis "storage: {plugin: mysql, options: {url: \"${GH_TEST_MYSQL_URL%/}/$DB\"}}"
