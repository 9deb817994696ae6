#!/usr/bin/env bash
# backend-tls.sh - gatehoused talks to PostgreSQL and MariaDB over verified
# TLS. tests/servers.sh runs both with a certificate from a test CA and
# makes a user (gatehouse_tls) that the servers admit over TLS only, so a
# daemon that signs users up as that user has used TLS. Checked:
#  - verify-full (PostgreSQL) and verify (MariaDB) against the right CA:
#    the daemon starts, signs up and reads back a user, and the server
#    reports the daemon's sessions as encrypted;
#  - the same with a CA that did not sign the server's certificate: the
#    daemon refuses to start, says why, and logs no password;
#  - TLS switched off for the TLS-only user: refused (so the positive
#    cases above prove TLS was in use, not merely allowed).
# Skipped without the servers' URLs, unless GH_TEST_REQUIRE_SERVERS=1.
set -u
. "$(dirname "$0")/lib.sh"

for var in GH_TEST_POSTGRES_TLS_URL GH_TEST_MYSQL_TLS_URL GH_TEST_TLS_CA GH_TEST_TLS_OTHER_CA; do
    [ -n "${!var:-}" ] && continue
    [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: $var is not set"; exit 1; }
    echo "SKIP: $var is not set (run under tests/servers.sh)"; exit 77
done
MYSQL_CLI=$(command -v mariadb || command -v mysql)
for tool in jq psql "$MYSQL_CLI"; do
    command -v "$tool" >/dev/null && continue
    [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] && { echo "FAIL: $tool not found"; exit 1; }
    echo "SKIP: $tool not found"; exit 77
done

# URL pieces: the password reaches the daemon through password_file only
split_url() { # URL -> SCHEME USER PW HOSTPORT
    local rest=${1#*://}
    SCHEME=${1%%://*}
    USERINFO=${rest%%@*}
    USER_=${USERINFO%%:*}
    PW=${USERINFO#*:}
    HOSTPORT=${rest#*@}
    HOSTPORT=${HOSTPORT%%/*}
}

DBNAME="gh_tls_$$"
cleanup_dbs() {
    split_url "$GH_TEST_POSTGRES_TLS_URL"
    psql "${GH_TEST_POSTGRES_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $DBNAME" >/dev/null 2>&1
    "$MYSQL_CLI" --no-defaults -h"${HOSTPORT%:*}" -P"${HOSTPORT##*:}" -u"$USER_" -p"$PW" \
        --ssl-ca="$GH_TEST_TLS_CA" -e "DROP DATABASE IF EXISTS $DBNAME" >/dev/null 2>&1
}
trap 'cleanup_dbs; cleanup' EXIT

# config BACKEND TLS-OPTIONS...: a config on that backend's TLS-only user
config() {
    local backend=$1 url
    shift
    [ "$backend" = postgres ] && url=$GH_TEST_POSTGRES_TLS_URL || url=$GH_TEST_MYSQL_TLS_URL
    split_url "$url"
    printf '%s\n' "$PW" >"$TMP/db.pw"
    chmod 600 "$TMP/db.pw"
    mkdir -p "$TMP/state"
    {
        base_config threads=1
        cat <<YAML
storage:
  plugin: $backend
  options:
    url: $SCHEME://$USER_@$HOSTPORT/$DBNAME
    password_file: $TMP/db.pw
    connect_timeout: 3s
YAML
        for opt in "$@"; do printf '    %s\n' "$opt"; done
    } >"$TMP/gh.yaml"
}

# refused NAME: gatehoused must exit non-zero within 20 s, saying why
refused() {
    "$GATEHOUSED" -c "$TMP/gh.yaml" 2>"$TMP/refused.log" &
    local pid=$! status=
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; status=$?; break; }
        grep -q ' ready: ' "$TMP/refused.log" && break
        sleep 0.1
    done
    [ -z "$status" ] && { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; status=0; }
    check "$1: gatehoused refuses to start" test "$status" -ne 0
    lacks "$1: ... and logs no password" "$(cat "$TMP/refused.log")" "$PW"
}

# serves NAME: start, sign a user up, read it back, stop cleanly
serves() {
    check "$1: gatehoused starts" start_daemon "$TMP/gh.yaml" "$TMP/$1.log" || return 1
    http POST /api/v1/auth/signup -H 'Content-Type: application/json' -H 'Expect:' \
        --data-binary "{\"email\":\"tls-$1@example.com\",\"password\":\"Tls-test-pw-4821\"}"
    equals "$1: signup works" "$CODE" "201"
    local at
    at=$(printf '%s' "$OUT" | sed '1,/^\r$/d' | jq -r .access_token)
    http GET /api/v1/users/me -H "Authorization: Bearer $at"
    equals "$1: the user reads back" "$CODE" "200"
}

# ---------------------------------------------------------------- PostgreSQL
psql "${GH_TEST_POSTGRES_TLS_URL%/*}/postgres?sslmode=require" -qc "CREATE DATABASE $DBNAME" >/dev/null ||
    not_ok "create the PostgreSQL database"
check "PostgreSQL refuses gatehouse_tls without TLS" \
    sh -c "! psql '${GH_TEST_POSTGRES_TLS_URL%/*}/$DBNAME?sslmode=disable' -qc 'SELECT 1' 2>/dev/null"

config postgres "sslmode: verify-full" "sslrootcert: $GH_TEST_TLS_CA"
serves pg-verify-full
# asked as gatehouse_tls itself: other users' sessions show no TLS details
encrypted=$(psql "${GH_TEST_POSTGRES_TLS_URL%/*}/postgres?sslmode=require" -qAt -c \
    "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
     WHERE a.datname = '$DBNAME' AND a.usename = 'gatehouse_tls' AND s.ssl
       AND a.pid <> pg_backend_pid()")
check "PostgreSQL reports the daemon's sessions as TLS ($encrypted)" test "${encrypted:-0}" -ge 1
stop_daemon
equals "pg-verify-full: stops cleanly" "$STATUS" "0"

config postgres "sslmode: verify-full" "sslrootcert: $GH_TEST_TLS_OTHER_CA"
refused pg-wrong-ca
contains "pg-wrong-ca: the log says the certificate failed" "$(cat "$TMP/refused.log")" "certificate verify failed"

config postgres "sslmode: disable"
refused pg-no-tls

# ---------------------------------------------------------------- MariaDB
split_url "$GH_TEST_MYSQL_TLS_URL"
"$MYSQL_CLI" --no-defaults -h"${HOSTPORT%:*}" -P"${HOSTPORT##*:}" -u"$USER_" -p"$PW" \
    --ssl-ca="$GH_TEST_TLS_CA" -e "CREATE DATABASE $DBNAME CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" ||
    not_ok "create the MariaDB database"
check "MariaDB refuses gatehouse_tls without TLS" \
    sh -c "! '$MYSQL_CLI' --no-defaults -h'${HOSTPORT%:*}' -P'${HOSTPORT##*:}' -u'$USER_' -p'$PW' --skip-ssl -e 'SELECT 1' 2>/dev/null"

rm -rf "$TMP/state"
config mysql "tls: verify" "ca_file: $GH_TEST_TLS_CA"
serves my-verify
stop_daemon
equals "my-verify: stops cleanly" "$STATUS" "0"

config mysql "tls: verify" "ca_file: $GH_TEST_TLS_OTHER_CA"
refused my-wrong-ca
contains "my-wrong-ca: the log says TLS failed" "$(cat "$TMP/refused.log")" "TLS/SSL error"

config mysql "tls: off"
refused my-no-tls

finish
