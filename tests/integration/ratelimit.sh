#!/usr/bin/env bash
# ratelimit.sh - per-route rate limits (rate_limits:), on SQLite unless
# GH_TEST_BACKEND and GH_TEST_KV say otherwise (backend.sh, kv_config):
#  - the built-in limits: the sixth login a minute from one IP is 429,
#    with Retry-After and the RateLimit/RateLimit-Policy headers;
#  - a sliding window per IP (another address keeps its own count), its
#    reset once Retry-After has passed; per user; per API key;
#  - a token bucket's burst, then one request per interval;
#  - the headers on allowed requests of a limited route, none elsewhere;
#  - with a shared kv (a SQL server or Redis), two daemons count against
#    one limit;
#  - a bad limit stops the config check with a clear message.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
ctl_client
kv_config ratelimit
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Ratelimit-Pass-4242'

# short windows keep the test fast; login overrides a built-in limit
LIMITS='
  login: { limit: 3, window: 4s }
  me:
    routes: "GET /api/v1/users/me"
    key: user
    limit: 2
    window: 10s
  listing:
    routes: [ "GET /api/v1/users" ]
    key: key
    limit: 2
    window: 10s
  devices:
    routes: "GET /api/v1/users/me/sessions"
    key: user
    algorithm: token_bucket
    limit: 1
    window: 3s
    burst: 3
  history:
    routes: "GET /api/v1/users/me/login-history"
    key: user
    limit: 3
    window: 1h'

# write_config FILE LIMITS: the test's config with rate_limits: LIMITS
# (empty: the built-in ones)
write_config() {
    {
        base_config rate_limits="$2"
        printf '%s\n%s\n' "$STORAGE_YAML" "$KV_YAML"
    } >"$1"
}

new_database gh_ratelimit
write_config "$CFG" ''
ctl migrate up
ctl user create --email boss@example.com --admin --password-stdin <<<"$PW"
ctl user create --email ann@example.com --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0
trap 'cleanup; drop_databases' EXIT

login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"}" "${@:2}"; AT=$(j .access_token); }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }

# ---------------------------------------------------------------- built-in limits
check "daemon starts with the built-in limits" start_daemon "$CFG" "$TMP/daemon.log"
codes=
for _ in 1 2 3 4 5; do login ann@example.com; codes="$codes $CODE"; done
equals "five logins a minute from one IP pass" "$codes" " 200 200 200 200 200"
equals "... each with the login policy" "$(hdr RateLimit-Policy)" '"login";q=5;w=60'
contains "... and what is left" "$(hdr RateLimit)" '"login";r=0;t='
login ann@example.com
equals "the sixth is 429 rate_limited, in problem+json" \
    "$CODE $(j .code) $(hdr Content-Type)" "429 rate_limited application/problem+json"
ra=$(hdr Retry-After)
check "... with a Retry-After within two windows ($ra s)" test "$ra" -ge 1 -a "$ra" -le 120
equals "... and the headers" "$(hdr RateLimit-Policy) $(hdr RateLimit)" "\"login\";q=5;w=60 \"login\";r=0;t=$ra"
login ann@example.com --interface 127.0.0.2
equals "another client address has its own count" "$CODE" 200
req GET /health
equals "a route without a limit has no RateLimit header" "$CODE '$(hdr RateLimit)'" "200 ''"
stop_daemon

# ---------------------------------------------------------------- configured limits
write_config "$CFG" "$LIMITS"
check "daemon starts with configured limits" start_daemon "$CFG" "$TMP/daemon.log"
FIRST_PORT=$PORT
# the tokens from another address, so that the logins below start afresh
login boss@example.com --interface 127.0.0.4
BOSS=$AT
login ann@example.com --interface 127.0.0.4
ANN=$AT
codes=
for _ in 1 2 3 4; do login ann@example.com; codes="$codes $CODE"; done
equals "the overridden login limit: the fourth in 4 s is refused" "$codes" " 200 200 200 429"
equals "... under its own policy" "$(hdr RateLimit-Policy)" '"login";q=3;w=4'
ra=$(hdr Retry-After)
check "... for less than two windows ($ra s)" test "$ra" -ge 1 -a "$ra" -le 8
sleep "$ra"
login ann@example.com
equals "once Retry-After has passed, a login passes again" "$CODE" 200

as "$ANN" req GET /api/v1/users/me
as "$ANN" req GET /api/v1/users/me
equals "per user: ann's second read passes, none left" "$CODE $(hdr RateLimit | cut -d';' -f1,2)" '200 "me";r=0'
as "$ANN" req GET /api/v1/users/me
equals "... her third is refused" "$CODE $(j .code)" "429 rate_limited"
as "$BOSS" req GET /api/v1/users/me
equals "... the boss, same IP, has his own count" "$CODE $(hdr RateLimit | cut -d';' -f1,2)" '200 "me";r=1'

as "$BOSS" post_json /api/v1/integrations '{"name":"one","type":"custom","permissions":["users:read"]}'
KEY1=$(j .api_key)
as "$BOSS" post_json /api/v1/integrations '{"name":"two","type":"custom","permissions":["users:read"]}'
KEY2=$(j .api_key)
codes=
for _ in 1 2 3; do req GET /api/v1/users -H "X-API-Key: $KEY1"; codes="$codes $CODE"; done
equals "per key: the third call with one key is refused" "$codes" " 200 200 429"
req GET /api/v1/users -H "X-API-Key: $KEY2"
equals "... another key has its own count" "$CODE" 200
as "$BOSS" req GET /api/v1/users
equals "... a user token there is counted by its IP" "$CODE $(hdr RateLimit | cut -d';' -f1,2)" '200 "listing";r=1'

codes=
for _ in 1 2 3 4; do as "$BOSS" req GET /api/v1/users/me/sessions; codes="$codes $CODE"; done
equals "token bucket: a burst of 3, then 429" "$codes" " 200 200 200 429"
ra=$(hdr Retry-After)
equals "... its policy names the burst" "$(hdr RateLimit-Policy)" '"devices";q=3;w=3'
check "... the next token within the interval ($ra s)" test "$ra" -ge 1 -a "$ra" -le 3
sleep "$ra"
as "$BOSS" req GET /api/v1/users/me/sessions
equals "... a token later, one more" "$CODE" 200
as "$BOSS" req GET /api/v1/users/me/sessions
equals "... and no second" "$CODE" 429

# ---------------------------------------------------------------- two daemons, one limit
if [ "$BACKEND" != sqlite ] || [ -n "$KV_YAML" ]; then
    FIRST_PID=$PID
    check "a second daemon starts on the same store" start_daemon "$CFG" "$TMP/daemon2.log"
    SECOND_PID=$PID
    PORT=$FIRST_PORT
    as "$BOSS" req GET /api/v1/users/me/login-history
    equals "one read on the first daemon" "$CODE" 200
    PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$TMP/daemon2.log" | head -n 1)
    as "$BOSS" req GET /api/v1/users/me/login-history
    as "$BOSS" req GET /api/v1/users/me/login-history
    equals "the second daemon counts the first's: none left after three" "$CODE $(hdr RateLimit | cut -d';' -f1,2)" \
        '200 "history";r=0'
    as "$BOSS" req GET /api/v1/users/me/login-history
    equals "... and refuses the fourth" "$CODE $(j .code)" "429 rate_limited"
    kill -TERM "$SECOND_PID"; wait "$SECOND_PID"
    PID=$FIRST_PID PORT=$FIRST_PORT
fi
lacks "no API key in the log" "$(cat "$TMP/daemon.log")" "$KEY1"
stop_daemon

# ---------------------------------------------------------------- config errors
bad() {
    write_config "$TMP/bad.yaml" "$2"
    out=$("$GATEHOUSED" -t -c "$TMP/bad.yaml" 2>&1)
    contains "$1" "$out" "$3"
}
bad "an unknown key kind is refused" '{ x: { routes: "/a", limit: 1, key: cookie } }' \
    "rate_limits.x.key: expected ip, user, key or client"
bad "a window under a second is refused" '{ login: { window: 500ms } }' \
    "rate_limits.login.window: expected a duration in 1s..1d"
bad "a new limit needs routes" '{ x: { limit: 1 } }' "rate_limits.x: needs routes and limit"
finish
