#!/usr/bin/env bash
# token-attacks.sh - the token attacks that need the whole daemon (the
# rest, on the access token alone, are tests/unit/test_jwt_attacks.c):
# every token type of ours presented where another is expected - access,
# refresh, MFA, email verification, password reset, an API key and an
# OAuth client secret - each refused, with the right token in the right
# place accepted as the positive control; and a revoked access token
# re-encoded (padded, another spelling of its ECDSA signature, another
# scheme case) still refused, where the same spellings were accepted
# before the revocation, so it is the deny-list that refuses them.
set -u
. "$(dirname "$0")/lib.sh"
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
mail_client
json_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Token-Attack-pass-8'

# ---------------------------------------------------------------- mail
MAILDIR=$TMP/mail
SMTP_PORT=$(free_port)
"$PY" "$top_srcdir/tests/integration/smtp_sink.py" "$SMTP_PORT" "$MAILDIR" >>"$TMP/smtp.log" 2>&1 &
SMTP_PID=$!
trap 'cleanup; kill "$SMTP_PID" 2>/dev/null' EXIT
for _ in $(seq 1 200); do [ -e "$MAILDIR/.ready" ] && break; sleep 0.05; done
# mail_token N: the link token of the Nth message, once it has arrived
mail_token() { wait_mail "$1" && mread token; }

{
    base_config
    cat <<YAML
plugins:
  - name: totp
  - name: smtp
    options: { url: "smtp://127.0.0.1:$SMTP_PORT", starttls: off, from: no-reply@gatehouse.test }
mail:
  plugin: smtp
  frontend_url: https://app.example.com/
  templates_dir: $top_srcdir/etc/templates
YAML
} >"$CFG"
"$CTL" -c "$CFG" migrate up >/dev/null
"$CTL" -c "$CFG" user create --email root@example.com --admin --password-stdin <<<"$PW" >/dev/null
check "the daemon starts" start_daemon "$CFG" "$TMP/log"

as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
# refused LABEL: the last answer refused the request (a 400, 401 or 422 -
# a token too long for the field is refused before any lookup) and
# issued nothing
refused() {
    case $CODE in
        400 | 401 | 422) [ -z "$(j '.access_token // .refresh_token // empty')" ] && { ok "$1"; return; } ;;
    esac
    not_ok "$1" "answered $CODE: $BODY"
}
login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"}"; }
me() { req GET /api/v1/users/me "$@"; }

# ---------------------------------------------------------------- one of each
login root@example.com
ROOT=$(j .access_token)
post_json /api/v1/auth/signup "{\"email\":\"ann@example.com\",\"password\":\"$PW\"}"
equals "ann signs up" "$CODE" 201
VERIFY=$(mail_token 1)
login ann@example.com
AT=$(j .access_token) RT=$(j .refresh_token)
equals "ann signs in" "$CODE" 200
post_json /api/v1/auth/password-reset-request '{"email":"ann@example.com"}'
RESET=$(mail_token 2)
equals "the mail tokens are 43 characters" "${#VERIFY} ${#RESET}" "43 43"

# bob has TOTP, so his sign-in answers an mfa_token
post_json /api/v1/auth/signup "{\"email\":\"bob@example.com\",\"password\":\"$PW\"}"
login bob@example.com
BOB=$(j .access_token)
as "$BOB" post_json /api/v1/users/me/mfa/totp '{}'
FID=$(j .factor_id) SECRET=$(j .secret)
as "$BOB" post_json "/api/v1/users/me/mfa/$FID/confirm" "{\"code\":\"$(totp "$SECRET")\"}"
equals "bob enrols TOTP" "$CODE" 200
login bob@example.com
MFA=$(j .mfa_token)
check "bob's sign-in asks for a second factor" test -n "$MFA"

as "$ROOT" post_json /api/v1/integrations '{"name":"crm","type":"crm","permissions":["users:read"]}'
KEY=$(j .api_key)
check "an API key" test -n "$KEY"
as "$ROOT" post_json /api/v1/clients '{"name":"batch","scopes":["users:read"]}'
CLIENT_ID=$(j .client_id) CLIENT_SECRET=$(j .client_secret)
check "an OAuth client" test -n "$CLIENT_SECRET"

# ---------------------------------------------------------------- as a bearer token
me -H "$(bearer "$AT")"
equals "control: the access token opens /users/me" "$CODE" 200
for t in RT VERIFY RESET MFA CLIENT_SECRET; do
    me -H "$(bearer "${!t}")"
    equals "$t as an access token: 401 invalid_token" "$CODE $(j .code)" "401 invalid_token"
done
me -H "X-API-Key: $AT"
equals "an access token as an API key: 401" "$CODE" 401

# ---------------------------------------------------------------- as a refresh token
for t in AT VERIFY RESET MFA KEY CLIENT_SECRET; do
    post_json /api/v1/auth/refresh "{\"refresh_token\":\"${!t}\"}"
    refused "$t as a refresh token: refused"
    req POST /oauth2/token --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=${!t}"
    equals "$t as a refresh token at /oauth2/token: invalid_grant" "$CODE $(j .error)" "400 invalid_grant"
done

# ---------------------------------------------------------------- as an mfa_token
CODE6=$(totp "$SECRET" 1)
for t in AT RT VERIFY RESET; do
    post_json /api/v1/auth/mfa/verify "{\"mfa_token\":\"${!t}\",\"method\":\"totp\",\"code\":\"$CODE6\"}"
    refused "$t as an mfa_token: refused"
done
post_json /api/v1/auth/mfa/verify "{\"mfa_token\":\"$MFA\",\"method\":\"totp\",\"code\":\"$CODE6\"}"
equals "control: bob's mfa_token and code sign him in" "$CODE" 200

# ---------------------------------------------------------------- as mail tokens
for t in RESET AT RT MFA KEY; do
    post_json /api/v1/auth/verify-email "{\"token\":\"${!t}\"}"
    refused "$t as a verification token: refused"
done
for t in VERIFY AT RT MFA KEY; do
    post_json /api/v1/auth/password-reset "{\"token\":\"${!t}\",\"new_password\":\"Brand-new-pass-77\"}"
    refused "$t as a reset token: refused"
done
post_json /api/v1/auth/verify-email "{\"token\":\"$VERIFY\"}"
equals "control: the verification token verifies" "$CODE" 200
login ann@example.com
equals "no reset happened: ann's password still works" "$CODE" 200
AT=$(j .access_token)

# ---------------------------------------------------------------- the client secret and the API key elsewhere
req POST /oauth2/token -u "$CLIENT_ID:$KEY" --data-urlencode grant_type=client_credentials
equals "an API key as a client secret: invalid_client" "$CODE $(j .error)" "401 invalid_client"
req POST /oauth2/token -u "$CLIENT_ID:$RT" --data-urlencode grant_type=client_credentials
equals "a refresh token as a client secret: invalid_client" "$CODE $(j .error)" "401 invalid_client"
req POST /oauth2/token -u "$CLIENT_ID:$CLIENT_SECRET" --data-urlencode grant_type=client_credentials
equals "control: the client secret gets a token" "$CODE" 200

# ---------------------------------------------------------------- a revoked token, re-encoded
# other spellings of one token: '=' padding, and the ECDSA signature's twin
# (r, n - s), which verifies too (ECDSA is malleable)
padded() { printf '%s=' "$1"; }
twin() {
    python3 - "$1" <<'PY'
import base64, sys
h, p, s = sys.argv[1].split(".")
sig = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
r, t = sig[:32], int.from_bytes(sig[32:], "big")
out = base64.urlsafe_b64encode(r + (n - t).to_bytes(32, "big")).rstrip(b"=").decode()
print(h + "." + p + "." + out)
PY
}
TWIN=$(twin "$AT")
check "the twin is another text" test "$TWIN" != "$AT"
me -H "$(bearer "$TWIN")"
equals "before the revocation the twin signature is accepted" "$CODE" 200
me -H "Authorization: bearer $AT"
equals "... and the scheme in lower case" "$CODE" 200
me -H "$(bearer "$(padded "$AT")")"
equals "a padded token is refused even while valid" "$CODE" 401
as "$AT" req POST /api/v1/auth/logout
equals "ann signs out" "$CODE" 204
for form in AT TWIN; do
    me -H "$(bearer "${!form}")"
    equals "after sign-out, $form: 401 invalid_token" "$CODE $(j .code)" "401 invalid_token"
done
me -H "Authorization: bearer $AT"
equals "after sign-out, the lower-case scheme: 401" "$CODE" 401
me -H "Authorization: Bearer  $AT"
equals "after sign-out, two spaces: 401" "$CODE" 401
me -H "$(bearer "$(padded "$TWIN")")"
equals "after sign-out, the padded twin: 401" "$CODE" 401
lacks "no token in the log" "$(cat "$TMP/log")" "$AT"
lacks "no refresh token in the log" "$(cat "$TMP/log")" "$RT"
finish
