#!/usr/bin/env bash
# postgres-faults.sh - gatehoused on a real PostgreSQL (the postgres plugin,
# kv served by SQL too):
#  - PostgreSQL stopped under a light request loop: requests fail fast (503
#    problem+json with Retry-After, none slower than 2 s), the daemon lives
#    on and /health answers; started again: requests succeed again without
#    restarting gatehoused.
#  - Restarted while idle: each worker finds its connection closed before
#    using it and connects again, so no request fails.
#  - gatehousectl migrate status and up on it.
#  - Two gatehoused instances on one database: a session revoked on one is
#    refused by the other at once; a lockout reached through one holds on
#    the other.
# The test starts a PostgreSQL of its own (tests/servers.sh), since it stops
# it. Skipped when GH_TEST_POSTGRES_URL is unset (no PostgreSQL in this
# environment), unless GH_TEST_REQUIRE_SERVERS=1.
set -u
. "$(dirname "$0")/lib.sh"

if [ -z "${GH_TEST_POSTGRES_URL:-}" ] && [ "${GH_TEST_REQUIRE_SERVERS:-}" != 1 ]; then
    echo "SKIP: GH_TEST_POSTGRES_URL is not set (tests/servers.sh run make check sets it)"
    exit 77
fi
for tool in jq psql; do
    command -v "$tool" >/dev/null && continue
    [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: $tool not found"; exit 1; }
    echo "SKIP: $tool not found"; exit 77
done
if [ ! -e "$GATEHOUSE_PLUGIN_DIR/postgres.so" ]; then
    [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: the postgres plugin is not built"; exit 1; }
    echo "SKIP: the postgres plugin is not built (libpq-dev)"; exit 77
fi

# A PostgreSQL of our own, whatever servers.sh may have started for others.
SERVERS_DIR=
SERVERS_PASSWORD=
. "$top_srcdir/tests/servers.sh"
servers_start postgres || { echo "FAIL: cannot start PostgreSQL"; exit 1; }
PID_B=
LOOP=
# servers.sh set its own EXIT trap: ours stops everything this test started
cleanup_all() {
    [ -n "$LOOP" ] && kill "$LOOP" 2>/dev/null
    [ -n "$PID_B" ] && kill -9 "$PID_B" 2>/dev/null
    cleanup
    servers_stop
}
trap cleanup_all EXIT

psql_db() { psql "postgresql://gatehouse:$SERVERS_PASSWORD@127.0.0.1:$PG_PORT/$1" -qAtX -c "$2"; }
psql_db postgres "CREATE DATABASE gatehouse" || { echo "FAIL: cannot create the database"; exit 1; }
printf '%s\n' "$SERVERS_PASSWORD" >"$TMP/db.pw"
chmod 600 "$TMP/db.pw"
mkdir -p "$TMP/state"

cat >"$TMP/gh.yaml" <<YAML
server:
  listen: ["127.0.0.1:0"]
  threads: 2
  workers: 2
  public_url: http://127.0.0.1:8080
log:
  level: info
paths:
  state_dir: $TMP/state
  plugin_dir: $GATEHOUSE_PLUGIN_DIR
auth:
  password:
    argon2: { memory_kib: 1024, iterations: 1 }
  lockout: { account_failures: 3, base_delay: 1m, max_delay: 2m }
storage:
  plugin: postgres
  options:
    url: postgresql://gatehouse@127.0.0.1:$PG_PORT/gatehouse
    password_file: $TMP/db.pw
    connect_timeout: 500ms
    statement_timeout: 5s
    query_timeout: 1s
    sslmode: disable
YAML

# ---------------------------------------------------------------- helpers

req() {
    http "$@" -H 'Expect:'
    BODY=$(printf '%s' "$OUT" | sed '1,/^\r$/d')
}
post_json() { local p=$1 d=$2; shift 2; req POST "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"; }
bearer() { printf 'Authorization: Bearer %s' "$1"; }
j() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }
hdr() { printf '%s' "$OUT" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -n 1; }
login() {
    post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$2\"}"
    AT=$(j .access_token)
}
me_code() { http GET /api/v1/users/me -H "$(bearer "$1")"; echo "$CODE"; }
# on PORT CMD...: run CMD against another instance
on() { local saved=$PORT; PORT=$1; shift; "$@"; PORT=$saved; }
# until_ok TOKEN: wait up to 5 s for a 200 from /users/me
until_ok() {
    for _ in $(seq 1 50); do
        [ "$(me_code "$1")" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- migrate
GATEHOUSECTL="$top_builddir/gatehousectl"
out=$("$GATEHOUSECTL" -c "$TMP/gh.yaml" migrate status 2>/dev/null)
contains "migrate status on an empty database: version 0" "$out" "current:  0"
contains "... naming the backend" "$out" "storage:  postgres"
"$GATEHOUSECTL" -c "$TMP/gh.yaml" migrate up >"$TMP/up.txt" 2>/dev/null
equals "migrate up succeeds" "$?" "0"
out=$("$GATEHOUSECTL" -c "$TMP/gh.yaml" migrate status 2>/dev/null)
contains "... and then nothing is pending" "$out" "pending:  0"
out=$("$GATEHOUSECTL" -c "$TMP/gh.yaml" migrate up 2>/dev/null)
contains "migrate up again changes nothing" "$out" "up to date"

# ---------------------------------------------------------------- start
check "gatehoused starts on postgres" start_daemon "$TMP/gh.yaml" "$TMP/a.log"
PORT_A=$PORT
contains "the postgres plugin is loaded" "$(cat "$TMP/a.log")" "plugin 'postgres'"
# the latest version this build knows, as gatehousectl reports it
LATEST=$("$GATEHOUSECTL" -c "$TMP/gh.yaml" migrate status 2>/dev/null | sed -n 's/^latest: *//p')
equals "the schema is migrated" "$(psql_db gatehouse 'SELECT max(version) FROM schema_migrations')" "$LATEST"

ALICE_PW='Alice-faults-pw-4821'
post_json /api/v1/auth/signup "{\"email\":\"alice@example.com\",\"password\":\"$ALICE_PW\"}"
equals "signup works" "$CODE" "201"
ALICE_AT=$(j .access_token)
equals "a token check works" "$(me_code "$ALICE_AT")" "200"

# ---------------------------------------------------------------- PostgreSQL lost
# A light client loop: one GET /users/me at a time, each line "code seconds".
client_loop() {
    while [ ! -e "$TMP/stop" ]; do
        curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}\n' \
            -H "$(bearer "$ALICE_AT")" "http://127.0.0.1:$PORT_A/api/v1/users/me" || echo "000 10"
    done >>"$TMP/loop.txt"
}
: >"$TMP/loop.txt"
client_loop &
LOOP=$!
sleep 1

pg_stop
check "postgres is down" test -z "$(psql_db gatehouse 'SELECT 1' 2>/dev/null)"
sleep 2
http GET /api/v1/users/me -H "$(bearer "$ALICE_AT")"
equals "without the database a token check is 503" "$CODE" "503"
contains "... as problem+json" "$(hdr Content-Type)" "application/problem+json"
check "... with Retry-After" test -n "$(hdr Retry-After | grep -E '^[1-9][0-9]*$')"
T0=$(date +%s%N)
login alice@example.com "$ALICE_PW"
T1=$(date +%s%N)
equals "without the database a login is 503" "$CODE" "503"
check "... answered fast (< 2 s)" test $(((T1 - T0) / 1000000)) -lt 2000
http GET /health
equals "/health still answers 200" "$CODE" "200"
http GET /health/ready
equals "/health/ready says 503" "$CODE" "503"
check "the daemon is alive" kill -0 "$PID"

pg_start || not_ok "postgres starts again"
# a worker that failed to connect waits a second before trying again
check "requests succeed again without a restart" until_ok "$ALICE_AT"
sleep 1
touch "$TMP/stop"
wait "$LOOP" 2>/dev/null
LOOP=

N_ALL=$(wc -l <"$TMP/loop.txt")
N_OK=$(grep -c '^200 ' "$TMP/loop.txt")
N_503=$(grep -c '^503 ' "$TMP/loop.txt")
SLOWEST=$(sort -k2 -g "$TMP/loop.txt" | tail -n 1 | cut -d' ' -f2)
echo "# client loop: $N_ALL requests, $N_OK 200, $N_503 503, slowest ${SLOWEST}s"
check "the loop saw 200s and 503s" test "$N_OK" -gt 0 -a "$N_503" -gt 0
equals "... and nothing else (no 500, no dropped connection)" "$((N_OK + N_503))" "$N_ALL"
check "... and no request took 2 s or more" awk '$2 >= 2 { exit 1 }' "$TMP/loop.txt"
equals "the loop ended on 200" "$(tail -n 1 "$TMP/loop.txt" | cut -d' ' -f1)" "200"
check "the daemon never restarted" kill -0 "$PID"
login alice@example.com "$ALICE_PW"
equals "a login works again" "$CODE" "200"
http GET /health/ready
equals "/health/ready is 200 again" "$CODE" "200"
contains "the lost connection is logged" "$(cat "$TMP/a.log")" "connection to the database was lost"

# ---------------------------------------------------------------- PostgreSQL hangs
# Stopped, not gone: connections stay open and nothing answers. Each wait
# ends at query_timeout (or connect_timeout for a new connection).
PG_PM=$(head -n 1 "$SERVERS_DIR/postgres/data/postmaster.pid")
pg_freeze() { kill "-$1" "$PG_PM" $(pgrep -P "$PG_PM") 2>/dev/null; }
pg_freeze STOP
T0=$(date +%s%N)
CODE_HUNG=$(me_code "$ALICE_AT")
T1=$(date +%s%N)
pg_freeze CONT
equals "a hung database: 503" "$CODE_HUNG" "503"
check "... after query_timeout, not the request's deadline (< 3 s)" \
    test $(((T1 - T0) / 1000000)) -lt 3000
check "requests succeed again once it answers" until_ok "$ALICE_AT"

# ---------------------------------------------------------------- idle restart
faults_idle_restart database pg_stop pg_start

# ---------------------------------------------------------------- two instances
# the revocation and the lock are kv writes: in the same database's kv table
pg_kv_holds() {
    case $1 in
    revoked) check "the revocation is in the kv table" \
        test "$(psql_db gatehouse "SELECT count(*) FROM kv WHERE key LIKE 'deny:%'")" -ge 1 ;;
    locked) check "the lock is in the kv table" \
        test "$(psql_db gatehouse "SELECT count(*) FROM kv WHERE key LIKE 'lock:acct%'")" -ge 1 ;;
    esac
}
faults_two_instances database database pg_kv_holds

finish
