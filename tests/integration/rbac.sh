#!/usr/bin/env bash
# rbac.sh - roles and permissions over HTTP against the real daemon, on
# SQLite unless GH_TEST_BACKEND says otherwise (backend.sh): resource types,
# permissions, roles with parents, grants, users' roles, what a user holds
# and why, /authz/check (single and batch), a revocation that counts at
# once, cycles and built-ins refused, and another company seeing nothing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl "$DB_TOOL"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Rbac-Pass-word-4242'

new_database gh_rbac
{ base_config; printf '%s\n' "$STORAGE_YAML"; } >"$CFG"
ctl() { "$CTL" -c "$CFG" "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; OUT=$(cat "$TMP/out"); }
ctl migrate up
ctl company create beta "Beta"
ctl user create --email boss@example.com --admin --password-stdin <<<"$PW"
ctl user create --email ann@example.com --password-stdin <<<"$PW"
ctl user create --email bea@beta.example --tenant beta --admin --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0
check "the daemon starts" start_daemon "$CFG" "$TMP/log"

login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"$2}"; AT=$(j .access_token); }
login boss@example.com ''
BOSS=$AT
login ann@example.com ''
ANN=$AT ANN_ID=$(j .user.id)
login bea@beta.example ',"company":"beta"'
BEA=$AT
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }

as "$BOSS" post_json /api/v1/resources '{"name":"invoice","description":"bills"}'
equals "a resource type" "$CODE $(j .name) $(j .system)" "201 invoice false"
INV=$(j .id)
as "$BOSS" post_json /api/v1/permissions '{"resource_type_id":"'"$INV"'","action":"read"}'
equals "a permission, named for its type" "$CODE $(j .name)" "201 invoice:read"
READ=$(j .id)
as "$BOSS" post_json /api/v1/permissions '{"resource_type_id":"'"$INV"'","action":"pay"}'
PAY=$(j .id)
as "$BOSS" post_json /api/v1/permissions '{"resource_type_id":"'"$INV"'","action":"read"}'
equals "... not twice" "$CODE" 409
as "$BOSS" post_json /api/v1/roles '{"name":"viewer"}'
VIEWER=$(j .id)
as "$BOSS" post_json /api/v1/roles '{"name":"clerk","parent_ids":["'"$VIEWER"'"]}'
equals "a role with a parent" "$CODE $(j '.parent_ids[0]')" "201 $VIEWER"
CLERK=$(j .id)
as "$BOSS" req POST "/api/v1/roles/$VIEWER/permissions/$READ"
equals "grant invoice:read to viewer" "$CODE" 204
as "$BOSS" req POST "/api/v1/roles/$CLERK/permissions/$PAY"
as "$BOSS" req POST "/api/v1/users/$ANN_ID/roles/$CLERK"
equals "ann becomes a clerk" "$CODE" 204
as "$BOSS" req GET "/api/v1/users/$ANN_ID/permissions"
equals "what ann holds, and why" "$(j '[.items[] | .permission + "<" + .role.name + "<" + .via] | join(",")')" \
    "invoice:pay<clerk<clerk,invoice:read<viewer<clerk"
as "$ANN" post_json /api/v1/authz/check '{"permission":"invoice:read"}'
equals "ann may read invoices" "$CODE $(j .allowed)" "200 true"
as "$ANN" post_json /api/v1/authz/check '{"permissions":["invoice:pay","users:write"]}'
equals "a batch check" "$(j '.results["invoice:pay"]') $(j '.results["users:write"]')" "true false"
as "$BOSS" post_json /api/v1/authz/check '{"permission":"invoice:pay","user_id":"'"$ANN_ID"'"}'
equals "an admin checks another user" "$(j .allowed)" true
as "$ANN" post_json /api/v1/authz/check '{"permission":"users:read","user_id":"'"$(printf '%s' "$BOSS" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .sub)"'"}'
equals "... a user may not" "$CODE" 403
as "$BOSS" req DELETE "/api/v1/roles/$VIEWER/permissions/$READ"
as "$ANN" post_json /api/v1/authz/check '{"permission":"invoice:read"}'
equals "a revocation counts at the next request" "$(j .allowed)" false
as "$BOSS" req PUT "/api/v1/roles/$VIEWER" -H 'Content-Type: application/json' \
    --data-binary '{"parent_ids":["'"$CLERK"'"]}'
equals "a cycle is refused" "$CODE" 409
as "$BOSS" req DELETE /api/v1/roles/00000000-0000-4000-8003-000000000001
equals "the admin role cannot go" "$CODE $(j .code)" "403 read_only"
as "$ANN" req GET /api/v1/roles
equals "a user does not manage roles" "$CODE" 403
as "$BEA" req GET "/api/v1/roles/$CLERK"
equals "another company's role is unknown" "$CODE" 404
as "$BEA" req POST "/api/v1/users/$ANN_ID/roles/$CLERK"
equals "... and so is its user" "$CODE" 404
as "$BEA" req GET /api/v1/roles
equals "beta sees the built-in roles only" "$(j '[.items[].name] | join(",")')" "admin,superuser"

# renames: a resource type carries its permissions' names along
as "$BOSS" req PUT "/api/v1/resources/$INV" -H 'Content-Type: application/json' \
    --data-binary '{"name":"bill","description":"bills, renamed"}'
equals "a resource type renamed" "$CODE $(j .name) $(j .description)" "200 bill bills, renamed"
as "$BOSS" req GET "/api/v1/permissions/$PAY"
equals "... renames its permissions" "$CODE $(j .name)" "200 bill:pay"
as "$BOSS" req PUT "/api/v1/permissions/$PAY" -H 'Content-Type: application/json' \
    --data-binary '{"action":"settle"}'
equals "a permission's action changes its name" "$CODE $(j .name) $(j .action)" "200 bill:settle settle"
as "$ANN" post_json /api/v1/authz/check '{"permissions":["bill:settle","invoice:pay"]}'
equals "... and its holders hold the new name at once" \
    "$(j '.results["bill:settle"]') $(j '.results["invoice:pay"]')" "true false"
as "$BOSS" req PUT "/api/v1/permissions/$PAY" -H 'Content-Type: application/json' \
    --data-binary '{"action":"read"}'
equals "... not onto a name taken" "$CODE" 409
as "$BOSS" req PUT "/api/v1/resources/$INV" -H 'Content-Type: application/json' \
    --data-binary '{"name":"users"}'
equals "a type cannot take a system name" "$CODE" 409
as "$BOSS" req PUT /api/v1/resources/00000000-0000-4000-8001-000000000001 \
    -H 'Content-Type: application/json' --data-binary '{"description":"mine"}'
equals "the system's types cannot change" "$CODE $(j .code)" "403 read_only"
as "$BOSS" req PUT /api/v1/permissions/00000000-0000-4000-8002-000000000001 \
    -H 'Content-Type: application/json' --data-binary '{"description":"mine"}'
equals "... nor its permissions" "$CODE $(j .code)" "403 read_only"
as "$BEA" req PUT "/api/v1/permissions/$PAY" -H 'Content-Type: application/json' \
    --data-binary '{"description":"mine"}'
equals "another company's permission is unknown to PUT" "$CODE" 404
as "$BOSS" req GET "/api/v1/audit-events?action=rbac.permission.update&limit=1"
equals "the audit trail has before and after" \
    "$(j '.items[0].details.before.name') $(j '.items[0].details.after.name')" "bill:pay bill:settle"
as "$BOSS" req DELETE "/api/v1/roles/$CLERK"
as "$BOSS" req GET "/api/v1/audit-events?action=rbac.role.delete&limit=1"
equals "... and a deletion what was deleted" "$(j '.items[0].details.before.name')" clerk
stop_daemon
equals "it exits 0" "$STATUS" 0
finish
