# backend.sh - the storage backend of a test that runs on each SQL backend.
# Sourced after lib.sh. GH_TEST_BACKEND picks it: sqlite (the default),
# postgres or mysql. On a server the test makes databases of its own
# through GH_TEST_POSTGRES_URL or GH_TEST_MYSQL_URL (tests/servers.sh sets
# them; tests run in parallel) and drops them at exit; without the URL it
# is skipped, or fails when GH_TEST_REQUIRE_SERVERS=1.
#
# Sets BACKEND and DB_TOOL (its command-line client); on a server also
# SRV_SCHEME, SRV_USER, SRV_USERINFO, SRV_PW, SRV_HOSTPORT and the file
# $TMP/db.pw: the password reaches the daemon through password_file, never
# in its config.

BACKEND=${GH_TEST_BACKEND:-sqlite}

# backend_needs VAR TOOL...: the server's URL and one of its clients, or
# skip (fail when the servers are required)
backend_needs() {
    local var=$1 tool
    shift
    if [ -z "${!var:-}" ]; then
        [ "${GH_TEST_REQUIRE_SERVERS:-}" = 1 ] &&
            { echo "FAIL: $var is not set and GH_TEST_REQUIRE_SERVERS=1" >&2; exit 1; }
        echo "SKIP: $var is not set (run under tests/servers.sh)"; exit 77
    fi
    for tool in "$@"; do command -v "$tool" >/dev/null && { DB_TOOL=$(command -v "$tool"); return 0; }; done
    echo "SKIP: no $* client"; exit 77
}

case $BACKEND in
sqlite) DB_TOOL=sqlite3 ;;
postgres) backend_needs GH_TEST_POSTGRES_URL psql ;;
mysql) backend_needs GH_TEST_MYSQL_URL mariadb mysql ;;
*) echo "GH_TEST_BACKEND: expected sqlite, postgres or mysql, got '$BACKEND'" >&2; exit 1 ;;
esac

# scheme://user:password@host:port/db, in pieces
if [ "$BACKEND" != sqlite ]; then
    [ "$BACKEND" = postgres ] && SERVER_URL=$GH_TEST_POSTGRES_URL || SERVER_URL=$GH_TEST_MYSQL_URL
    SRV_SCHEME=${SERVER_URL%%://*}
    SRV_REST=${SERVER_URL#*://}
    SRV_USERINFO=${SRV_REST%%@*}
    SRV_USER=${SRV_USERINFO%%:*}
    SRV_PW=${SRV_USERINFO#*:}
    SRV_HOSTPORT=${SRV_REST#*@}
    SRV_HOSTPORT=${SRV_HOSTPORT%%/*}
    printf '%s\n' "$SRV_PW" >"$TMP/db.pw"
    chmod 600 "$TMP/db.pw"
fi

# server_sql DB SQL: run SQL on a database of the server ("" on MySQL: none)
server_sql() {
    case $BACKEND in
    postgres) psql "$SRV_SCHEME://$SRV_USERINFO@$SRV_HOSTPORT/$1" -qAtX -v ON_ERROR_STOP=1 -c "$2" ;;
    mysql) MYSQL_PWD=$SRV_PW "$DB_TOOL" --no-defaults -N -B -u "$SRV_USER" \
        -h "${SRV_HOSTPORT%:*}" -P "${SRV_HOSTPORT##*:}" ${1:+-D "$1"} -e "$2" ;;
    esac
}

DATABASES=
DB_SEQ=0
# new_database PREFIX: a fresh, empty database for the daemons started
# after it, in DBNAME and the storage block STORAGE_YAML (both empty on
# SQLite, where each test's state directory holds its own); DB_SEQ counts
# the calls
new_database() {
    STORAGE_YAML=
    DBNAME=
    DB_SEQ=$((DB_SEQ + 1))
    [ "$BACKEND" = sqlite ] && return 0
    DBNAME="${1}_$$_$DB_SEQ"
    case $BACKEND in
    postgres) server_sql postgres "CREATE DATABASE $DBNAME" >/dev/null ;;
    mysql) server_sql "" "CREATE DATABASE $DBNAME" ;;
    esac || { echo "cannot create database $DBNAME on the $BACKEND server" >&2; exit 1; }
    DATABASES="$DATABASES $DBNAME"
    STORAGE_YAML="storage:
  plugin: $BACKEND
  options:
    url: $SRV_SCHEME://$SRV_USER@$SRV_HOSTPORT/$DBNAME
    password_file: $TMP/db.pw"
}

drop_databases() {
    local d
    for d in $DATABASES; do
        case $BACKEND in
        postgres) server_sql postgres "DROP DATABASE IF EXISTS $d WITH (FORCE)" ;;
        mysql) server_sql "" "DROP DATABASE IF EXISTS $d" ;;
        esac >/dev/null 2>&1
    done
}
# the daemon goes first: a database in use cannot be dropped
trap 'cleanup; drop_databases' EXIT
