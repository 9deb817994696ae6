#!/usr/bin/env bash
# onboard.sh - onboarding without a cloud, end to end on the real daemon
# (SQLite unless GH_TEST_BACKEND says otherwise, backend.sh): seed 000's
# two calls (POST /api/v1/onboard, GET /api/v1/customer/me); who may
# onboard (anonymous 401, API keys with and without companies:onboard, a
# company's admin refused, anyone with onboarding.public under the onboard
# rate limit); bad input; duplicates refused with nothing written; the
# invitation mail of an onboarding without a password; and a company
# without a cloud, whose provisioning is "none".
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
mail_client
json_client
ctl_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Onboard-Pass-word-4711'

# ---------------------------------------------------------------- mail
MAILDIR=$TMP/mail
SMTP_PORT=$(free_port)
"$PY" "$top_srcdir/tests/integration/smtp_sink.py" "$SMTP_PORT" "$MAILDIR" >>"$TMP/smtp.log" 2>&1 &
SMTP_PID=$!
trap 'cleanup; kill "$SMTP_PID" 2>/dev/null; drop_databases' EXIT
for _ in $(seq 1 200); do [ -e "$MAILDIR/.ready" ] && break; sleep 0.05; done
check "the SMTP sink listens" test -e "$MAILDIR/.ready"

# write_config [rate_limits=...] [onboarding YAML]
write_config() {
    {
        base_config "${1:-rate_limits=[]}"
        cat <<YAML
$STORAGE_YAML
plugins:
  - name: smtp
    options:
      url: smtp://127.0.0.1:$SMTP_PORT
      starttls: off
      from: no-reply@gatehouse.test
mail:
  plugin: smtp
  frontend_url: https://app.example.com/
  templates_dir: $top_srcdir/etc/templates
${2:-}
YAML
    } >"$CFG"
}

new_database gh_onboard
write_config
ctl migrate up
ctl company create beta "Beta"
ctl user create --email root@example.com --admin --password-stdin <<<"$PW"
ctl user create --email bea@beta.example --tenant beta --admin --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0
check "the daemon starts" start_daemon "$CFG" "$TMP/log"

login() { post_json /api/v1/auth/login "{\"$1\":\"$2\",\"password\":\"$3\"${4:+,\"company\":\"$4\"}}"; AT=$(j .access_token); }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
onboard() { post_json /api/v1/onboard "$@"; }
companies_total() { as "$ROOT" req GET '/api/v1/companies?limit=1'; j .total; }
login email root@example.com "$PW"
ROOT=$AT
login email bea@beta.example "$PW" beta
BEA=$AT

# ---------------------------------------------------------------- who may onboard
SEED='{"username":"customer1","email":"customer1@example.com","company_name":"Company1"}'
onboard "$SEED"
equals "anonymous: 401" "$CODE $(j .code)" "401 unauthorized"
as "$BEA" onboard "$SEED"
equals "a company's admin: 403" "$CODE $(j .code)" "403 forbidden"
as "$ROOT" post_json /api/v1/integrations \
    '{"name":"crm","type":"custom","permissions":["companies:onboard"]}'
equals "an API key with companies:onboard" "$CODE" 201
KEY=$(j .api_key)
as "$ROOT" post_json /api/v1/integrations '{"name":"ro","type":"custom","permissions":["users:read"]}'
RO_KEY=$(j .api_key)
onboard "$SEED" -H "X-API-Key: $RO_KEY"
equals "an API key without it: 403" "$CODE $(j .code)" "403 forbidden"
equals "... nothing was made" "$(companies_total)" 2

# ---------------------------------------------------------------- seed 000
as "$ROOT" onboard "$SEED"
equals "seed 000's onboarding: 202 with a bearer token" \
    "$CODE $(j .token_type) $(j '.access_token | length > 20') $(j '.refresh_token | length > 20')" \
    "202 bearer true true"
equals "... the user, the company's admin" "$(j .user.username) $(j .user.email) $(j '.user.roles | join(",")')" \
    "customer1 customer1@example.com admin"
equals "... the company, its slug from the name" "$(j .company.name) $(j .company.slug)" "Company1 company1"
equals "... no cloud: provisioning none; the invitation sent" \
    "$(j .provisioning.state) $(j .invitation_sent) $(j '.expires_in > 0')" "none true true"
C1=$(j .company.id)
C1_AT=$(j .access_token)
as "$C1_AT" req GET /api/v1/customer/me
equals "seed 000's customer/me" "$CODE $(j .username) $(j .email)" "200 customer1 customer1@example.com"
equals "... with the company and its provisioning" \
    "$(j .company.id) $(j .company.name) $(j .provisioning.state)" "$C1 Company1 none"
req GET /api/v1/customer/me
equals "customer/me needs a token" "$CODE" 401
req GET /api/v1/customer/me -H "X-API-Key: $KEY"
equals "... a user's, not an API key" "$CODE" 403
as "$C1_AT" req GET "/api/v1/companies/$C1/provisioning"
equals "the customer's admin reads its provisioning: none to read" "$CODE $(j .code)" \
    "404 no_provisioning"
as "$C1_AT" req GET "/api/v1/companies/$(as "$ROOT" req GET '/api/v1/companies?limit=1'; j '.items[0].id')/provisioning"
equals "... another company's is not found" "$CODE $(j .code)" "404 not_found"
as "$C1_AT" req DELETE "/api/v1/companies/$C1/provisioning"
equals "... nor may it deprovision" "$CODE $(j .code)" "403 forbidden"
as "$ROOT" req POST "/api/v1/companies/$C1/provisioning/retry"
equals "a superuser's retry without a job" "$CODE $(j .code)" "404 no_provisioning"

# ---------------------------------------------------------------- the emailed link
check "the invitation arrives" wait_mail 1
equals "to the customer" "$(mread envelope-to)" customer1@example.com
TI=$(mread token)
login username customer1 "$PW" company1
equals "no sign-in before a password is chosen" "$CODE" 401
post_json /api/v1/auth/accept-invitation "{\"token\":\"$TI\",\"new_password\":\"$PW\"}"
equals "the link sets the password" "$CODE" 204
login username customer1 "$PW" company1
equals "customer1 signs in to company1" "$CODE $(j .user.email_verified)" "200 true"

# ---------------------------------------------------------------- with a password, by API key
onboard '{"username":"customer2","email":"c2@example.com","company_name":"Company1!","password":"'"$PW"'"}' \
    -H "X-API-Key: $KEY"
equals "an API key onboards with a password; a taken slug is made unique" \
    "$CODE $(j .company.slug) $(j .invitation_sent)" "202 company1-2 null"
login email c2@example.com "$PW" company1-2
equals "... who signs in with it" "$CODE" 200

# ---------------------------------------------------------------- bad input
BEFORE=$(companies_total)
as "$ROOT" onboard '{"username":"x","email":"x@example.com"}'
equals "no company_name: 422" "$CODE $(j .code)" "422 missing_field"
as "$ROOT" onboard '{"username":"x","email":"not-an-address","company_name":"X"}'
equals "a bad email: 422" "$CODE $(j .code)" "422 invalid_email"
as "$ROOT" onboard '{"username":"a b@","email":"x@example.com","company_name":"X"}'
equals "a bad username: 422" "$CODE $(j .code)" "422 invalid_username"
as "$ROOT" onboard '{"username":"x","email":"x@example.com","company_name":"X","role":"admin"}'
equals "an unknown member: 422" "$CODE $(j .code)" "422 unknown_field"
as "$ROOT" onboard '{"username":"xavier","email":"x@example.com","company_name":"X","password":"short"}'
equals "a password the policy refuses: 422" "$CODE $(j .code)" "422 password_too_short"
as "$ROOT" onboard '{"username":"xavier","email":"x@example.com","company_name":"X\u0001"}'
equals "a company name with a control character: 422" "$CODE $(j .code)" "422 invalid_field"
as "$ROOT" onboard '{"username":'
equals "not JSON: 400" "$CODE" 400
equals "... nothing was made" "$(companies_total)" "$BEFORE"

# ---------------------------------------------------------------- duplicates
as "$ROOT" onboard '{"username":"other","email":"other@example.com","company_name":"COMPANY1"}'
equals "a company name taken (in another case): 409" "$CODE $(j .code)" "409 company_taken"
as "$ROOT" onboard '{"username":"other","email":"CUSTOMER1@example.com","company_name":"Other"}'
equals "an email taken: 409" "$CODE $(j .code)" "409 email_taken"
as "$ROOT" onboard '{"username":"customer1","email":"other@example.com","company_name":"Other"}'
equals "a username taken: 409" "$CODE $(j .code)" "409 username_taken"
as "$ROOT" onboard '{"username":"bob","email":"bea@beta.example","company_name":"Other"}'
equals "an address another company's account has: 409" "$CODE $(j .code)" "409 email_taken"
equals "... nothing was made" "$(companies_total)" "$BEFORE"
as "$ROOT" req GET "/api/v1/users?company=company1&limit=200"
equals "... no account either" "$(j '[.items[].username] | join(",")')" "customer1"

# ---------------------------------------------------------------- audit
as "$ROOT" req GET "/api/v1/audit-events?company=$C1"
equals "the company and its admin are audited in it" \
    "$(j '[.items[].action] | map(select(. == "company.create" or . == "user.create")) | sort | join(",")')" \
    "company.create,user.create"

# ---------------------------------------------------------------- public
stop_daemon
write_config rate_limits= 'onboarding:
  public: true'
check "the daemon starts with onboarding.public and the built-in limits" start_daemon "$CFG" "$TMP/log"
for i in 1 2 3 4 5; do
    onboard "{\"username\":\"pub$i\",\"email\":\"pub$i@example.com\",\"company_name\":\"Pub $i\",\"password\":\"$PW\"}"
    [ "$CODE" = 202 ] || break
done
equals "public: anyone onboards" "$CODE $(j .company.slug) $(j .provisioning.state)" "202 pub-5 none"
onboard "{\"username\":\"pub6\",\"email\":\"pub6@example.com\",\"company_name\":\"Pub 6\",\"password\":\"$PW\"}"
equals "... five a minute from one address" "$CODE $(j .code)" "429 rate_limited"
lacks "no password in the log" "$(cat "$TMP/log")" "$PW"
stop_daemon
equals "the daemon stops cleanly" "$STATUS" 0
finish
