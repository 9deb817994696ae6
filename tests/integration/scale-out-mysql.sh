#!/bin/sh
# scale-out-mysql.sh - the two-instance cache tests on MariaDB + Redis
# (GH_TEST_MYSQL_URL, GH_TEST_REDIS_URL; skipped without them unless
# GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=mysql exec "$(dirname "$0")/scale-out.sh" "$@"
