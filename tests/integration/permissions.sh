#!/usr/bin/env bash
# permissions.sh - the admin routes guarded by permissions, not by a flag,
# on SQLite unless GH_TEST_BACKEND says otherwise (backend.sh):
#  - a custom role opens exactly the routes of its permissions, and a role
#    taken away closes them at the next request, with the same token, on
#    this instance and on a second one sharing the store;
#  - nobody hands out more than they hold: a role, a parent role, a
#    permission, the admin flag, roles in POST /api/v1/users;
#  - tokens carry every role, and the permissions when configured;
#  - a superuser acts in another company by naming it (?company=), nobody
#    else does.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
CFG_B="$TMP/gatehouse-b.yaml"
PW='Perm-Pass-word-4242'
SYS=00000000-0000-4000-8002-0000000000 # the system's permissions, + 2 digits
USERS_READ=${SYS}01 USERS_WRITE=${SYS}02 ROLES_READ=${SYS}03 ROLES_WRITE=${SYS}04
AUDIT_READ=${SYS}11
ADMIN_ROLE=00000000-0000-4000-8003-000000000001

new_database gh_perm
{ base_config; printf '%s\n' "$STORAGE_YAML"; } >"$CFG"
# B: the same store, and the permissions claim in its tokens
{
    base_config
    printf '%s\n' "$STORAGE_YAML"
    printf 'tokens:\n  permissions_claim: true\n'
} >"$CFG_B"
ctl() { "$CTL" -c "$CFG" "$@" >"$TMP/out" 2>"$TMP/err"; RC=$?; }
ctl migrate up
ctl company create beta "Beta"
ctl user create --email boss@example.com --admin --password-stdin <<<"$PW"
for who in ann cat; do ctl user create --email "$who@example.com" --password-stdin <<<"$PW"; done
ctl user create --email bea@beta.example --tenant beta --admin --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0
check "daemon A starts" start_daemon "$CFG" "$TMP/a.log"
PORT_A=$PORT PID_A=$PID
check "daemon B starts on the same store" start_daemon "$CFG_B" "$TMP/b.log"
PORT_B=$PORT PID_B=$PID
PORT=$PORT_A PID=$PID_A
trap 'kill "$PID_B" 2>/dev/null; cleanup; drop_databases' EXIT
on_b() { local p=$PORT; PORT=$PORT_B; "$@"; PORT=$p; }

login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"$2}"; AT=$(j .access_token); }
payload() { printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null; }
login boss@example.com ''
BOSS=$AT
login ann@example.com ''
ANN=$AT ANN_ID=$(j .user.id)
login cat@example.com ''
CAT=$AT CAT_ID=$(j .user.id)
login bea@beta.example ',"company":"beta"'
BEA=$AT BEA_ID=$(j .user.id)
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
role() { # role NAME PERMISSION_ID...: a role of the root company, as boss
    local name=$1 p
    shift
    as "$BOSS" post_json /api/v1/roles "{\"name\":\"$name\"}"
    ROLE=$(j .id)
    for p in "$@"; do as "$BOSS" req POST "/api/v1/roles/$ROLE/permissions/$p"; done
}

# ------------------------------------------------ a custom role opens its routes
role auditor "$USERS_READ" "$AUDIT_READ"
AUDITOR=$ROLE
as "$ANN" req GET /api/v1/users
equals "without a role, no user list" "$CODE $(j .code)" "403 forbidden"
contains "... naming the permission it needs" "$(j .detail)" "users:read"
as "$BOSS" req POST "/api/v1/users/$ANN_ID/roles/$AUDITOR"
equals "ann becomes an auditor" "$CODE" 204
as "$ANN" req GET /api/v1/users
equals "users:read lists users, with the same token" "$CODE $(j '.items | length')" "200 3"
as "$ANN" req GET "/api/v1/users/$CAT_ID"
equals "... and reads one" "$CODE $(j .email)" "200 cat@example.com"
as "$ANN" req GET /api/v1/audit-events
equals "audit:read reads the audit trail" "$CODE" 200
as "$ANN" post_json /api/v1/users '{"email":"new@example.com","password":"'"$PW"'"}'
equals "users:write is another permission" "$CODE" 403
contains "... named in the answer" "$(j .detail)" "users:write"
as "$ANN" req PUT "/api/v1/users/$CAT_ID" -H 'Content-Type: application/json' \
    --data-binary '{"full_name":"Cat"}'
equals "... so is a change" "$CODE" 403
for path in /api/v1/roles /api/v1/sessions /api/v1/permissions /api/v1/resources; do
    as "$ANN" req GET "$path"
    equals "GET $path needs its own permission" "$CODE" 403
done
as "$ANN" req GET /api/v1/companies
equals "companies are not a company user's" "$CODE" 403

# a role taken away counts at the next request, here and on B
as "$ANN" on_b req GET /api/v1/users
equals "B lets the auditor list users (B now caches it)" "$CODE" 200
as "$BOSS" req DELETE "/api/v1/users/$ANN_ID/roles/$AUDITOR"
equals "the role is taken on A" "$CODE" 204
as "$ANN" req GET /api/v1/users
equals "A refuses at once" "$CODE" 403
as "$ANN" on_b req GET /api/v1/users
equals "B refuses at once" "$CODE" 403
as "$BOSS" req POST "/api/v1/users/$ANN_ID/roles/$AUDITOR"
as "$ANN" on_b req GET /api/v1/users
equals "given back, B lets her in again" "$CODE" 200
as "$BOSS" req DELETE "/api/v1/roles/$AUDITOR/permissions/$USERS_READ"
as "$ANN" on_b req GET /api/v1/users
equals "a permission taken from the role counts on B at once" "$CODE" 403
as "$ANN" on_b post_json /api/v1/authz/check '{"permission":"audit:read"}'
equals "... the rest of the role stays" "$(j .allowed)" true
as "$BOSS" req POST "/api/v1/users/$ANN_ID/deactivate"
as "$ANN" on_b post_json /api/v1/authz/check '{"permission":"audit:read","user_id":"'"$ANN_ID"'"}'
equals "a deactivated user's token is dead on B" "$CODE" 401
as "$BOSS" on_b post_json /api/v1/authz/check '{"permission":"audit:read","user_id":"'"$ANN_ID"'"}'
equals "... and she holds nothing" "$CODE $(j .allowed)" "200 false"
as "$BOSS" req POST "/api/v1/users/$ANN_ID/activate"
login ann@example.com ''
ANN=$AT

# ------------------------------------------------ nobody hands out more than they hold
as "$BOSS" req DELETE "/api/v1/users/$ANN_ID/roles/$AUDITOR"
role manager "$ROLES_READ" "$ROLES_WRITE" "$USERS_READ" "$USERS_WRITE"
MANAGER=$ROLE
role viewer "$USERS_READ"
VIEWER=$ROLE
as "$BOSS" req POST "/api/v1/users/$ANN_ID/roles/$MANAGER"
as "$ANN" req POST "/api/v1/users/$ANN_ID/roles/$ADMIN_ROLE"
equals "a manager cannot make herself admin" "$CODE $(j .code)" "403 not_held"
as "$ANN" req POST "/api/v1/users/$CAT_ID/roles/$AUDITOR"
equals "... nor give a role carrying audit:read" "$CODE $(j .code)" "403 not_held"
as "$ANN" post_json /api/v1/roles '{"name":"sneaky","parent_ids":["'"$AUDITOR"'"]}'
equals "... nor inherit it through a new role" "$CODE $(j .code)" "403 not_held"
as "$ANN" req PUT "/api/v1/roles/$VIEWER" -H 'Content-Type: application/json' \
    --data-binary '{"parent_ids":["'"$AUDITOR"'"]}'
equals "... nor through a changed one" "$CODE $(j .code)" "403 not_held"
as "$ANN" req POST "/api/v1/roles/$VIEWER/permissions/$AUDIT_READ"
equals "... nor grant audit:read" "$CODE $(j .code)" "403 not_held"
as "$ANN" req PUT "/api/v1/users/$CAT_ID" -H 'Content-Type: application/json' \
    --data-binary '{"is_admin":true}'
equals "... nor make an admin through the flag" "$CODE $(j .code)" "403 not_held"
as "$ANN" req DELETE "/api/v1/users/$(payload "$BOSS" | jq -r .sub)/roles/$ADMIN_ROLE"
equals "... nor unmake one" "$CODE $(j .code)" "403 not_held"
as "$ANN" post_json /api/v1/users '{"email":"adm@example.com","password":"'"$PW"'","roles":["admin"]}'
equals "... nor create one" "$CODE $(j .code)" "403 not_held"
as "$ANN" post_json /api/v1/users '{"email":"adm@example.com","password":"'"$PW"'","is_admin":true}'
equals "... by the flag either" "$CODE $(j .code)" "403 not_held"
as "$ANN" post_json /api/v1/users '{"email":"adm@example.com","password":"'"$PW"'"}'
equals "nothing was made by the refusals" "$CODE" 201
as "$ANN" req POST "/api/v1/users/$CAT_ID/roles/$VIEWER"
equals "what she holds she gives" "$CODE" 204
as "$ANN" post_json /api/v1/users '{"email":"vic@example.com","password":"'"$PW"'","roles":["viewer"]}'
equals "a user created with a role by name" "$CODE" 201
VIC_ID=$(j .id)
as "$ANN" req GET "/api/v1/users/$VIC_ID/permissions"
equals "... holds it" "$(j '[.items[].permission] | join(",")')" "users:read"
as "$ANN" post_json /api/v1/users '{"email":"x@example.com","password":"'"$PW"'","roles":["nope"]}'
equals "an unknown role is refused" "$CODE $(j .code)" "422 unknown_role"
as "$ANN" post_json /api/v1/users '{"email":"x@example.com","password":"'"$PW"'","roles":"viewer"}'
equals "roles must be a list" "$CODE $(j .code)" "422 invalid_field"

# ------------------------------------------------ checks about others
as "$ANN" post_json /api/v1/authz/check '{"permission":"users:read","user_id":"'"$CAT_ID"'"}'
equals "users:read checks another user" "$CODE $(j .allowed)" "200 true"
as "$CAT" post_json /api/v1/authz/check '{"permission":"users:read","user_id":"'"$ANN_ID"'"}'
equals "... without it, 403" "$CODE" 200
as "$CAT" post_json /api/v1/authz/check '{"permission":"roles:write","user_id":"'"$ANN_ID"'"}'
equals "(cat holds users:read now: a viewer)" "$(j .allowed)" true
as "$BOSS" req DELETE "/api/v1/users/$CAT_ID/roles/$VIEWER"
as "$CAT" post_json /api/v1/authz/check '{"permission":"roles:write","user_id":"'"$ANN_ID"'"}'
equals "without users:read, another user is not checked" "$CODE" 403
as "$CAT" post_json /api/v1/authz/check '{"permission":"roles:write","user_id":"'"$CAT_ID"'"}'
equals "... oneself always" "$CODE $(j .allowed)" "200 false"
as "$ANN" post_json /api/v1/authz/check '{"permission":"users:read","user_id":"'"$BEA_ID"'"}'
equals "another company's user holds nothing here" "$CODE $(j .allowed)" "200 false"

# ------------------------------------------------ tokens
as "$BOSS" req POST "/api/v1/users/$ANN_ID/roles/$VIEWER"
login ann@example.com ''
equals "a token names every role" "$(payload "$AT" | jq -r '.roles | join(",")')" "manager,viewer"
equals "... and no permissions unless configured" "$(payload "$AT" | jq -r 'has("permissions")')" false
on_b login ann@example.com ''
equals "B's tokens carry the permissions" "$(payload "$AT" | jq -r '.permissions | join(",")')" \
    "roles:read,roles:write,users:read,users:write"
on_b post_json /api/v1/auth/refresh "{\"refresh_token\":\"$(j .refresh_token)\"}"
equals "... refreshed too" "$(payload "$(j .access_token)" | jq -r '.permissions | length')" 4
B_AT=$(j .access_token)
req POST /oauth2/introspect -H "$(bearer "$B_AT")" --data-urlencode "token=$B_AT"
equals "without sessions:read, not even one's own token is introspected" "$CODE $(j .error)" "403 insufficient_scope"
req POST /oauth2/introspect -H "$(bearer "$BOSS")" --data-urlencode "token=$B_AT"
equals "introspection shows the token's roles and permissions" \
    "$(j .active) $(j '.roles | join(",")') $(j '.permissions | length')" "true manager,viewer 4"

# ------------------------------------------------ every RBAC route, across companies
# beta's admin against root's rows: each as unknown as one that never was
as "$BOSS" post_json /api/v1/resources '{"name":"report"}'
REPORT=$(j .id)
as "$BOSS" post_json /api/v1/permissions '{"resource_type_id":"'"$REPORT"'","action":"read"}'
REPORT_READ=$(j .id)
as "$BEA" post_json /api/v1/roles '{"name":"beta-role"}'
BETA_ROLE=$(j .id)
for route in "GET /api/v1/roles/$VIEWER" "DELETE /api/v1/roles/$VIEWER" \
    "GET /api/v1/resources/$REPORT" "DELETE /api/v1/resources/$REPORT" \
    "GET /api/v1/permissions/$REPORT_READ" "DELETE /api/v1/permissions/$REPORT_READ" \
    "POST /api/v1/roles/$VIEWER/permissions/$USERS_READ" \
    "DELETE /api/v1/roles/$VIEWER/permissions/$USERS_READ" \
    "POST /api/v1/roles/$BETA_ROLE/permissions/$REPORT_READ" \
    "POST /api/v1/users/$CAT_ID/roles/$BETA_ROLE" "DELETE /api/v1/users/$ANN_ID/roles/$VIEWER" \
    "POST /api/v1/users/$BEA_ID/roles/$VIEWER" "GET /api/v1/users/$ANN_ID/permissions"; do
    as "$BEA" req ${route% *} "${route#* }"
    equals "another company's id: $route" "$CODE" 404
done
for route in "/api/v1/roles/$VIEWER" "/api/v1/resources/$REPORT" "/api/v1/permissions/$REPORT_READ"; do
    as "$BEA" req PUT "$route" -H 'Content-Type: application/json' --data-binary '{"description":"x"}'
    equals "another company's id: PUT $route" "$CODE" 404
done
as "$BOSS" req GET "/api/v1/users/$ANN_ID/permissions"
equals "... and root's rows are untouched" "$(j '[.items[].permission] | join(",")')" \
    "roles:read,roles:write,users:read,users:write"
as "$BOSS" req GET "/api/v1/resources/$REPORT"
equals "... its resource type still there" "$CODE $(j .description)" "200 null"

# ------------------------------------------------ a superuser names a company
as "$BOSS" req GET "/api/v1/users?company=beta"
equals "a superuser lists another company's users" "$CODE $(j '[.items[].email] | join(",")')" \
    "200 bea@beta.example"
as "$BOSS" post_json "/api/v1/roles?company=beta" '{"name":"beta-clerk"}'
equals "... and makes a role there" "$CODE" 201
as "$BEA" req GET /api/v1/roles
contains "... which beta sees" "$(j '[.items[].name] | join(",")')" "beta-clerk"
as "$BOSS" req GET /api/v1/roles
lacks "... and root does not" "$(j '[.items[].name] | join(",")')" "beta-clerk"
as "$BOSS" req GET "/api/v1/audit-events?company=beta&action=rbac.role.create"
equals "the change is in beta's audit trail" \
    "$(j '[.items[] | select(.details.after.name == "beta-clerk")] | length')" 1
as "$BOSS" req GET "/api/v1/users?company=nosuch"
equals "a company that does not exist" "$CODE $(j .code)" "404 company_not_found"
as "$BOSS" req GET "/api/v1/users?company=Not%20a%20slug"
equals "a bad name" "$CODE $(j .code)" "422 invalid_company"
as "$BEA" req GET "/api/v1/users?company=root"
equals "an admin of beta cannot name root" "$CODE $(j .code)" "403 forbidden"
as "$BEA" req GET "/api/v1/users?company=beta"
equals "... but may name her own" "$CODE" 200
as "$ANN" req GET "/api/v1/users?company=beta"
equals "nor can a root user who is not a superuser" "$CODE" 403

kill "$PID_B"
stop_daemon
equals "A exits 0" "$STATUS" 0
finish
