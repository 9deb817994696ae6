#!/usr/bin/env bash
# servers.sh - real PostgreSQL, MariaDB and Redis servers for the tests, on
# loopback, on free ports, with their data in a temporary directory.
#
# As a command:  tests/servers.sh run CMD [ARGS...]
#   starts every server it can, runs CMD with the variables below in its
#   environment, stops the servers and exits with CMD's status.
# As a library:  . tests/servers.sh; servers_start [postgres] [mysql] [redis]
#   (no names: all three); servers_stop when done (an EXIT trap is set).
#   pg_stop/pg_start, mysql_stop/mysql_start and redis_stop/redis_start
#   stop and start one server again on the same port and data, for the
#   fault tests.
#
# Exported for the tests, one per server that is up:
#   GH_TEST_POSTGRES_URL  postgresql://gatehouse:PASSWORD@127.0.0.1:PORT/postgres
#   GH_TEST_MYSQL_URL     mysql://gatehouse:PASSWORD@127.0.0.1:PORT/
#   GH_TEST_REDIS_URL     redis://default:PASSWORD@127.0.0.1:PORT/0
#   GH_TEST_POSTGRES_TLS_URL, GH_TEST_MYSQL_TLS_URL  the same servers as
#                         gatehouse_tls, a user they admit over TLS only
#   GH_TEST_TLS_CA        the CA of the servers' certificate (and
#   GH_TEST_TLS_OTHER_CA  one that signed nothing, for failing checks)
# The accounts can create databases: a test makes its own (tests run in
# parallel) and drops it at the end. Every server checks the password, so
# the tests go through real authentication.
#
# PostgreSQL refuses to run as root: it runs as the `postgres` user (or the
# caller when that is not root). Packages: postgresql, mariadb-server,
# redis-server (dist/install-deps.sh --test installs them).

SERVERS_DIR=${SERVERS_DIR:-}
SERVERS_PASSWORD=${SERVERS_PASSWORD:-}

_srv_die() { echo "servers.sh: $*" >&2; return 1; }

# Below the kernel's ephemeral range: a server that a test stops and starts
# again must find its port still free, and any client socket may take a
# port from that range meanwhile (EADDRINUSE: a flaky restart).
_srv_port() {
    local port low=32768
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    [ "$low" -gt 11024 ] 2>/dev/null || low=32768
    for _ in $(seq 1 200); do
        port=$((10000 + RANDOM % (low - 10000)))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
    done
    _srv_die "no free port"
}

# _srv_wait TRIES CMD...: until CMD succeeds, 0.1 s apart
_srv_wait() {
    local tries=$1
    shift
    for _ in $(seq 1 "$tries"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

_srv_init() {
    [ -n "$SERVERS_DIR" ] && return 0
    SERVERS_DIR=$(mktemp -d /tmp/gh-servers-XXXXXX)
    chmod 755 "$SERVERS_DIR"
    SERVERS_PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    export SERVERS_DIR SERVERS_PASSWORD
    trap servers_stop EXIT
}

# ------------------------------------------------------------ TLS
# A test CA and a server certificate for 127.0.0.1 and localhost, shared by
# PostgreSQL and MariaDB; and a second CA that signed nothing here, for
# tests that must see verification fail. Exported as GH_TEST_TLS_CA and
# GH_TEST_TLS_OTHER_CA.
_srv_tls() {
    local d=$SERVERS_DIR/tls
    export GH_TEST_TLS_CA=$d/ca.pem GH_TEST_TLS_OTHER_CA=$d/other-ca.pem
    [ -e "$d/server.pem" ] && return 0
    command -v openssl >/dev/null || { _srv_die "openssl is not installed"; return 1; }
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        for ca in ca other-ca; do
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2                 -subj "/CN=gatehouse test $ca" -keyout "$ca.key" -out "$ca.pem" || exit 1
        done
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes             -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext &&
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
                -days 2 -extfile san.ext -out server.pem
    ) >"$SERVERS_DIR/tls.log" 2>&1 || { cat "$SERVERS_DIR/tls.log" >&2; return 1; }
    chmod 644 "$d"/*.pem "$d/server.key"
}

# ------------------------------------------------------------ PostgreSQL
_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
_pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_start() {
    local bin d=$SERVERS_DIR/postgres
    bin=$(_pg_bin)
    [ -n "$bin" ] || { _srv_die "PostgreSQL is not installed (apt-get install postgresql)"; return 1; }
    if [ ! -d "$d/data" ]; then
        PG_PORT=$(_srv_port) || return 1
        mkdir -p "$d"
        [ "$(id -u)" = 0 ] && chown postgres "$d"
        echo "$SERVERS_PASSWORD" >"$d/pw" && chmod 644 "$d/pw"
        _pg_as "$bin/initdb" -D "$d/data" -U postgres --auth-local=trust \
            --auth-host=scram-sha-256 --pwfile="$d/pw" >"$d/initdb.log" 2>&1 ||
            { cat "$d/initdb.log" >&2; return 1; }
        # gatehouse_tls may only come in over TLS: a test that connects as
        # it has used TLS, or it would have been refused
        { printf 'hostssl all gatehouse_tls 127.0.0.1/32 scram-sha-256\n'
          printf 'host all gatehouse_tls 127.0.0.1/32 reject\n'
          cat "$d/data/pg_hba.conf"; } >"$d/hba" && _pg_as cp "$d/hba" "$d/data/pg_hba.conf"
        _srv_tls || return 1
        # the server key must belong to postgres and be private
        cp "$SERVERS_DIR/tls/server.pem" "$SERVERS_DIR/tls/server.key" "$d/" &&
            chmod 600 "$d/server.key" && { [ "$(id -u)" != 0 ] || chown postgres "$d/server.key"; }
    fi
    _pg_as "$bin/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $d -c fsync=off -c ssl=on -c ssl_cert_file=$d/server.pem -c ssl_key_file=$d/server.key" \
        start >/dev/null ||
        { cat "$d/server.log" >&2; return 1; }
    if [ ! -e "$d/ready" ]; then
        _pg_as "$bin/psql" -h "$d" -p "$PG_PORT" -U postgres -qAt -c \
            "CREATE ROLE gatehouse LOGIN CREATEDB PASSWORD '$SERVERS_PASSWORD'" -c \
            "CREATE ROLE gatehouse_tls LOGIN CREATEDB PASSWORD '$SERVERS_PASSWORD'" >/dev/null ||
            return 1
        touch "$d/ready"
    fi
    export PG_PORT GH_TEST_POSTGRES_URL="postgresql://gatehouse:$SERVERS_PASSWORD@127.0.0.1:$PG_PORT/postgres"
    export GH_TEST_POSTGRES_TLS_URL="postgresql://gatehouse_tls:$SERVERS_PASSWORD@127.0.0.1:$PG_PORT/postgres"
}

pg_stop() {
    [ -d "$SERVERS_DIR/postgres/data" ] || return 0
    _pg_as "$(_pg_bin)/pg_ctl" -D "$SERVERS_DIR/postgres/data" -m fast -w stop >/dev/null 2>&1 || true
}

# ------------------------------------------------------------ MariaDB
_mysql_cli() { mariadb --no-defaults -uroot -S "$SERVERS_DIR/mysql/sock" "$@"; }

mysql_start() {
    local d=$SERVERS_DIR/mysql
    command -v mariadbd >/dev/null || command -v mysqld >/dev/null ||
        { _srv_die "MariaDB is not installed (apt-get install mariadb-server)"; return 1; }
    _srv_tls || return 1
    if [ ! -d "$d/data" ]; then
        MYSQL_PORT=$(_srv_port) || return 1
        mkdir -p "$d"
        mariadb-install-db --no-defaults --datadir="$d/data" --user="$(id -un)" \
            --auth-root-authentication-method=socket --skip-test-db >"$d/install.log" 2>&1 ||
            { cat "$d/install.log" >&2; return 1; }
    fi
    "$(command -v mariadbd || command -v mysqld)" --no-defaults --datadir="$d/data" \
        --socket="$d/sock" --port="$MYSQL_PORT" --bind-address=127.0.0.1 --user="$(id -un)" \
        --pid-file="$d/pid" --log-error="$d/server.log" --skip-name-resolve \
        --innodb-flush-log-at-trx-commit=2 --innodb-buffer-pool-size=32M \
        --ssl-ca="$SERVERS_DIR/tls/ca.pem" --ssl-cert="$SERVERS_DIR/tls/server.pem" \
        --ssl-key="$SERVERS_DIR/tls/server.key" 2>>"$d/stderr.log" &
    _srv_wait 300 _mysql_cli -e "SELECT 1" || { cat "$d/server.log" >&2; return 1; }
    if [ ! -e "$d/ready" ]; then
        _mysql_cli -e "CREATE USER 'gatehouse'@'127.0.0.1' IDENTIFIED BY '$SERVERS_PASSWORD';
                       GRANT ALL PRIVILEGES ON *.* TO 'gatehouse'@'127.0.0.1';
                       CREATE USER 'gatehouse_tls'@'127.0.0.1' IDENTIFIED BY '$SERVERS_PASSWORD'
                           REQUIRE SSL;
                       GRANT ALL PRIVILEGES ON *.* TO 'gatehouse_tls'@'127.0.0.1'" || return 1
        touch "$d/ready"
    fi
    export MYSQL_PORT GH_TEST_MYSQL_URL="mysql://gatehouse:$SERVERS_PASSWORD@127.0.0.1:$MYSQL_PORT/"
    export GH_TEST_MYSQL_TLS_URL="mysql://gatehouse_tls:$SERVERS_PASSWORD@127.0.0.1:$MYSQL_PORT/"
}

mysql_stop() {
    local pid
    pid=$(cat "$SERVERS_DIR/mysql/pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------ Redis
redis_start() {
    local d=$SERVERS_DIR/redis
    command -v redis-server >/dev/null ||
        { _srv_die "Redis is not installed (apt-get install redis-server)"; return 1; }
    if [ ! -d "$d" ]; then
        REDIS_PORT=$(_srv_port) || return 1
        mkdir -p "$d"
    fi
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$d" --save '' --appendonly no \
        --requirepass "$SERVERS_PASSWORD" --pidfile "$d/pid" --logfile "$d/server.log" \
        --daemonize yes >/dev/null || return 1
    _srv_wait 100 redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$SERVERS_PASSWORD" ping ||
        { cat "$d/server.log" >&2; return 1; }
    export REDIS_PORT GH_TEST_REDIS_URL="redis://default:$SERVERS_PASSWORD@127.0.0.1:$REDIS_PORT/0"
}

redis_stop() {
    local pid
    pid=$(cat "$SERVERS_DIR/redis/pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

# ------------------------------------------------------------ all
servers_start() {
    _srv_init
    local s
    for s in "${@:-postgres mysql redis}"; do
        for s in $s; do
            case $s in
            postgres) pg_start ;;
            mysql) mysql_start ;;
            redis) redis_start ;;
            *) _srv_die "unknown server $s" ;;
            esac || { _srv_die "$s did not start"; return 1; }
        done
    done
}

servers_stop() {
    [ -n "$SERVERS_DIR" ] && [ -d "$SERVERS_DIR" ] || return 0
    pg_stop
    mysql_stop
    redis_stop
    rm -rf "$SERVERS_DIR"
    SERVERS_DIR=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -uo pipefail
    [ "${1:-}" = run ] && [ $# -ge 2 ] || { echo "usage: $0 run CMD [ARGS...]" >&2; exit 2; }
    shift
    servers_start || exit 1
    "$@"
    status=$?
    servers_stop
    exit "$status"
fi
