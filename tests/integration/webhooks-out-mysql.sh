#!/bin/sh
# webhooks-out-mysql.sh - the outgoing event tests on MariaDB
# (GH_TEST_MYSQL_URL; skipped without it unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=mysql exec "$(dirname "$0")/webhooks-out.sh" "$@"
