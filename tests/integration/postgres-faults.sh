#!/usr/bin/env bash
# postgres-faults.sh - gatehoused on a real PostgreSQL (the postgres plugin,
# kv served by SQL too):
#  - PostgreSQL stopped under a light request loop: requests fail fast (503
#    problem+json with Retry-After, none slower than 2 s), the daemon lives
#    on and /health answers; started again: requests succeed again without
#    restarting gatehoused.
#  - Hung: requests fail at query_timeout, not at the request's deadline.
#  - Restarted while idle: each worker finds its connection closed before
#    using it and connects again, so no request fails; refresh grants work
#    on the new connections (their statements prepared again), and a
#    spent refresh token is still refused and revokes its family.
#  - gatehousectl migrate status and up on it.
#  - Two gatehoused instances on one database: a session revoked on one is
#    refused by the other at once; a lockout reached through one holds on
#    the other.
# The test starts a PostgreSQL of its own (tests/servers.sh), since it stops
# it. Skipped when GH_TEST_POSTGRES_URL is unset (no PostgreSQL in this
# environment), unless GH_TEST_REQUIRE_SERVERS=1.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

faults_setup postgres libpq-dev psql
psql_db() { psql "postgresql://gatehouse:$SERVERS_PASSWORD@127.0.0.1:$PG_PORT/$1" -qAtX -c "$2"; }
psql_db postgres "CREATE DATABASE gatehouse" || { echo "FAIL: cannot create the database"; exit 1; }

faults_config <<YAML
storage:
  plugin: postgres
  options:
    url: postgresql://gatehouse@127.0.0.1:$PG_PORT/gatehouse
    password_file: $TMP/server.pw
    connect_timeout: 500ms
    statement_timeout: 5s
    query_timeout: 1s
    sslmode: disable
YAML

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
contains "the postgres plugin is loaded" "$(cat "$TMP/a.log")" "plugin 'postgres'"
# the latest version this build knows, as gatehousectl reports it
LATEST=$("$GATEHOUSECTL" -c "$TMP/gh.yaml" migrate status 2>/dev/null | sed -n 's/^latest: *//p')
equals "the schema is migrated" "$(psql_db gatehouse 'SELECT max(version) FROM schema_migrations')" "$LATEST"

# ---------------------------------------------------------------- PostgreSQL lost
pg_down() {
    pg_stop
    check "postgres is down" test -z "$(psql_db gatehouse 'SELECT 1' 2>/dev/null)"
}
# the store, not a plugin, is what /health/ready finds unavailable
faults_backend_lost "the database" storage pg_down pg_start
contains "the lost connection is logged" "$(cat "$TMP/a.log")" "connection to the database was lost"

# ---------------------------------------------------------------- PostgreSQL hangs
# Each wait ends at query_timeout (or connect_timeout for a new connection).
PG_PM=$(head -n 1 "$SERVERS_DIR/postgres/data/postmaster.pid")
# shellcheck disable=SC2046 # one pid a word
pg_freeze() { faults_freeze "$1" "$PG_PM" $(pgrep -P "$PG_PM"); }
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
# A refresh grant before the restart prepares the rotation's statements on
# the workers' connections (BEGIN and two of its writes wait in libpq's
# pipeline for the next statement); after it, the grant must work on new
# connections, which have none of them: they are prepared again.
refresh() {
    req POST /oauth2/token -H 'Content-Type: application/x-www-form-urlencoded' \
        --data-binary "grant_type=refresh_token&refresh_token=$1"
}
login alice@example.com "$ALICE_PW"
RT=$(j .refresh_token)
for _ in 1 2 3 4; do
    refresh "$RT"
    RT=$(j .refresh_token)
done
equals "refresh grants before the restart" "$CODE" "200"
AGAIN=$(grep -c "connected again" "$TMP/a.log")
faults_idle_restart database pg_stop pg_start
OLD_RT=$RT
refresh "$RT"
equals "a refresh grant after the restart: 200" "$CODE" "200"
RT=$(j .refresh_token)
check "... with a new refresh token" test -n "$RT" -a "$RT" != "$OLD_RT"
check "... on connections made after the restart" \
    test "$(grep -c "connected again" "$TMP/a.log")" -gt "$AGAIN"
refresh "$OLD_RT"
equals "the spent one is refused after the restart too" "$CODE/$(j .error)" "400/invalid_grant"
refresh "$RT"
equals "... and that revoked the family: the new one is refused" "$CODE/$(j .error)" \
    "400/invalid_grant"

# ---------------------------------------------------------------- two instances
# the revocation, the lock and the roles' version are kv writes: in the
# same database's kv table
pg_kv_holds() {
    case $1 in
    revoked) check "the revocation is in the kv table" \
        test "$(psql_db gatehouse "SELECT count(*) FROM kv WHERE key LIKE 'deny:%'")" -ge 1 ;;
    locked) check "the lock is in the kv table" \
        test "$(psql_db gatehouse "SELECT count(*) FROM kv WHERE key LIKE 'lock:acct%'")" -ge 1 ;;
    roles) check "the roles' version is in the kv table" \
        test "$(psql_db gatehouse "SELECT count(*) FROM kv WHERE key LIKE 'rbac:ver:%'")" -ge 1 ;;
    esac
}
faults_two_instances database database pg_kv_holds

finish
