#!/usr/bin/env bash
# metrics.sh - who may read /metrics (server.metrics): with a token only a
# request carrying it; without one only this machine, unless public.
set -u
. "$(dirname "$0")/lib.sh"

TOKEN=scraper-SECRET-0123456789abcdef
printf '%s\n' "$TOKEN" >"$TMP/metrics-token"
chmod 600 "$TMP/metrics-token"

base_config server=$'metrics:\n  token_file: '"$TMP/metrics-token" >"$TMP/token.yaml"
start_daemon "$TMP/token.yaml" "$TMP/log" || exit 1
http GET /metrics; out=$OUT
equals "with a token, /metrics without it is 401" "$CODE" "401"
contains "... with a Bearer challenge" "$out" 'WWW-Authenticate: Bearer realm="metrics"'
contains "... as problem+json" "$out" '"code":"unauthorized"'
lacks "... and no counter" "$out" "gatehouse_http_requests_total"
http GET /metrics -H "Authorization: Bearer ${TOKEN}x"; equals "a longer token is 401" "$CODE" "401"
http GET /metrics -H "Authorization: Bearer ${TOKEN%?}"; equals "a shorter token is 401" "$CODE" "401"
http GET /metrics -H "Authorization: Basic $(printf 'x:%s' "$TOKEN" | base64 -w0)"
equals "the token as Basic is 401" "$CODE" "401"
http GET /metrics -H "Authorization: Bearer $TOKEN"; out=$OUT
equals "the token read from token_file is 200" "$CODE" "200"
contains "... with the counters" "$out" "gatehouse_http_requests_total"
http GET /metrics -H "authorization: bearer $TOKEN"
equals "the scheme is case-insensitive" "$CODE" "200"
stop_daemon
lacks "the token is never logged" "$(cat "$TMP/log")" "SECRET"

# Without a token: loopback only. A non-loopback address of this machine
# shows the refusal, when it has one.
other=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' |
    grep -v '^127\.' | head -n 1)
for mode in local public; do
    extra=''
    [ "$mode" = public ] && extra=$'metrics:\n  public: true'
    base_config listen='*:0' server="$extra" >"$TMP/$mode.yaml"
    start_daemon "$TMP/$mode.yaml" "$TMP/log" || exit 1
    http GET /metrics
    if [ "$mode" = local ]; then
        equals "without a token, /metrics from loopback is 200" "$CODE" "200"
    else
        equals "public: /metrics from loopback is 200" "$CODE" "200"
    fi
    if [ -n "$other" ]; then
        code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 10 "http://$other:$PORT/metrics")
        if [ "$mode" = local ]; then
            equals "without a token, /metrics from another address is 403" "$code" "403"
            contains "... metrics_forbidden" "$(cat "$TMP/body")" '"code":"metrics_forbidden"'
        else
            equals "public: /metrics from another address is 200" "$code" "200"
        fi
    else
        echo "# skipped: this machine has no non-loopback IPv4 address to ask from"
    fi
    stop_daemon
done

finish
