#!/bin/sh
# onboard-postgres.sh - the onboarding tests on PostgreSQL (GH_TEST_POSTGRES_URL;
# skipped without it unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=postgres exec "$(dirname "$0")/onboard.sh" "$@"
