#!/usr/bin/env bash
# integrations.sh - integrations and their API keys, on SQLite unless
# GH_TEST_BACKEND says otherwise (backend.sh):
#  - the admin API: CRUD, the key shown only at creation and regeneration,
#    integrations:read/write, company isolation, audit rows without keys;
#  - a key as "Authorization: Bearer" and as "X-API-Key": exactly its
#    permissions (one route opens, another 403), in its company only, not
#    a user (/users/me 403); malformed, disabled, expired and regenerated
#    keys 401; last use recorded;
#  - nobody gives a key a permission they lack (403 not_held);
#  - gatehousectl integration create|list|delete;
#  - no key in the daemon's log.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
ctl_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Integrations-Pass-4242'
USERS_READ=00000000-0000-4000-8002-000000000001
INTEGRATIONS_WRITE=00000000-0000-4000-8002-000000000017

new_database gh_integrations
{
    base_config
    printf '%s\n' "$STORAGE_YAML"
} >"$CFG"
ctl migrate up
ctl company create beta "Beta"
ctl user create --email boss@example.com --admin --password-stdin <<<"$PW"
ctl user create --email ann@example.com --password-stdin <<<"$PW"
ctl user create --email bea@beta.example --tenant beta --admin --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0

check "daemon starts" start_daemon "$CFG" "$TMP/daemon.log"
trap 'cleanup; drop_databases' EXIT

login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"$2}"; AT=$(j .access_token); }
sub() { printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .sub; }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
key() { local k=$1; shift; "$@" -H "X-API-Key: $k"; }
KEYS=()
login boss@example.com ''
BOSS=$AT
login ann@example.com ''
ANN=$AT
login bea@beta.example ',"company":"beta"'
BEA=$AT
BEA_ID=$(sub "$BEA")

# ---------------------------------------------------------------- the admin API
as "$BOSS" post_json /api/v1/integrations '{"name":"crm","type":"custom","permissions":["users:read"]}'
equals "create an integration: 201" "$CODE $(j .type) $(j '.permissions | join(",")')" "201 custom users:read"
ID=$(j .id) KEY=$(j .api_key) PREFIX=$(j .key_prefix)
KEYS+=("$KEY")
check "... its key is gh_<prefix>_<secret>, 32 bytes of secret" \
    grep -qE "^gh_${PREFIX}_[A-Za-z0-9_-]{43}\$" <<<"$KEY"
equals "... never used, no expiry" "$(j .last_used_at) $(j .expires_at)" "null null"
as "$BOSS" req GET "/api/v1/integrations/$ID"
equals "read it back" "$CODE $(j .name) $(j .key_prefix)" "200 crm $PREFIX"
equals "... without its key" "$(j .api_key)" "null"
as "$BOSS" req GET /api/v1/integrations
equals "the list has it, without keys" "$CODE $(j .total) $(j '[.items[].api_key] | map(select(. != null)) | length')" "200 1 0"
as "$BOSS" req PUT "/api/v1/integrations/$ID" -H 'Content-Type: application/json' --data-binary '{"name":"crm-sync"}'
equals "change its name" "$CODE $(j .name) $(j '.permissions | join(",")')" "200 crm-sync users:read"
equals "... no new key" "$(j .api_key)" "null"
as "$BOSS" post_json /api/v1/integrations '{"name":"bad","type":"ftp"}'
equals "an unknown type is refused" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" post_json /api/v1/integrations '{"name":"bad","permissions":["users read"]}'
equals "a permission that is no name is refused" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" post_json /api/v1/integrations '{"permissions":[]}'
equals "a name is required" "$CODE $(j .code)" "422 missing_field"
as "$BOSS" post_json /api/v1/integrations '{"name":"bad","color":"red"}'
equals "an unknown field is refused" "$CODE $(j .code)" "422 unknown_field"

# permissions and companies
as "$ANN" req GET /api/v1/integrations
equals "without integrations:read, no list" "$CODE $(j .code)" "403 forbidden"
as "$BEA" req GET /api/v1/integrations
equals "beta's admin sees none of root's integrations" "$CODE $(j .total)" "200 0"
as "$BEA" req GET "/api/v1/integrations/$ID"
equals "... root's is not found for beta" "$CODE" 404
as "$BEA" req POST "/api/v1/integrations/$ID/regenerate-secret"
equals "... nor regenerated" "$CODE" 404
as "$BEA" req DELETE "/api/v1/integrations/$ID"
equals "... nor deleted" "$CODE" 404

# ---------------------------------------------------------------- the key at work
as "$KEY" req GET /api/v1/users
equals "the key as a bearer opens a route it holds the permission of" "$CODE $(j .total)" "200 2"
key "$KEY" req GET /api/v1/users
equals "... and as X-API-Key" "$CODE $(j .total)" "200 2"
key "$KEY" req GET /api/v1/roles
equals "a route it lacks the permission of: 403" "$CODE $(j .code)" "403 forbidden"
key "$KEY" req GET /api/v1/integrations
equals "... integrations:read too" "$CODE" 403
key "$KEY" req GET /api/v1/users/me
equals "a key is no user: /users/me 403" "$CODE $(j .code)" "403 forbidden"
key "$KEY" req GET "/api/v1/users/$BEA_ID"
equals "another company's user is invisible to it" "$CODE" 404
key "$KEY" req GET "/api/v1/users?company=beta"
equals "... and it cannot act in another company" "$CODE" 403
as "$BOSS" req GET "/api/v1/integrations/$ID"
check "its use is recorded" test "$(j .last_used_at)" != null
key "${KEY%?}" req GET /api/v1/users
equals "a wrong secret: 401" "$CODE $(j .code)" "401 invalid_token"
key "gh_zzzz" req GET /api/v1/users
equals "a malformed key: 401" "$CODE $(j .code)" "401 invalid_token"
as "gh_${PREFIX}_$(head -c 300 /dev/zero | tr '\0' '_')" req GET /api/v1/users
equals "... a long one too" "$CODE" 401
key "gh_abcdefgh_$(printf 'A%.0s' $(seq 43))" req GET /api/v1/users
equals "an unknown prefix: 401" "$CODE" 401
as "$BOSS" req GET /api/v1/users/me
equals "the daemon still answers" "$CODE" 200

# disabled, then enabled again
as "$BOSS" req PUT "/api/v1/integrations/$ID" -H 'Content-Type: application/json' --data-binary '{"disabled":true}'
equals "disable it" "$CODE $(j .disabled)" "200 true"
key "$KEY" req GET /api/v1/users
equals "... a disabled key: 401" "$CODE" 401
as "$BOSS" req PUT "/api/v1/integrations/$ID" -H 'Content-Type: application/json' --data-binary '{"disabled":false}'
key "$KEY" req GET /api/v1/users
equals "... enabled again, it works" "$CODE" 200

# regeneration
as "$BOSS" req POST "/api/v1/integrations/$ID/regenerate-secret"
NEW=$(j .api_key)
KEYS+=("$NEW")
equals "regenerate: a new key" "$CODE $([ -n "$NEW" ] && [ "$NEW" != "$KEY" ] && echo new)" "200 new"
key "$KEY" req GET /api/v1/users
equals "... the old one stops at once" "$CODE" 401
key "$NEW" req GET /api/v1/users
equals "... the new one works" "$CODE" 200

# expiry
as "$BOSS" post_json /api/v1/integrations '{"name":"short","permissions":["users:read"],"expires_in":2}'
SHORT=$(j .api_key)
KEYS+=("$SHORT")
check "a key with an expiry has its time" test "$(j .expires_at)" != null
key "$SHORT" req GET /api/v1/users
equals "... works before it" "$CODE" 200
sleep 2.5
key "$SHORT" req GET /api/v1/users
equals "... and is refused after it" "$CODE $(j .code)" "401 invalid_token"

# nobody hands out more than they hold
as "$BOSS" post_json /api/v1/roles '{"name":"keymaker"}'
ROLE=$(j .id)
as "$BOSS" req POST "/api/v1/roles/$ROLE/permissions/$INTEGRATIONS_WRITE"
as "$BOSS" req POST "/api/v1/roles/$ROLE/permissions/$USERS_READ"
as "$BOSS" req POST "/api/v1/users/$(sub "$ANN")/roles/$ROLE"
equals "ann gets integrations:write and users:read" "$CODE" 204
as "$ANN" post_json /api/v1/integrations '{"name":"too-much","permissions":["users:read","users:write"]}'
equals "a permission its creator lacks: 403 not_held" "$CODE $(j .code)" "403 not_held"
as "$ANN" post_json /api/v1/integrations '{"name":"enough","permissions":["users:read"]}'
equals "... what they hold they may give" "$CODE" 201
KEYS+=("$(j .api_key)")
as "$ANN" req PUT "/api/v1/integrations/$ID" -H 'Content-Type: application/json' --data-binary '{"permissions":["roles:write"]}'
equals "... nor by a change" "$CODE $(j .code)" "403 not_held"

# beta's own, and deletion
as "$BEA" post_json /api/v1/integrations '{"name":"beta-crm","permissions":["users:read"]}'
BETA_KEY=$(j .api_key)
KEYS+=("$BETA_KEY")
key "$BETA_KEY" req GET /api/v1/users
equals "beta's key sees beta's users only" "$CODE $(j '[.items[].email] | join(",")')" "200 bea@beta.example"
as "$BOSS" req DELETE "/api/v1/integrations/$ID"
equals "delete it" "$CODE" 204
key "$NEW" req GET /api/v1/users
equals "... and its key is refused" "$CODE" 401
as "$BOSS" req GET "/api/v1/integrations/$ID"
equals "... and it is gone" "$CODE" 404

# ---------------------------------------------------------------- gatehousectl
ctl integration create cli-sync --permissions "users:read" --tenant beta
CLI_ID=$(printf '%s\n' "$OUT" | sed -n 's/^id: *//p')
CLI_KEY=$(printf '%s\n' "$OUT" | sed -n 's/^api_key: *//p')
KEYS+=("$CLI_KEY")
equals "ctl integration create" "$RC" 0
key "$CLI_KEY" req GET /api/v1/users
equals "... its key works, in beta" "$CODE $(j '[.items[].email] | join(",")')" "200 bea@beta.example"
ctl integration list --tenant beta
contains "ctl integration list shows it" "$OUT" "$CLI_ID"
lacks "... without its key" "$OUT" "${CLI_KEY:12}"
ctl integration list
lacks "... and not in root's list" "$OUT" "$CLI_ID"
ctl integration create x --permissions "users read"
equals "ctl: a bad permission name is a usage error" "$RC" 2
ctl integration delete "$CLI_ID"
equals "delete names an integration of the company asked for only" "$RC" 1
ctl integration delete "$CLI_ID" --tenant beta
equals "ctl integration delete" "$RC" 0
key "$CLI_KEY" req GET /api/v1/users
equals "... and its key is refused" "$CODE" 401

# ---------------------------------------------------------------- no key kept
as "$BOSS" req GET "/api/v1/audit-events?action=integration."
equals "creations, changes, regenerations and deletions are audited" \
    "$(j '[.items[].action] | unique | join(",")')" \
    "integration.create,integration.delete,integration.key.regenerate,integration.update"
LEAKS=0
for k in "${KEYS[@]}"; do
    grep -qF -- "$k" "$TMP/daemon.log" && LEAKS=$((LEAKS + 1))
    grep -qF -- "${k:12}" <<<"$BODY" && LEAKS=$((LEAKS + 1))
done
equals "no key in the daemon's log or the audit rows" "$LEAKS" 0
ctl_sanitizer_check

finish
