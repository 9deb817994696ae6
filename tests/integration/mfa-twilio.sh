#!/usr/bin/env bash
# mfa-twilio.sh - SMS second factors end to end through the real Twilio
# plugin (plugins/mfa/twilio) and the Twilio stand-in on loopback
# (twilio_standin.py, Twilio's wire format): SMS enrolment and sign-in
# with the codes the stand-in received, Twilio's failures as the daemon
# answers them, signed delivery reports to the plugin's callback route,
# phone verification, and a wrong auth token named in the log without the
# token. On SQLite: the storage is not what this test is about; the codes
# and limits live in kv, so GH_TEST_KV=redis runs it with Redis as kv
# (mfa-twilio-redis.sh).
set -u
. "$(dirname "$0")/lib.sh"
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
kv_config mfa-twilio
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Twilio-Pass-word-4242'
ACCOUNT=AC0123456789abcdef0123456789abcdef
TOKEN=0123456789abcdef0123456789abcdef
BAD_TOKEN=fedcba9876543210fedcba9876543210
FROM=+15005550006
RECORD="$TMP/twilio.jsonl"
printf '%s\n' "$TOKEN" >"$TMP/token"
printf '%s\n' "$BAD_TOKEN" >"$TMP/bad-token"

STANDIN=
trap '[ -n "$STANDIN" ] && kill "$STANDIN" 2>/dev/null; cleanup' EXIT
python3 "$top_srcdir/tests/integration/twilio_standin.py" serve "$TMP/standin.port" "$RECORD" \
    "$ACCOUNT" "$TOKEN" &
STANDIN=$!
for _ in $(seq 1 200); do [ -e "$TMP/standin.port" ] && break; sleep 0.05; done
TWILIO_PORT=$(cat "$TMP/standin.port" 2>/dev/null)
check "the stand-in listens" test -n "$TWILIO_PORT"
: >>"$RECORD"

# the callback URL the plugin gives Twilio is public_url's: the daemon's own
DAEMON_PORT=$(free_port)
# config TOKEN_FILE: the daemon's config, the Twilio plugin reading its
# auth token from TOKEN_FILE
config() {
    base_config listen="127.0.0.1:$DAEMON_PORT" public_url="http://127.0.0.1:$DAEMON_PORT" \
        auth=$'mfa:\n  recent_signin: 1h' # a slow run's tokens grow old
    [ -n "$KV_YAML" ] && printf '%s\n' "$KV_YAML"
    printf 'plugins:\n  - name: totp\n  - name: twilio\n    plugin: twilio\n    options:\n'
    printf '      account_sid: %s\n      auth_token_file: %s\n' "$ACCOUNT" "$1"
    printf '      from: "%s"\n      api_base: http://127.0.0.1:%s\n      status_callback: on\n' \
        "$FROM" "$TWILIO_PORT"
}
config "$TMP/token" >"$CFG"
ctl() { "$CTL" -c "$CFG" "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; }
ctl migrate up
for who in ann bob err1 err2 err3 eve; do
    ctl user create --email "$who@example.com" --password-stdin <<<"$PW"
done
equals "the users exist" "$RC" 0
check "the daemon starts with the Twilio plugin" start_daemon "$CFG" "$TMP/log"
equals "... on the port public_url names" "$PORT" "$DAEMON_PORT"

claims() { cut -d. -f2 <<<"$1" | tr '_-' '/+' | base64 -d 2>/dev/null; printf '\n'; }
login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"}"; AT=$(j .access_token); }
verify() { post_json /api/v1/auth/mfa/verify "{\"mfa_token\":\"$1\",\"method\":\"$2\",\"code\":\"$3\"}"; }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
sms_enrol() { as "$1" post_json /api/v1/users/me/mfa/sms "{\"phone\":\"$2\"}"; }
# the stand-in's record: how many messages it was asked for, the last one's
# FIELD (a jq path), the code in the last one's Body
requests() { jq -s '[.[] | select(.type == "request")] | length' "$RECORD"; }
last_req() { jq -s -r "[.[] | select(.type == \"request\")] | last | $1" "$RECORD"; }
sent_code() { last_req .form.Body | grep -o '[0-9]\{6\}' | head -n 1; }
wrong() { printf '%06d' $(( (10#$1 + 1) % 1000000 )); }
CALLBACK="http://127.0.0.1:$DAEMON_PORT/api/v1/mfa/twilio/callback"

# ---------------------------------------------------------------- enrolment
login ann@example.com
ANN=$AT
n=$(requests)
sms_enrol "$ANN" +15551230000
equals "an SMS enrolment" "$CODE" 201
FID=$(j .factor_id)
equals "the stand-in got one message" "$(requests)" $((n + 1))
equals "... which it accepted" "$(last_req .status)" 201
equals "... with the account's basic auth" "$(last_req .auth_user)" "$ACCOUNT"
equals "... on the account's path" "$(last_req .account)" "$ACCOUNT"
equals "... To the number" "$(last_req .form.To)" +15551230000
equals "... From the option" "$(last_req .form.From)" "$FROM"
check "... a Body holding a 6-digit code" grep -q '\(^\|[^0-9]\)[0-9]\{6\}\([^0-9]\|$\)' \
    <<<"$(last_req .form.Body)"
equals "... and the StatusCallback" "$(last_req .form.StatusCallback)" "$CALLBACK"
E_CODE=$(sent_code)
E_SID=$(last_req .sid)
as "$ANN" post_json "/api/v1/users/me/mfa/$FID/confirm" "{\"code\":\"$(wrong "$E_CODE")\"}"
equals "a wrong code does not confirm" "$CODE $(j .code)" "422 invalid_code"
as "$ANN" post_json "/api/v1/users/me/mfa/$FID/confirm" "{\"code\":\"$E_CODE\"}"
equals "the sent code confirms" "$CODE $(j .confirmed)" "200 true"
equals "... the first factor, with 10 recovery codes" "$(j '.recovery_codes | length')" 10
as "$ANN" req GET /api/v1/users/me/mfa
equals "the factor is SMS, confirmed" "$(j '.items[0] | [.type, .pending] | @csv')" '"sms",false'

# ---------------------------------------------------------------- sign-in
login ann@example.com
equals "the login asks for the second factor" "$CODE $(j .mfa_required) $(j '.methods[0].type')" \
    "200 true sms"
MT=$(j .mfa_token)
n=$(requests)
post_json /api/v1/auth/mfa/challenge "{\"mfa_token\":\"$MT\",\"method\":\"sms\"}"
equals "a challenge" "$CODE $(j .sent)" "200 true"
equals "... sends a new message" "$(requests) $(last_req .status) $(last_req .form.To)" \
    "$((n + 1)) 201 +15551230000"
S_CODE=$(sent_code)
verify "$MT" sms "$(wrong "$S_CODE")"
equals "a wrong code is refused" "$CODE $(j .code)" "401 invalid_code"
verify "$MT" sms "$S_CODE"
equals "the sent code signs in" "$CODE" 200
AT=$(j .access_token)
equals "... amr pwd, sms" "$(claims "$AT" | jq -c .amr)" '["pwd","sms"]'
as "$AT" req GET /api/v1/users/me
equals "... and the token works" "$CODE" 200
login ann@example.com
MT=$(j .mfa_token)
verify "$MT" sms "$S_CODE"
equals "the same code again is refused" "$CODE $(j .code)" "401 invalid_code"

# ---------------------------------------------------------------- Twilio's failures
# one user a failure: a user has three sends a minute
login err1@example.com
sms_enrol "$AT" +15005550001
equals "Twilio's invalid number (21211)" "$CODE $(j .code)" "422 invalid_phone"
equals "... was Twilio's answer" "$(last_req .code)" 21211
as "$AT" req GET /api/v1/users/me/mfa
equals "... and left no factor" "$(j '.items | length')" 0
sms_enrol "$AT" +15005550030
equals "a number Twilio takes but cannot deliver to" "$CODE" 201
check "... its report 'undelivered' is logged with Twilio's error" \
    wait_log "$TMP/log" "message $(last_req .sid): undelivered, error 30003"
login err2@example.com
sms_enrol "$AT" +15005550004
equals "Twilio's unsubscribed number (21610)" "$CODE $(j .code)" "422 phone_unsubscribed"
equals "... was Twilio's answer" "$(last_req .code)" 21610
login err3@example.com
sms_enrol "$AT" +15005550429
equals "Twilio's 429" "$CODE $(j .code)" "503 unavailable"
equals "... passes its Retry-After on" "$(hdr Retry-After)" 7
equals "... was Twilio's answer" "$(last_req .status)" 429

# ---------------------------------------------------------------- delivery reports
check "the stand-in reports 'sent' to the daemon" wait_log "$TMP/log" "message $E_SID: sent"
check "... and 'delivered'" wait_log "$TMP/log" "message $E_SID: delivered"
for _ in $(seq 1 100); do
    [ "$(jq -s "[.[] | select(.type == \"callback\" and .params.MessageSid == \"$E_SID\")] | length" \
        "$RECORD")" -ge 2 ] && break
    sleep 0.05
done
equals "... each answered 204" \
    "$(jq -s -c "[.[] | select(.type == \"callback\" and .params.MessageSid == \"$E_SID\") | .answer]" \
        "$RECORD")" '[204,204]'
equals "... at the StatusCallback URL" \
    "$(jq -s -r "[.[] | select(.type == \"callback\")] | first | .url" "$RECORD")" "$CALLBACK"
STANDIN_PY="$top_srcdir/tests/integration/twilio_standin.py"
equals "a report signed with the auth token" "$(python3 "$STANDIN_PY" callback "$CALLBACK" "$TOKEN" \
    MessageSid=SM00000000000000000000000000000001 MessageStatus=delivered)" 204
check "... is logged" wait_log "$TMP/log" "message SM00000000000000000000000000000001: delivered"
# a '=' in a name comes as %3D: the signature is over the decoded name
equals "one with a '=' in a parameter's name" "$(python3 "$STANDIN_PY" callback "$CALLBACK" \
    "$TOKEN" MessageSid=SM00000000000000000000000000000004 MessageStatus=delivered \
    'Extra%3DName=a=b')" 204
equals "one with a wrong signature" "$(python3 "$STANDIN_PY" callback "$CALLBACK" "$TOKEN" \
    --wrong-signature MessageSid=SM00000000000000000000000000000002 MessageStatus=delivered)" 403
check "... the log says why" wait_log "$TMP/log" \
    "callback refused: twilio: a callback with a wrong X-Twilio-Signature"
lacks "... and has no report of it" "$(cat "$TMP/log")" SM00000000000000000000000000000002
req POST /api/v1/mfa/twilio/callback --data-urlencode MessageSid=SM00000000000000000000000000000003 \
    --data-urlencode MessageStatus=delivered
equals "one without a signature" "$CODE" 403
check "... the log says why" wait_log "$TMP/log" \
    "callback refused: twilio: a callback without X-Twilio-Signature"
lacks "... and no report of it" "$(cat "$TMP/log")" SM00000000000000000000000000000003

# ---------------------------------------------------------------- phone verification
login bob@example.com
BOB=$AT
as "$BOB" req PUT /api/v1/users/me -H 'Content-Type: application/json' \
    --data-binary '{"phone":"+15551239999"}'
equals "bob sets a phone" "$CODE $(j .phone_verified)" "200 false"
n=$(requests)
as "$BOB" req POST /api/v1/users/me/phone/verify
equals "phone verification" "$CODE $(j .sent)" "200 true"
equals "... sends a message to it" "$(requests) $(last_req .status) $(last_req .form.To)" \
    "$((n + 1)) 201 +15551239999"
P_CODE=$(sent_code)
as "$BOB" post_json /api/v1/users/me/phone/confirm "{\"code\":\"$(wrong "$P_CODE")\"}"
equals "a wrong code does not verify it" "$CODE $(j .code)" "422 invalid_code"
as "$BOB" post_json /api/v1/users/me/phone/confirm "{\"code\":\"$P_CODE\"}"
equals "the sent one does" "$CODE" 204
as "$BOB" req GET /api/v1/users/me
equals "... phone_verified" "$(j .phone_verified)" true

lacks "the auth token is not in the log" "$(cat "$TMP/log")" "$TOKEN"
stop_daemon
equals "clean shutdown" "$STATUS" 0

# ---------------------------------------------------------------- a wrong auth token
config "$TMP/bad-token" >"$CFG"
check "the daemon starts with a wrong auth token" start_daemon "$CFG" "$TMP/log"
login eve@example.com
sms_enrol "$AT" +15551230007
equals "Twilio refuses the credentials: the daemon is unavailable" "$CODE $(j .code)" \
    "503 unavailable"
equals "... Twilio answered 401 20003" "$(last_req .status) $(last_req .code)" "401 20003"
contains "... and the log names the option" "$(cat "$TMP/log")" "'auth_token'"
lacks "... without the token" "$(cat "$TMP/log")" "$BAD_TOKEN"
stop_daemon
equals "clean shutdown" "$STATUS" 0
finish
