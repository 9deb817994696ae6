#!/usr/bin/env bash
# docs.sh - /openapi.json and the /docs page over HTTP: the document names
# this server, the page and its two files come with their content type, a
# Content-Security-Policy that lets the page run only its own files, and
# caching; nothing but the named files is served, whatever the path; and a
# data directory without the files is a 500 problem, not a crash.
set -u
. "$(dirname "$0")/lib.sh"
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
CFG="$TMP/gatehouse.yaml"
base_config public_url=https://auth.example.com >"$CFG"
check "the daemon starts" start_daemon "$CFG" "$TMP/log"

req GET /openapi.json
equals "/openapi.json answers" "$CODE" 200
equals "... as JSON" "$(hdr Content-Type)" "application/json"
equals "... naming this server (public_url)" "$(j '.servers[0].url')" "https://auth.example.com"
equals "... and this version" "$(j .info.version)" "$("$GATEHOUSED" -V | cut -d' ' -f2)"
equals "... OpenAPI 3.1" "$(j .openapi)" "3.1.0"
check "... every operation of the file" test "$(j '[.paths[] | keys[]] | length')" -eq \
    "$(jq '[.paths[] | keys[]] | length' "$top_srcdir/web/openapi.json")"
req GET /
equals "/ links to the docs" "$(j .links.docs) $(j .links.openapi)" "/docs /openapi.json"

req GET /docs
equals "/docs answers" "$CODE" 200
equals "... HTML" "$(hdr Content-Type)" "text/html; charset=utf-8"
CSP=$(hdr Content-Security-Policy)
contains "... scripts from this origin only" "$CSP" "script-src 'self';"
lacks "... no inline script" "$CSP" "unsafe"
contains "... nothing by default" "$CSP" "default-src 'none'"
equals "... one policy, not the API's besides" "$(printf '%s' "$OUT" | grep -ci '^content-security-policy:')" 1
equals "... checked each time" "$(hdr Cache-Control)" "no-cache"
contains "... loading Swagger UI from here" "$BODY" 'src="/docs/swagger-ui-bundle.js'
lacks "... and nothing from elsewhere" "$BODY" '//'
req GET /docs/
equals "/docs/ is the page too" "$CODE $(hdr Content-Type)" "200 text/html; charset=utf-8"

for f in "swagger-ui-bundle.js text/javascript" "swagger-ui.css text/css" "docs.js text/javascript"; do
    set -- $f
    req GET "/docs/$1?v=1"
    equals "/docs/$1 answers" "$CODE $(hdr Content-Type)" "200 $2; charset=utf-8"
    file=$top_srcdir/web/docs/$1
    [ -e "$file" ] || file=$top_srcdir/web/docs/swagger-ui/$1
    check "... its file, whole" cmp -s "$file" <(curl -sS "http://127.0.0.1:$PORT/docs/$1")
done
req GET /docs/swagger-ui-bundle.js
contains "the vendored files may be kept" "$(hdr Cache-Control)" "max-age="

for p in /docs/index.html /docs/LICENSE /docs/README /docs/..%2Fopenapi.json /docs/%2e%2e \
    /docs/swagger-ui%2Fswagger-ui.css /docs/../openapi.json /docs/..%2F..%2F..%2Fetc%2Fpasswd \
    /docs/refresh.sh; do
    req GET "$p" --path-as-is
    equals "$p is not served" "$CODE" 404
    lacks "... nor any file's content" "$BODY" "root:"
done
req POST /docs
equals "/docs takes GET only" "$CODE" 405

# a data directory without the files: the API goes on, the docs fail cleanly
stop_daemon
base_config public_url=https://auth.example.com | sed "s|data_dir: .*|data_dir: $TMP/empty|" >"$CFG"
mkdir -p "$TMP/empty"
check "the daemon starts without the files" start_daemon "$CFG" "$TMP/log"
req GET /openapi.json
equals "/openapi.json without its file: 500 problem" "$CODE $(j .code)" "500 internal_error"
check "... and the log says which file" grep -q "$TMP/empty/openapi.json" "$TMP/log"
req GET /docs/swagger-ui.css
equals "a page file missing: 500 problem" "$CODE $(j .code)" "500 internal_error"
req GET /health
equals "the API goes on" "$CODE" 200
check "no sanitizer report from the daemon" test -z "$(grep -e 'Sanitizer' -e 'runtime error:' "$TMP/log")"
finish
