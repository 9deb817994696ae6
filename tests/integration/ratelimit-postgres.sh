#!/bin/sh
# ratelimit-postgres.sh - the rate limit tests on PostgreSQL with Redis as
# kv, where two daemons share one limit (GH_TEST_POSTGRES_URL and
# GH_TEST_REDIS_URL; skipped without them unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=postgres GH_TEST_KV=redis exec "$(dirname "$0")/ratelimit.sh" "$@"
