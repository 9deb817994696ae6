# faults.sh - the sections the fault tests (postgres-faults.sh,
# redis-faults.sh) share: a backend lost and found again under load,
# restarted while idle, and two daemons on one backend. Sourced after
# lib.sh.

# The fault tests (postgres-faults.sh, redis-faults.sh) are made of the
# faults_* functions below and keep only what is special about their
# backend. The sections run in the test's own shell: they use the client
# helpers of faults_client, its daemon A (PID and PORT, config
# $TMP/gh.yaml, log $TMP/a.log) and its user alice (ALICE_AT, ALICE_PW,
# from faults_backend_lost). NAME is how the checks call the backend.

# faults_setup SERVER PACKAGE TOOL...: the start of a fault test on SERVER
# (servers.sh's name for it, and its plugin's). Skips when servers.sh did
# not run the tests, when jq or a TOOL is missing or when the plugin is not
# built (PACKAGE is what it needs); under GH_TEST_REQUIRE_SERVERS=1 each
# of those fails instead. The server is one of the test's own, whatever
# servers.sh started for the others, since the test stops it.
faults_setup() {
    local server=$1 package=$2 url tool
    shift 2
    url=GH_TEST_${server^^}_URL
    if [ -z "${!url:-}" ] && [ "${GH_TEST_REQUIRE_SERVERS:-}" != 1 ]; then
        echo "SKIP: $url is not set (tests/servers.sh run make check sets it)"
        exit 77
    fi
    for tool in jq "$@"; do
        command -v "$tool" >/dev/null && continue
        [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: $tool not found"; exit 1; }
        echo "SKIP: $tool not found"; exit 77
    done
    if [ ! -e "$GATEHOUSE_PLUGIN_DIR/$server.so" ]; then
        [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: the $server plugin is not built"; exit 1; }
        echo "SKIP: the $server plugin is not built ($package)"; exit 77
    fi

    # shellcheck disable=SC2034 # servers.sh's
    SERVERS_DIR=
    SERVERS_PASSWORD=
    servers_start "$server" || { echo "FAIL: cannot start $server"; exit 1; }
    PID_B=
    LOOP=
    FROZEN=()
    # servers.sh set its own EXIT trap: ours stops everything the test started
    trap faults_cleanup EXIT
    faults_client
}

faults_cleanup() {
    # a server left hung by a test that died would never stop
    [ "${#FROZEN[@]}" -gt 0 ] && kill -CONT "${FROZEN[@]}" 2>/dev/null
    [ -n "$LOOP" ] && kill "$LOOP" 2>/dev/null
    [ -n "$PID_B" ] && kill -9 "$PID_B" 2>/dev/null
    cleanup
    servers_stop
}

# faults_freeze STOP|CONT PID...: hangs the server's processes (stopped,
# not gone: connections stay open and nothing answers) or lets them go on.
# Use it, not kill, so that faults_cleanup knows what to let go of.
faults_freeze() {
    local sig=$1
    shift
    FROZEN=()
    [ "$sig" = STOP ] && FROZEN=("$@")
    kill "-$sig" "$@" 2>/dev/null
}

# faults_client: the client helpers of the fault tests, defined when
# faults_setup calls it and not for every test: accounts.sh, mail.sh and
# others define a req, login etc. of their own, some doing more (RT).
# shellcheck disable=SC2317 # called by the tests and the sections
faults_client() {
    json_client
    login() {
        post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$2\"}"
        AT=$(j .access_token)
    }
    me_code() { http GET /api/v1/users/me -H "$(bearer "$1")"; echo "$CODE"; }
    # on PORT CMD...: run CMD against another instance
    on() { local saved=$PORT; PORT=$1; shift; "$@"; PORT=$saved; }
    # until_ok TOKEN: wait up to 5 s for a 200 from /users/me (a worker
    # that failed to reach the backend pauses before it tries again)
    until_ok() {
        for _ in $(seq 1 50); do
            [ "$(me_code "$1")" = 200 ] && return 0
            sleep 0.1
        done
        return 1
    }
}

# faults_config: writes $TMP/gh.yaml, the config of daemons A and B, with
# the backend's own section (storage: or kv:) from stdin. Its
# password_file can be $TMP/server.pw: servers.sh's password. The lockout
# after 3 failures is the limit faults_two_instances reaches.
faults_config() {
    printf '%s\n' "$SERVERS_PASSWORD" >"$TMP/server.pw"
    chmod 600 "$TMP/server.pw"
    mkdir -p "$TMP/state"
    {
        base_config auth='lockout: { account_failures: 3, base_delay: 1m, max_delay: 2m }'
        cat
    } >"$TMP/gh.yaml"
}

# faults_backend_lost NAME CHECK STOP START: signs alice up, then stops the
# backend (STOP) under a light client loop and starts it again (START).
# Without it, requests fail fast (503 problem+json with Retry-After, none
# slower than 2 s), the daemon lives on, /health answers and /health/ready
# names CHECK (storage, or the kv plugin) as unavailable; back, requests
# succeed again without restarting gatehoused. STOP is where a test checks
# with a client of the backend's own that it is really down.
faults_backend_lost() {
    local name=$1 ready=$2 stop=$3 start=$4 port=$PORT t0 t1 n_all n_ok n_503 slowest
    ALICE_PW='Alice-faults-pw-4821'
    post_json /api/v1/auth/signup "{\"email\":\"alice@example.com\",\"password\":\"$ALICE_PW\"}"
    equals "signup works" "$CODE" "201"
    ALICE_AT=$(j .access_token)
    equals "a token check works" "$(me_code "$ALICE_AT")" "200"

    # one GET /users/me at a time, each line "code seconds"
    : >"$TMP/loop.txt"
    while [ ! -e "$TMP/stop" ]; do
        curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}\n' \
            -H "$(bearer "$ALICE_AT")" "http://127.0.0.1:$port/api/v1/users/me" || echo "000 10"
    done >>"$TMP/loop.txt" &
    LOOP=$!
    sleep 1

    "$stop"
    sleep 2
    req GET /api/v1/users/me -H "$(bearer "$ALICE_AT")"
    equals "without $name a token check is 503" "$CODE" "503"
    contains "... as problem+json" "$(hdr Content-Type)" "application/problem+json"
    check "... with Retry-After" test -n "$(hdr Retry-After | grep -E '^[1-9][0-9]*$')"
    equals "... code unavailable" "$(j .code)" "unavailable"
    t0=$(date +%s%N)
    login alice@example.com "$ALICE_PW"
    t1=$(date +%s%N)
    equals "without $name a login is 503" "$CODE" "503"
    check "... answered fast (< 2 s)" test $(((t1 - t0) / 1000000)) -lt 2000
    http GET /health
    equals "/health still answers 200" "$CODE" "200"
    http GET /health/ready
    equals "/health/ready says 503" "$CODE" "503"
    contains "... naming $ready" "$OUT" "\"$ready\":\"unavailable\""
    check "the daemon is alive" kill -0 "$PID"

    "$start" || not_ok "$name starts again"
    check "requests succeed again without a restart" until_ok "$ALICE_AT"
    sleep 1
    touch "$TMP/stop"
    wait "$LOOP" 2>/dev/null
    LOOP=

    n_all=$(wc -l <"$TMP/loop.txt")
    n_ok=$(grep -c '^200 ' "$TMP/loop.txt")
    n_503=$(grep -c '^503 ' "$TMP/loop.txt")
    slowest=$(sort -k2 -g "$TMP/loop.txt" | tail -n 1 | cut -d' ' -f2)
    echo "# client loop: $n_all requests, $n_ok 200, $n_503 503, slowest ${slowest}s"
    check "the loop saw 200s and 503s" test "$n_ok" -gt 0 -a "$n_503" -gt 0
    equals "... and nothing else (no 500, no dropped connection)" "$((n_ok + n_503))" "$n_all"
    # shellcheck disable=SC2016 # awk's $2
    check "... and no request took 2 s or more" awk '$2 >= 2 { exit 1 }' "$TMP/loop.txt"
    equals "the loop ended on 200" "$(tail -n 1 "$TMP/loop.txt" | cut -d' ' -f1)" "200"
    check "the daemon never restarted" kill -0 "$PID"
    login alice@example.com "$ALICE_PW"
    equals "a login works again" "$CODE" "200"
    http GET /health/ready
    equals "/health/ready is 200 again" "$CODE" "200"
}

# faults_idle_restart NAME STOP START: the backend server stopped and
# started again (STOP, START: servers.sh's pg_stop/pg_start etc.) while
# nobody asks: each worker finds its connection closed before using it and
# connects again, so no request fails.
faults_idle_restart() {
    local name=$1 stop=$2 start=$3 fails=0
    "$stop"
    "$start" || not_ok "$name starts again"
    for _ in 1 2 3 4 5 6; do
        [ "$(me_code "$ALICE_AT")" = 200 ] || fails=$((fails + 1))
    done
    equals "a $name restarted while idle costs no request" "$fails" "0"
    lacks "the $name password is never logged" "$(cat "$TMP/a.log")" "$SERVERS_PASSWORD"
}

# faults_two_instances NAME SHARED HOOK: a second gatehoused, B, on the
# same SHARED as A: a session revoked on A is refused by B at once, a
# lockout reached through A holds on B, and a role taken on A closes its
# route on B at once, because both keep that state (or the version of
# their caches) in the backend, not in memory. "HOOK revoked", "HOOK
# locked" and "HOOK roles" then check where the backend keeps it. Stops both daemons; PID_B is
# set while B runs, for the test's EXIT trap.
faults_two_instances() {
    local name=$1 shared=$2 hook=$3 pid_a=$PID port_a=$PORT port_b at_a f
    check "a second gatehoused starts on the same $shared" start_daemon "$TMP/gh.yaml" "$TMP/b.log"
    port_b=$PORT
    PID_B=$PID
    PORT=$port_a
    PID=$pid_a

    login alice@example.com "$ALICE_PW"
    at_a=$AT
    equals "a token from A works on B" "$(on "$port_b" me_code "$at_a")" "200"
    req POST /api/v1/auth/logout -H "$(bearer "$at_a")"
    equals "logout on A is 204" "$CODE" "204"
    equals "the revoked session is refused on B at once" "$(on "$port_b" me_code "$at_a")" "401"
    "$hook" revoked

    post_json /api/v1/auth/signup '{"email":"bob@example.com","password":"Bob-faults-pw-4821"}'
    equals "bob signs up on A" "$CODE" "201"
    for _ in 1 2 3; do
        post_json /api/v1/auth/login '{"email":"bob@example.com","password":"Wrong-pass-000"}'
    done
    equals "failures on A up to the limit are 401" "$CODE" "401"
    on "$port_b" login bob@example.com 'Bob-faults-pw-4821'
    equals "the lockout reached through A holds on B" "$CODE" "429"
    "$hook" locked

    # a role taken on A closes its routes on B at once, both caches warm
    "$top_builddir/gatehousectl" -c "$TMP/gh.yaml" user create --email root@example.com \
        --admin --password-stdin <<<"$ALICE_PW" >/dev/null
    login root@example.com "$ALICE_PW"
    root_at=$AT
    login alice@example.com "$ALICE_PW"
    at_a=$AT alice_id=$(j .user.id)
    post_json /api/v1/roles '{"name":"reader"}' -H "$(bearer "$root_at")"
    f=$(j .id)
    req POST "/api/v1/roles/$f/permissions/00000000-0000-4000-8002-000000000001" \
        -H "$(bearer "$root_at")"
    req POST "/api/v1/users/$alice_id/roles/$f" -H "$(bearer "$root_at")"
    on "$port_b" req GET /api/v1/users -H "$(bearer "$at_a")"
    equals "a role given on A opens its route on B" "$CODE" "200"
    req DELETE "/api/v1/users/$alice_id/roles/$f" -H "$(bearer "$root_at")"
    equals "the role is taken on A" "$CODE" "204"
    on "$port_b" req GET /api/v1/users -H "$(bearer "$at_a")"
    equals "... and B refuses at once" "$CODE" "403"
    "$hook" roles

    kill -TERM "$PID_B"
    wait "$PID_B" 2>/dev/null
    equals "B stops cleanly" "$?" "0"
    PID_B=
    stop_daemon
    equals "A stops cleanly" "$STATUS" "0"
    lacks "B never logged the $name password" "$(cat "$TMP/b.log")" "$SERVERS_PASSWORD"
    # under ASan/UBSan builds: nothing reported in either daemon's log
    for f in "$TMP"/a.log "$TMP"/b.log; do
        lacks "no sanitizer report in $(basename "$f")" "$(cat "$f")" "Sanitizer"
        lacks "no undefined behaviour in $(basename "$f")" "$(cat "$f")" "runtime error"
    done
}
