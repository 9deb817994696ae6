#!/usr/bin/env bash
# webhooks-out.sh - outgoing events, on SQLite unless GH_TEST_BACKEND says
# otherwise (backend.sh), with the kv GH_TEST_KV names (lib.sh kv_config),
# delivered by the webhook plugin to a real loopback receiver
# (webhook_receiver.py) that checks every Standard Webhooks signature with
# HMAC code of its own:
#  - the subscriptions API: CRUD, the secret shown only at creation and
#    rotation, webhooks:read/write, company isolation, bad input refused;
#  - an event per action (user created, signed in, wrong password, locked,
#    password changed, session revoked, company created, user erased),
#    each signed; another company's subscription sees none of it; an
#    incoming webhook and a role change reach their subscriber too;
#  - retries with backoff after 500s, the delivery log (attempts, last
#    status and error), giving up after max_attempts, redelivery; a run of
#    failures disables a subscription, with its reason, until re-enabled;
#  - SSRF: with webhooks.allow_private_targets off, a loopback URL is
#    refused at creation, and an existing one at delivery;
#  - durability: an event raised while the daemon is down (gatehousectl)
#    waits in the store and is delivered after the restart;
#  - no secret in the daemon's log.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
ctl_client
kv_config webhooks-out
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Webhooks-Pass-4242'
NEW_PW='Webhooks-Pass-5353'
RECORD="$TMP/received.jsonl"
: >"$RECORD"

# ---------------------------------------------------------------- the receiver
RECEIVER=
trap '[ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null; cleanup; drop_databases' EXIT
PYTHONPATH="$top_srcdir/tests/integration" python3 "$top_srcdir/tests/integration/webhook_receiver.py" \
    serve "$TMP/receiver.port" "$RECORD" 2>>"$TMP/receiver.log" &
RECEIVER=$!
for _ in $(seq 1 200); do [ -e "$TMP/receiver.port" ] && break; sleep 0.05; done
RPORT=$(cat "$TMP/receiver.port" 2>/dev/null)
check "the receiver listens" test -n "$RPORT"
HOOK="http://127.0.0.1:$RPORT"
control() { curl -sS -o /dev/null -X POST --data-binary "${3:-}" "$HOOK/_control/$1?path=$2"; }

# received FILTER: how many deliveries the receiver recorded match it (jq)
received() { jq -s "[.[] | select($1)] | length" "$RECORD"; }
# wait_received FILTER N: up to 15 s for N of them
wait_received() {
    for _ in $(seq 1 300); do [ "$(received "$1")" -ge "$2" ] && return 0; sleep 0.05; done
    return 1
}

# write_config ALLOW_PRIVATE: retries fast enough for a test
write_config() {
    {
        base_config auth=$'lockout:\n  account_failures: 3'
        printf '%s\n' "$STORAGE_YAML" "$KV_YAML"
        printf 'plugins:\n  - name: webhook\n'
        printf 'webhooks:\n  plugin: webhook\n  allow_http: true\n  allow_private_targets: %s\n' "$1"
        printf '  retry_delay: 200ms\n  retry_max_delay: 400ms\n  max_attempts: 4\n'
        printf '  disable_after: 6\n  poll_interval: 300ms\n  timeout: 5s\n'
    } >"$CFG"
}

new_database gh_webhooks_out
write_config true
ctl migrate up
ctl company create beta "Beta"
ctl user create --email boss@example.com --admin --password-stdin <<<"$PW"
ctl user create --email ann@example.com --password-stdin <<<"$PW"
ctl user create --email lou@example.com --password-stdin <<<"$PW"
ctl user create --email bea@beta.example --tenant beta --admin --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0
check "daemon starts" start_daemon "$CFG" "$TMP/daemon.log"

login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$2\"$3}"; AT=$(j .access_token); }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
SECRETS=()
login boss@example.com "$PW" ''
BOSS=$AT
login ann@example.com "$PW" ''
ANN=$AT
login bea@beta.example "$PW" ',"company":"beta"'
BEA=$AT
SUBS=/api/v1/webhooks/subscriptions
# logged FILTER: up to 10 s for FILTER (jq) over subscription A's delivery
# log to be other than null, as boss; prints it
logged() {
    local v=null
    for _ in $(seq 1 100); do
        as "$BOSS" req GET "$SUBS/$A/deliveries"
        v=$(j "$1")
        [ "$v" != null ] && break
        sleep 0.1
    done
    printf '%s' "$v"
}

# ---------------------------------------------------------------- the API
as "$BOSS" post_json $SUBS "{\"url\":\"$HOOK/a\",\"event_types\":[\"user.*\",\"session.revoked\",\"company.created\"]}"
equals "create a subscription: 201" "$CODE $(j .enabled) $(j '.event_types | join(",")')" \
    "201 true user.*,session.revoked,company.created"
A=$(j .id) A_SECRET=$(j .secret)
SECRETS+=("$A_SECRET")
check "... its secret is whsec_ and 24 bytes of base64" grep -qE '^whsec_[A-Za-z0-9+/]{32}$' <<<"$A_SECRET"
control secret /a "$A_SECRET"
as "$BOSS" req GET "$SUBS/$A"
equals "read it back, without its secret" "$CODE $(j .url) $(j .secret)" "200 $HOOK/a null"
as "$BOSS" req GET $SUBS
equals "the list has it, without secrets" "$CODE $(j .total) $(j '[.items[].secret] | map(select(. != null)) | length')" "200 1 0"
as "$BEA" post_json $SUBS "{\"url\":\"$HOOK/b\",\"event_types\":[\"*\"]}"
equals "beta subscribes to everything" "$CODE" 201
B=$(j .id)
SECRETS+=("$(j .secret)")
control secret /b "$(j .secret)"
as "$BEA" req GET $SUBS
equals "beta's admin sees only beta's subscription" "$CODE $(j .total) $(j '.items[0].id')" "200 1 $B"
as "$BEA" req GET "$SUBS/$A"
equals "... root's is not found for beta" "$CODE" 404
as "$BEA" req GET "$SUBS/$A/deliveries"
equals "... nor its deliveries" "$CODE" 404
as "$ANN" req GET $SUBS
equals "without webhooks:read, no list" "$CODE $(j .code)" "403 forbidden"
as "$BOSS" post_json $SUBS "{\"url\":\"$HOOK/x\",\"event_types\":[\"user created\"]}"
equals "a bad event type is refused" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" post_json $SUBS "{\"url\":\"$HOOK/x\",\"event_types\":[]}"
equals "... so is no event type" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" post_json $SUBS '{"url":"ftp://127.0.0.1/x","event_types":["*"]}'
equals "a URL that is not http(s) is refused" "$CODE $(j .code)" "422 invalid_url"
as "$BOSS" post_json $SUBS '{"event_types":["*"]}'
equals "a URL is required" "$CODE $(j .code)" "422 missing_field"
as "$BOSS" post_json $SUBS "{\"url\":\"$HOOK/x\",\"event_types\":[\"*\"],\"color\":\"red\"}"
equals "an unknown field is refused" "$CODE $(j .code)" "422 unknown_field"
as "$BOSS" post_json $SUBS "{\"url\":\"$HOOK/c\",\"event_types\":[\"user.signed_in\"]}"
C=$(j .id)
SECRETS+=("$(j .secret)")
control secret /c "$(j .secret)"
as "$BOSS" req POST "$SUBS/$C/secret"
equals "rotate a secret: the new one, once" "$CODE $(j .id)" "200 $C"
C_SECRET=$(j .secret)
SECRETS+=("$C_SECRET")
control secret /c "$C_SECRET"

# ---------------------------------------------------------------- an event per action
as "$BOSS" post_json /api/v1/users '{"email":"cy@example.com","password":"'"$PW"'"}'
equals "an admin creates a user" "$CODE" 201
CY=$(j .id)
login ann@example.com "$PW" ''
ANN2=$AT
login ann@example.com 'not-her-password' ''
equals "a wrong password" "$CODE" 401
for _ in 1 2 3 4; do login lou@example.com 'not-his-password' ''; done
equals "lou is locked out" "$CODE" 429
as "$ANN2" post_json /api/v1/auth/change-password "{\"old_password\":\"$PW\",\"new_password\":\"$NEW_PW\"}"
equals "ann changes her password" "$CODE" 204
login ann@example.com "$NEW_PW" ''
ANN3=$AT
ANN3_SID=$(printf '%s' "$ANN3" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .sid)
login ann@example.com "$NEW_PW" ''
as "$AT" req DELETE "/api/v1/users/me/sessions/$ANN3_SID"
equals "ann revokes a session" "$CODE" 204
as "$BOSS" post_json /api/v1/companies '{"slug":"gamma","name":"Gamma"}'
equals "a superuser creates a company" "$CODE" 201
check "the events arrive" wait_received '.path == "/a" and .type == "company.created"' 1
for t in user.created user.signed_in user.sign_in_failed user.locked user.password_changed \
    session.revoked company.created; do
    check "$t arrives, signed" test "$(received ".path == \"/a\" and .type == \"$t\" and .valid and .status == 200")" -ge 1
done
equals "every delivery's signature checks out" "$(received '.valid | not')" 0
equals "... with Content-Type application/json" "$(received '.content_type != "application/json"')" 0
equals "user.created names the user and the company" \
    "$(jq -rs '[.[] | select(.path == "/a" and .type == "user.created")][0].data | "\(.subject_id) \(.company_id)"' "$RECORD")" \
    "$CY 00000000-0000-4000-8000-000000000000"
check "user.signed_in reaches the subscription of that type only" \
    wait_received '.path == "/c" and .type == "user.signed_in" and .valid' 1
equals "... and nothing else does" "$(received '.path == "/c" and .type != "user.signed_in"')" 0
equals "beta's subscription hears nothing of root's company" "$(received '.path == "/b"')" 0
equals "each delivery id arrived once" "$(jq -s '[.[] | select(.status == 200) | .id] | (length - (unique | length))' "$RECORD")" 0
as "$BOSS" req GET "$SUBS/$A/deliveries?limit=200"
equals "the delivery log lists them, all delivered at the first attempt" \
    "$CODE $(j '[.items[] | select(.status != "succeeded" or .attempts != 1)] | length')" "200 0"
check "... at least one per event" test "$(j .total)" -ge 7
equals "... with the receiver's status" "$(j '.items[0].last_status')" 200

# ---------------------------------------------------------------- the other parts' events
as "$BOSS" post_json $SUBS "{\"url\":\"$HOOK/d\",\"event_types\":[\"webhook.received\",\"role.changed\"]}"
equals "a subscription to received webhooks and role changes" "$CODE" 201
SECRETS+=("$(j .secret)")
control secret /d "$(j .secret)"
as "$BOSS" post_json /api/v1/integrations '{"name":"crm","type":"custom"}'
equals "an integration to send webhooks in" "$CODE" 201
IKEY=$(j .api_key)
SECRETS+=("$IKEY")
post_json /api/v1/webhooks/custom '{"deal":"won"}' -H "X-API-Key: $IKEY"
equals "an incoming webhook is accepted" "$CODE" 202
EVENT=$(j .id)
check "... and passed on to the subscriber as webhook.received, naming the stored event" \
    wait_received ".path == \"/d\" and .type == \"webhook.received\" and .valid and .data.details.event_id == \"$EVENT\"" 1
as "$BOSS" post_json /api/v1/roles '{"name":"auditor"}'
AUDITOR=$(j .id)
as "$BOSS" req POST "/api/v1/users/$CY/roles/$AUDITOR"
equals "an admin gives a user a role" "$CODE" 204
check "... and role.changed arrives, signed" \
    wait_received '.path == "/d" and .type == "role.changed" and .valid and .status == 200' 1

# ---------------------------------------------------------------- retries
control fail "/a&n=2"
as "$BOSS" req PUT "/api/v1/users/$CY" -H 'Content-Type: application/json' --data-binary '{"full_name":"Cy"}'
equals "an admin changes a user" "$CODE" 200
check "user.updated arrives after two 500s" \
    wait_received '.path == "/a" and .type == "user.updated" and .status == 200' 1
equals "... the receiver saw the failed attempts" "$(received '.path == "/a" and .type == "user.updated" and .status == 500')" 2
equals "... all three under one webhook-id" \
    "$(jq -s '[.[] | select(.path == "/a" and .type == "user.updated") | .id] | unique | length' "$RECORD")" 1
as "$BOSS" req GET "$SUBS/$A/deliveries"
equals "the log shows three attempts, then success" \
    "$(j '[.items[] | select(.event_type == "user.updated")][0] | "\(.status) \(.attempts) \(.last_status)"')" \
    "succeeded 3 200"
control fail "/a&n=4"
as "$BOSS" req PUT "/api/v1/users/$CY" -H 'Content-Type: application/json' --data-binary '{"full_name":"Cy Two"}'
check "four 500s in a row" wait_received '.path == "/a" and .type == "user.updated" and .status == 500' 6
GAVE_UP=$(logged '[.items[] | select(.status == "failed")][0]')
equals "after max_attempts the delivery has failed, and the log says why" \
    "$(jq -r '"\(.attempts) \(.last_status) \(.last_error) \(.next_attempt_at)"' <<<"$GAVE_UP")" \
    "4 500 the receiver answered HTTP 500 null"
DID=$(jq -r .id <<<"$GAVE_UP")
as "$BOSS" req POST "$SUBS/$A/deliveries/$DID/redeliver"
equals "redeliver it" "$CODE" 202
check "... it arrives again, and is accepted" \
    wait_received ".path == \"/a\" and .id == \"$DID\" and .status == 200" 1
as "$BOSS" req GET "$SUBS/$A/deliveries"
equals "... the log shows it delivered" "$(j ".items[] | select(.id == \"$DID\") | \"\(.status) \(.attempts)\"")" "succeeded 1"
as "$BEA" req POST "$SUBS/$A/deliveries/$DID/redeliver"
equals "another company cannot redeliver it" "$CODE" 404

# ---------------------------------------------------------------- disabled after a run of failures
control fail "/c&n=1000"
login ann@example.com "$NEW_PW" ''
login ann@example.com "$NEW_PW" ''
DISABLED=
for _ in $(seq 1 150); do
    as "$BOSS" req GET "$SUBS/$C"
    [ "$(j .enabled)" = false ] && { DISABLED=1; break; }
    sleep 0.1
done
equals "six failures in a row disable the subscription, with the reason" \
    "${DISABLED:-0} $(j .consecutive_failures) $(j .disabled_reason)" \
    "1 6 disabled after 6 consecutive failed deliveries"
N=$(received '.path == "/c"')
login ann@example.com "$NEW_PW" ''
sleep 1
equals "a disabled subscription is sent nothing" "$(received '.path == "/c"')" "$N"
control fail "/c&n=0"
as "$BOSS" req PUT "$SUBS/$C" -H 'Content-Type: application/json' --data-binary '{"enabled":true}'
equals "enable it again: the count starts afresh" "$CODE $(j .enabled) $(j .consecutive_failures) $(j .disabled_reason)" \
    "200 true 0 null"
check "... and what waited is delivered" wait_received '.path == "/c" and .status == 200' 2

# ---------------------------------------------------------------- durable
stop_daemon
equals "the daemon stops cleanly" "$STATUS" 0
ctl user create --email dee@example.com --password-stdin <<<"$PW"
equals "a user made while the daemon is down" "$RC" 0
check "daemon starts again" start_daemon "$CFG" "$TMP/daemon2.log"
check "the event raised while it was down is delivered after the restart" \
    wait_received '.path == "/a" and .type == "user.created" and .data.actor_id == "cli" and .status == 200' 1
DEE=$(jq -rs '[.[] | select(.type == "user.created" and .data.actor_id == "cli")][0].data.subject_id' "$RECORD")
as "$BOSS" req DELETE "/api/v1/users/$DEE"
equals "an admin erases that user" "$CODE" 204
check "user.deleted arrives" \
    wait_received ".path == \"/a\" and .type == \"user.deleted\" and .data.subject_id == \"$DEE\" and .valid" 1

# ---------------------------------------------------------------- SSRF
stop_daemon
equals "the daemon stops cleanly" "$STATUS" 0
write_config false
check "daemon starts without private targets" start_daemon "$CFG" "$TMP/daemon3.log"
login boss@example.com "$PW" ''
BOSS=$AT
as "$BOSS" post_json $SUBS "{\"url\":\"$HOOK/d\",\"event_types\":[\"*\"]}"
equals "a loopback URL is refused" "$CODE $(j .code)" "422 invalid_url"
contains "... naming the setting" "$(j .detail)" "allow_private_targets"
as "$BOSS" post_json $SUBS '{"url":"http://169.254.169.254/latest","event_types":["*"]}'
equals "... so is cloud metadata's link-local address" "$CODE $(j .code)" "422 invalid_url"
as "$BOSS" post_json $SUBS '{"url":"http://[::1]:9/x","event_types":["*"]}'
equals "... and IPv6 loopback" "$CODE $(j .code)" "422 invalid_url"
N=$(received '.path == "/a"')
as "$BOSS" req PUT "/api/v1/users/$CY" -H 'Content-Type: application/json' --data-binary '{"full_name":"Cy Three"}'
REFUSED=$(logged '[.items[] | select(.event_type == "user.updated" and .last_error != null)][0].last_error')
contains "an existing loopback subscription is refused at delivery" "$REFUSED" "not a public address"
equals "... nothing reached the receiver" "$(received '.path == "/a"')" "$N"

# ---------------------------------------------------------------- the rest
as "$BOSS" req DELETE "$SUBS/$C"
equals "delete a subscription" "$CODE" 204
as "$BOSS" req GET "$SUBS/$C"
equals "... it is gone" "$CODE" 404
as "$BOSS" req GET "/api/v1/audit-events?action=webhook."
equals "subscription changes are audited" "$(j '[.items[].action | select(. != "webhook.received")] | unique | join(",")')" \
    "webhook.delivery.redeliver,webhook.subscription.create,webhook.subscription.delete,webhook.subscription.secret.rotate,webhook.subscription.update"
LEAKS=0
for s in "${SECRETS[@]}"; do
    cat "$TMP"/daemon*.log | grep -qF -- "${s#whsec_}" && LEAKS=$((LEAKS + 1))
    grep -qF -- "${s#whsec_}" <<<"$BODY" && LEAKS=$((LEAKS + 1))
done
equals "no secret in the daemon's log or the audit rows" "$LEAKS" 0
stop_daemon
equals "the daemon stops cleanly" "$STATUS" 0
check "no sanitizer report from the daemon" \
    sh -c '! grep -q -e Sanitizer -e "runtime error:" "$@"' sh "$TMP"/daemon*.log
ctl_sanitizer_check

finish
