#!/bin/sh
# onboard-oci-postgres.sh - the OCI onboarding tests on PostgreSQL, with two
# daemons sharing the store (GH_TEST_POSTGRES_URL; skipped without it
# unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_BACKEND=postgres exec "$(dirname "$0")/onboard-oci.sh" "$@"
