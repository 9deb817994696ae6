#!/usr/bin/env bash
# mfa.sh - second factors over HTTP against the real daemon, on SQLite
# unless GH_TEST_BACKEND says otherwise (backend.sh): TOTP enrolment
# (pending until confirmed, recovery codes once), sign-in with password +
# TOTP and + a recovery code, amr in the token, replays, wrong codes, an
# exhausted mfa_token and the account lockout, removal and new recovery
# codes behind the password, an admin's reset, a company that requires a
# second factor (a token that can only enrol one), SMS codes (enrolment,
# sign-in, the provider's failures, send limits, the plugin's callback
# route), and the audit trail. The test computes the
# TOTP codes itself (RFC 6238, python3). MFA_TOTP_PLUGIN names the TOTP
# plugin to load (default totp: plugins/mfa/totp); the SMS plugin is tests/plugins/mfa_sms_sink.c, which writes each message to
# a file the test reads the codes from. GH_TEST_KV=redis keeps the kv
# (challenges, tries, SMS codes, limits) in Redis (GH_TEST_REDIS_URL).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl python3 "$DB_TOOL"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Mfa-Pass-word-4242'
TOTP_PLUGIN=${MFA_TOTP_PLUGIN:-totp}

PLUGINS="$TMP/plugins"   # the built plugins, then the test ones of other names
mkdir -p "$PLUGINS"
ln -s "$GATEHOUSE_PLUGIN_DIR"/*.so "$PLUGINS"/
for so in "$GATEHOUSE_TEST_PLUGIN_DIR"/*.so; do
    [ -e "$PLUGINS/${so##*/}" ] || ln -s "$so" "$PLUGINS"/
done

kv_config mfa

new_database gh_mfa
{
    # a slow run's tokens are minutes old by its end; the window is tested
    # on its own below
    base_config plugin_dir="$PLUGINS" auth=$'mfa:\n  recent_signin: 1h'
    printf '%s\n' "$STORAGE_YAML"
    [ -n "$KV_YAML" ] && printf '%s\n' "$KV_YAML"
    printf 'plugins:\n  - name: %s\n' "$TOTP_PLUGIN"
    printf '  - name: mfa_sms_sink\n    options: { file: %s }\n' "$TMP/sms.jsonl"
    printf '  - name: mfa_sms_sink12\n    options: { file: %s }\n' "$TMP/sms12.jsonl"
} >"$CFG"
ctl() { "$CTL" -c "$CFG" "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; OUT=$(cat "$TMP/out"); }
ctl migrate up
for who in ann bob cy dee err1 err2; do
    ctl user create --email "$who@example.com" --password-stdin <<<"$PW"
done
ctl user create --email boss@example.com --admin --password-stdin <<<"$PW"
ctl company create beta "Beta"
ctl user create --email bea@beta.example --tenant beta --admin --password-stdin <<<"$PW"
ctl user create --email ben@beta.example --tenant beta --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0
check "the daemon starts" start_daemon "$CFG" "$TMP/log"

# the claims of an access token
claims() { cut -d. -f2 <<<"$1" | tr '_-' '/+' | base64 -d 2>/dev/null; printf '\n'; }
login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"}"; AT=$(j .access_token); }
verify() { post_json /api/v1/auth/mfa/verify "{\"mfa_token\":\"$1\",\"method\":\"$2\",\"code\":\"$3\"}"; }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
wrong() { local c; c=$(( (10#$1 + 1) % 1000000 )); printf '%06d' "$c"; }
# enrol_totp TOKEN: a confirmed TOTP factor for the token's user, its id in
# E_FID and its secret in E_SECRET; the confirmation's answer in CODE, BODY
enrol_totp() {
    as "$1" post_json /api/v1/users/me/mfa/totp '{}'
    E_FID=$(j .factor_id) E_SECRET=$(j .secret)
    as "$1" post_json "/api/v1/users/me/mfa/$E_FID/confirm" "{\"code\":\"$(totp "$E_SECRET")\"}"
}

# ---------------------------------------------------------------- enrolment
login ann@example.com
ANN=$AT ANN_ID=$(j .user.id)
equals "a password login is amr pwd" "$(claims "$ANN" | jq -c .amr)" '["pwd"]'
as "$ANN" req GET /api/v1/users/me/mfa
equals "no factors yet" "$CODE $(j '.items | length')" "200 0"
as "$ANN" post_json /api/v1/users/me/mfa/totp '{"label":"phone app"}'
equals "a TOTP enrolment" "$CODE" 201
FID=$(j .factor_id) SECRET=$(j .secret) URI=$(j .otpauth_uri)
contains "its URI holds the secret" "$URI" "otpauth://totp/"
contains "... the same one" "$URI" "secret=$SECRET"
as "$ANN" req GET /api/v1/users/me/mfa
equals "listed, pending, with its label" "$(j '.items[0] | [.id, .type, .label, .pending] | @csv')" \
    "\"$FID\",\"totp\",\"phone app\",true"
login ann@example.com
equals "a pending factor asks for no second step" "$CODE $(j .mfa_required)" "200 null"
as "$ANN" post_json "/api/v1/users/me/mfa/$FID/confirm" "{\"code\":\"$(wrong "$(totp "$SECRET")")\"}"
equals "a wrong code does not confirm" "$CODE $(j .code)" "422 invalid_code"
CONFIRM_CODE=$(totp "$SECRET")
as "$ANN" post_json "/api/v1/users/me/mfa/$FID/confirm" "{\"code\":\"$CONFIRM_CODE\"}"
equals "the right one does" "$CODE $(j .confirmed)" "200 true"
equals "... with 10 recovery codes" "$(j '.recovery_codes | length')" 10
RC1=$(j '.recovery_codes[0]') RC2=$(j '.recovery_codes[1]') RC3=$(j '.recovery_codes[2]')
as "$ANN" post_json "/api/v1/users/me/mfa/$FID/confirm" "{\"code\":\"$(totp "$SECRET")\"}"
equals "... once" "$CODE $(j .code)" "409 already_confirmed"
as "$ANN" req GET /api/v1/users/me/mfa
equals "no longer pending" "$(j '.items[0].pending')" false

# ---------------------------------------------------------------- sign-in
login ann@example.com
equals "the login asks for the second factor" "$CODE $(j .mfa_required) $(j '.methods[0].type')" \
    "200 true totp"
lacks "... and gives no token" "$BODY" access_token
MT=$(j .mfa_token)
# the steps are taken once: a step boundary passing mid-test must not turn
# a replay into a fresh code
PREV_CODE=$(totp "$SECRET" -1) NEXT_CODE=$(totp "$SECRET" 1)
verify "$MT" totp "$CONFIRM_CODE"
equals "the code used to confirm is a replay" "$CODE $(j .code)" "401 invalid_code"
verify "$MT" totp "$NEXT_CODE"
equals "the next step's code signs in" "$CODE $(j '.user.id')" "200 $ANN_ID"
AT=$(j .access_token)
equals "... amr pwd, otp" "$(claims "$AT" | jq -c .amr)" '["pwd","otp"]'
as "$AT" req GET /api/v1/users/me
equals "... and the token works" "$CODE" 200
as "$AT" req GET /api/v1/users/me/mfa
check "... and the factor shows its use" test "$(j '.items[0].last_used_at')" != null
verify "$MT" totp "$NEXT_CODE"
equals "the mfa_token is spent" "$CODE $(j .code)" "401 invalid_mfa_token"

login ann@example.com
MT=$(j .mfa_token)
verify "$MT" totp "$NEXT_CODE"
equals "a code already used is refused" "$CODE $(j .code)" "401 invalid_code"
verify "$MT" totp "$PREV_CODE"
equals "... and so is any earlier step" "$CODE $(j .code)" "401 invalid_code"
verify "$MT" recovery_code "$RC1"
equals "a recovery code signs in" "$CODE $(j '.user.id')" "200 $ANN_ID"
equals "... amr pwd, mfa" "$(claims "$(j .access_token)" | jq -c .amr)" '["pwd","mfa"]'
login ann@example.com
MT=$(j .mfa_token)
verify "$MT" recovery_code "$RC1"
equals "... once" "$CODE $(j .code)" "401 invalid_code"
verify "$MT" recovery_code "$(tr 'a-z' 'A-Z' <<<"$RC2" | tr -d -)"
equals "case and dashes do not matter" "$CODE" 200
verify "nonsense" totp 123456
equals "an unknown mfa_token" "$CODE $(j .code)" "401 invalid_mfa_token"
verify "$MT" email 123456
equals "an unknown method" "$CODE $(j .code)" "422 invalid_method"

# ---------------------------------------------------------------- tries and lockout
login cy@example.com
CY=$AT
enrol_totp "$CY"
CY_FID=$E_FID CY_SECRET=$E_SECRET
login cy@example.com
MT=$(j .mfa_token)
bad=$(wrong "$(totp "$CY_SECRET" 1)")
for i in 1 2 3 4; do verify "$MT" totp "$bad"; done
equals "four wrong codes" "$CODE $(j .code)" "401 invalid_code"
verify "$MT" totp "$bad"
equals "the fifth" "$CODE $(j .code)" "401 invalid_code"
verify "$MT" totp "$(totp "$CY_SECRET" 1)"
equals "then even the right code needs a new sign-in" "$CODE $(j .code)" "401 invalid_mfa_token"
login cy@example.com
equals "wrong codes count toward the account lockout" "$CODE $(j .code)" "429 too_many_attempts"

# ---------------------------------------------------------------- removal, new codes
as "$ANN" post_json /api/v1/users/me/mfa/recovery-codes '{"password":"wrong"}'
equals "new recovery codes need the password" "$CODE" 401
as "$ANN" post_json /api/v1/users/me/mfa/recovery-codes "{\"password\":\"$PW\"}"
equals "new recovery codes" "$CODE $(j '.recovery_codes | length')" "200 10"
NEW=$(j '.recovery_codes[0]')
login ann@example.com
MT=$(j .mfa_token)
verify "$MT" recovery_code "$RC3"
equals "the old ones are gone" "$CODE" 401
verify "$MT" recovery_code "$NEW"
equals "the new ones work" "$CODE" 200
as "$ANN" req DELETE "/api/v1/users/me/mfa/$FID" -H 'Content-Type: application/json' \
    --data-binary '{"password":"wrong"}'
equals "removal needs the password" "$CODE" 401
as "$ANN" req DELETE "/api/v1/users/me/mfa/$CY_FID" -H 'Content-Type: application/json' \
    --data-binary "{\"password\":\"$PW\"}"
equals "another user's factor is not found" "$CODE" 404
as "$ANN" req DELETE "/api/v1/users/me/mfa/$FID" -H 'Content-Type: application/json' \
    --data-binary "{\"password\":\"$PW\"}"
equals "removal" "$CODE" 204
login ann@example.com
equals "without a factor the password is enough again" "$CODE $(j .mfa_required)" "200 null"

# ---------------------------------------------------------------- password grant, audit
login bob@example.com
BOB=$AT
enrol_totp "$BOB"
req POST /oauth2/token --data-urlencode grant_type=password \
    --data-urlencode username=bob@example.com --data-urlencode "password=$PW"
equals "the password grant answers mfa_required" "$CODE $(j .error)" "403 mfa_required"
check "... with an mfa_token" test -n "$(j .mfa_token)"

# ---------------------------------------------------------------- admin reset
BOB_ID=$(claims "$BOB" | jq -r .sub)
post_json /api/v1/auth/login "{\"email\":\"bea@beta.example\",\"password\":\"$PW\",\"company\":\"beta\"}"
BEA=$(j .access_token)
as "$BEA" req DELETE "/api/v1/users/$BOB_ID/mfa"
equals "another company's admin does not find the user" "$CODE" 404
as "$ANN" req DELETE "/api/v1/users/$BOB_ID/mfa"
equals "a user without users:write may not reset" "$CODE" 403
login boss@example.com
BOSS=$AT
as "$BOSS" req DELETE "/api/v1/users/$BOB_ID/mfa"
equals "an admin resets a user's factors" "$CODE" 204
login bob@example.com
equals "... and the password is enough again" "$CODE $(j .mfa_required)" "200 null"

# ---------------------------------------------------------------- a company that requires MFA
as "$BOSS" req GET "/api/v1/companies?limit=100"
BETA=$(j '.items[] | select(.slug == "beta") | .id')
as "$BOSS" req PUT "/api/v1/companies/$BETA" -H 'Content-Type: application/json' \
    --data-binary '{"settings":{"mfa_required":true}}'
equals "beta requires a second factor" "$CODE $(j .settings.mfa_required)" "200 true"
post_json /api/v1/auth/login "{\"email\":\"ben@beta.example\",\"password\":\"$PW\",\"company\":\"beta\"}"
equals "a user without one still signs in" "$CODE" 200
BEN=$(j .access_token) BEN_REFRESH=$(j .refresh_token)
equals "... to a token that says so" "$(claims "$BEN" | jq -c .mfa_enroll)" true
as "$BEN" req GET /api/v1/users/me
equals "... which opens nothing else" "$CODE $(j .code)" "403 mfa_enrollment_required"
post_json /api/v1/auth/refresh "{\"refresh_token\":\"$BEN_REFRESH\"}"
BEN_REFRESH=$(j .refresh_token)
equals "... not even once refreshed" "$(claims "$(j .access_token)" | jq -c .mfa_enroll)" true
as "$BEN" req GET /api/v1/users/me/mfa
equals "... but lists the factors" "$CODE" 200
enrol_totp "$BEN"
equals "... and enrols and confirms one" "$CODE $(j '.recovery_codes | length')" "200 10"
post_json /api/v1/auth/refresh "{\"refresh_token\":\"$BEN_REFRESH\"}"
equals "then a refresh gives a full token" "$CODE $(claims "$(j .access_token)" | jq -c .mfa_enroll)" "200 null"
post_json /api/v1/auth/login "{\"email\":\"ben@beta.example\",\"password\":\"$PW\",\"company\":\"beta\"}"
equals "... and the sign-in asks for the factor" "$CODE $(j .mfa_required)" "200 true"
login ann@example.com
equals "the root company does not require one" "$(claims "$AT" | jq -c .mfa_enroll)" null

# ---------------------------------------------------------------- SMS
last_sms() { tail -n 1 "$TMP/sms.jsonl" | jq -r ".$1"; }
# The send limit counts in windows of whole clock minutes: the four sends
# below must fall in one, so start with at least half a minute left.
s=$(date +%-S)
[ "$s" -lt 30 ] || sleep $((61 - s))
login dee@example.com
DEE=$AT
as "$DEE" post_json /api/v1/users/me/mfa/sms '{"phone":"555-1234"}'
equals "a number not in E.164 is refused" "$CODE $(j .code)" "422 invalid_phone"
as "$DEE" post_json /api/v1/users/me/mfa/sms '{"phone":"+15551230000"}'
equals "an SMS enrolment" "$CODE $(j .label)" "201 ***0000"
D_FID=$(j .factor_id)
equals "... sends a code to the number" "$(last_sms destination)" "+15551230000"
D_CODE=$(last_sms code)
contains "... in the text the core wrote" "$(last_sms text)" "$D_CODE"
as "$DEE" post_json "/api/v1/users/me/mfa/$D_FID/confirm" '{"code":"000000"}'
equals "a wrong SMS code does not confirm" "$CODE $(j .code)" "422 invalid_code"
as "$DEE" post_json "/api/v1/users/me/mfa/$D_FID/confirm" "{\"code\":\"$D_CODE\"}"
equals "the sent one does" "$CODE $(j '.recovery_codes | length')" "200 10"
login dee@example.com
equals "the login offers SMS" "$(j '.methods[0].type')" sms
MT=$(j .mfa_token)
post_json /api/v1/auth/mfa/challenge "{\"mfa_token\":\"$MT\",\"method\":\"sms\"}"
equals "a challenge sends a code" "$CODE $(j .sent)" "200 true"
S_CODE=$(last_sms code)
verify "$MT" sms "$D_CODE"
equals "the enrolment's code is not this one" "$CODE $(j .code)" "401 invalid_code"
verify "$MT" sms "$S_CODE"
equals "the sent code signs in" "$CODE" 200
equals "... amr pwd, sms" "$(claims "$(j .access_token)" | jq -c .amr)" '["pwd","sms"]'
verify "$MT" sms "$S_CODE"
equals "... once" "$CODE $(j .code)" "401 invalid_mfa_token"
login dee@example.com
MT=$(j .mfa_token)
post_json /api/v1/auth/mfa/challenge "{\"mfa_token\":\"$MT\",\"method\":\"sms\"}"
equals "a third send in a minute" "$CODE" 200
post_json /api/v1/auth/mfa/challenge "{\"mfa_token\":\"$MT\",\"method\":\"sms\"}"
equals "a fourth is refused" "$CODE $(j .code)" "429 too_many_requests"
check "... with Retry-After" test -n "$(hdr Retry-After)"
as "$ANN" post_json /api/v1/users/me/mfa/sms '{"phone":"+15551230000"}'
equals "the number's own limit holds for another account" "$CODE $(j .code)" "429 too_many_requests"
post_json /api/v1/auth/mfa/challenge '{"mfa_token":"nonsense","method":"sms"}'
equals "a challenge needs a live mfa_token" "$CODE $(j .code)" "401 invalid_mfa_token"

# phone verification (seed 003), bob's: dee has had her sends this minute
as "$BOB" req POST /api/v1/users/me/phone/verify
equals "no phone, nothing to verify" "$CODE $(j .code)" "409 no_phone"
as "$BOB" req PUT /api/v1/users/me -H 'Content-Type: application/json' \
    --data-binary '{"phone":"+15551239999"}'
equals "bob sets a phone" "$CODE $(j .phone_verified)" "200 false"
as "$BOB" req POST /api/v1/users/me/phone/verify
equals "a code to the profile's phone" "$CODE $(j .sent) $(last_sms destination)" "200 true +15551239999"
P_CODE=$(last_sms code)
as "$BOB" post_json /api/v1/users/me/phone/confirm '{"code":"000000"}'
equals "a wrong one does not verify it" "$CODE $(j .code)" "422 invalid_code"
as "$BOB" post_json /api/v1/users/me/phone/confirm "{\"code\":\"$P_CODE\"}"
equals "the sent one does" "$CODE" 204
as "$BOB" req GET /api/v1/users/me
equals "... phone_verified" "$(j .phone_verified)" true
as "$BOB" post_json /api/v1/users/me/phone/confirm "{\"code\":\"$P_CODE\"}"
equals "... once" "$CODE" 422
as "$BOB" req PUT /api/v1/users/me -H 'Content-Type: application/json' \
    --data-binary '{"phone":"+15551238888"}'
equals "a new number is not verified" "$CODE $(j .phone_verified)" "200 false"

# the provider's failures, as the ABI maps them (two users: three sends a minute each)
login err1@example.com
E1=$AT
sms_enrol() { as "$1" post_json /api/v1/users/me/mfa/sms "{\"phone\":\"$2\"}"; }
sms_enrol "$E1" +15551230001
equals "a number that cannot receive" "$CODE $(j .code)" "422 invalid_phone"
sms_enrol "$E1" +15551230002
equals "an opted-out number" "$CODE $(j .code)" "422 phone_unsubscribed"
sms_enrol "$E1" +15551230003
equals "a provider that rate-limits" "$CODE $(hdr Retry-After)" "503 7"
login err2@example.com
E2=$AT
sms_enrol "$E2" +15551230004
equals "a provider that is down" "$CODE $(j .code)" "503 unavailable"
sms_enrol "$E2" +15551230005
equals "a provider that times out" "$CODE $(j .code)" "504 sms_timeout"
as "$E1" req GET /api/v1/users/me/mfa
equals "no factor is left of a send that failed" "$(j '.items | length')" 0

# the plugin's own route
req POST /api/v1/mfa/mfa_sms_sink/callback -H 'X-Sink-Signature: good' \
    --data-urlencode MessageSid=SM1 --data-urlencode 'MessageStatus=delivered'
equals "a delivery report reaches the plugin" "$CODE" 200
equals "... with the public URL" "$(last_sms url)" "http://127.0.0.1:8080/api/v1/mfa/mfa_sms_sink/callback"
equals "... and the form" "$(last_sms params)" "MessageSid=SM1&MessageStatus=delivered"
req POST /api/v1/mfa/mfa_sms_sink/callback -H 'X-Sink-Signature: good' --data-urlencode 'a=b=c' \
    --data-urlencode 'x=y=z' --data-urlencode 'Extra%3DName=v'
equals "... a '=' in a name or a value stays where it is" "$(last_sms params)" "a=b=c&x=y=z&Extra=Name=v"
req POST /api/v1/mfa/mfa_sms_sink12/callback -H 'X-Sink-Signature: good' \
    --data-urlencode MessageSid=SM1 --data-urlencode 'MessageStatus=delivered'
equals "a plugin built for ABI 1.2 still gets name=value" \
    "$CODE $(tail -n 1 "$TMP/sms12.jsonl" | jq -r .params)" "200 MessageSid=SM1&MessageStatus=delivered"
req POST /api/v1/mfa/mfa_sms_sink/callback -H 'X-Sink-Signature: forged' --data-urlencode a=b
equals "one the plugin refuses is 403" "$CODE" 403
req POST "/api/v1/mfa/$TOTP_PLUGIN/callback" --data-urlencode a=b
equals "a plugin without inbound has no route" "$CODE" 404
req POST /api/v1/mfa/nobody/callback --data-urlencode a=b
equals "... nor does an unknown one" "$CODE" 404

as "$BOSS" req GET "/api/v1/audit-events?limit=200"
for action in mfa.enroll mfa.confirm mfa.success mfa.failure mfa.remove mfa.recovery_codes \
    mfa.reset mfa.challenge user.phone_verify; do
    check "audited: $action" test "$(j "[.items[] | select(.action == \"$action\")] | length")" -gt 0
done
equals "each failed confirmation is audited (ann's TOTP, dee's SMS)" \
    "$(j '[.items[] | select(.action == "mfa.confirm" and .outcome == "failure")] | length')" 2
lacks "no secret in the log" "$(cat "$TMP/log")" "$SECRET"

stop_daemon
equals "clean shutdown" "$STATUS" 0

# ---------------------------------------------------------------- a recent sign-in
# Enrolling a factor needs a sign-in at most auth.mfa.recent_signin ago: a
# stolen access token, refreshed or not, cannot add the thief's factor.
sed 's/recent_signin: 1h/recent_signin: 1s/' "$CFG" >"$TMP/recent.yaml"
ctl user create --email fay@example.com --password-stdin <<<"$PW"
check "the daemon starts with a 1 s window" start_daemon "$TMP/recent.yaml" "$TMP/log"
login fay@example.com
FAY=$AT FAY_REFRESH=$(j .refresh_token)
sleep 2
as "$FAY" post_json /api/v1/users/me/mfa/totp '{}'
equals "a TOTP enrolment 2 s after the sign-in is 401" "$CODE $(j .code)" "401 insufficient_user_authentication"
contains "... with RFC 9470's step-up challenge" "$OUT" 'WWW-Authenticate: Bearer error="insufficient_user_authentication"'
as "$FAY" post_json /api/v1/users/me/mfa/sms '{"phone":"+15551239999"}'
equals "so is an SMS enrolment" "$CODE $(j .code)" "401 insufficient_user_authentication"
req POST /oauth2/token -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$FAY_REFRESH"
FAY2=$(j .access_token)
as "$FAY2" post_json /api/v1/users/me/mfa/totp '{}'
equals "a refreshed token keeps the session's sign-in time: 401" "$CODE $(j .code)" \
    "401 insufficient_user_authentication"
as "$FAY" req GET /api/v1/users/me/mfa
equals "... and no factor was made" "$CODE $(j '.items | length')" "200 0"
login fay@example.com
as "$AT" post_json /api/v1/users/me/mfa/totp '{}'
equals "signed in again, the enrolment is 201" "$CODE" 201
stop_daemon
finish
