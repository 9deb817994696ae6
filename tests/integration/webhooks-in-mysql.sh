#!/bin/sh
# webhooks-in-mysql.sh - the incoming webhook tests on MariaDB/MySQL
# (GH_TEST_MYSQL_URL; skipped without it unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=mysql exec "$(dirname "$0")/webhooks-in.sh" "$@"
