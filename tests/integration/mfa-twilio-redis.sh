#!/bin/sh
# mfa-twilio-redis.sh - the Twilio SMS tests with Redis as kv, where the
# SMS codes, their tries and the send limits live (GH_TEST_REDIS_URL;
# skipped without it unless GH_TEST_REQUIRE_SERVERS=1).
GH_TEST_KV=redis exec "$(dirname "$0")/mfa-twilio.sh" "$@"
