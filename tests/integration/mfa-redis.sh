#!/bin/sh
# mfa-redis.sh - the second-factor tests with Redis as kv (GH_TEST_REDIS_URL;
# skipped without it unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_KV=redis exec "$(dirname "$0")/mfa.sh" "$@"
