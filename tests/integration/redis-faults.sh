#!/usr/bin/env bash
# redis-faults.sh - gatehoused with kv on a real Redis (the redis plugin):
#  - Redis stopped under a light request loop: requests that need kv fail
#    fast (503 problem+json with Retry-After, none slower than 2 s), the
#    daemon lives on and /health answers; Redis started again: requests
#    succeed again, without restarting gatehoused.
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

if [ -z "${GH_TEST_REDIS_URL:-}" ] && [ "${GH_TEST_REQUIRE_SERVERS:-}" != 1 ]; then
    echo "SKIP: GH_TEST_REDIS_URL is not set (tests/servers.sh run make check sets it)"
    exit 77
fi
for tool in jq redis-server redis-cli; do
    command -v "$tool" >/dev/null && continue
    [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: $tool not found"; exit 1; }
    echo "SKIP: $tool not found"; exit 77
done
if [ ! -e "$GATEHOUSE_PLUGIN_DIR/redis.so" ]; then
    [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: the redis plugin is not built"; exit 1; }
    echo "SKIP: the redis plugin is not built (libhiredis-dev)"; exit 77
fi

# A Redis of our own, whatever servers.sh may have started for other tests.
SERVERS_DIR=
SERVERS_PASSWORD=
. "$top_srcdir/tests/servers.sh"
servers_start redis || { echo "FAIL: cannot start redis-server"; exit 1; }
PID_B=
LOOP=
# servers.sh set its own EXIT trap: ours stops everything this test started
cleanup_all() {
    kill -CONT "$(cat "$SERVERS_DIR/redis/pid" 2>/dev/null)" 2>/dev/null # if the test died hung
    [ -n "$LOOP" ] && kill "$LOOP" 2>/dev/null
    [ -n "$PID_B" ] && kill -9 "$PID_B" 2>/dev/null
    servers_stop
    cleanup
}
trap cleanup_all EXIT

# database 1: the daemons SELECT it (the url says /1)
rcli() { redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$SERVERS_PASSWORD" -n 1 "$@"; }
PREFIX="gh-faults-$$:"
printf '%s\n' "$SERVERS_PASSWORD" >"$TMP/redis.pw"
chmod 600 "$TMP/redis.pw"
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
kv:
  plugin: redis
  options:
    url: redis://default@127.0.0.1:$REDIS_PORT/1
    password_file: $TMP/redis.pw
    connect_timeout: 500ms
    command_timeout: 500ms
    key_prefix: "$PREFIX"
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

# ---------------------------------------------------------------- start
check "gatehoused starts with kv on redis" start_daemon "$TMP/gh.yaml" "$TMP/a.log"
PORT_A=$PORT
contains "the redis plugin is loaded" "$(cat "$TMP/a.log")" "plugin 'redis'"
lacks "the redis password is not logged" "$(cat "$TMP/a.log")" "$SERVERS_PASSWORD"

ALICE_PW='Alice-faults-pw-4821'
post_json /api/v1/auth/signup "{\"email\":\"alice@example.com\",\"password\":\"$ALICE_PW\"}"
equals "signup works" "$CODE" "201"
ALICE_AT=$(j .access_token)
equals "a token check works (deny-list in redis)" "$(me_code "$ALICE_AT")" "200"

# ---------------------------------------------------------------- Redis lost
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

redis_stop
check "redis is down" test "$(rcli ping 2>/dev/null)" != PONG
sleep 2
http GET /api/v1/users/me -H "$(bearer "$ALICE_AT")"
equals "without redis a token check is 503" "$CODE" "503"
contains "... as problem+json" "$(hdr Content-Type)" "application/problem+json"
check "... with Retry-After" test -n "$(hdr Retry-After | grep -E '^[1-9][0-9]*$')"
equals "... code unavailable" "$(printf '%s' "$OUT" | sed '1,/^\r$/d' | jq -r .code)" "unavailable"
T0=$(date +%s%N)
login alice@example.com "$ALICE_PW"
T1=$(date +%s%N)
equals "without redis a login (lockout counters) is 503" "$CODE" "503"
check "... answered fast (< 2 s)" test $(((T1 - T0) / 1000000)) -lt 2000
http GET /health
equals "/health still answers 200" "$CODE" "200"
http GET /health/ready
equals "/health/ready says 503" "$CODE" "503"
contains "... naming redis" "$OUT" '"redis":"unavailable"'
check "the daemon is alive" kill -0 "$PID"

redis_start || not_ok "redis starts again"
# the first request after the restart may still find the thread's retry
# pause (250 ms): wait for the loop to see a 200 again
ok_again=
for _ in $(seq 1 50); do
    [ "$(me_code "$ALICE_AT")" = 200 ] && { ok_again=1; break; }
    sleep 0.1
done
check "requests succeed again without a restart" test -n "$ok_again"
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
contains "redis coming back is logged" "$(cat "$TMP/a.log")" "connected again"

# ---------------------------------------------------------------- Redis hung
# Stopped, not gone: connections stay open and nothing answers, so only
# command_timeout (500ms here) stands between a request and a hang.
REDIS_PID=$(cat "$SERVERS_DIR/redis/pid")
kill -STOP "$REDIS_PID"
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
kill -CONT "$REDIS_PID"
echo "# hung redis, code/seconds of each request:$times"
equals "a hung redis: every request is a 503 within 2 s" "$slow" "0"
contains "... and the log says it timed out" "$(cat "$TMP/a.log")" "no answer within 500 ms"
ok_again=
for _ in $(seq 1 50); do
    [ "$(me_code "$ALICE_AT")" = 200 ] && { ok_again=1; break; }
    sleep 0.1
done
check "requests succeed once it answers again" test -n "$ok_again"

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
    esac
}
faults_two_instances redis "redis and database" redis_holds

finish
