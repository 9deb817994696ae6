#!/bin/sh
# clients-mysql.sh - the OAuth client tests on MariaDB (GH_TEST_MYSQL_URL;
# skipped without it unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=mysql exec "$(dirname "$0")/clients.sh" "$@"
