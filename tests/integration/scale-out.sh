#!/usr/bin/env bash
# scale-out.sh - two gatehoused instances, A and B, on one SQL store and
# one Redis, with every cache on (B's cached /users/me answers, its
# permission cache, its verified-token cache): what is changed through A
# holds on B at once.
#  - B's answers do come from its cache: a row changed behind gatehouse's
#    back (SQL) is not seen by B until gatehouse changes it.
#  - A session revoked on A, a user deactivated on A: refused on B at once.
#  - A role taken away on A: its permission is gone on B at once.
#  - A profile changed on A: B answers the new one at once.
#  - The same after Redis dropped every connection (CLIENT KILL), B's
#    among them: a lost connection costs a reconnect, never a stale answer.
#  - Redis down: B refuses (503), it does not answer from its cache; Redis
#    back with every key lost (the stamps too): B answers what the store
#    holds, never what it had cached.
#  - On a server database, B's cached answers come from its event loops,
#    which send the Redis read and do not wait for it (/metrics counts
#    them): before and after the connections are dropped, and none while
#    Redis is down; a client that leaves while its read is out costs B
#    nothing.
# Runs on SQLite (both daemons on one file) unless GH_TEST_BACKEND says
# postgres or mysql (scale-out-postgres.sh, scale-out-mysql.sh). Starts a
# Redis of its own, since it stops it; skipped without GH_TEST_REDIS_URL
# (no Redis here) unless GH_TEST_REQUIRE_SERVERS=1.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq redis-cli redis-server; do
    command -v "$tool" >/dev/null && continue
    [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: $tool not found"; exit 1; }
    echo "SKIP: $tool not found"; exit 77
done
if [ -z "${GH_TEST_REDIS_URL:-}" ]; then
    [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: GH_TEST_REDIS_URL is not set"; exit 1; }
    echo "SKIP: GH_TEST_REDIS_URL is not set (tests/servers.sh run make check sets it)"; exit 77
fi
json_client

# shellcheck disable=SC2034 # servers.sh's
SERVERS_DIR=
SERVERS_PASSWORD=
servers_start redis || { echo "FAIL: cannot start redis"; exit 1; }
PID_B=
WARM=
trap 'cleanup; [ -n "$WARM" ] && kill "$WARM" 2>/dev/null; [ -n "$PID_B" ] && kill -9 "$PID_B" 2>/dev/null; drop_databases; servers_stop' EXIT
rcli() { redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$SERVERS_PASSWORD" "$@"; }
printf '%s\n' "$SERVERS_PASSWORD" >"$TMP/redis.pw"
new_database scaleout

ADMIN_EMAIL=admin@example.com
ADMIN_PW='Vq7-admin-Rn2-lighthouse'
PW='Kx9-orbit-Tm4-harbour'
# one worker each: every request of B meets the same caches
{
    base_config workers=1
    cat <<YAML
bootstrap:
  admin_email: $ADMIN_EMAIL
  admin_password: "$ADMIN_PW"
$STORAGE_YAML
kv:
  plugin: redis
  options:
    url: redis://default@127.0.0.1:$REDIS_PORT/0
    password_file: $TMP/redis.pw
    command_timeout: 500ms
    key_prefix: "gh-scale-$$:"
YAML
} >"$TMP/gh.yaml"
start_daemon "$TMP/gh.yaml" "$TMP/a.log" || exit 1
PID_A=$PID PORT_A=$PORT
start_daemon "$TMP/gh.yaml" "$TMP/b.log" || exit 1
PID_B=$PID PORT_B=$PORT PID=$PID_A

# on A|B CMD...: CMD against that instance
on() {
    local port=$PORT_A
    [ "$1" = B ] && port=$PORT_B
    shift
    PORT=$port "$@"
}
as() { local t=$1; shift; "$@" -H "$(bearer "$t")"; }
put_json() { local p=$1 d=$2; shift 2; req PUT "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"; }
login() {
    post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$2\"}"
    AT=$(j .access_token)
}
me_code() { on "$1" as "$2" req GET /api/v1/users/me; echo "$CODE"; }
# async RESULT: B's reads of that result that its loops did not wait for
async() {
    curl -s "http://127.0.0.1:$PORT_B/metrics" |
        sed -n "s/^gatehouse_loop_async_reads_total{result=\"$1\"} //p"
}
# on_loop WHAT: with a server database, ann's /users/me on B is answered
# on its loop from the cache, after a Redis read it did not wait for
# (SQLite: answered on the loop, reading the file, which never waits). A
# read later than its 20 ms (a loaded machine, a sanitizer build) moves
# to a worker: up to five tries, each answered 200.
on_loop() {
    [ "$BACKEND" = sqlite ] && return 0
    local n codes=""
    n=$(async answered)
    for _ in 1 2 3 4 5; do
        on B as "$ANN" req GET /api/v1/users/me
        codes="$codes$CODE "
        [ "$(async answered)" != "$n" ] && break
    done
    check "$1 (answers: $codes)" test "$(async answered)" -gt "$n" -a -z "${codes//200 /}"
}
# sql SQL: on the store, behind the daemons' backs
sql() {
    case $BACKEND in
    sqlite) sqlite3 "$TMP/state/gatehouse.db" "$1" ;;
    *) server_sql "$DBNAME" "$1" ;;
    esac
}

on A login "$ADMIN_EMAIL" "$ADMIN_PW"
ADM=$AT
check "the admin signs in on A" test -n "$ADM"
for u in ann bea cat dan; do
    on A post_json /api/v1/auth/signup "{\"email\":\"$u@example.com\",\"password\":\"$PW\"}"
    printf -v "${u^^}_ID" '%s' "$(j .user.id // .id)"
    on A login "$u@example.com" "$PW"
    printf -v "${u^^}" '%s' "$AT"
done
check "four users signed up and in on A" test -n "$ANN" -a -n "$BEA" -a -n "$CAT" -a -n "$DAN"

# ---------------------------------------------------------------- B's cache is on
on B as "$ANN" req GET /api/v1/users/me
equals "B answers ann's /users/me" "$CODE $(j .email)" "200 ann@example.com"
UPDATED=$(j .updated_at)
# an entry nobody asked for in a second is wiped (it holds personal data):
# asked for meanwhile, it stays
while :; do
    curl -s -o /dev/null -H "$(bearer "$ANN")" "http://127.0.0.1:$PORT_B/api/v1/users/me"
    sleep 0.2
done &
WARM=$!
sql "UPDATE users SET updated_at = 1000 WHERE id = '$ANN_ID'"
on B as "$ANN" req GET /api/v1/users/me
kill "$WARM"
wait "$WARM" 2>/dev/null
WARM=
equals "a change behind gatehouse's back is not seen: B answers from its cache" \
    "$(j .updated_at)" "$UPDATED"
on A as "$ANN" put_json /api/v1/users/me '{"full_name":"Ann One"}'
equals "ann renames herself on A" "$CODE" 200
on B as "$ANN" req GET /api/v1/users/me
equals "... B answers the new name at once" "$(j .full_name)" "Ann One"
lacks "... from the store, not its cache" "$(j .updated_at)" "$UPDATED"
on_loop "... and then from its cache, on its loop, not waiting for redis"

# ---------------------------------------------------------------- revocation, deactivation
equals "bea is served on B" "$(me_code B "$BEA") $(me_code B "$BEA")" "200 200"
on A as "$BEA" req POST /api/v1/auth/logout
equals "bea logs out on A" "$CODE" 204
equals "... her token is refused on B at once" "$(me_code B "$BEA")" 401
on A login bea@example.com "$PW"
BEA=$AT
equals "bea signs in again, served on B" "$(me_code B "$BEA") $(me_code B "$BEA")" "200 200"
on A as "$ADM" put_json "/api/v1/users/$BEA_ID" '{"is_active":false}'
equals "the admin deactivates bea on A" "$CODE $(j .is_active)" "200 false"
equals "... her token is refused on B at once" "$(me_code B "$BEA")" 401

# ---------------------------------------------------------------- a role taken away
on A as "$ADM" req GET /api/v1/roles
ADMIN_ROLE=$(j '.items[] | select(.name == "admin") | .id')
check "the built-in admin role is listed" test -n "$ADMIN_ROLE"
# grant ROLE_USER_ID TOKEN: gives the admin role on A, checks it on B
role_on_b() {
    on A as "$ADM" req POST "/api/v1/users/$1/roles/$ADMIN_ROLE"
    equals "the admin gives $3 the admin role on A" "$CODE" 204
    on B as "$2" req GET /api/v1/roles
    local first=$CODE
    on B as "$2" req GET /api/v1/roles
    equals "... $3 lists the roles on B (twice: cached)" "$first $CODE" "200 200"
}
role_gone_on_b() {
    on A as "$ADM" req DELETE "/api/v1/users/$1/roles/$ADMIN_ROLE"
    equals "the admin takes it away on A" "$CODE" 204
    on B as "$2" req GET /api/v1/roles
    equals "... $3 is refused on B at once" "$CODE $(j .code)" "403 forbidden"
}
role_on_b "$CAT_ID" "$CAT" cat
role_gone_on_b "$CAT_ID" "$CAT" cat

# ---------------------------------------------------------------- connections dropped
equals "dan is served on B" "$(me_code B "$DAN")" 200
role_on_b "$DAN_ID" "$DAN" dan
KILLED=$(rcli client kill type normal)
check "redis dropped every client's connection ($KILLED)" test "${KILLED:-0}" -ge 2
on A as "$DAN" put_json /api/v1/users/me '{"full_name":"Dan Two"}'
equals "dan renames himself on A" "$CODE" 200
on B as "$DAN" req GET /api/v1/users/me
equals "... B answers the new name at once, its connection lost" "$CODE $(j .full_name)" "200 Dan Two"
on_loop "... and answers on its loop again, connected again at once"
# a client that leaves while its read is out (Redis paused: the read is
# late for certain) costs B nothing: it serves the next request (and,
# under a sanitizer build, reports nothing: see the end)
rcli client pause 300 >/dev/null
exec 5<>"/dev/tcp/127.0.0.1/$PORT_B"
printf 'GET /api/v1/users/me HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer %s\r\n\r\n' "$ANN" >&5
exec 5>&-
sleep 0.5
equals "a client left while B waited for redis: B serves the next request" \
    "$(me_code B "$ANN")" 200
rcli client kill type normal >/dev/null
role_gone_on_b "$DAN_ID" "$DAN" dan
rcli client kill type normal >/dev/null
on A as "$DAN" req POST /api/v1/auth/logout
equals "dan logs out on A" "$CODE" 204
rcli client kill type normal >/dev/null
equals "... his token is refused on B at once, its connection lost" "$(me_code B "$DAN")" 401

# ---------------------------------------------------------------- Redis down, and back empty
on A login ann@example.com "$PW"
ANN=$AT
equals "ann is served on B" "$(me_code B "$ANN") $(me_code B "$ANN")" "200 200"
redis_stop
ANSWERED=$(async answered)
on B as "$ANN" req GET /api/v1/users/me
equals "redis down: B refuses, though it has ann cached" "$CODE $(j .code)" "503 unavailable"
equals "... and its loop answered nothing" "$(async answered)" "$ANSWERED"
on A as "$ANN" put_json /api/v1/users/me '{"full_name":"Ann Three"}'
check "... and A cannot change her (it checks her token in redis)" test "$CODE" != 200
sql "UPDATE users SET full_name = NULL, updated_at = 2000 WHERE id = '$ANN_ID'"
redis_start
# a failed connect is not tried again for a second (the store's policy)
for _ in $(seq 1 50); do
    on B as "$ANN" req GET /api/v1/users/me
    [ "$CODE" != 503 ] && break
    sleep 0.1
done
equals "redis back with no keys: B answers the store's row, not its cache" \
    "$CODE $(j .updated_at)" "200 1970-01-01T00:00:02.000Z"
for _ in $(seq 1 50); do
    on A as "$ANN" put_json /api/v1/users/me '{"full_name":"Ann Four"}'
    [ "$CODE" != 503 ] && break
    sleep 0.1
done
equals "... ann renames herself on A" "$CODE" 200
on B as "$ANN" req GET /api/v1/users/me
equals "... and a change on A after that at once" "$(j .full_name)" "Ann Four"

kill -TERM "$PID_B"
wait "$PID_B" 2>/dev/null
equals "B stops cleanly" "$?" 0
PID_B=
stop_daemon
equals "A stops cleanly" "$STATUS" 0
# under ASan/UBSan builds: nothing reported in either daemon's log
for f in "$TMP"/a.log "$TMP"/b.log; do
    lacks "no redis password in $(basename "$f")" "$(cat "$f")" "$SERVERS_PASSWORD"
    lacks "no sanitizer report in $(basename "$f")" "$(cat "$f")" "Sanitizer"
    lacks "no undefined behaviour in $(basename "$f")" "$(cat "$f")" "runtime error"
done
finish
