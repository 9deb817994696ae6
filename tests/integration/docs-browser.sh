#!/usr/bin/env bash
# docs-browser.sh - the /docs page in headless Chromium (Debian's
# chromium, driven by tests/browser/docs-page.mjs): served by the daemon
# from its own files, it loads with no console error, no failed request and
# no Content-Security-Policy violation, and lists every operation of the
# document.
set -u
. "$(dirname "$0")/lib.sh"
for tool in jq curl node npm; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "SKIP: no chromium at $CHROMIUM"; exit 77; }
export CHROMIUM
BROWSER_DIR=$("$top_srcdir/tests/npm-install.sh" "$top_srcdir/tests/browser") ||
    { echo "SKIP: puppeteer-core cannot be installed (npm ci)"; exit 77; }

PORT=$(free_port)
base_config listen="127.0.0.1:$PORT" public_url="http://localhost:$PORT" >"$TMP/gatehouse.yaml"
check "the daemon starts" start_daemon "$TMP/gatehouse.yaml" "$TMP/log"

RESULT=$(node "$BROWSER_DIR/docs-page.mjs" "http://localhost:$PORT/docs" 2>"$TMP/browser.log")
echo "# $(jq -c '{operations, title, error}' <<<"$RESULT" 2>/dev/null || echo "$RESULT")"
check "the page rendered" test -z "$(jq -r '.error // empty' <<<"$RESULT")"
equals "... listing every operation of the document" "$(jq -r .operations <<<"$RESULT")" \
    "$(jq '[.paths[] | keys[] | select(. != "parameters")] | length' "$top_srcdir/web/openapi.json")"
contains "... under the document's title" "$(jq -r .title <<<"$RESULT")" \
    "$(jq -r .info.title "$top_srcdir/web/openapi.json")"
equals "... with no console error" "$(jq -c .console <<<"$RESULT")" "[]"
equals "... no failed request" "$(jq -c .failed <<<"$RESULT")" "[]"
equals "... and no Content-Security-Policy violation" "$(jq -c .csp <<<"$RESULT")" "[]"
check "no sanitizer report from the daemon" test -z "$(grep -e 'Sanitizer' -e 'runtime error:' "$TMP/log")"
finish
