#!/usr/bin/env bash
# redis-faults.sh - gatehoused with kv on a real Redis (the redis plugin):
#  - Redis stopped under a light request loop: requests that need kv fail
#    fast (503 problem+json with Retry-After, none slower than 2 s), the
#    daemon lives on and /health answers; Redis started again: requests
#    succeed again, without restarting gatehoused.
#  - Hung: every request is a 503 within 2 s (command_timeout).
#  - Restarted while idle: each worker finds its connection closed before
#    using it and connects again, so no request fails.
#  - Two gatehoused instances on one Redis (and one SQLite file): a session
#    revoked on one is refused by the other at once; a lockout reached
#    through one holds on the other.
# The test starts a Redis of its own (tests/servers.sh), since it stops it.
# Skipped when GH_TEST_REDIS_URL is unset (no Redis in this environment),
# unless GH_TEST_REQUIRE_SERVERS=1.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

faults_setup redis libhiredis-dev redis-server redis-cli
# database 1: the daemons SELECT it (the url says /1)
rcli() { redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$SERVERS_PASSWORD" -n 1 "$@"; }
PREFIX="gh-faults-$$:"

faults_config <<YAML
kv:
  plugin: redis
  options:
    url: redis://default@127.0.0.1:$REDIS_PORT/1
    password_file: $TMP/server.pw
    connect_timeout: 500ms
    command_timeout: 500ms
    key_prefix: "$PREFIX"
YAML

# ---------------------------------------------------------------- start
check "gatehoused starts with kv on redis" start_daemon "$TMP/gh.yaml" "$TMP/a.log"
contains "the redis plugin is loaded" "$(cat "$TMP/a.log")" "plugin 'redis'"
lacks "the redis password is not logged" "$(cat "$TMP/a.log")" "$SERVERS_PASSWORD"

# ---------------------------------------------------------------- Redis lost
# the token check needs the deny-list, a login the lockout counters: both
# in redis
redis_down() {
    redis_stop
    check "redis is down" test "$(rcli ping 2>/dev/null)" != PONG
}
faults_backend_lost redis redis redis_down redis_start
contains "redis coming back is logged" "$(cat "$TMP/a.log")" "connected again"

# ---------------------------------------------------------------- Redis hung
# Only command_timeout (500ms here) stands between a request and a hang.
REDIS_PID=$(cat "$SERVERS_DIR/redis/pid")
faults_freeze STOP "$REDIS_PID"
# timed by curl itself (time_total), not counting process start-up
slow=0
times=
for _ in 1 2 3 4; do
    read -r code secs < <(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}\n' \
        -H "$(bearer "$ALICE_AT")" "http://127.0.0.1:$PORT/api/v1/users/me")
    times="$times $code/${secs}s"
    [ "$code" = 503 ] || slow=$((slow + 100))
    awk -v t="$secs" 'BEGIN { exit !(t < 2) }' || slow=$((slow + 1))
done
faults_freeze CONT "$REDIS_PID"
echo "# hung redis, code/seconds of each request:$times"
equals "a hung redis: every request is a 503 within 2 s" "$slow" "0"
contains "... and the log says it timed out" "$(cat "$TMP/a.log")" "no answer within 500 ms"
check "requests succeed once it answers again" until_ok "$ALICE_AT"

# ---------------------------------------------------------------- idle restart
faults_idle_restart redis redis_stop redis_start

# ---------------------------------------------------------------- two instances
# the revocation and the lock are in Redis, in the url's database, and
# none of it falls back to the SQL kv table
redis_holds() {
    case $1 in
    revoked) check "the revocation is in redis" \
        test "$(rcli --scan --pattern "${PREFIX}deny:*" | wc -l)" -ge 1 ;;
    locked)
        check "the lock is in redis" test "$(rcli --scan --pattern "${PREFIX}lock:acct:*" | wc -l)" -ge 1
        equals "... in the url's database, not in 0" \
            "$(rcli -n 0 --scan --pattern "${PREFIX}*" | wc -l)" "0"
        if command -v sqlite3 >/dev/null; then
            equals "nothing went to the SQL kv table" \
                "$(sqlite3 "$TMP/state/gatehouse.db" 'SELECT count(*) FROM kv')" "0"
        fi
        ;;
    roles) # the caches' version, and Redis losing it: never a stale allow
        check "the roles' version is in redis" \
            test "$(rcli --scan --pattern "${PREFIX}rbac:ver:*" | wc -l)" -ge 1
        req POST "/api/v1/users/$alice_id/roles/$f" -H "$(bearer "$root_at")"
        on "$port_b" req GET /api/v1/users -H "$(bearer "$at_a")"
        equals "given back on A, B opens at once" "$CODE" "200"
        rcli --scan --pattern "${PREFIX}rbac:ver:*" | xargs -r redis-cli -p "$REDIS_PORT" \
            --no-auth-warning -a "$SERVERS_PASSWORD" -n 1 del >/dev/null
        on "$port_b" req GET /api/v1/users -H "$(bearer "$at_a")"
        equals "with the version lost, B still answers from the store" "$CODE" "200"
        req DELETE "/api/v1/users/$alice_id/roles/$f" -H "$(bearer "$root_at")"
        on "$port_b" req GET /api/v1/users -H "$(bearer "$at_a")"
        equals "... and a role taken then counts on B at once" "$CODE" "403"
        ;;
    esac
}
faults_two_instances redis "redis and database" redis_holds

finish
