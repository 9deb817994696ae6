#!/usr/bin/env bash
# oauth-browser.sh - the seed's social sign-in in a real browser: headless
# Chromium (Debian's chromium, driven by tests/browser/oauth-login.mjs)
# goes from a web application to each of the three oauth plugins' providers
# and back: a generic OpenID Connect provider (the oidc plugin), Google
# (the google preset, with a Workspace domain) and Facebook (the facebook
# plugin), the first two real OpenID Providers (npm oidc-provider,
# tests/standins/oidc), Facebook its Graph API stand-in. Each time the
# browser signs in on the provider's own pages, comes back to the
# application with a one-time code and no token in the URL, and the
# application's page exchanges the code and reads /users/me cross-origin.
# The daemon's __Host- cookie must survive the round trip for any of this
# to work: public_url is http://localhost, which browsers count as secure.
set -u
. "$(dirname "$0")/lib.sh"
for tool in jq curl node npm python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "SKIP: no chromium at $CHROMIUM"; exit 77; }
export CHROMIUM
json_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"

OIDC_DIR=$("$top_srcdir/tests/npm-install.sh" "$top_srcdir/tests/standins/oidc") ||
    { echo "SKIP: the OIDC stand-in cannot be installed (npm ci)"; exit 77; }
BROWSER_DIR=$("$top_srcdir/tests/npm-install.sh" "$top_srcdir/tests/browser") ||
    { echo "SKIP: puppeteer-core cannot be installed (npm ci)"; exit 77; }

OP1=; OP2=; FB=
trap '[ -n "$OP1" ] && kill "$OP1" 2>/dev/null; [ -n "$OP2" ] && kill "$OP2" 2>/dev/null;
      [ -n "$FB" ] && kill "$FB" 2>/dev/null; cleanup' EXIT
DAEMON_PORT=$(free_port)
APP_PORT=$(free_port)
P1=$(free_port)
P2=$(free_port)
ORIGIN=http://localhost:$DAEMON_PORT
APP=http://localhost:$APP_PORT/done
CB=$ORIGIN/api/v1/oauth
OKTA_SECRET='okta-browser-secret-0123456789'
GOOGLE_SECRET='google-browser-secret-9876543210'
FB_APP=1234567890123456
FB_SECRET='fb-browser-app-secret-0123456789abcdef'

# provider PORT CLIENT SECRET INSTANCE: a real OpenID Provider
provider() {
    OIDC_PORT=$1 OIDC_CLIENTS="[{\"client_id\":\"$2\",\"client_secret\":\"$3\",\
\"redirect_uris\":[\"$CB/$4/callback\"]}]" \
        node "$OIDC_DIR/provider.mjs" >"$TMP/op-$4.log" 2>&1 &
}
provider "$P1" gh-okta "$OKTA_SECRET" okta
OP1=$!
provider "$P2" gh-google "$GOOGLE_SECRET" google
OP2=$!
python3 "$top_srcdir/tests/integration/facebook_standin.py" serve "$TMP/fb.port" "$TMP/fb.jsonl" \
    "$FB_APP" "$FB_SECRET" "$CB/facebook/callback" 2>"$TMP/fb.log" &
FB=$!
for _ in $(seq 1 200); do
    grep -q ready "$TMP/op-okta.log" && grep -q ready "$TMP/op-google.log" &&
        [ -e "$TMP/fb.port" ] && break
    sleep 0.05
done
check "the providers listen" grep -q ready "$TMP/op-okta.log" "$TMP/op-google.log"
FB_PORT=$(cat "$TMP/fb.port" 2>/dev/null)
check "... and the Facebook stand-in" test -n "$FB_PORT"
account() { curl -s -X POST --data-binary "{\"sub\":\"$2\",$3}" "http://127.0.0.1:$1/admin/account"; }
account "$P1" olivia '"email":"olivia@example.com","email_verified":true,"name":"Olivia O"'
account "$P2" gina '"email":"gina@example.com","email_verified":true,"hd":"example.com"'
account "$P2" outsider '"email":"out@other.example","email_verified":true,"hd":"other.example"'

{
    base_config listen="127.0.0.1:$DAEMON_PORT" public_url="$ORIGIN"
    cat <<EOF
plugins:
  - name: okta
    plugin: oidc
    options:
      issuer: http://127.0.0.1:$P1
      client_id: gh-okta
      client_secret: $OKTA_SECRET
      allow_http: true
      allow_private: true
  - name: google
    options:
      issuer: http://127.0.0.1:$P2
      client_id: gh-google
      client_secret: $GOOGLE_SECRET
      hosted_domain: example.com
      allow_http: true
      allow_private: true
  - name: facebook
    options:
      client_id: "$FB_APP"
      client_secret: $FB_SECRET
      dialog_url: http://127.0.0.1:$FB_PORT
      graph_url: http://127.0.0.1:$FB_PORT
      allow_http: true
      allow_private: true
oauth:
  redirect_allowlist: [$APP]
EOF
} >"$CFG"
# the application's origin may call the API (cors is under server:)
sed -i "/^server:/a\\  cors:\\n    allowed_origins: [\"http://localhost:$APP_PORT\"]" "$CFG"
"$CTL" -c "$CFG" migrate up >/dev/null 2>&1
check "the daemon starts with the three plugins" start_daemon "$CFG" "$TMP/log"

# browse NAME LOGIN: one sign-in in the browser; RESULT its JSON line
browse() {
    RESULT=$(node "$BROWSER_DIR/oauth-login.mjs" "$CB/$1?redirect_to=$APP" "$APP_PORT" "$2" \
        2>>"$TMP/browser.log")
    echo "# $1 $2: $RESULT"
}
landed() { jq -r .landed <<<"$RESULT"; }
result() { jq -r ".result.$1 // empty" <<<"$RESULT"; }

for run in "okta olivia olivia@example.com" "google gina gina@example.com" \
    "facebook alice alice@example.com"; do
    set -- $run
    browse "$1" "$2"
    contains "$1: the browser came back to the application" "$(landed)" "$APP?code="
    lacks "$1: ... with no token in the URL" "$(landed)" "token"
    equals "$1: the page exchanged the code and read /users/me" "$(result status) $(result email)" \
        "200 $3"
    equals "$1: ... signed in by the provider" "$(jq -c .result.amr <<<"$RESULT")" '["ext"]'
    [ "$1" = okta ] && OLIVIA=$(result id)
done
browse okta olivia
equals "okta again: the same account signs in" "$(result status) $(result id)" "200 $OLIVIA"
browse google outsider
contains "google: an account outside the Workspace domain is sent back with an error" \
    "$(landed)" "$APP?error="
check "... which the application shows" test -n "$(result error)"

check "no sanitizer report from the daemon" test -z "$(grep -e 'Sanitizer' -e 'runtime error:' "$TMP/log")"
finish
