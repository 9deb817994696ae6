#!/bin/sh
# webhooks-out-postgres.sh - the outgoing event tests on PostgreSQL with
# Redis as kv (GH_TEST_POSTGRES_URL, GH_TEST_REDIS_URL; skipped without
# them unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=postgres GH_TEST_KV=redis exec "$(dirname "$0")/webhooks-out.sh" "$@"
