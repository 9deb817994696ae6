#!/bin/sh
# encryption-mysql.sh - the encryption-at-rest tests on MySQL/MariaDB (GH_TEST_MYSQL_URL;
# skipped without it unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=mysql exec "$(dirname "$0")/encryption.sh" "$@"
