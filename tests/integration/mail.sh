#!/usr/bin/env bash
# mail.sh - email verification and password reset end to end: the real
# daemon sends through the smtp plugin to a real SMTP server on loopback
# (aiosmtpd, tests/integration/smtp_sink.py), and the test reads the mail
# that arrived, follows its link token and completes each flow. Also:
# expired, reused, superseded, wrong-purpose and another user's tokens;
# the same answer for unknown addresses (and no mail); the password policy
# on reset and the end of every session; rate limits; the SMTP server down
# and back (retries), a full queue (503), /metrics, HTML escaping, mail
# owed at shutdown sent after the restart, no token in the log, and mail
# switched off.
#
# GH_TEST_BACKEND: sqlite (default), postgres or mysql, as accounts.sh.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
command -v jq >/dev/null || { echo "SKIP: jq not found"; exit 77; }
mail_client

# ---------------------------------------------------------------- the database
new_database gh_mail

# ---------------------------------------------------------------- the SMTP server
MAILDIR=$TMP/mail
SMTP_PID=
SMTP_PORT=$(free_port)
start_smtp() {
    rm -f "$MAILDIR/.ready"
    "$PY" "$top_srcdir/tests/integration/smtp_sink.py" "$SMTP_PORT" "$MAILDIR" >>"$TMP/smtp.log" 2>&1 &
    SMTP_PID=$!
    for _ in $(seq 1 200); do [ -e "$MAILDIR/.ready" ] && return 0; sleep 0.05; done
    cat "$TMP/smtp.log" >&2
    return 1
}
stop_smtp() {
    [ -n "$SMTP_PID" ] && kill "$SMTP_PID" 2>/dev/null && wait "$SMTP_PID" 2>/dev/null
    SMTP_PID=
}
trap 'cleanup; stop_smtp; drop_databases' EXIT

mail_count() { find "$MAILDIR" -name '*.eml' 2>/dev/null | wc -l; }

# ---------------------------------------------------------------- HTTP
json_client
signup() { post_json /api/v1/auth/signup "{\"email\":\"$1\",\"password\":\"$2\"${3:+,\"full_name\":$3}}"; }
login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$2\"}"; AT=$(j .access_token); RT=$(j .refresh_token); }
verify() { post_json /api/v1/auth/verify-email "{\"token\":\"$1\"}" "${@:2}"; }
resend() { post_json /api/v1/auth/verify-email/resend "{\"email\":\"$1\"}"; }
reset_request() { post_json /api/v1/auth/password-reset-request "{\"email\":\"$1\"}"; }
reset() { post_json /api/v1/auth/password-reset "{\"token\":\"$1\",\"new_password\":\"$2\"}"; }
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | sed -n "s/^gatehouse_mail_total{event=\"$1\"} //p"; }

# write_config FILE [YAML for the mail: block] [more top-level YAML]
write_config() {
    {
        base_config public_url= server='shutdown_timeout: 2s' auth='require_verified_email: true'
        cat <<YAML
$STORAGE_YAML
plugins:
  - name: smtp
    options:
      url: smtp://127.0.0.1:$SMTP_PORT
      starttls: off
      from: no-reply@gatehouse.test
      from_name: Gatehouse Tëst
      connect_timeout: 1s
      timeout: 5s
${2-mail:
  plugin: smtp
  frontend_url: https://app.example.com/
  product_name: Acme
  templates_dir: $top_srcdir/etc/templates
  queue_size: 3
  retry_delay: 200ms
  retry_max_delay: 400ms
  max_attempts: 100
  address_limit: 4
${MAIL_EXTRA:-}}
${3:-}
YAML
    } >"$1"
}

PW='Correct-horse-battery-9'
NEW_PW='Another-good-passphrase-7'
TOKENS=

check "the SMTP server starts" start_smtp
write_config "$TMP/gh.yaml"
check "the daemon starts with the smtp plugin" start_daemon "$TMP/gh.yaml" "$TMP/log"
contains "the log says where mail goes" "$(cat "$TMP/log")" "mail: sending through plugin 'smtp'"

# ---------------------------------------------------------------- verification
signup alice@example.com "$PW" '"<b>Al & \"Ice\"</b>"'
equals "signup answers 201" "$CODE" 201
equals "signup asks for verification" "$(j .verification_required)" true
equals "signup says its mail is on its way" "$(j .verification_email_sent)" true
ALICE_ID=$(j .user.id)
check "the verification mail arrives" wait_mail 1
equals "to the new address (envelope)" "$(mread envelope-to)" alice@example.com
equals "To: the new address" "$(mread to)" alice@example.com
equals "From: the configured name and address" "$(mread from)" "Gatehouse Tëst <no-reply@gatehouse.test>"
equals "Subject: from the template, with the product name" "$(mread subject)" "Confirm your email address for Acme"
equals "multipart/alternative" "$(mread type)" multipart/alternative
equals "a text and an HTML part" "$(mread parts)" "text/plain text/html"
check "it has a Date" test -n "$(mread date)"
check "it has a Message-ID" test -n "$(mread message-id | grep '^<[0-9a-f]*@gatehouse.test>$')"
contains "the link is built on frontend_url" "$(mread text)" "https://app.example.com/verify-email?token="
contains "the HTML part escapes the user's name" "$(mread html)" "&lt;b&gt;Al &amp; &quot;Ice&quot;&lt;/b&gt;"
lacks "the HTML part has no raw markup from the name" "$(mread html)" "<b>Al"
contains "the text part has the name as it is" "$(mread text)" '<b>Al & "Ice"</b>'
T1=$(mread token); TOKENS="$TOKENS $T1"
equals "the token is 43 base64url characters" "${#T1}" 43

login alice@example.com "$PW"
equals "unverified: login refused" "$CODE" 403
equals "with email_not_verified" "$(j .code)" email_not_verified

verify 'not-a-token'
equals "a made-up token: 400" "$CODE" 400
equals "code invalid_token" "$(j .code)" invalid_token
post_json /api/v1/auth/verify-email '{}'
equals "no token: 422 missing_field" "$(j .code)" missing_field

resend alice@example.com
equals "resend: 202" "$CODE" 202
check "the second mail arrives" wait_mail 2
T2=$(mread token); TOKENS="$TOKENS $T2"
resend alice@example.com
check "the third mail arrives" wait_mail 3
T3=$(mread token); TOKENS="$TOKENS $T3"
check "each mail has a new token" test "$T1" != "$T2" -a "$T2" != "$T3"
verify "$T1"
equals "the signup token, superseded twice: refused" "$CODE" 400
verify "$T2"
equals "the second token, superseded: refused" "$CODE" 400
verify "$T3"
equals "the newest token verifies" "$CODE" 200
equals "email_verified is true" "$(j .email_verified)" true
equals "the user says so" "$(j .user.email_verified)" true
verify "$T3"
equals "a used token is refused" "$CODE" 400
login alice@example.com "$PW"
equals "verified: login works" "$CODE" 200
ALICE_AT=$AT; ALICE_RT=$RT

# ---------------------------------------------------------------- same answers, no mail
resend alice@example.com
ANSWER_VERIFIED=$BODY
equals "resend for a verified address: 202" "$CODE" 202
resend nobody@example.com
equals "resend for an unknown address: 202" "$CODE" 202
equals "the same body" "$BODY" "$ANSWER_VERIFIED"
resend alice@example.com
equals "fourth resend for one address: still 202" "$CODE" 202
resend alice@example.com
equals "fifth within the window: 429" "$CODE" 429
equals "code too_many_requests" "$(j .code)" too_many_requests
check "with Retry-After" test -n "$(hdr Retry-After)"
post_json /api/v1/auth/verify-email/resend '{"email":"not an address"}'
equals "a malformed address: 422" "$CODE" 422

signup bob@example.com "$PW"
equals "bob signs up" "$CODE" 201
BOB_ID=$(j .user.id)
check "bob's mail arrives" wait_mail 4
equals "the 4th mail is bob's: none went to alice (verified) or nobody" "$(mread envelope-to)" bob@example.com
TB=$(mread token); TOKENS="$TOKENS $TB"

# ---------------------------------------------------------------- reset
reset_request alice@example.com
equals "reset request: 202" "$CODE" 202
ANSWER_KNOWN=$BODY
reset_request nobody@example.com
equals "reset request for an unknown address: 202" "$CODE" 202
equals "the same body as for a known one" "$BODY" "$ANSWER_KNOWN"
check "the reset mail arrives" wait_mail 5
equals "to alice" "$(mread envelope-to)" alice@example.com
equals "reset subject" "$(mread subject)" "Reset your Acme password"
contains "reset link on frontend_url" "$(mread text)" "https://app.example.com/reset-password?token="
RA=$(mread token); TOKENS="$TOKENS $RA"
sleep 0.5
equals "no mail for the unknown address" "$(mail_count)" 5

verify "$RA"
equals "a reset token does not verify an address" "$CODE" 400
reset "$TB" "$NEW_PW"
equals "a verification token does not reset a password" "$CODE" 400
verify "$TB" -H "$(bearer "$ALICE_AT")"
equals "bob's token with alice's access token: refused" "$CODE" 400
verify "$TB"
equals "bob's token was not spent by that: it verifies bob" "$CODE" 200
equals "bob is verified" "$(j .user.id)" "$BOB_ID"

login alice@example.com "$PW"
ALICE_AT2=$AT; ALICE_RT2=$RT
reset "$RA" "password"
equals "a common password: 422" "$CODE" 422
equals "code password_too_common" "$(j .code)" password_too_common
reset "$RA" "short"
equals "a short password: 422" "$CODE" 422
reset "$RA" "$NEW_PW"
equals "the same token then resets the password" "$CODE" 204
reset "$RA" "$NEW_PW"
equals "a used reset token is refused" "$CODE" 400
http GET /api/v1/users/me -H "$(bearer "$ALICE_AT")"
equals "the first session's access token is refused" "$CODE" 401
http GET /api/v1/users/me -H "$(bearer "$ALICE_AT2")"
equals "the second session's access token is refused" "$CODE" 401
post_json /api/v1/auth/refresh "{\"refresh_token\":\"$ALICE_RT\"}"
equals "an old refresh token is refused" "$CODE" 401
post_json /api/v1/auth/refresh "{\"refresh_token\":\"$ALICE_RT2\"}"
equals "the other old refresh token too" "$CODE" 401
login alice@example.com "$PW"
equals "the old password no longer works" "$CODE" 401
login alice@example.com "$NEW_PW"
equals "the new password works" "$CODE" 200

# ---------------------------------------------------------------- server down
SENT_BEFORE=$(metric sent)
equals "metrics: five sent" "$SENT_BEFORE" 5
stop_smtp
reset_request bob@example.com
equals "SMTP down: the request still answers 202" "$CODE" 202
signup carol@example.com "$PW"
equals "SMTP down: signup answers 201" "$CODE" 201
equals "and its mail is queued" "$(j .verification_email_sent)" true
resend carol@example.com
equals "a third message fills the queue (3): 202" "$CODE" 202
reset_request bob@example.com
equals "a full queue: 503" "$CODE" 503
equals "code mail_queue_full" "$(j .code)" mail_queue_full
check "with Retry-After" test -n "$(hdr Retry-After)"
reset_request nobody@example.com
equals "the same 503 for an unknown address" "$CODE" 503
sleep 1
equals "nothing arrived while the server was down" "$(mail_count)" 5
check "failed attempts are counted as retries" test "$(metric retried)" -gt 0
check "the queue depth shows them" test -n "$(curl -s "http://127.0.0.1:$PORT/metrics" | grep '^gatehouse_mail_queue_depth 3$')"
contains "a failed attempt is logged by domain" "$(cat "$TMP/log")" "to a recipient at example.com failed"
check "the SMTP server comes back" start_smtp
check "the queued mail arrives after all" wait_mail 8
equals "metrics: eight sent" "$(metric sent)" 8
equals "metrics: eight queued" "$(metric queued)" 8
equals "metrics: none failed" "$(metric failed)" 0
TC=
for n in 6 7 8; do
    wait_mail $n
    case "$(mread envelope-to) $(mread subject)" in
    "bob@example.com Reset"*) RB=$(mread token) ;;
    "carol@example.com Confirm"*) TC="$TC $(mread token)" ;;
    esac
done
TOKENS="$TOKENS $RB $TC"
reset "$RB" "$NEW_PW"
equals "a token mailed after retries still works" "$CODE" 204
# retries may deliver carol's two mails in either order: the newer token
# verifies, the older one (superseded) does not, whichever is tried first
CODES=
for t in $TC; do verify "$t"; CODES="$CODES $CODE"; done
equals "of carol's two tokens (sent late) exactly the newer verifies" \
    "$(echo $CODES | tr ' ' '\n' | sort | tr '\n' ' ')" "200 400 "

for t in $TOKENS; do
    [ -n "$t" ] || continue
    if grep -qF -- "$t" "$TMP/log"; then not_ok "no token in the daemon log" "found ${t:0:6}..."; break; fi
done
[ "$(echo $TOKENS | wc -w)" -ge 9 ] && ok "no token in the daemon log ($(echo $TOKENS | wc -w) tokens)"
lacks "no recipient address in the daemon's mail lines" "$(grep 'mail:' "$TMP/log")" "alice@"

# ---------------------------------------------------------------- a restart
# mail owed when the daemon stops waits in the store; the next one sends it
stop_smtp
N=$(mail_count)
reset_request carol@example.com
equals "SMTP down again: queued" "$CODE" 202
T0=$(date +%s)
stop_daemon
equals "SIGTERM with mail queued: exit 0" "$STATUS" 0
check "it stopped within shutdown_timeout (2 s) and a bit" test $(($(date +%s) - T0)) -le 6
equals "nothing was sent meanwhile" "$(mail_count)" "$N"

# ---------------------------------------------------------------- expiry
check "the SMTP server starts again" start_smtp
MAIL_EXTRA='  verification_ttl: 1s' write_config "$TMP/gh-ttl.yaml"
check "the daemon starts with a 1 s verification TTL" start_daemon "$TMP/gh-ttl.yaml" "$TMP/log-ttl"
check "the mail owed before the restart arrives" wait_mail $((N + 1))
equals "to carol" "$(mread envelope-to) $(mread subject | cut -d' ' -f1)" "carol@example.com Reset"
reset "$(mread token)" "$NEW_PW"
equals "and its link works" "$CODE" 204
N=$(mail_count)
signup dave@example.com "$PW"
check "dave's mail arrives" wait_mail $((N + 1))
TD=$(mread token)
contains "the mail says how long the link lives" "$(mread text)" "expires in 1 seconds"
sleep 2
verify "$TD"
equals "an expired token is refused" "$CODE" 400
equals "with invalid_token" "$(j .code)" invalid_token
lacks "not in this log either" "$(cat "$TMP/log-ttl")" "$TD"

# ---------------------------------------------------------------- a reload
# the sender composes each message with the live config
reloads() { grep -c "configuration reloaded" "$TMP/log-ttl"; }
reload_to() {
    local n
    n=$(reloads)
    sed -i "s|frontend_url: .*|frontend_url: $1|" "$TMP/gh-ttl.yaml"
    kill -HUP "$PID"
    for _ in $(seq 1 200); do [ "$(reloads)" -gt "$n" ] && return 0; sleep 0.05; done
    return 1
}
check "SIGHUP reloads a new frontend_url" reload_to https://login.example.org/
N=$(mail_count)
resend dave@example.com
check "dave's next mail arrives" wait_mail $((N + 1))
contains "its link is on the reloaded frontend_url" "$(mread text)" \
    "https://login.example.org/verify-email?token="
TOKENS="$TOKENS $(mread token)"
check "and back" reload_to https://app.example.com/

# ---------------------------------------------------------------- invitation
"$top_builddir/gatehousectl" -c "$TMP/gh-ttl.yaml" user create --email boss@example.com --admin \
    --verified --password-stdin <<<"$PW" >/dev/null 2>&1
login boss@example.com "$PW"
BOSS_AT=$AT
N=$(mail_count)
post_json /api/v1/users '{"email":"ivy@example.com","full_name":"Ivy","invite":true}' \
    -H "$(bearer "$BOSS_AT")"
equals "an admin invites a new user" "$CODE $(j .email) $(j .email_verified) $(j .invitation_sent)" \
    "201 ivy@example.com false true"
IVY_ID=$(j .id)
check "the invitation arrives" wait_mail $((N + 1))
equals "to ivy" "$(mread envelope-to)" ivy@example.com
equals "its subject" "$(mread subject)" "You are invited to Acme"
contains "its link, on frontend_url" "$(mread text)" "https://app.example.com/accept-invitation?token="
contains "it lasts a week" "$(mread text)" "expires in 168 hours"
TI=$(mread token); TOKENS="$TOKENS $TI"
login ivy@example.com "$PW"
equals "no sign-in before the invitation is accepted" "$CODE" 401
reset "$TI" "$NEW_PW"
equals "an invitation is no reset token" "$CODE" 400
post_json /api/v1/auth/accept-invitation "{\"token\":\"$TI\",\"new_password\":\"short\"}"
equals "accepting checks the password policy" "$CODE $(j .code)" "422 password_too_short"
post_json /api/v1/auth/accept-invitation "{\"token\":\"$TI\",\"new_password\":\"$NEW_PW\"}"
equals "accepting the invitation sets the password" "$CODE" 204
post_json /api/v1/auth/accept-invitation "{\"token\":\"$TI\",\"new_password\":\"$NEW_PW\"}"
equals "... once" "$CODE $(j .code)" "400 invalid_token"
login ivy@example.com "$NEW_PW"
equals "ivy signs in, her address verified by the link" "$CODE $(j .user.email_verified)" "200 true"
post_json /api/v1/users '{"email":"ivy@example.com","invite":true}' -H "$(bearer "$BOSS_AT")"
equals "inviting an address twice" "$CODE $(j .code)" "409 email_taken"
post_json /api/v1/users '{"email":"jo@example.com","invite":true,"password":"'"$NEW_PW"'"}' \
    -H "$(bearer "$BOSS_AT")"
equals "a password and an invitation are one too many" "$CODE" 422
post_json /api/v1/users '{"email":"jo@example.com"}' -H "$(bearer "$BOSS_AT")"
equals "and neither is one too few" "$CODE" 422
post_json /api/v1/users '{"email":"jo@example.com","password":"short"}' -H "$(bearer "$BOSS_AT")"
equals "an admin's password obeys the policy" "$CODE $(j .code)" "422 password_too_short"
post_json /api/v1/users '{"email":"jo@example.com","password":"'"$NEW_PW"'","is_admin":true,"role":"x"}' \
    -H "$(bearer "$BOSS_AT")"
equals "an unknown field is refused" "$CODE $(j .code)" "422 unknown_field"
post_json /api/v1/users '{"email":"jo@example.com","password":"'"$NEW_PW"'","is_admin":true}' \
    -H "$(bearer "$BOSS_AT")"
equals "an admin makes an admin with a password" "$CODE $(j .is_active) $(j '.roles | index("admin") != null')" \
    "201 true true"
login ivy@example.com "$NEW_PW"
post_json /api/v1/users '{"email":"kim@example.com","password":"'"$NEW_PW"'"}' -H "$(bearer "$AT")"
equals "a user who is no admin may not" "$CODE" 403
stop_daemon
equals "it exits 0" "$STATUS" 0

# ---------------------------------------------------------------- mail off
write_config "$TMP/gh-off.yaml" ""
check "the daemon starts without mail" start_daemon "$TMP/gh-off.yaml" "$TMP/log-off"
reset_request alice@example.com
equals "no mail plugin: 501" "$CODE" 501
equals "code mail_not_configured" "$(j .code)" mail_not_configured
resend alice@example.com
equals "resend likewise" "$(j .code)" mail_not_configured
signup erin@example.com "$PW"
equals "signup works without mail" "$CODE" 201
login boss@example.com "$PW"
post_json /api/v1/users '{"email":"lou@example.com","invite":true}' -H "$(bearer "$AT")"
equals "no invitation without mail" "$CODE $(j .code)" "501 mail_not_configured"
equals "and says nothing about mail" "$(j .verification_email_sent)" null
stop_daemon
equals "it exits 0" "$STATUS" 0

write_config "$TMP/gh-bad.yaml" "mail:
  plugin: nosuch"
OUT=$("$GATEHOUSED" -t -c "$TMP/gh-bad.yaml" 2>&1)
contains "a mail plugin not in plugins: is refused" "$OUT" "mail.plugin: 'nosuch' is not in the plugins: list"
write_config "$TMP/gh-bad.yaml" "mail:
  plugin: smtp
  templates_dir: $TMP/no-templates"
OUT=$("$GATEHOUSED" -t -c "$TMP/gh-bad.yaml" 2>&1)
contains "gatehoused -t checks the templates" "$OUT" "mail templates: $TMP/no-templates/verify-email.txt"
write_config "$TMP/gh-bad.yaml"
sed -i 's/starttls: off/starttls: maybe/' "$TMP/gh-bad.yaml"
OUT=$("$GATEHOUSED" -t -c "$TMP/gh-bad.yaml" 2>&1)
contains "the smtp plugin checks its options" "$OUT" "option 'starttls' must be one of required, optional, off"
sed -i 's/starttls: maybe/starttls: off/; s|url: smtp://|url: http://|' "$TMP/gh-bad.yaml"
OUT=$("$GATEHOUSED" -t -c "$TMP/gh-bad.yaml" 2>&1)
contains "and refuses a URL that is not smtp:// or smtps://" "$OUT" "option 'url' must be smtp://"

finish
