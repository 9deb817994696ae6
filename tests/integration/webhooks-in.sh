#!/usr/bin/env bash
# webhooks-in.sh - incoming webhooks, over HTTP, on SQLite unless
# GH_TEST_BACKEND says otherwise (backend.sh):
#  - signing secrets: made on creation, shown once, rotated, removed;
#    stored sealed (encryption at rest is on here), never in an answer
#    after, in the audit rows or in the daemon's log;
#  - POST /api/v1/webhooks/{type} with the integration's API key: Standard
#    Webhooks signatures (python3 signs here) accepted, a wrong one, a
#    stale or future timestamp, missing headers and a replayed id refused;
#    the path's type must be the integration's; no key, a user's token or
#    a bad key 401; a body that is not JSON 415 or 400;
#  - an integration without a secret accepts unsigned webhooks;
#  - the events: listed (filters, paging) and read with
#    webhook_events:read, each company its own; "webhook.received" audited
#    with the integration as the actor.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl python3 openssl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
ctl_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Webhooks-In-Pass-4242'

openssl rand -base64 32 >"$TMP/index.key"
openssl rand -base64 32 >"$TMP/k1.key"
chmod 600 "$TMP"/*.key
new_database gh_webhooks_in
{
    base_config
    printf '%s\n' "$STORAGE_YAML"
    printf 'encryption:\n  index_key_file: %s\n  keys:\n    - { id: k1, key_file: %s }\n' \
        "$TMP/index.key" "$TMP/k1.key"
} >"$CFG"
ctl migrate up
ctl company create beta "Beta"
ctl user create --email boss@example.com --admin --password-stdin <<<"$PW"
ctl user create --email ann@example.com --password-stdin <<<"$PW"
ctl user create --email bea@beta.example --tenant beta --admin --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0

check "daemon starts" start_daemon "$CFG" "$TMP/daemon.log"
trap 'cleanup; drop_databases' EXIT

sql() {
    case $BACKEND in
    sqlite) sqlite3 "$TMP/state/gatehouse.db" "$1" ;;
    *) server_sql "$DBNAME" "$1" ;;
    esac
}
login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"$2}"; AT=$(j .access_token); }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
# sign SECRET ID TIMESTAMP BODY: the Standard Webhooks signature, v1,<base64>
sign() {
    python3 -c 'import sys, hmac, hashlib, base64
key = base64.b64decode(sys.argv[1][len("whsec_"):])
msg = ("%s.%s.%s" % (sys.argv[2], sys.argv[3], sys.argv[4])).encode()
print("v1," + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode())' "$@"
}
# hook KEY TYPE BODY [curl args]: POST a webhook with KEY as X-API-Key
hook() {
    local k=$1 type=$2 body=$3; shift 3
    post_json "/api/v1/webhooks/$type" "$body" -H "X-API-Key: $k" "$@"
}
# signed KEY TYPE SECRET ID SKEW BODY: hook, signed by SECRET, stamped
# SKEW seconds from now (TS): the clock is read for each request, as a
# loaded machine may take seconds between two
signed() {
    TS=$(($(date +%s) + $5))
    stamped "$1" "$2" "$6" "$4" "$TS" "$(sign "$3" "$4" "$TS" "$6")"
}
# stamped KEY TYPE BODY ID TIMESTAMP SIGNATURES: hook with these headers
stamped() {
    hook "$1" "$2" "$3" -H "webhook-id: $4" -H "webhook-timestamp: $5" -H "webhook-signature: $6"
}
SECRETS=()
KEYS=()
login boss@example.com ''
BOSS=$AT
login ann@example.com ''
ANN=$AT
login bea@beta.example ',"company":"beta"'
BEA=$AT

# ---------------------------------------------------------------- signing secrets
as "$BOSS" post_json /api/v1/integrations '{"name":"crm","type":"custom","signing_secret":true}'
ID=$(j .id) KEY=$(j .api_key) SECRET=$(j .signing_secret)
KEYS+=("$KEY") SECRETS+=("$SECRET")
equals "an integration with a signing secret: 201" "$CODE" 201
check "... the secret, shown once, is whsec_ and base64 of 24 bytes" \
    test "$(printf '%s' "${SECRET#whsec_}" | base64 -d 2>/dev/null | wc -c)" = 24
as "$BOSS" req GET "/api/v1/integrations/$ID"
equals "read back: signing_secret is true, not the secret" "$CODE $(j .signing_secret)" "200 true"
as "$BOSS" req GET /api/v1/integrations
equals "... in the list too" "$(j '[.items[].signing_secret] | join(",")')" "true"
STORED=$(sql "SELECT signing_secret FROM integrations WHERE id = '$ID'")
check "... stored sealed under the at-rest key" grep -q '^gh1:k1:' <<<"$STORED"
lacks "... not in clear" "$STORED" "${SECRET#whsec_}"
as "$BOSS" post_json /api/v1/integrations '{"name":"plain","type":"api_key"}'
PLAIN_ID=$(j .id) PLAIN=$(j .api_key)
KEYS+=("$PLAIN")
equals "an integration without one" "$CODE $(j .signing_secret)" "201 false"
as "$BOSS" post_json /api/v1/integrations '{"name":"bad","signing_secret":"whsec_mine"}'
equals "a secret is made, never given: 422" "$CODE $(j .code)" "422 invalid_field"

# ---------------------------------------------------------------- signed webhooks
BODY1='{"event":"deal.won","amount":1200}'
signed "$KEY" custom "$SECRET" msg_1 0 "$BODY1"
EV1=$(j .id) T1=$TS
equals "a signed webhook is accepted: 202 with its id" "$CODE $([ -n "$EV1" ] && echo id)" "202 id"
signed "$KEY" custom "$SECRET" msg_1 0 "$BODY1"
equals "the same webhook-id again: 409" "$CODE $(j .code)" "409 webhook_replayed"
signed "$KEY" custom "$SECRET" msg_1 1 '{"event":"other"}'
equals "... even signed anew over another body" "$CODE $(j .code)" "409 webhook_replayed"
NOW=$(date +%s)
stamped "$KEY" custom "$BODY1" msg_2 "$NOW" "$(sign "$SECRET" msg_2 "$NOW" '{"event":"deal.lost"}')"
equals "a signature over another body: 403" "$CODE $(j .code)" "403 invalid_signature"
NOW=$(date +%s)
stamped "$KEY" custom "$BODY1" msg_2 "$NOW" "$(sign "$SECRET" msg_1 "$NOW" "$BODY1")"
equals "... or another id: 403" "$CODE $(j .code)" "403 invalid_signature"
OTHER_SECRET="whsec_$(openssl rand -base64 24)"
signed "$KEY" custom "$OTHER_SECRET" msg_2 0 "$BODY1"
equals "... or another secret: 403" "$CODE $(j .code)" "403 invalid_signature"
signed "$KEY" custom "$SECRET" msg_2 -330 "$BODY1"
equals "a timestamp 5 minutes old and more: 400" "$CODE $(j .code)" "400 timestamp_out_of_range"
signed "$KEY" custom "$SECRET" msg_2 330 "$BODY1"
equals "... or ahead: 400" "$CODE $(j .code)" "400 timestamp_out_of_range"
NOW=$(date +%s)
stamped "$KEY" custom "$BODY1" msg_2 "$NOW.5" "$(sign "$SECRET" msg_2 "$NOW.5" "$BODY1")"
equals "a timestamp that is no count of seconds: 400" "$CODE $(j .code)" "400 invalid_timestamp"
hook "$KEY" custom "$BODY1"
equals "no signature at all: 400" "$CODE $(j .code)" "400 signature_required"
hook "$KEY" custom "$BODY1" -H "webhook-id: msg_2" -H "webhook-timestamp: $(date +%s)"
equals "... or only its id and time: 400" "$CODE $(j .code)" "400 signature_required"
NOW=$(date +%s)
stamped "$KEY" custom "$BODY1" msg_2 "$NOW" "v1,bm90IGl0 $(sign "$SECRET" msg_2 "$NOW" "$BODY1") v1a,xyz"
equals "one matching signature among several is enough" "$CODE" 202
EV2=$(j .id)
signed "$KEY" custom "$SECRET" msg_3 -200 '{"event":"deal.late"}'
equals "... and a timestamp within 5 minutes" "$CODE" 202

# ---------------------------------------------------------------- refused before the signature
signed "$KEY" api_key "$SECRET" msg_4 0 "$BODY1"
equals "the path names another type than the integration's: 403" "$CODE $(j .code)" \
    "403 integration_type_mismatch"
signed "$KEY" ftp "$SECRET" msg_4 0 "$BODY1"
equals "... or no type at all: 403" "$CODE $(j .code)" "403 integration_type_mismatch"
req POST /api/v1/webhooks/custom -H 'Content-Type: application/json' --data-binary "$BODY1"
equals "no API key: 401" "$CODE $(j .code)" "401 unauthorized"
as "$BOSS" post_json /api/v1/webhooks/custom "$BODY1"
equals "a user's access token is no API key: 401" "$CODE $(j .code)" "401 unauthorized"
[ "${KEY: -1}" = A ] && WRONG=${KEY%?}B || WRONG=${KEY%?}A
hook "$WRONG" custom "$BODY1"
equals "a wrong key: 401" "$CODE $(j .code)" "401 invalid_token"
req POST /api/v1/webhooks/custom -H "X-API-Key: $KEY" -H 'Content-Type: text/plain' \
    --data-binary 'deal won'
equals "a body that is not JSON: 415" "$CODE $(j .code)" "415 unsupported_media_type"
hook "$KEY" custom '{"event":'
equals "... malformed JSON: 400" "$CODE $(j .code)" "400 invalid_json"

# ---------------------------------------------------------------- unsigned integrations
hook "$PLAIN" api_key '{"ping":1}'
PLAIN_EV=$(j .id)
equals "an integration without a secret takes unsigned webhooks" "$CODE" 202
hook "$PLAIN" api_key '{"ping":2}' -H "webhook-id: p1"
hook "$PLAIN" api_key '{"ping":3}' -H "webhook-id: p1"
equals "... and refuses a webhook-id it had" "$CODE $(j .code)" "409 webhook_replayed"

# ---------------------------------------------------------------- rotation and removal
as "$BOSS" req POST "/api/v1/integrations/$ID/signing-secret"
NEW_SECRET=$(j .signing_secret)
SECRETS+=("$NEW_SECRET")
equals "rotate: a new secret" "$CODE $([ "${NEW_SECRET#whsec_}" != "$NEW_SECRET" ] && \
    [ "$NEW_SECRET" != "$SECRET" ] && echo new)" "200 new"
signed "$KEY" custom "$SECRET" msg_5 0 "$BODY1"
equals "... the old one fails at once" "$CODE $(j .code)" "403 invalid_signature"
signed "$KEY" custom "$NEW_SECRET" msg_5 0 "$BODY1"
equals "... the new one works" "$CODE" 202
as "$BOSS" req PUT "/api/v1/integrations/$PLAIN_ID" -H 'Content-Type: application/json' \
    --data-binary '{"signing_secret":true}'
PLAIN_SECRET=$(j .signing_secret)
SECRETS+=("$PLAIN_SECRET")
equals "a change gives one to an integration without" "$CODE ${PLAIN_SECRET:0:6}" "200 whsec_"
hook "$PLAIN" api_key '{"ping":4}'
equals "... which then refuses unsigned webhooks" "$CODE $(j .code)" "400 signature_required"
as "$BOSS" req PUT "/api/v1/integrations/$PLAIN_ID" -H 'Content-Type: application/json' \
    --data-binary '{"signing_secret":false}'
equals "remove it" "$CODE $(j .signing_secret)" "200 false"
hook "$PLAIN" api_key '{"ping":5}'
equals "... and unsigned ones pass again" "$CODE" 202

# ---------------------------------------------------------------- the events
as "$BOSS" req GET "/api/v1/webhooks/events/$EV1"
equals "read an event" "$CODE $(j .integration_id) $(j .integration_type) $(j .webhook_id)" \
    "200 $ID custom msg_1"
equals "... its payload as sent, verified, with its time" \
    "$(j .payload.event) $(j .payload.amount) $(j .verified) $(j .webhook_timestamp)" \
    "deal.won 1200 true $T1"
as "$BOSS" req GET "/api/v1/webhooks/events/$PLAIN_EV"
equals "an unsigned one is not verified" "$CODE $(j .verified) $(j .webhook_id)" "200 false null"
as "$BOSS" req GET /api/v1/webhooks/events
equals "the list: every accepted webhook, newest first" "$CODE $(j .total) $(j '.items[0].payload.ping')" \
    "200 7 5"
as "$BOSS" req GET "/api/v1/webhooks/events?type=custom"
equals "... by type" "$(j .total) $(j '[.items[].integration_type] | unique | join(",")')" "4 custom"
as "$BOSS" req GET "/api/v1/webhooks/events?integration_id=$PLAIN_ID&limit=2&offset=1"
equals "... by integration, a page" "$(j .total) $(j '.items | length') $(j '[.items[].payload.ping] | join(",")')" \
    "3 2 2,1"
as "$BOSS" req GET "/api/v1/webhooks/events?type=ftp"
equals "... an unknown type: 422" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" req GET "/api/v1/webhooks/events?integration_id=42"
equals "... an id that is none: 422" "$CODE $(j .code)" "422 invalid_field"
as "$ANN" req GET /api/v1/webhooks/events
equals "without webhook_events:read: 403" "$CODE $(j .code)" "403 forbidden"
key_list() { req GET /api/v1/webhooks/events -H "X-API-Key: $1"; }
key_list "$KEY"
equals "... the sender's key cannot read them either" "$CODE" 403

# each company its own
as "$BEA" post_json /api/v1/integrations '{"name":"beta-hooks","type":"custom"}'
BETA_KEY=$(j .api_key)
KEYS+=("$BETA_KEY")
hook "$BETA_KEY" custom '{"beta":true}' -H "webhook-id: msg_1"
BETA_EV=$(j .id)
equals "beta's integration may use an id root's used" "$CODE" 202
as "$BEA" req GET /api/v1/webhooks/events
equals "beta's admin sees beta's events only" "$CODE $(j .total) $(j '.items[0].payload.beta')" "200 1 true"
as "$BEA" req GET "/api/v1/webhooks/events/$EV1"
equals "... root's is not found for beta" "$CODE $(j .code)" "404 not_found"
as "$BOSS" req GET "/api/v1/webhooks/events/$BETA_EV"
equals "... nor beta's for root's admin" "$CODE" 404
as "$BOSS" req GET /api/v1/webhooks/events
equals "... whose list is as it was" "$(j .total)" 7

# ---------------------------------------------------------------- gatehousectl
ctl integration create cli-hooks --type custom --signing-secret --tenant beta
CLI_KEY=$(printf '%s\n' "$OUT" | sed -n 's/^api_key: *//p')
CLI_SECRET=$(printf '%s\n' "$OUT" | sed -n 's/^signing_secret: *//p')
KEYS+=("$CLI_KEY") SECRETS+=("$CLI_SECRET")
equals "ctl integration create --signing-secret" "$RC ${CLI_SECRET:0:6}" "0 whsec_"
signed "$CLI_KEY" custom "$CLI_SECRET" msg_cli 0 '{"from":"cli"}'
equals "... its webhooks, signed with that secret, are taken" "$CODE" 202
hook "$CLI_KEY" custom '{"from":"cli"}'
equals "... and unsigned ones refused" "$CODE $(j .code)" "400 signature_required"

# ---------------------------------------------------------------- audit, and nothing secret kept
as "$BOSS" req GET "/api/v1/audit-events?action=webhook.received"
equals "each accepted webhook is audited, by its integration" \
    "$(j .total) $(j "[.items[] | select(.details.event_id == \"$EV1\")][0].actor_id")" "7 $ID"
equals "... with its type and id" \
    "$(j "[.items[] | select(.details.event_id == \"$EV2\")][0].details | \"\\(.integration_type) \\(.webhook_id)\"")" \
    "custom msg_2"
as "$BOSS" req GET "/api/v1/audit-events?action=integration."
AUDIT=$BODY
equals "rotation is audited" "$(j '[.items[].action] | map(select(. == "integration.signing_secret.rotate")) | length')" 1
LEAKS=0
for s in "${SECRETS[@]}"; do
    grep -qF -- "${s#whsec_}" "$TMP/daemon.log" && LEAKS=$((LEAKS + 1))
    grep -qF -- "${s#whsec_}" <<<"$AUDIT" && LEAKS=$((LEAKS + 1))
done
for k in "${KEYS[@]}"; do
    grep -qF -- "${k:12}" "$TMP/daemon.log" && LEAKS=$((LEAKS + 1))
done
equals "no signing secret or key in the daemon's log or the audit rows" "$LEAKS" 0
check "secrets were made to look for" test "${#SECRETS[@]}" -eq 4
ctl_sanitizer_check

finish
