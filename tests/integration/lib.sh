# lib.sh - helpers for the shell integration tests: start the real daemon
# on an ephemeral port, speak HTTP to it with curl, count checks.
# Sourced by the tests; expects top_builddir, top_srcdir (set by make check).

: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
GATEHOUSED="$top_builddir/gatehoused"
TMP=$(mktemp -d /tmp/gh-it-XXXXXX)
PASS=0
FAIL=0
PID=
trap 'cleanup' EXIT

cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    rm -rf "$TMP"
}

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && printf '  %s\n' "$2"; }

# check NAME COMMAND...: passes when the command succeeds
check() {
    local name=$1; shift
    if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# contains NAME HAYSTACK NEEDLE
contains() {
    case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1" "expected to find: $3"$'\n'"  in: ${2:0:600}" ;; esac
}
lacks() {
    case "$2" in *"$3"*) not_ok "$1" "must not contain: $3" ;; *) ok "$1" ;; esac
}
equals() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected '$3', got '$2'"; fi
}

# free_port: a loopback port for a server of the test's own (servers.sh's
# choice: below the ephemeral range, so a restarted server finds it free)
. "$top_srcdir/tests/servers.sh"
free_port() { _srv_port; }

# start_daemon CONFIG LOG: starts gatehoused, waits for "listening on", sets PID and PORT
start_daemon() {
    local cfg=$1 log=$2
    : >"$log"
    "$GATEHOUSED" -c "$cfg" 2>"$log" &
    PID=$!
    # up to 30 s: under ASan on a busy CI machine start-up can take seconds
    for _ in $(seq 1 600); do
        if grep -q ' ready: ' "$log" 2>/dev/null; then
            PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
            return 0
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "gatehoused did not start; its log:" >&2
    cat "$log" >&2
    return 1
}

# stop_daemon: SIGTERM and wait; sets STATUS to the exit status
stop_daemon() {
    kill -TERM "$PID"
    wait "$PID"
    STATUS=$?
    PID=
}

# http METHOD PATH [curl args...]: sets OUT (headers and body) and CODE
http() {
    local method=$1 path=$2; shift 2
    OUT=$(curl -sS -i -X "$method" --max-time 10 "$@" "http://127.0.0.1:$PORT$path")
    CODE=$(printf '%s' "$OUT" | sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p')
}

# wait_log FILE TEXT: wait up to 10 s for TEXT to appear in FILE (a reload
# is asynchronous: poll for its log line instead of guessing a sleep)
wait_log() {
    for _ in $(seq 1 200); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}

# The fault tests (postgres-faults.sh, redis-faults.sh) share the two
# sections below. They run in the test's own shell: they use its client
# helpers (me_code, login, req, post_json, bearer, on), its daemon A (PID
# and PORT, config $TMP/gh.yaml, log $TMP/a.log) and its user alice
# (ALICE_AT, ALICE_PW). NAME is how the checks call the backend.

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
# same SHARED as A: a session revoked on A is refused by B at once, and a
# lockout reached through A holds on B, because both keep that state in
# the backend, not in memory. "HOOK revoked" and "HOOK locked" then check
# where the backend keeps it (HOOK may be :). Stops both daemons; PID_B is
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
    for _ in 1 2 3; do
        post_json /api/v1/auth/login '{"email":"bob@example.com","password":"Wrong-pass-000"}'
    done
    equals "failures on A up to the limit are 401" "$CODE" "401"
    on "$port_b" login bob@example.com 'Bob-faults-pw-4821'
    equals "the lockout reached through A holds on B" "$CODE" "429"
    "$hook" locked

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
