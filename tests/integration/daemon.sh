#!/usr/bin/env bash
# daemon.sh - the real gatehoused, over real HTTP: command line, config
# errors, plugin refusals, the HTTP frame, logs, SIGHUP and SIGTERM.
set -u
. "$(dirname "$0")/lib.sh"

PLUGINS="$TMP/plugins"   # the built plugins plus the test ones, side by side
mkdir -p "$PLUGINS"
ln -s "$GATEHOUSE_PLUGIN_DIR"/*.so "$GATEHOUSE_TEST_PLUGIN_DIR"/*.so "$PLUGINS"/

# write_config FILE [extra YAML appended at top level]
write_config() {
    {
        base_config plugin_dir="$PLUGINS" argon2=owasp log="format: ${LOG_FORMAT:-plain}" \
            server=$'max_body_size: 1k\ncors:\n  allowed_origins: ["https://app.example"]'
        printf '%s\n' "${2:-}"
    } >"$1"
}

# ---------------------------------------------------------------- command line
out=$("$GATEHOUSED" -V); contains "-V prints the version and ABI" "$out" "plugin ABI 1.3"
out=$("$GATEHOUSED" --help); contains "--help prints usage" "$out" "Usage: gatehoused"
"$GATEHOUSED" --bogus >/dev/null 2>&1; equals "an unknown option exits 2" "$?" "2"

# ---------------------------------------------------------------- -t
out=$(GATEHOUSE_PLUGIN_DIR=$PLUGINS "$GATEHOUSED" -t -c "$top_srcdir/etc/gatehouse.yaml" 2>&1)
equals "-t accepts the shipped default config" "$?" "0"
contains "-t says the test is successful" "$out" "test is successful"

printf 'server:\n  lisen: ["127.0.0.1:0"]\n' >"$TMP/typo.yaml"
out=$("$GATEHOUSED" -t -c "$TMP/typo.yaml" 2>&1)
equals "-t refuses a misspelt key" "$?" "1"
contains "the error is file:line:col" "$out" "$TMP/typo.yaml:2:3: unknown key 'lisen'"

write_config "$TMP/missing.yaml" $'plugins:\n  - name: nosuchplugin'
out=$("$GATEHOUSED" -t -c "$TMP/missing.yaml" 2>&1)
equals "a missing plugin stops start-up" "$?" "1"
contains "the message names the missing plugin" "$out" "plugin 'nosuchplugin'"

write_config "$TMP/abi.yaml" $'plugins:\n  - name: abi_major'
out=$("$GATEHOUSED" -t -c "$TMP/abi.yaml" 2>&1)
equals "a plugin of another ABI major is refused" "$?" "1"
contains "the refusal names the plugin and both ABIs" "$out" "plugin 'abi_major': built for plugin ABI 2."
contains "the refusal names our ABI" "$out" "1.0"

write_config "$TMP/badopt.yaml" $'plugins:\n  - name: echo\n    options:\n      greting: hi'
out=$("$GATEHOUSED" -t -c "$TMP/badopt.yaml" 2>&1)
equals "a bad plugin option is refused" "$?" "1"
# the line as base_config's lines leave it
contains "the option error has file:line:col" "$out" "$TMP/badopt.yaml:$(grep -n greting "$TMP/badopt.yaml" | cut -d: -f1):7:"

write_config "$TMP/rule.yaml" $'plugins:\n  - name: ruled\n    options:\n      mode: slow'
out=$("$GATEHOUSED" -t -c "$TMP/rule.yaml" 2>&1)
equals "-t refuses a value outside a plugin's option rules" "$?" "1"
contains "... at its position, saying what is allowed" "$out" \
    "$TMP/rule.yaml:$(grep -n 'mode: slow' "$TMP/rule.yaml" | cut -d: -f1):13: plugin 'ruled': option 'mode' must be one of fast, safe"

# a plugin that needs outbound HTTP: -t loads the HTTP module for it, and
# refuses it where the module is not installed
write_config "$TMP/fetch.yaml" $'plugins:\n  - name: fetch'
out=$("$GATEHOUSED" -t -c "$TMP/fetch.yaml" 2>&1)
equals "-t accepts a plugin that needs HTTP where HTTP works" "$?" "0"
NOHTTP="$TMP/nohttp"
mkdir -p "$NOHTTP"
for so in "$PLUGINS"/*.so; do
    [ "$(basename "$so")" = gatehouse-http.so ] || ln -s "$(readlink "$so")" "$NOHTTP"/
done
sed "s|$PLUGINS|$NOHTTP|" "$TMP/fetch.yaml" >"$TMP/nohttp.yaml"
out=$("$GATEHOUSED" -t -c "$TMP/nohttp.yaml" 2>&1)
equals "-t refuses a plugin that needs HTTP where HTTP is missing" "$?" "1"
contains "the refusal names the plugin and the cause" "$out" \
    "plugin 'fetch': needs outbound HTTP, which is unavailable"

# -t checks the signing keys, and makes none
write_config "$TMP/keys.yaml"
out=$("$GATEHOUSED" -t -c "$TMP/keys.yaml" 2>&1)
equals "-t passes with no signing key yet" "$?" "0"
check "... and writes none (the first start does)" test ! -e "$TMP/state/keys"
mkdir -p "$TMP/state/keys" && echo "not a key" >"$TMP/state/keys/broken.pem"
out=$("$GATEHOUSED" -t -c "$TMP/keys.yaml" 2>&1)
equals "-t refuses a signing key that does not load" "$?" "1"
contains "... and names the file" "$out" "signing keys: $TMP/state/keys/broken.pem"
rm -rf "$TMP/state/keys"
write_config "$TMP/hs.yaml" $'tokens:\n  algorithm: HS256\n  hs256_secret: passwordpasswordpasswordpassword'
out=$("$GATEHOUSED" -t -c "$TMP/hs.yaml" 2>&1)
equals "-t refuses a guessable HS256 secret" "$?" "1"
contains "... says it is no key, and how to make one" "$out" "looks like a password or a phrase"
contains "... with openssl" "$out" "openssl rand -base64 32"
lacks "... without quoting it" "$out" "passwordpassword"

# ---------------------------------------------------------------- serving
write_config "$TMP/good.yaml" $'plugins:\n  - name: echo\n    options:\n      greeting: hi'
check "the daemon starts" start_daemon "$TMP/good.yaml" "$TMP/log"
check "a non-zero port was bound" test "${PORT:-0}" -gt 0

http GET /health; out=$OUT
equals "/health answers 200" "$CODE" "200"
contains "/health says ok" "$out" '{"status":"ok"}'
contains "nosniff on every answer" "$out" "X-Content-Type-Options: nosniff"
contains "frame-deny on every answer" "$out" "X-Frame-Options: DENY"
contains "no-referrer on every answer" "$out" "Referrer-Policy: no-referrer"
contains "a CSP that loads nothing and forbids framing on every answer" "$out" \
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'"
contains "a request id on every answer" "$out" "X-Request-Id: "
lacks "no HSTS over plain http" "$out" "Strict-Transport-Security"

http GET /health -H 'X-Request-Id: trace-abc-123'; out=$OUT
contains "a caller's X-Request-Id comes back" "$out" "X-Request-Id: trace-abc-123"
http GET /health -H 'X-Request-Id: bad id with spaces'; out=$OUT
lacks "an unsafe X-Request-Id is replaced" "$out" "bad id with spaces"

http GET /health/ready; out=$OUT
equals "/health/ready answers 200" "$CODE" "200"
contains "readiness checks storage" "$out" '"storage":"ok"'
contains "readiness checks each plugin" "$out" '"echo":"ok"'

http GET /; out=$OUT
equals "/ answers 200" "$CODE" "200"
contains "/ names the server and its version" "$out" "\"name\":\"Gatehouse\",\"version\":\"$("$GATEHOUSED" -V | cut -d' ' -f2)\""
contains "/ links to readiness" "$out" '"ready":"/health/ready"'

http GET /no/such/thing; out=$OUT
equals "an unknown path is 404" "$CODE" "404"
contains "404 is problem+json" "$out" "Content-Type: application/problem+json"
contains "404 has a stable code" "$out" '"code":"not_found"'

http POST /health; out=$OUT
equals "a wrong method is 405" "$CODE" "405"
contains "405 says what is allowed" "$out" "Allow: GET"
contains "405 has a stable code" "$out" '"code":"method_not_allowed"'
http TRACE /health; out=$OUT
check "TRACE is not served (no echo of the request)" test "$CODE" = 405 -o "$CODE" = 501
lacks "... and nothing of the request comes back" "$out" "TRACE /health"

http OPTIONS /health -H 'Origin: https://app.example' -H 'Access-Control-Request-Method: GET'; out=$OUT
equals "a CORS preflight from an allowed origin is 204" "$CODE" "204"
contains "the preflight allows the origin" "$out" "Access-Control-Allow-Origin: https://app.example"
contains "the preflight lists methods" "$out" "Access-Control-Allow-Methods: GET, POST"
http OPTIONS /health -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: GET'; out=$OUT
equals "a preflight from another origin is refused" "$CODE" "403"
lacks "no CORS grant for another origin" "$out" "Access-Control-Allow-Origin"
http GET /health -H 'Origin: https://app.example'; out=$OUT
contains "a simple CORS request gets its origin back" "$out" "Access-Control-Allow-Origin: https://app.example"

http POST /health -H 'Authorization: Bearer SECRET-TOKEN-42' --data 'password=hunter2-SECRET'; out=$OUT
http GET /metrics; out=$OUT
equals "/metrics answers 200" "$CODE" "200"
contains "metrics count requests by route and status" "$out" 'gatehouse_http_requests_total{route="/health",status="200"}'
contains "metrics count unmatched paths" "$out" 'gatehouse_http_requests_total{route="unmatched",status="404"}'
contains "metrics have a latency histogram" "$out" 'gatehouse_http_request_duration_seconds_bucket{route="/health",le="+Inf"}'
contains "metrics show the worker queue" "$out" "gatehouse_worker_queue_depth 0"
contains "metrics count plugin errors" "$out" 'gatehouse_plugin_errors_total{plugin="sqlite"} 0'

log=$(cat "$TMP/log")
contains "one access line per request" "$log" "event=access method=GET path=/no/such/thing status=404"
contains "access lines carry the request id" "$log" "request_id=trace-abc-123"
lacks "no Authorization value in the log" "$log" "SECRET-TOKEN-42"
lacks "no body in the log" "$log" "hunter2"

check "the SQLite database is in the state dir" test -f "$TMP/state/gatehouse.db"
if command -v sqlite3 >/dev/null; then
    equals "SQLite runs in WAL mode" "$(sqlite3 "$TMP/state/gatehouse.db" 'PRAGMA journal_mode')" "wal"
    latest=$(sed -n 's/.*schema version \([0-9]*\).*/\1/p' "$TMP/log" | head -n 1)
    equals "the schema is migrated to the latest version" \
        "$(sqlite3 "$TMP/state/gatehouse.db" 'SELECT max(version) FROM schema_migrations')" "${latest:-none}"
fi

# ---------------------------------------------------------------- SIGHUP
cp "$TMP/good.yaml" "$TMP/good.yaml.bak"
printf 'server:\n  threads: [oops\n' >"$TMP/good.yaml"
kill -HUP "$PID"
wait_log "$TMP/log" "reload refused"
http GET /health; out=$OUT
equals "after a broken reload the old config still serves" "$CODE" "200"
contains "the broken reload is logged with its position" "$(cat "$TMP/log")" "reload refused"
LOG_FORMAT=json write_config "$TMP/good.yaml" $'plugins:\n  - name: echo\n    options:\n      greeting: hi\nmail:\n  queue_size: 10'
kill -HUP "$PID"
wait_log "$TMP/log" "configuration reloaded"
contains "a reload names a start-up-only setting it cannot apply" "$(cat "$TMP/log")" \
    "reload: 'mail.queue_size' changed; it takes effect at the next restart"
http GET /health -H 'X-Request-Id: after-reload'; out=$OUT
equals "after a good reload the server serves" "$CODE" "200"
contains "a good reload is applied (JSON log lines)" "$(cat "$TMP/log")" '"event":"access","method":"GET","path":"/health","status":200'
# log times are UTC, RFC 3339 with milliseconds (ASVS 16.2.2)
check "the access line is stamped in UTC" grep -qE \
    '^\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z",.*"path":"/health"' "$TMP/log"

# ---------------------------------------------------------------- SIGTERM
stop_daemon
equals "SIGTERM exits 0" "$STATUS" "0"
contains "shutdown is logged" "$(cat "$TMP/log")" "stopped"

# a second start finds the schema current and migrates nothing
check "the daemon restarts on the same state" start_daemon "$TMP/good.yaml" "$TMP/log2"
lacks "no migration on a current schema" "$(cat "$TMP/log2")" "applied"
stop_daemon

# ---------------------------------------------------------------- one daemon per address
# SO_REUSEPORT shares a port among our loops; a second gatehoused on the
# same address must be refused, not join them and take half the traffic.
FIXED=$(free_port)
write_config "$TMP/fixed.yaml"
sed -i "s/127.0.0.1:0/127.0.0.1:$FIXED/" "$TMP/fixed.yaml"
check "a daemon of 2 threads starts on a fixed port" start_daemon "$TMP/fixed.yaml" "$TMP/log4"
# second_daemon LISTEN NAME: another state dir, same port; it must exit
second_daemon() {
    sed "s|state_dir: $TMP/state|state_dir: $TMP/state2|; s|\"127.0.0.1:$FIXED\"|\"$1\"|" \
        "$TMP/fixed.yaml" >"$TMP/fixed2.yaml"
    "$GATEHOUSED" -c "$TMP/fixed2.yaml" 2>"$TMP/log5" &
    local pid2=$! rc=running
    for _ in $(seq 1 200); do
        kill -0 "$pid2" 2>/dev/null || break
        grep -q ' ready: ' "$TMP/log5" && break
        sleep 0.05
    done
    if kill -0 "$pid2" 2>/dev/null; then kill -9 "$pid2"; wait "$pid2" 2>/dev/null; else wait "$pid2"; rc=$?; fi
    check "$2: the second daemon exits non-zero" test "$rc" != running -a "$rc" != 0
    contains "$2: it says the address is in use" "$(cat "$TMP/log5")" \
        "listen $1: address already in use (is another gatehoused running?)"
}
second_daemon "127.0.0.1:$FIXED" "the same address"
if curl -sS -o /dev/null "http://[::1]:1" 2>&1 | grep -q "Couldn't connect\|Connection refused\|Failed to connect"; then
    second_daemon "*:$FIXED" "*, the same port"
fi
codes=$(for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$FIXED/health"; done)
equals "the first daemon keeps serving" "$codes" "200 200 200 200 200 200 "
stop_daemon

# ---------------------------------------------------------------- IPv6 + several listen addresses
if curl -sS -o /dev/null "http://[::1]:1" 2>&1 | grep -q "Couldn't connect\|Connection refused\|Failed to connect"; then
    write_config "$TMP/v6.yaml"
    sed -i 's/listen: \["127.0.0.1:0"\]/listen: ["127.0.0.1:0", "[::1]:0"]/' "$TMP/v6.yaml"
    check "the daemon listens on IPv4 and IPv6" start_daemon "$TMP/v6.yaml" "$TMP/log3"
    PORT6=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\).*/\1/p' "$TMP/log3")
    equals "IPv6 /health answers" "$(curl -s -o /dev/null -w '%{http_code}' "http://[::1]:$PORT6/health")" "200"
    equals "IPv4 /health answers" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" "200"
    stop_daemon
fi

finish
