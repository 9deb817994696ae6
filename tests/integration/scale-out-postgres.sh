#!/bin/sh
# scale-out-postgres.sh - the two-instance cache tests on PostgreSQL + Redis
# (GH_TEST_POSTGRES_URL, GH_TEST_REDIS_URL; skipped without them unless
# GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=postgres exec "$(dirname "$0")/scale-out.sh" "$@"
