# shellcheck shell=bash
# lib.sh - what the bench scripts (run.sh, soak.sh, refresh.sh, pair.sh) share: a temporary directory
# removed at exit, wrk runs read through lua/report.lua, and gatehoused
# started from a build directory on a free port, with an admin made by
# gatehousectl, a signed-up user and refresh tokens of that user's
# sessions.
#
# Sourced by a script with `set -euo pipefail`: . bench/lib.sh BUILDDIR
# (default ./build/check). Reads the knobs BENCH_THREADS, BENCH_CONNS,
# BENCH_KEEP, BENCH_BACKEND and BENCH_KV (run.sh's header says what each
# does) and BENCH_LOOPS (gatehoused's server.threads, its event loops;
# default 0, one per core).

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "bench: $*" >&2; exit 1; }

BUILD=$(cd "${1:-./build/check}" 2>/dev/null && pwd) || die "no build directory ${1:-./build/check}"
WRK_THREADS=${BENCH_THREADS:-2}
WRK_CONNS=${BENCH_CONNS:-32}
BACKEND=${BENCH_BACKEND:-sqlite}
# what etc/gatehouse.yaml configures, and so what the config below keeps
ARGON2_M=19456 ARGON2_T=2 ARGON2_P=1

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || case $tool in
        wrk) die "wrk is not installed (Debian/Ubuntu: apt-get install wrk)" ;;
        *) die "$tool is not installed" ;;
    esac
done
[ -x "$BUILD/gatehoused" ] || die "$BUILD/gatehoused not found: build first (make)"
[ -d "$BUILD/plugins/.libs" ] || die "$BUILD/plugins/.libs not found: build the plugins first"

TMP=$(mktemp -d /tmp/gh-bench-XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nothing listens on (a race with other programs is possible but
# harmless here: the server would fail to start and say so).
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free port found"
}

# wait_up URL PID LOG: until URL answers, or the process dies
wait_up() {
    for _ in $(seq 1 200); do
        curl -fs -o /dev/null --max-time 1 "$1" && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench: the server did not come up at $1; its log:" >&2
    cat "$3" >&2
    exit 1
}

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# ------------------------------------------------------------------ wrk
# bench NAME URL SCRIPT [wrk options...]: runs wrk for DURATION seconds
# with a Lua script whose done() prints "RESULT ..." (lua/report.lua) and
# sets R_<NAME> to "req/s p50_ms p99_ms non2xx errors".
export BENCH_LUA="$SRC/bench/lua"
bench() {
    local name=$1 url=$2 script=$3 out
    shift 3
    out="$TMP/wrk-$name.txt"
    wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${DURATION}s" --timeout 10s "$@" \
        -s "$BENCH_LUA/$script" "$url" >"$out" 2>&1 || {
        cat "$out" >&2
        die "wrk failed for $name"
    }
    parse "$name" "$out"
}

parse() {
    local line
    line=$(grep '^RESULT ' "$2") || { cat "$2" >&2; die "no result from wrk for $1"; }
    printf -v "R_$1" '%s' "$(echo "$line" | awk '{
        printf "%.0f %.2f %.2f %d %d", $2 / ($3 / 1e6), $4 / 1000, $5 / 1000, $6, $7 }')"
}

# ------------------------------------------------------------------ gatehoused
# gatehoused_start: writes $TMP/gatehouse.yaml (and gatehouse-base.yaml, the
# same without its last line, rate_limits: [], for a caller that reloads
# with limits), makes an admin with gatehousectl and starts gatehoused on a
# free port. Sets PORT, URL, GH_PID, ADMIN_EMAIL and ADMIN_PASSWORD.
gatehoused_start() {
    PORT=$(free_port)
    URL="http://127.0.0.1:$PORT"
    mkdir -p "$TMP/state"
    local storage kv
    storage=$(storage_block)
    kv=$(kv_block)
    cat >"$TMP/gatehouse.yaml" <<YAML
server:
  listen: ["127.0.0.1:$PORT"]
  public_url: $URL
  threads: ${BENCH_LOOPS:-0}
log:
  level: warning
  access_log: false
paths:
  state_dir: $TMP/state
auth:
  password:
    argon2: {memory_kib: $ARGON2_M, iterations: $ARGON2_T, parallelism: $ARGON2_P}
  # thousands of requests from one address and one account: no lockout
  lockout:
    account_failures: 1000
    ip_failures: 1000000
$storage
$kv
plugins: [{name: totp}]
YAML
    # thousands of logins from one address: no rate limits
    cp "$TMP/gatehouse.yaml" "$TMP/gatehouse-base.yaml"
    echo "rate_limits: []" >>"$TMP/gatehouse.yaml"
    export GATEHOUSE_PLUGIN_DIR="$BUILD/plugins/.libs"
    # the admin from gatehousectl and not the config's bootstrap block: that
    # would hash a password in gatehoused at start-up, and its argon2 memory
    # would still be resident when the start-up RSS is read
    ADMIN_EMAIL="bench-admin-$$-$RANDOM@example.com"
    ADMIN_PASSWORD="Bench-admin-$RANDOM-correct-horse-battery-staple"
    ctl migrate up
    ctl user create --email "$ADMIN_EMAIL" --admin --password-stdin <<<"$ADMIN_PASSWORD"
    "$BUILD/gatehoused" -c "$TMP/gatehouse.yaml" 2>"$TMP/gatehoused.log" &
    GH_PID=$!
    PIDS+=("$GH_PID")
    wait_up "$URL/health" "$GH_PID" "$TMP/gatehoused.log"
    sleep 1 # let start-up settle (key generation, migrations, thread stacks)
}

# the storage block: SQLite in the state directory, or a fresh database on
# the server named by the GH_TEST_*_URL that tests/servers.sh exports
DBNAME="gh_bench_$$"
storage_block() {
    case $BACKEND in
    sqlite) ;;
    postgres)
        [ -n "${GH_TEST_POSTGRES_URL:-}" ] || die "BENCH_BACKEND=postgres needs GH_TEST_POSTGRES_URL"
        psql "$GH_TEST_POSTGRES_URL" -qc "CREATE DATABASE $DBNAME" >/dev/null || die "cannot create $DBNAME"
        echo "storage: {plugin: postgres, options: {url: \"${GH_TEST_POSTGRES_URL%/*}/$DBNAME\"}}" ;;
    mysql)
        [ -n "${GH_TEST_MYSQL_URL:-}" ] || die "BENCH_BACKEND=mysql needs GH_TEST_MYSQL_URL"
        local my=${GH_TEST_MYSQL_URL#mysql://} my_user my_rest my_pw my_host
        my_user=${my%%:*} my_rest=${my#*:}
        my_pw=${my_rest%%@*} my_host=${my_rest#*@}
        my_host=${my_host%/}
        mariadb --no-defaults -h"${my_host%:*}" -P"${my_host##*:}" -u"$my_user" -p"$my_pw" \
            -e "CREATE DATABASE $DBNAME CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" ||
            die "cannot create $DBNAME"
        echo "storage: {plugin: mysql, options: {url: \"${GH_TEST_MYSQL_URL%/}/$DBNAME\"}}" ;;
    *) die "BENCH_BACKEND: sqlite, postgres or mysql, not $BACKEND" ;;
    esac
}

kv_block() {
    [ "${BENCH_KV:-}" = redis ] || return 0
    [ -n "${GH_TEST_REDIS_URL:-}" ] || die "BENCH_KV=redis needs GH_TEST_REDIS_URL"
    echo "kv: {plugin: redis, options: {url: \"$GH_TEST_REDIS_URL\", key_prefix: \"gh-bench-$$:\"}}"
}

ctl() {
    "$BUILD/gatehousectl" -c "$TMP/gatehouse.yaml" "$@" >"$TMP/ctl.log" 2>&1 ||
        { cat "$TMP/ctl.log" >&2; die "gatehousectl $1 $2 failed"; }
}

# post PATH JSON [curl options...]: the body of a successful answer, or die
# with the answer
post() {
    local path=$1 data=$2 code
    shift 2
    code=$(curl -sS -o "$TMP/answer" -w '%{http_code}' --max-time 30 -X POST \
        -H 'Content-Type: application/json' "$@" --data "$data" "$URL$path") ||
        die "POST $path failed"
    case $code in 2??) cat "$TMP/answer" ;; *) die "POST $path: HTTP $code: $(head -c 500 "$TMP/answer")" ;; esac
}
field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"; }

# user_signup: signs up a user, exported as BENCH_EMAIL and BENCH_PASSWORD
# (the login body is LOGIN)
user_signup() {
    BENCH_EMAIL="bench-$$-$RANDOM@example.com"
    BENCH_PASSWORD="Bench-$RANDOM-correct-horse-battery-staple"
    export BENCH_EMAIL BENCH_PASSWORD
    LOGIN="{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}"
    post /api/v1/auth/signup "$LOGIN" >/dev/null
}

# refresh_tokens COUNT FILE: COUNT logins of the user, each a session of
# its own, and each session's refresh token (good for one use) a line of
# FILE
refresh_tokens() {
    local refresh
    : >"$2"
    for _ in $(seq 1 "$1"); do
        refresh=$(post /api/v1/auth/login "$LOGIN" | field refresh_token)
        [ -n "$refresh" ] || die "login returned no refresh_token"
        echo "$refresh" >>"$2"
    done
}

# admin_login: a new session of the admin; its access token exported as
# BENCH_ADMIN_TOKEN
admin_login() {
    BENCH_ADMIN_TOKEN=$(post /api/v1/auth/login \
        "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | field access_token)
    [ -n "$BENCH_ADMIN_TOKEN" ] || die "the admin's login returned no access_token"
    export BENCH_ADMIN_TOKEN
}

# user + system CPU ticks of the given processes (every thread of each)
ticks() {
    local t=0 pid
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
    done
    echo "$t"
}

# the database server's processes: PostgreSQL's postmaster and all its
# children (the backends, whose connections live for the whole run, the
# WAL writer, the checkpointer), MariaDB's one process; none for SQLite
# (in gatehoused)
db_pids() {
    local pm
    case $BACKEND in
    postgres)
        pm=$(head -n 1 "$SERVERS_DIR/postgres/data/postmaster.pid")
        echo "$pm"
        pgrep -P "$pm" || true ;;
    mysql) cat "$SERVERS_DIR/mysql/pid" ;;
    esac
}

# gatehoused_instance NAME PORT SERVER-LINES [PREFIX...]: one more
# gatehoused on the config gatehoused_start wrote, so on the same store,
# kv, signing keys and public_url (instances behind one load balancer),
# but listening on 127.0.0.1:PORT, with SERVER-LINES (YAML, one setting a
# line, e.g. "threads: 1") added to its server section, and started under
# PREFIX (e.g. taskset -c 0). Its config is $TMP/gatehouse-NAME.yaml, its
# log $TMP/gatehoused-NAME.log; sets <NAME>_PID and <NAME>_URL.
gatehoused_instance() {
    local name=$1 port=$2 lines=$3 pid
    shift 3
    # SERVER-LINES replace the server section's settings of the same keys
    awk -v port="$port" -v lines="$lines" '
        BEGIN { n = split(lines, l, "\n")
                for (i = 1; i <= n; i++) if (l[i] != "") { k = l[i]; sub(/:.*/, "", k); own[k] = 1 } }
        /^[^ ]/ { server = ($0 == "server:") }
        server && /^  listen:/ { print "  listen: [\"127.0.0.1:" port "\"]"
                                 for (i = 1; i <= n; i++) if (l[i] != "") print "  " l[i]; next }
        server && /^  [a-z_]+:/ { k = $1; sub(/:$/, "", k); if (k in own) next }
        { print }' "$TMP/gatehouse.yaml" >"$TMP/gatehouse-$name.yaml"
    "$@" "$BUILD/gatehoused" -c "$TMP/gatehouse-$name.yaml" 2>"$TMP/gatehoused-$name.log" &
    pid=$!
    PIDS+=("$pid")
    wait_up "http://127.0.0.1:$port/health" "$pid" "$TMP/gatehoused-$name.log"
    printf -v "${name}_PID" '%s' "$pid"
    printf -v "${name}_URL" '%s' "http://127.0.0.1:$port"
}
