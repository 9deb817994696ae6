#!/usr/bin/env bash
# run.sh - the load benchmark for accounts, tokens and sessions (issue 3).
#
# One command, one table: requests/s and p50/p99 latency of gatehoused's
# hot paths next to a bare evhttp server on the same machine (the ceiling),
# permission checks (issue 12), the login rate next to what the cores can
# hash, sign-ins' TOTP second steps (issue 13), /users/me latency during a
# login flood, and the daemon's resident memory. bench/README.md says what each figure means and which goal it
# answers.
#
# Usage: bench/run.sh [BUILDDIR]      (default ./build/check)
# BUILDDIR holds a built gatehoused and plugins/.libs. Needs wrk, curl, a C
# compiler, pkg-config, and the libevent and libargon2 development files.
# Knobs (environment): BENCH_DURATION (seconds per run, 10), BENCH_THREADS
# (wrk threads, 2), BENCH_CONNS (wrk connections, 32), BENCH_KEEP=1 to keep
# the temporary directory (config, daemon log, raw wrk output),
# BENCH_BACKEND=sqlite|postgres|mysql (the SQL store; postgres and mysql
# need GH_TEST_POSTGRES_URL or GH_TEST_MYSQL_URL, as tests/servers.sh sets
# them: bench/backends.sh runs all three and puts them side by side),
# BENCH_MFA_USERS (users with a TOTP factor, one verify each, 1000),
# BENCH_KV=redis (kv on the Redis server at GH_TEST_REDIS_URL; default: the
# SQL store's kv table).

# shellcheck disable=SC2154 # the R_<run> results are set by parse() with printf -v
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh" "${1:-}"
DURATION=${BENCH_DURATION:-10}
CORES=$(nproc)
# the custom role's permissions: invoice:<action>; a single check asks for
# the first, the batch for all of them
AUTHZ_ACTIONS=(read write pay approve export)
# one mfa/verify request per user: each needs two argon2id hashes to set up
MFA_USERS=${BENCH_MFA_USERS:-1000}

for tool in cc pkg-config; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
pkg-config --exists libevent libevent_pthreads ||
    die "libevent development files not found (Debian/Ubuntu: apt-get install libevent-dev)"
pkg-config --exists libargon2 ||
    die "libargon2 development files not found (Debian/Ubuntu: apt-get install libargon2-dev)"

# ------------------------------------------------------------------ 1, 2: bare
echo "bench: building bare and hashrate" >&2
# shellcheck disable=SC2046 # pkg-config's output is meant to be split
cc $(pkg-config --cflags libevent libevent_pthreads) -pthread -O2 -o "$TMP/bare" \
    "$SRC/bench/bare.c" $(pkg-config --libs libevent libevent_pthreads)
# shellcheck disable=SC2046
cc $(pkg-config --cflags libargon2) -pthread -O2 -o "$TMP/hashrate" \
    "$SRC/bench/hashrate.c" $(pkg-config --libs libargon2)

BARE_PORT=$(free_port)
"$TMP/bare" "$BARE_PORT" "$CORES" 2>"$TMP/bare.log" &
BARE_PID=$!
PIDS+=("$BARE_PID")
wait_up "http://127.0.0.1:$BARE_PORT/" "$BARE_PID" "$TMP/bare.log"
# measured before and after /users/me, which is compared with the mean: on
# a shared machine the ceiling drifts by more than the goal's margin
echo "bench: bare evhttp, $CORES loops" >&2
bench bare1 "http://127.0.0.1:$BARE_PORT/" get.lua

# ------------------------------------------------------------------ 3: gatehoused
gatehoused_start
RSS_START=$(rss_mb "$GH_PID")

# ------------------------------------------------------------------ 4: a user
REFRESH_TOKENS=$((2 * WRK_CONNS)) # spares: see lua/refresh.lua
user_signup
echo "bench: signed up $BENCH_EMAIL; logging in $((REFRESH_TOKENS + 1)) times" >&2
ACCESS=$(post /api/v1/auth/login "$LOGIN" | field access_token)
[ -n "$ACCESS" ] || die "login returned no access_token"
export BENCH_TOKEN=$ACCESS
refresh_tokens "$REFRESH_TOKENS" "$TMP/refresh-tokens"
export BENCH_REFRESH_FILE="$TMP/refresh-tokens" BENCH_PER_THREAD=$((REFRESH_TOKENS / WRK_THREADS))

# ------------------------------------------------------------------ 4: a role to check
# A second user, so that the first one's token and profile stay as they
# were before roles: it holds a custom role, set up by the admin, that
# grants invoice:<each of AUTHZ_ACTIONS>.
echo "bench: a role with ${#AUTHZ_ACTIONS[@]} permissions for a second user" >&2
admin_login
AS_ADMIN=(-H "Authorization: Bearer $BENCH_ADMIN_TOKEN")
RESOURCE=$(post /api/v1/resources '{"name":"invoice"}' "${AS_ADMIN[@]}" | field id)
ROLE=$(post /api/v1/roles '{"name":"bench"}' "${AS_ADMIN[@]}" | field id)
CHECK_ALL=()
for action in "${AUTHZ_ACTIONS[@]}"; do
    PERMISSION=$(post /api/v1/permissions "{\"resource_type_id\":\"$RESOURCE\",\"action\":\"$action\"}" \
        "${AS_ADMIN[@]}" | field id)
    post "/api/v1/roles/$ROLE/permissions/$PERMISSION" '' "${AS_ADMIN[@]}" >/dev/null
    CHECK_ALL+=("invoice:$action")
done
AUTHZ_LOGIN="{\"email\":\"authz-$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}"
AUTHZ_USER=$(post /api/v1/auth/signup "$AUTHZ_LOGIN" | field id)
post "/api/v1/users/$AUTHZ_USER/roles/$ROLE" '' "${AS_ADMIN[@]}" >/dev/null
AUTHZ_TOKEN=$(post /api/v1/auth/login "$AUTHZ_LOGIN" | field access_token)
[ -n "$AUTHZ_TOKEN" ] || die "login returned no access_token"
export BENCH_AUTHZ_TOKEN=$AUTHZ_TOKEN

# ------------------------------------------------------------------ 4: an OAuth client
echo "bench: an OAuth client for client_credentials grants" >&2
CLIENT=$(post /api/v1/clients '{"name":"bench","scopes":["bench"]}' "${AS_ADMIN[@]}")
BENCH_CLIENT_BASIC=$(printf '%s:%s' "$(printf '%s' "$CLIENT" | field client_id)" \
    "$(printf '%s' "$CLIENT" | field client_secret)" | base64 -w0)
export BENCH_CLIENT_BASIC

# ------------------------------------------------------------------ 4: an API key
echo "bench: an integration with an API key holding users:read" >&2
BENCH_KEY=$(post /api/v1/integrations '{"name":"bench","type":"custom","permissions":["users:read"]}' \
    "${AS_ADMIN[@]}" | field api_key)
[ -n "$BENCH_KEY" ] || die "no API key"

# limits_every_route on|off: reload gatehoused with a limit on every route
# (per user, else per IP; never reached) or with none, and wait until the
# RateLimit header says it took effect
limits_every_route() {
    cp "$TMP/gatehouse-base.yaml" "$TMP/gatehouse.yaml"
    if [ "$1" = on ]; then
        echo 'rate_limits: [{name: all, routes: "*", key: user, limit: 1000000000, window: 1m}]'
    else
        echo 'rate_limits: []'
    fi >>"$TMP/gatehouse.yaml"
    kill -HUP "$GH_PID"
    for _ in $(seq 1 100); do
        if curl -sSi -H "Authorization: Bearer $BENCH_TOKEN" "$URL/api/v1/users/me" |
            grep -qi '^RateLimit-Policy'; then
            [ "$1" = on ] && return 0
        else
            [ "$1" = off ] && return 0
        fi
        sleep 0.1
    done
    die "the reload did not turn rate limits $1"
}

# ------------------------------------------------------------------ 5: the runs
echo "bench: GET /api/v1/users/me" >&2
bench me "$URL/api/v1/users/me" get.lua
echo "bench: GET /api/v1/users/{id} with an API key" >&2
BENCH_TOKEN=$BENCH_KEY bench apikey "$URL/api/v1/users/$AUTHZ_USER" get.lua
echo "bench: the same two with a rate limit on every route" >&2
limits_every_route on
bench me_rl "$URL/api/v1/users/me" get.lua
BENCH_TOKEN=$BENCH_KEY bench apikey_rl "$URL/api/v1/users/$AUTHZ_USER" get.lua
limits_every_route off
echo "bench: bare evhttp again" >&2
bench bare2 "http://127.0.0.1:$BARE_PORT/" get.lua
kill "$BARE_PID"
wait "$BARE_PID" 2>/dev/null || true
echo "bench: POST /api/v1/authz/check, 1 and ${#CHECK_ALL[@]} permissions" >&2
export BENCH_CHECK=${CHECK_ALL[0]}
bench authz "$URL/api/v1/authz/check" authz.lua
export BENCH_CHECK="${CHECK_ALL[*]}"
bench authz_batch "$URL/api/v1/authz/check" authz.lua
echo "bench: POST /oauth2/introspect" >&2
bench introspect "$URL/oauth2/introspect" introspect.lua
echo "bench: POST /oauth2/token (client_credentials grants)" >&2
bench client_credentials "$URL/oauth2/token" client_credentials.lua

# ------------------------------------------------------------------ 6: logins and the hash ceiling
# the ceiling is measured just before and just after the logins, which are
# compared with the mean, as /users/me is with bare's
hashrate() {
    sleep 2 # logins still queued when wrk stopped must not share the cores
    echo "bench: argon2id on $CORES threads" >&2
    "$TMP/hashrate" 5 "$CORES" "$ARGON2_M" "$ARGON2_T" "$ARGON2_P" | awk '{ print $2 }'
}
HASHES1=$(hashrate)
echo "bench: POST /api/v1/auth/login" >&2
bench login "$URL/api/v1/auth/login" login.lua
HASHES2=$(hashrate)
HASHES=$(awk -v a="$HASHES1" -v b="$HASHES2" 'BEGIN { printf "%.1f", (a + b) / 2 }')

# after the hashing: the WAL checkpoints that follow its writes would
# share the cores with the first hashrate run
echo "bench: POST /oauth2/token (refresh grants)" >&2
bench refresh "$URL/oauth2/token" refresh.lua

# ------------------------------------------------------------------ 7: TOTP second steps
# Set up through the API (lua/mfa_verify.lua and mfa_users.py say why this
# way), after the hashing runs and the refreshes: the set-up hashes too.
echo "bench: $MFA_USERS users with a TOTP factor and an mfa_token each" >&2
python3 "$SRC/bench/mfa_users.py" "$URL" "$MFA_USERS" "$BENCH_PASSWORD" "mfa-$$-$RANDOM" \
    "$TMP/mfa-tokens" || die "the mfa/verify set-up failed"
sleep 2 # sign-ins still being written must not share the cores
echo "bench: POST /api/v1/auth/mfa/verify (TOTP)" >&2
BENCH_MFA_FILE="$TMP/mfa-tokens" BENCH_PER_THREAD=$(((MFA_USERS + WRK_THREADS - 1) / WRK_THREADS)) \
    bench mfa "$URL/api/v1/auth/mfa/verify" mfa_verify.lua

# ------------------------------------------------------------------ 8: p99 under a login flood
# The flood starts first and outlasts the measured run, so every /users/me
# request meets busy hashing workers.
echo "bench: GET /api/v1/users/me during a login flood" >&2
wrk -t1 -c"$WRK_CONNS" -d"$((DURATION + 4))s" --timeout 10s -s "$BENCH_LUA/login.lua" \
    "$URL/api/v1/auth/login" >"$TMP/wrk-flood.txt" 2>&1 &
FLOOD_PID=$!
PIDS+=("$FLOOD_PID")
sleep 2
bench me_flood "$URL/api/v1/users/me" get.lua
wait "$FLOOD_PID" || { cat "$TMP/wrk-flood.txt" >&2; die "the login flood failed"; }
parse flood "$TMP/wrk-flood.txt"

# ------------------------------------------------------------------ 9: memory
# idle again: threads give back their caches after a second without work
# and malloc is trimmed at the next idle check after that, so a measure at
# 2 s sometimes came just before the trim (50 MB instead of 12)
sleep 4
RSS_END=$(rss_mb "$GH_PID")
kill -0 "$GH_PID" 2>/dev/null || die "gatehoused died during the runs; see its log"

# ------------------------------------------------------------------ the table
read -r BARE1_RPS _ <<<"$R_bare1"
read -r BARE2_RPS _ <<<"$R_bare2"
BARE_RPS=$(awk -v a="$BARE1_RPS" -v b="$BARE2_RPS" 'BEGIN { printf "%.0f", (a + b) / 2 }')
# verdict AWK-CONDITION [awk -v assignments...]: "ok" or "MISSED"
verdict() {
    local cond=$1
    shift
    if awk "$@" "BEGIN { exit !($cond) }"; then echo "ok"; else echo "MISSED"; fi
}

echo
echo "Gatehouse benchmark on $BACKEND: $CORES cores; wrk $WRK_THREADS threads, $WRK_CONNS connections, ${DURATION}s a run"
echo "\"of bare\": of $BARE_RPS req/s, the mean of bare's two runs (the ceiling)"
printf '%-30s %9s %9s %9s %8s   %s\n' "" "req/s" "p50 ms" "p99 ms" "of bare" "goal"
# row LABEL RESULT [GOAL-TEXT AWK-CONDITION on rps and pct]
row() {
    local rps p50 p99 bad err pct goal="" note=""
    read -r rps p50 p99 bad err <<<"$2"
    pct=$(awk -v r="$rps" -v b="$BARE_RPS" 'BEGIN { printf "%.0f", 100 * r / b }')
    if [ $# -ge 4 ]; then
        goal="$3: $(verdict "$4" -v rps="$rps" -v pct="$pct")"
    fi
    if [ "$bad" -gt 0 ]; then note="  !! $bad non-2xx or wrong answers"; fi
    if [ "$err" -gt 0 ]; then note="$note  !! $err socket errors"; fi
    printf '%-30s %9s %9s %9s %7s%%   %s%s\n' "$1" "$rps" "$p50" "$p99" "$pct" "$goal" "$note"
}
row "bare evhttp, before" "$R_bare1"
row "GET  /api/v1/users/me" "$R_me" ">= 70% of bare" "pct >= 70"
row "GET  /api/v1/users/{id}, API key" "$R_apikey" ">= 70% of bare" "pct >= 70"
row "  the same, rate limited" "$R_apikey_rl"
row "GET  /api/v1/users/me, rate limited" "$R_me_rl"
row "bare evhttp, after" "$R_bare2"
row "POST /api/v1/authz/check" "$R_authz" ">= 60% of bare" "pct >= 60"
row "POST /api/v1/authz/check x${#CHECK_ALL[@]}" "$R_authz_batch" ">= 60% of bare" "pct >= 60"
row "POST /oauth2/introspect" "$R_introspect"
row "POST /oauth2/token refresh" "$R_refresh" ">= 5000/s" "rps >= 5000"
row "POST /oauth2/token client_cred" "$R_client_credentials" ">= 5000/s" "rps >= 5000"
row "POST /api/v1/auth/mfa/verify" "$R_mfa" ">= 5000/s" "rps >= 5000"
row "POST /api/v1/auth/login" "$R_login"

read -r LOGIN_RPS _ <<<"$R_login"
LOGIN_PCT=$(awk -v l="$LOGIN_RPS" -v h="$HASHES" 'BEGIN { printf "%.0f", 100 * l / h }')
echo
printf 'argon2id ceiling (m=%s KiB, t=%s, p=%s, %s threads): %s hashes/s (%s before the logins, %s after)\n' \
    "$ARGON2_M" "$ARGON2_T" "$ARGON2_P" "$CORES" "$HASHES" "$HASHES1" "$HASHES2"
printf 'logins: %s/s = %s%% of it (goal >= 90%%: %s)\n' "$LOGIN_RPS" "$LOGIN_PCT" \
    "$(verdict "p >= 90" -v p="$LOGIN_PCT")"

read -r _ _ IDLE_P99 _ <<<"$R_me"
read -r FL_RPS _ FL_P99 FL_BAD FL_ERR <<<"$R_me_flood"
read -r FLOOD_RPS _ _ FLOOD_BAD _ <<<"$R_flood"
RATIO=$(awk -v f="$FL_P99" -v i="$IDLE_P99" 'BEGIN { printf "%.1f", f / (i > 0 ? i : 0.001) }')
printf '/users/me p99: idle %s ms; during a login flood (%s logins/s) %s ms at %s req/s: %sx (goal <= 3x: %s)\n' \
    "$IDLE_P99" "$FLOOD_RPS" "$FL_P99" "$FL_RPS" "$RATIO" "$(verdict "r <= 3" -v r="$RATIO")"
if [ "$FL_BAD" -gt 0 ] || [ "$FL_ERR" -gt 0 ] || [ "$FLOOD_BAD" -gt 0 ]; then
    echo "  !! errors during the flood: /users/me $FL_BAD non-2xx, $FL_ERR socket errors; logins $FLOOD_BAD non-2xx"
fi

# what a limit on every route costs: the rate limited runs against the same
# runs without
rl_cost() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { printf "%.0f", 100 * (1 - b / a) }'; }
RL_ME=$(rl_cost "$R_me" "$R_me_rl") RL_KEY=$(rl_cost "$R_apikey" "$R_apikey_rl")
printf 'a rate limit on every route costs: /users/me %s%%, API key GET %s%% of their req/s (goal <= 10%%: %s)\n' \
    "$RL_ME" "$RL_KEY" "$(verdict "m <= 10 && k <= 10" -v m="$RL_ME" -v k="$RL_KEY")"

printf 'gatehoused RSS: %s MB after start-up, %s MB idle after the runs (goal <= 16 MB: %s)\n' \
    "$RSS_START" "$RSS_END" "$(verdict "s <= 16 && e <= 16" -v s="$RSS_START" -v e="$RSS_END")"

# one line for bench/backends.sh
printf 'summary %s bare=%s me=%s apikey=%s me_rl=%s apikey_rl=%s cc=%s authz=%s introspect=%s refresh=%s mfa=%s login=%s flood_p99x=%s rss_start=%s rss_end=%s\n' \
    "$BACKEND${BENCH_KV:++$BENCH_KV}" "$BARE_RPS" "${R_me%% *}" "${R_apikey%% *}" "${R_me_rl%% *}" \
    "${R_apikey_rl%% *}" "${R_client_credentials%% *}" "${R_authz%% *}" "${R_introspect%% *}" "${R_refresh%% *}" "${R_mfa%% *}" \
    "$LOGIN_RPS" "$RATIO" "$RSS_START" "$RSS_END"
