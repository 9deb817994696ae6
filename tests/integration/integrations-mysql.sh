#!/bin/sh
# integrations-mysql.sh - the integration and API key tests on
# MariaDB (GH_TEST_MYSQL_URL; skipped without it unless
# GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=mysql exec "$(dirname "$0")/integrations.sh" "$@"
