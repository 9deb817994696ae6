#!/usr/bin/env bash
# oauth-oidc.sh - sign-in with OpenID Connect end to end: the real oidc and
# google plugins against two real OpenID Providers on loopback (npm
# oidc-provider, tests/standins/oidc), driven through the providers' own
# login and consent pages with curl and a cookie jar. Sign-up, sign-in
# again, the linking rules, the one-time code, the identities routes, and
# the attacks of issue 14, each beside a positive control: forged and
# replayed state, a missing cookie, a code injected from another flow
# (PKCE), wrong nonce, another key, alg none, wrong aud and iss, expired,
# an unverified address matching an account, redirect_to off the
# allowlist, the iss of another provider; a second factor after the
# provider, and a provider that is down. On SQLite unless GH_TEST_BACKEND
# says otherwise (backend.sh).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl node npm python3 "$DB_TOOL"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Oidc-Pass-word-4242'
OKTA_SECRET='okta-client-secret-0123456789'
GOOGLE_SECRET='google-client-secret-9876543210'
APP=http://app.test/done

STANDIN_DIR=$("$top_srcdir/tests/npm-install.sh" "$top_srcdir/tests/standins/oidc") ||
    { echo "SKIP: the OIDC stand-in cannot be installed (npm ci)"; exit 77; }
OP1=; OP2=
trap '[ -n "$OP1" ] && kill "$OP1" 2>/dev/null; [ -n "$OP2" ] && kill "$OP2" 2>/dev/null; cleanup' EXIT
DAEMON_PORT=$(free_port)
P1=$(free_port)
P2=$(free_port)
DOWN=$(free_port) # nothing listens there
ISS1=http://127.0.0.1:$P1
ISS2=http://127.0.0.1:$P2
CB=http://127.0.0.1:$DAEMON_PORT/api/v1/oauth
# provider PORT CLIENT SECRET AUTH_METHOD INSTANCE: one OpenID Provider
provider() {
    OIDC_PORT=$1 OIDC_CLIENTS="[{\"client_id\":\"$2\",\"client_secret\":\"$3\",\
\"token_endpoint_auth_method\":\"$4\",\"redirect_uris\":[\"$CB/$5/callback\"]}]" \
        node "$STANDIN_DIR/provider.mjs" >"$TMP/op-$5.log" 2>&1 &
}
provider "$P1" gh-okta "$OKTA_SECRET" client_secret_basic okta
OP1=$!
provider "$P2" gh-google "$GOOGLE_SECRET" client_secret_post google
OP2=$!
for _ in $(seq 1 200); do
    grep -q ready "$TMP/op-okta.log" && grep -q ready "$TMP/op-google.log" && break
    sleep 0.05
done
check "the two providers listen" grep -q ready "$TMP/op-okta.log" "$TMP/op-google.log"

# config LINK: two instances, a generic one named okta and the google
# preset for the Workspace domain example.com
config() {
    base_config listen="127.0.0.1:$DAEMON_PORT" public_url="http://127.0.0.1:$DAEMON_PORT"
    printf '%s\n' "$STORAGE_YAML"
    cat <<EOF
plugins:
  - name: totp
  - name: okta
    plugin: oidc
    options:
      issuer: $ISS1
      client_id: gh-okta
      client_secret: $OKTA_SECRET
      allow_http: true
      allow_private: true
  - name: google
    options:
      issuer: $ISS2
      client_id: gh-google
      client_secret: $GOOGLE_SECRET
      token_auth: client_secret_post
      hosted_domain: example.com
      allow_http: true
      allow_private: true
  - name: down
    plugin: oidc
    options:
      issuer: http://127.0.0.1:$DOWN
      client_id: gh-down
      client_secret: down-secret
      allow_http: true
      allow_private: true
oauth:
  redirect_allowlist: [$APP, "http://app.test/other?tab=1"]
  link_by_verified_email: $1
bootstrap:
  admin_email: admin@example.com
  admin_password: "$PW"
EOF
}
new_database gh_oauth
config false >"$CFG"
"$CTL" -c "$CFG" migrate up >/dev/null 2>&1
"$CTL" -c "$CFG" user create --email carol@example.com --password-stdin <<<"$PW" >/dev/null 2>&1
"$CTL" -c "$CFG" company create beta Beta >/dev/null 2>&1
"$CTL" -c "$CFG" company create closed Closed --no-signup >/dev/null 2>&1
check "the daemon starts with both instances" start_daemon "$CFG" "$TMP/log"

# refused OPTIONS: what `gatehoused -t` says of an oidc instance with these
# option lines besides its client
refused() {
    { base_config; printf '%s\n' "$STORAGE_YAML"
      printf 'plugins:\n  - name: bad\n    plugin: oidc\n    options:\n'
      printf '      client_id: x\n      client_secret: y\n'; printf '      %s\n' "$@"; } >"$TMP/bad.yaml"
    "$GATEHOUSED" -t -c "$TMP/bad.yaml" 2>&1
}
contains "an http issuer needs allow_http" "$(refused 'issuer: http://idp.example')" \
    ":15: plugin 'bad': 'issuer' must be an https:// URL"
contains "scopes without openid are refused" \
    "$(refused 'issuer: https://idp.example' 'scopes: openidx email')" "must include openid"
contains "token_auth is one of two" \
    "$(refused 'issuer: https://idp.example' 'token_auth: private_key_jwt')" \
    "'token_auth' must be one of client_secret_basic, client_secret_post"
contains "the oidc plugin needs an issuer" "$(refused)" "issuer"

# the accounts at the providers: account SUB at provider PORT with CLAIMS (JSON members)
account() { curl -s -X POST --data-binary "{\"sub\":\"$2\",$3}" "http://127.0.0.1:$1/admin/account"; }
misbehave() { curl -s -X POST --data-binary "{\"mode\":\"$2\"}" "http://127.0.0.1:$1/admin/misbehave"; }
account "$P1" alice '"email":"alice@example.com","email_verified":true,"name":"Alice A"'
account "$P1" carol-unverified '"email":"carol@example.com","email_verified":false'
account "$P1" carol-verified '"email":"Carol@Example.com","email_verified":true'
account "$P1" bob '"email":"bob@example.com","email_verified":true'
account "$P2" gina '"email":"gina@example.com","email_verified":true,"hd":"example.com"'
account "$P2" carol-work '"email":"carol.w@example.com","email_verified":true,"hd":"example.com"'
account "$P2" outsider '"email":"out@other.example","email_verified":true,"hd":"other.example"'
account "$P2" consumer '"email":"someone@gmail.example","email_verified":true'

qparam() { printf '%s' "$1" | tr '?' '&' | tr '&' '\n' | sed -n "s/^$2=//p" | head -n 1; }
claims() { cut -d. -f2 <<<"$1" | tr '_-' '/+' | base64 -d 2>/dev/null; printf '\n'; }

# start NAME [QUERY]: the daemon's start; AUTHZ the provider's URL, COOKIE ours
start() {
    req GET "/api/v1/oauth/$1${2:+?$2}"
    AUTHZ=$(hdr Location)
    SETC=$(hdr Set-Cookie)
    COOKIE=${SETC%%;*}
}
# login URL LOGIN: through the provider's login and consent pages, with a
# jar of its own (a new browser); BACK is where the provider sends it back
login() {
    local url=$1 jar="$TMP/jar.$RANDOM" base page prompt
    base=$(printf '%s' "$url" | sed -E 's#^(https?://[^/]+).*#\1#')
    for _ in 1 2 3 4 5 6 7 8; do
        case $url in
        "$base"/interaction/*)
            page=$(curl -s -c "$jar" -b "$jar" "$url")
            prompt=$(printf '%s' "$page" | grep -o 'name="prompt" value="[a-z]*"' | head -n 1 |
                sed 's/.*value="//; s/"$//')
            url=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" \
                --data-urlencode "prompt=$prompt" --data-urlencode "login=$2" \
                --data-urlencode "password=x" "$url") ;;
        "$base"/*)
            url=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" "$url") ;;
        *) break ;;
        esac
    done
    rm -f "$jar"
    BACK=$url
}
# back [COOKIE] [QUERY]: the provider's answer (BACK, or NAME's callback
# with QUERY) delivered to the daemon, with the cookie given
back() {
    local url=${2:+$CB/$NAME/callback?$2}
    url=${url:-$BACK}
    req GET "${url#http://127.0.0.1:$DAEMON_PORT}" ${1:+-H "Cookie: $1"}
}
# flow NAME LOGIN [QUERY]: start, sign in at the provider, come back with the cookie
flow() { NAME=$1; start "$1" "${3:-}"; login "$AUTHZ" "$2"; back "$COOKIE"; }

# ---------------------------------------------------------------- the start
NAME=okta
start okta
equals "the start redirects to the provider" "$CODE" 302
contains "... to its authorization endpoint" "$AUTHZ" "$ISS1/auth?"
equals "... a code flow" "$(qparam "$AUTHZ" response_type)" code
equals "... for our client" "$(qparam "$AUTHZ" client_id)" gh-okta
equals "... back to the instance's callback" "$(qparam "$AUTHZ" redirect_uri)" \
    "http%3A%2F%2F127.0.0.1%3A$DAEMON_PORT%2Fapi%2Fv1%2Foauth%2Fokta%2Fcallback"
equals "... with PKCE S256" "$(qparam "$AUTHZ" code_challenge_method)" S256
equals "... a 43-character challenge" "$(qparam "$AUTHZ" code_challenge | wc -c)" 44
check "... a state" test "$(qparam "$AUTHZ" state | wc -c)" -ge 40
check "... and a nonce" test "$(qparam "$AUTHZ" nonce | wc -c)" -ge 40
contains "the browser gets a __Host- cookie of the flow's own" "$SETC" "__Host-gh-oauth-"
contains "... Secure" "$SETC" "; Secure"
contains "... HttpOnly" "$SETC" "; HttpOnly"
contains "... SameSite=Lax" "$SETC" "SameSite=Lax"
contains "... for the whole site" "$SETC" "Path=/;"
lacks "... and no Domain" "$SETC" "Domain="
req GET /api/v1/oauth/nope
equals "an unknown provider is 404" "$CODE" 404
equals "... unknown_provider" "$(j .code)" unknown_provider

# the stand-in is a real provider: it refuses a request without PKCE
NOPKCE=$(printf '%s' "$AUTHZ" | sed 's/&code_challenge=[^&]*//; s/&code_challenge_method=S256//')
login "$NOPKCE" alice
contains "the provider refuses an authorization request without PKCE" "$BACK" "error=invalid_request"

# ---------------------------------------------------------------- sign-up, sign-in
flow okta alice
equals "a new provider account signs up and in" "$CODE" 200
ALICE_AT=$(j .access_token)
ALICE_ID=$(j .user.id)
equals "... as the provider's address" "$(j .user.email)" alice@example.com
equals "... verified, as the provider said" "$(j '.user.email_verified')" true
check "... with a refresh token" test -n "$(j .refresh_token)"
equals "... and amr ext" "$(claims "$ALICE_AT" | jq -c .amr)" '["ext"]'
FIRST_BACK=$BACK
FIRST_COOKIE=$COOKIE
req GET /api/v1/users/me -H "$(bearer "$ALICE_AT")"
equals "the token works" "$(j .id)" "$ALICE_ID"
req GET /api/v1/users/me/identities -H "$(bearer "$ALICE_AT")"
equals "the account has its identity" "$(j '.items | length')" 1
equals "... at okta" "$(j '.items[0].provider')" okta
equals "... with the subject" "$(j '.items[0].subject')" alice
equals "... and the address of link time" "$(j '.items[0].email')" alice@example.com
ALICE_IDENTITY=$(j '.items[0].id')

flow okta alice
equals "the same provider account signs in again" "$CODE" 200
equals "... to the same account" "$(j .user.id)" "$ALICE_ID"
req GET /api/v1/users/me/identities -H "$(bearer "$ALICE_AT")"
check "... and the identity's last use is recorded" test "$(j '.items[0].last_used_at')" != null

# ---------------------------------------------------------------- companies
flow okta alice company=beta
equals "in another company the same provider account is another account" "$CODE" 200
check "... not alice's of the root company" test "$(j .user.id)" != "$ALICE_ID"
flow okta alice company=closed
equals "a company closed to sign-up makes no account" "$CODE" 403
equals "... signup_disabled" "$(j .code)" signup_disabled
req GET "/api/v1/oauth/okta?company=nope"
equals "an unknown company is 404 at the start" "$(j .code)" company_not_found

# ---------------------------------------------------------------- state
BACK=$FIRST_BACK
back "$FIRST_COOKIE"
equals "a replayed state is refused" "$CODE" 400
equals "... invalid_state" "$(j .code)" invalid_state
back "$FIRST_COOKIE" "code=x&state=forged-$RANDOM&iss=$ISS1"
equals "a forged state is refused" "$(j .code)" invalid_state
back "$FIRST_COOKIE" "code=x&iss=$ISS1"
equals "... and a missing one" "$(j .code)" invalid_state

NAME=okta; start okta; login "$AUTHZ" alice
back ""
equals "the answer without the cookie is refused" "$CODE" 400
equals "... browser_mismatch" "$(j .code)" browser_mismatch
back "$COOKIE"
equals "... and its state is spent: the right cookie comes too late" "$(j .code)" invalid_state
start okta; login "$AUTHZ" alice
back "${COOKIE%%=*}=someone-elses-cookie-value-0123456789abcdefgh"
equals "another browser's cookie is refused" "$(j .code)" browser_mismatch
NAME=okta; start okta; FIRST=$COOKIE; FIRST_AUTHZ=$AUTHZ
start okta
login "$FIRST_AUTHZ" alice
back "$FIRST; $COOKIE"
equals "two flows started side by side in one browser: the first one signs in" "$CODE" 200
contains "... and its cookie is cleared" "$(hdr Set-Cookie)" "${FIRST%%=*}=; Max-Age=0;"

# the state of one instance's flow at another instance's callback
NAME=okta; start okta; login "$AUTHZ" alice
req GET "/api/v1/oauth/google/callback?${BACK#*\?}" -H "Cookie: $COOKIE"
equals "a state of another instance's flow is refused" "$(j .code)" invalid_state

# ---------------------------------------------------------------- PKCE and mix-up
# a code from the attacker's own flow injected with the victim's state and
# cookie: the victim's verifier does not redeem it
NAME=okta; start okta; VICTIM_STATE=$(qparam "$AUTHZ" state); VICTIM_COOKIE=$COOKIE
start okta; login "$AUTHZ" alice; ATTACKER_CODE=$(qparam "$BACK" code)
back "$VICTIM_COOKIE" "code=$ATTACKER_CODE&state=$VICTIM_STATE&iss=$(qparam "$BACK" iss)"
equals "an injected code (another flow's PKCE verifier) is refused" "$CODE" 401
equals "... oauth_denied" "$(j .code)" oauth_denied

# google's answer (its code and iss) delivered to an okta flow
NAME=okta; start okta; OKTA_STATE=$(qparam "$AUTHZ" state); OKTA_COOKIE=$COOKIE
NAME=google; start google; login "$AUTHZ" gina
NAME=okta
back "$OKTA_COOKIE" "code=$(qparam "$BACK" code)&state=$OKTA_STATE&iss=$(qparam "$BACK" iss)"
equals "the iss of another provider is refused (RFC 9207)" "$(j .code)" oauth_denied
start okta; login "$AUTHZ" alice
back "$COOKIE" "code=$(qparam "$BACK" code)&state=$(qparam "$BACK" state)"
equals "... and an answer without iss from a provider that sends it" "$(j .code)" oauth_denied
contains "... the log says why" "$(cat "$TMP/log")" "no iss"

# ---------------------------------------------------------------- the ID token
# each forgery is refused for its own reason, as the log says
for mode in other_key:"bad signature" alg_none:"algorithm not allowed" aud:"wrong audience" \
    iss:"wrong issuer" nonce:"wrong nonce" expired:"expired"; do
    lines=$(wc -l <"$TMP/log")
    misbehave "$P1" "${mode%%:*}"
    flow okta alice
    equals "an ID token with ${mode%%:*} is refused" "$CODE" 401
    equals "... oauth_denied" "$(j .code)" oauth_denied
    contains "... as $mode" "$(tail -n +$((lines + 1)) "$TMP/log")" "token refused: ${mode#*:}"
done
flow okta alice
equals "the next, proper ID token signs in" "$CODE" 200

# ---------------------------------------------------------------- linking rules
flow okta carol-unverified
equals "an unverified address of an existing account does not sign in" "$CODE" 409
equals "... account_exists" "$(j .code)" account_exists
flow okta carol-verified
equals "a verified one neither, while linking by email is off" "$(j .code)" account_exists
config true >"$CFG"
kill -HUP "$PID"
check "the config with link_by_verified_email reloads" wait_log "$TMP/log" "configuration reloaded"
flow okta carol-unverified
equals "with it on, an unverified address is still refused" "$(j .code)" account_exists
flow okta carol-verified
equals "... a verified one signs in to the account" "$CODE" 200
equals "... carol's" "$(j .user.email)" carol@example.com
CAROL_ID=$(j .user.id)
flow okta carol-verified
equals "... and is linked from then on" "$(j .user.id)" "$CAROL_ID"
config false >"$CFG"
kill -HUP "$PID"
sleep 0.5

# ---------------------------------------------------------------- redirect_to
req GET "/api/v1/oauth/okta?redirect_to=http://evil.example/done"
equals "redirect_to off the allowlist is refused" "$CODE" 422
equals "... invalid_redirect_to" "$(j .code)" invalid_redirect_to
for off in "$APP/" "$APP?x=1" "http://app.test/other" "HTTP://app.test/done"; do
    req GET /api/v1/oauth/okta -G --data-urlencode "redirect_to=$off"
    equals "... and so is near-miss $off" "$(j .code)" invalid_redirect_to
done
flow okta bob "redirect_to=$APP"
equals "an allowed redirect_to: back there" "$CODE" 302
LOC=$(hdr Location)
contains "... with a one-time code" "$LOC" "$APP?code="
lacks "... and no token in the URL" "$LOC" "token"
BOB_CODE=$(qparam "$LOC" code)
post_json /api/v1/oauth/exchange "{\"code\":\"$BOB_CODE\"}"
equals "the code is exchanged for the token answer" "$CODE" 200
equals "... bob's" "$(j .user.email)" bob@example.com
check "... with tokens" test -n "$(j .access_token)" -a -n "$(j .refresh_token)"
post_json /api/v1/oauth/exchange "{\"code\":\"$BOB_CODE\"}"
equals "the code works once" "$CODE" 400
equals "... invalid_code" "$(j .code)" invalid_code
post_json /api/v1/oauth/exchange '{"code":"made-up"}'
equals "a made-up code is refused" "$(j .code)" invalid_code
flow okta bob "redirect_to=http%3A%2F%2Fapp.test%2Fother%3Ftab%3D1"
contains "a redirect_to with a query gets the code appended" "$(hdr Location)" \
    "http://app.test/other?tab=1&code="
NAME=okta; start okta "redirect_to=$APP"
back "$COOKIE" "state=$(qparam "$AUTHZ" state)&error=access_denied&iss=$ISS1"
equals "the provider's access_denied goes back to redirect_to" "$(hdr Location)" \
    "$APP?error=access_denied"
flow okta carol-unverified "redirect_to=$APP"
equals "... and so does a refusal of ours" "$(hdr Location)" "$APP?error=account_exists"

# ---------------------------------------------------------------- the google preset
NAME=google; start google
equals "the google preset sends the hosted domain as hd" "$(qparam "$AUTHZ" hd)" example.com
flow google gina
equals "an account of the hosted domain signs up and in" "$CODE" 200
equals "... through client_secret_post" "$(j .user.email)" gina@example.com
flow google outsider
equals "an account of another domain is refused" "$(j .code)" oauth_denied
flow google consumer
equals "... and one without a domain" "$(j .code)" oauth_denied

# ---------------------------------------------------------------- identities
post_json /api/v1/auth/login "{\"email\":\"carol@example.com\",\"password\":\"$PW\"}"
CAROL_AT=$(j .access_token)
post_json /api/v1/users/me/identities/google '{}' -H "$(bearer "$CAROL_AT")"
equals "a signed-in user starts linking" "$CODE" 200
AUTHZ=$(j .url)
COOKIE=$(hdr Set-Cookie); COOKIE=${COOKIE%%;*}
contains "... at the provider" "$AUTHZ" "$ISS2/auth?"
NAME=google; login "$AUTHZ" carol-work; back "$COOKIE"
equals "the callback links instead of signing in" "$CODE" 200
equals "... the provider's subject" "$(j .subject)" carol-work
lacks "... and gives no tokens" "$BODY" access_token
flow google carol-work
equals "the linked account signs in to carol" "$(j .user.id)" "$CAROL_ID"
post_json /api/v1/users/me/identities/google '{}' -H "$(bearer "$ALICE_AT")"
COOKIE=$(hdr Set-Cookie); COOKIE=${COOKIE%%;*}
login "$(j .url)" carol-work; back "$COOKIE"
equals "a provider account linked to another user cannot be linked again" "$CODE" 409
equals "... identity_taken" "$(j .code)" identity_taken
post_json /api/v1/users/me/identities/google "{\"redirect_to\":\"http://evil.example\"}" \
    -H "$(bearer "$CAROL_AT")"
equals "linking checks redirect_to too" "$(j .code)" invalid_redirect_to
post_json /api/v1/users/me/identities/google '{}'
equals "linking needs a signed-in user" "$CODE" 401

req GET /api/v1/users/me/identities -H "$(bearer "$CAROL_AT")"
equals "carol has two identities" "$(j '[.items[].provider] | sort | join(",")')" google,okta
CAROL_GOOGLE=$(j '.items[] | select(.provider == "google") | .id')
req DELETE "/api/v1/users/me/identities/$ALICE_IDENTITY" -H "$(bearer "$ALICE_AT")"
equals "the last way to sign in cannot be unlinked" "$CODE" 409
equals "... last_sign_in_method" "$(j .code)" last_sign_in_method
req DELETE "/api/v1/users/me/identities/$ALICE_IDENTITY" -H "$(bearer "$CAROL_AT")"
equals "another user's identity is not found" "$CODE" 404
req DELETE "/api/v1/users/me/identities/$CAROL_GOOGLE" -H "$(bearer "$CAROL_AT")"
equals "an identity beside a password is unlinked" "$CODE" 204
req GET /api/v1/users/me/identities -H "$(bearer "$CAROL_AT")"
equals "... and gone from the list" "$(j '[.items[].provider] | join(",")')" okta
flow google carol-work
equals "... so the provider account no longer signs in to carol" "$(j ".user.id == \"$CAROL_ID\"")" false

# ---------------------------------------------------------------- MFA, outage
post_json /api/v1/users/me/mfa/totp '{}' -H "$(bearer "$ALICE_AT")"
FID=$(j .factor_id) SECRET=$(j .secret)
post_json "/api/v1/users/me/mfa/$FID/confirm" "{\"code\":\"$(totp "$SECRET")\"}" \
    -H "$(bearer "$ALICE_AT")"
equals "alice enrols a second factor" "$CODE" 200
flow okta alice
equals "then the provider alone does not sign her in" "$(j .mfa_required)" true
lacks "... no token" "$BODY" access_token
equals "... the second step's method" "$(j '.methods[0].type')" totp
post_json /api/v1/auth/mfa/verify \
    "{\"mfa_token\":\"$(j .mfa_token)\",\"method\":\"totp\",\"code\":\"$(totp "$SECRET" 1)\"}"
equals "... the usual second step does" "$CODE" 200
equals "... as alice" "$(j .user.id)" "$ALICE_ID"
equals "... amr: the provider, then the code" "$(claims "$(j .access_token)" | jq -c .amr)" \
    '["ext","otp"]'
flow okta alice "redirect_to=$APP"
post_json /api/v1/oauth/exchange "{\"code\":\"$(qparam "$(hdr Location)" code)\"}"
equals "the one-time code of a user with a factor gives the second step too" \
    "$(j .mfa_required)" true

req GET /api/v1/oauth/down
equals "a provider that is down: 503, no redirect" "$CODE" 503
check "... and the daemon says which" wait_log "$TMP/log" "down:"

# ---------------------------------------------------------------- audit, log
post_json /api/v1/auth/login "{\"email\":\"admin@example.com\",\"password\":\"$PW\"}"
ADM=$(j .access_token)
req GET "/api/v1/audit-events?action=login.oauth&limit=100" -H "$(bearer "$ADM")"
contains "failures are audited with their reason" "$BODY" '"reason":"browser_mismatch"'
contains "... the provider's refusal too" "$BODY" '"reason":"oauth_denied"'
req GET "/api/v1/audit-events?action=identity.&limit=100" -H "$(bearer "$ADM")"
contains "links are audited" "$BODY" '"action":"identity.link"'
contains "... and unlinks" "$BODY" '"action":"identity.unlink"'
req GET "/api/v1/audit-events?subject_id=$ALICE_ID&action=login.success" -H "$(bearer "$ADM")"
check "sign-ins are audited" test "$(j '.items | length')" -ge 2
LOG=$(cat "$TMP/log")
lacks "the log has no client secret" "$LOG" "$OKTA_SECRET"
lacks "... nor the other" "$LOG" "$GOOGLE_SECRET"
lacks "... nor a code" "$LOG" "$BOB_CODE"
lacks "... nor an authorization code" "$LOG" "$ATTACKER_CODE"
stop_daemon
equals "the daemon stops cleanly" "$STATUS" 0
finish
