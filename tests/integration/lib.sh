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

# base_config [NAME=VALUE...]: the config every test starts from, on
# stdout; a test appends its own top-level sections after it. NAMEs:
# listen, threads, workers (2 each), public_url (empty: none), state_dir,
# plugin_dir (empty: none); server, log, auth: extra lines for that
# section, indented for it here; argon2=owasp keeps the default hashing
# costs (else cheap ones, so signups do not dominate a test's time);
# rate_limits: its value ('[]': none; empty: the built-in ones).
base_config() {
    local listen=127.0.0.1:0 threads=2 workers=2 public_url=http://127.0.0.1:8080
    local state_dir=$TMP/state plugin_dir=${GATEHOUSE_PLUGIN_DIR:-} server='' log='' auth='' argon2=fast
    # the built-in limits (5 logins a minute per IP) would trip the tests'
    # many requests from one address: off unless a test sets its own
    local rate_limits='[]'
    local arg
    for arg in "$@"; do
        case ${arg%%=*} in
            listen | threads | workers | public_url | state_dir | plugin_dir | server | log | auth | argon2 | rate_limits)
                printf -v "${arg%%=*}" '%s' "${arg#*=}" ;;
            *) echo "base_config: unknown setting ${arg%%=*}" >&2; return 1 ;;
        esac
    done
    printf 'server:\n  listen: ["%s"]\n  threads: %s\n  workers: %s\n' "$listen" "$threads" "$workers"
    [ -n "$public_url" ] && printf '  public_url: %s\n' "$public_url"
    [ -n "$server" ] && printf '%s\n' "$server" | sed 's/^/  /'
    printf 'log:\n  level: info\n'
    [ -n "$log" ] && printf '%s\n' "$log" | sed 's/^/  /'
    printf 'paths:\n  state_dir: %s\n' "$state_dir"
    # /openapi.json and /docs from the source tree, not an install
    printf '  data_dir: %s\n' "$top_srcdir/web"
    [ -n "$plugin_dir" ] && printf '  plugin_dir: %s\n' "$plugin_dir"
    if [ "$argon2" != owasp ] || [ -n "$auth" ]; then
        echo 'auth:'
        [ "$argon2" != owasp ] && printf '  password:\n    argon2: { memory_kib: 1024, iterations: 1 }\n'
        [ -n "$auth" ] && printf '%s\n' "$auth" | sed 's/^/  /'
    fi
    [ -n "$rate_limits" ] && printf 'rate_limits: %s\n' "$rate_limits"
    return 0
}

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

# http METHOD PATH [curl args...]: sets OUT (headers and body) and CODE.
# With GH_OPENAPI_LOG set, each answer is also appended to that file as a
# JSON line {method, path, status, content_type, body} for the OpenAPI
# validator (tests/openapi/validate.mjs).
http() {
    local method=$1 path=$2; shift 2
    OUT=$(curl -sS -i -X "$method" --max-time 10 "$@" "http://127.0.0.1:$PORT$path")
    CODE=$(printf '%s' "$OUT" | sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p')
    [ -n "${GH_OPENAPI_LOG:-}" ] && openapi_log "$method" "$path"
    return 0
}

# make check sets GH_OPENAPI_DIR: a script's SQLite run (no backend or kv of
# another kind) records its answers there, one file per script, for
# openapi.sh to validate once the scripts have run.
if [ -z "${GH_OPENAPI_LOG:-}" ] && [ -n "${GH_OPENAPI_DIR:-}" ] &&
    [ -z "${GH_TEST_BACKEND:-}${GH_TEST_KV:-}" ]; then
    mkdir -p "$GH_OPENAPI_DIR"
    GH_OPENAPI_LOG=$GH_OPENAPI_DIR/$(basename "$0" .sh).jsonl
    : >"$GH_OPENAPI_LOG"
fi

# openapi_log METHOD PATH: OUT as one JSON line in $GH_OPENAPI_LOG (jq:
# one process per answer, so that recording keeps a test's timing). curl -i
# ends each header block with CRLF CRLF; a 100 Continue's block comes first.
openapi_log() {
    local head=$OUT body='' line ctype=''
    while [[ $head == *$'\r\n\r\n'* ]]; do
        body=${head#*$'\r\n\r\n'}
        head=${head%%$'\r\n\r\n'*}
        [[ $body == HTTP/* ]] || break
        head=$body body=''
    done
    local status=${head#HTTP/* }
    status=${status%% *}
    while IFS= read -r line; do
        line=${line%$'\r'}
        if [[ ${line,,} == content-type:* ]]; then
            ctype=${line#*:}
            ctype=${ctype# }
            break
        fi
    done <<<"$head"
    [[ $status =~ ^[0-9]{3}$ ]] || status=0
    # the body on stdin: a page's script is larger than an argument may be
    printf '%s' "$body" | jq -Rsc --arg m "$1" --arg p "$2" --argjson s "$status" --arg t "$ctype" \
        '{method: $m, path: $p, status: $s, content_type: (if $t == "" then null else $t end),
          body: .}' >>"$GH_OPENAPI_LOG"
}

# wait_log FILE TEXT: wait up to 10 s for TEXT to appear in FILE (a reload
# is asynchronous: poll for its log line instead of guessing a sleep)
wait_log() {
    for _ in $(seq 1 200); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

# totp SECRET [STEPS]: the RFC 6238 code (SHA-1, 6 digits, 30 s) of now +
# STEPS, for the tests that sign in with a second factor (python3)
totp() {
    python3 -c 'import sys, hmac, hashlib, base64, struct, time
s = sys.argv[1] + "=" * (-len(sys.argv[1]) % 8)
h = hmac.new(base64.b32decode(s), struct.pack(">Q", int(time.time()) // 30 + int(sys.argv[2])),
             hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000))' "$1" "${2:-0}"
}

finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}

# json_client: req, post_json, bearer, j and hdr for tests that speak JSON
# to the daemon, defined when a test calls it: others (accounts.sh...)
# define helpers of those names of their own.
# shellcheck disable=SC2317 # called by the tests
json_client() {
    # req METHOD PATH [curl args]: http, plus BODY (the body alone)
    req() {
        http "$@" -H 'Expect:'
        BODY=$(printf '%s' "$OUT" | sed '1,/^\r$/d')
    }
    post_json() { local p=$1 d=$2; shift 2; req POST "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"; }
    bearer() { printf 'Authorization: Bearer %s' "$1"; }
    j() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }
    hdr() { printf '%s' "$OUT" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -n 1; }
}

# ctl_client: ctl and ctl_sanitizer_check for tests that run gatehousectl
# ($CTL) on their config ($CFG), defined when a test calls it, as
# json_client's are.
# shellcheck disable=SC2317 # called by the tests
ctl_client() {
    # ctl ARGS...: sets OUT, ERR and RC
    ctl() {
        "$CTL" -c "$CFG" "$@" >"$TMP/out" 2>"$TMP/err"
        RC=$?
        OUT=$(cat "$TMP/out")
        ERR=$(cat "$TMP/err")
        # in a sanitizer build, a report anywhere fails the run at the end
        if grep -q -e 'Sanitizer' -e 'runtime error:' "$TMP/err"; then
            { echo "--- gatehousectl $*"; cat "$TMP/err"; } >>"$TMP/sanitizer"
        fi
    }
    ctl_sanitizer_check() {
        check "no sanitizer report from gatehousectl" test ! -s "$TMP/sanitizer"
        [ -s "$TMP/sanitizer" ] && head -n 40 "$TMP/sanitizer"
    }
}

# kv_config NAME: KV_YAML, the kv: block of GH_TEST_KV (empty: the SQL
# store's own kv; "redis": the server at GH_TEST_REDIS_URL, keys under a
# prefix of NAME and this run). Without the server the test is skipped,
# or fails under GH_TEST_REQUIRE_SERVERS=1.
kv_config() {
    KV_YAML=
    [ "${GH_TEST_KV:-}" = redis ] || return 0
    if [ -z "${GH_TEST_REDIS_URL:-}" ]; then
        [ "${GH_TEST_REQUIRE_SERVERS:-0}" = 1 ] && { echo "GH_TEST_REDIS_URL is required" >&2; exit 1; }
        echo "SKIP: GH_TEST_REDIS_URL is not set"; exit 77
    fi
    KV_YAML=$(printf 'kv:\n  plugin: redis\n  options:\n    url: "%s"\n    key_prefix: "gh-%s-%s:"' \
        "$GH_TEST_REDIS_URL" "$1" "$$")
}

# mail_client: PY, a python3 that imports aiosmtpd, for the SMTP sink
# (smtp_sink.py) and mail_read.py, or skip (fail when the servers are
# required); and wait_mail and mread for the mail in $MAILDIR, defined
# when a test calls it, as json_client's are.
# shellcheck disable=SC2317 # called by the tests
mail_client() {
    # Debian's python3-aiosmtpd is for the system python, which may not be first
    PY=
    local p why
    for p in /usr/bin/python3 python3; do
        "$p" -c 'import aiosmtpd' 2>/dev/null && { PY=$p; break; }
    done
    if [ -z "$PY" ]; then
        why="python3 cannot import aiosmtpd (apt-get install python3-aiosmtpd)"
        [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: $why and GH_TEST_REQUIRE_SERVERS=1" >&2; exit 1; }
        echo "SKIP: $why"; exit 77
    fi
    # wait_mail N: until the Nth message has arrived (15 s); MAIL names it
    wait_mail() {
        MAIL=$(printf '%s/%06d.eml' "$MAILDIR" "$1")
        for _ in $(seq 1 300); do [ -e "$MAIL" ] && return 0; sleep 0.05; done
        return 1
    }
    # mread WHAT: subject, text, token, envelope-to ... of MAIL
    mread() { "$PY" "$top_srcdir/tests/integration/mail_read.py" "$MAIL" "$1"; }
}
