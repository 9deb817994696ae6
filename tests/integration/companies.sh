#!/usr/bin/env bash
# companies.sh - companies (tenants) through gatehousectl and the real
# daemon, on SQLite unless GH_TEST_BACKEND says otherwise (backend.sh):
# creating them; sign-up and sign-in in the company the body names, the
# Host header maps to, or the default; one address in two companies as two
# accounts; a company's own settings (sign-up closed, a longer password);
# and deactivation, which stops sign-in and sign-up and ends every session
# at once, while another company goes on.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl "$DB_TOOL"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Company-Pass-word-77'

new_database gh_co
{
    base_config
    printf '%s\n' "$STORAGE_YAML"
    cat <<'YAML'
companies:
  hosts:
    AUTH.Acme.Example: acme
YAML
} >"$CFG"

ctl() {
    "$CTL" -c "$CFG" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}

# ---------------------------------------------------------------- gatehousectl
ctl migrate up
equals "migrate up" "$RC" 0
ctl company create acme "Acme Inc."
equals "company create answers the id" "$RC $(printf '%s' "$OUT" | grep -cE '^[0-9a-f-]{36}$')" "0 1"
ACME=$OUT
ctl company create beta "Beta Ltd" --no-signup
equals "a second company" "$RC" 0
ctl company create strict "Strict" --password-min-length 24
equals "a company with a longer password" "$RC" 0
ctl company create acme "Again"
equals "a taken slug is refused" "$RC" 1
contains "... saying so" "$ERR" "a company with the slug 'acme' exists"
ctl company create "Not A Slug" "X"
equals "a bad slug is a usage error" "$RC" 2
ctl company list
equals "company list" "$RC" 0
contains "... shows root" "$OUT" " root "
contains "... and acme with its name" "$OUT" "Acme Inc."
ctl company show acme
contains "company show by slug" "$OUT" "id:             $ACME"
ctl company show "$ACME"
contains "company show by id" "$OUT" "slug:           acme"
ctl company deactivate root
equals "the root company cannot be deactivated" "$RC" 1
ctl user create --email admin@acme.example --tenant acme --password-stdin <<<"$PW"
equals "user create takes a company slug" "$RC" 0
ctl user list --tenant acme
contains "... and the user is listed in it" "$OUT" "admin@acme.example"
ctl user create --email root@example.com --admin --password-stdin <<<"$PW"
equals "a root admin (a superuser)" "$RC" 0
ctl user create --email boss@acme.example --tenant acme --admin --password-stdin <<<"$PW"
equals "an admin of acme" "$RC" 0
ctl user list --tenant nosuch
equals "an unknown company is refused" "$RC $ERR" "1 gatehousectl: no company nosuch"

# ---------------------------------------------------------------- the daemon
check "the daemon starts" start_daemon "$CFG" "$TMP/log"

signup() { # EMAIL [extra JSON members] [curl args]
    local extra=${2:-}
    post_json /api/v1/auth/signup "{\"email\":\"$1\",\"password\":\"$PW\"$extra}" "${@:3}"
}
login() {
    local extra=${2:-}
    post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"$extra}" "${@:3}"
    AT=$(j .access_token)
}
claim() { # the access token's claim NAME
    printf '%s' "$AT" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r ".$1"
}

signup ann@example.com ',"company":"acme"'
equals "sign-up in a company named in the body" "$CODE" 201
signup ann@example.com
equals "the same address in the default company is another account" "$CODE" 201
signup ann@example.com ',"company":"acme"'
equals "... but twice in one company is not" "$CODE $(j .code)" "409 email_taken"
login ann@example.com ',"company":"acme"'
equals "sign-in in acme" "$CODE" 200
equals "... the token names acme" "$(claim tenant)" "$ACME"
ACME_AT=$AT
login ann@example.com
equals "sign-in without a company: the default (root)" "$(claim tenant)" "00000000-0000-4000-8000-000000000000"
ROOT_AT=$AT
login ann@example.com '' -H 'Host: auth.acme.example:8443'
equals "the Host header picks the company (any case, any port)" "$CODE $(claim tenant)" "200 $ACME"
login ann@example.com ',"company":"beta"'
equals "no account in beta" "$CODE" 401
signup bob@example.com ',"company":"beta"'
equals "sign-up closed in beta" "$CODE $(j .code)" "403 signup_disabled"
signup carl@example.com ',"company":"strict"'
equals "strict wants longer passwords" "$CODE $(j .code)" "422 password_too_short"
signup carl@example.com ',"company":"nosuch"'
equals "an unknown company" "$CODE $(j .code)" "404 company_not_found"
signup carl@example.com ',"company":"Bad Slug"'
equals "a company that is no slug" "$CODE $(j .code)" "422 invalid_company"
signup carl@example.com ',"company":7'
equals "a company that is no string" "$CODE" 422
req POST /oauth2/token -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "grant_type=password&username=ann@example.com&password=$PW&company=acme"
AT=$(j .access_token)
equals "the password grant takes a company too" "$CODE $(claim tenant)" "200 $ACME"
req POST /oauth2/token -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "grant_type=password&username=ann@example.com&password=$PW&company=nosuch"
equals "... and refuses an unknown one the OAuth way" "$CODE $(j .error)" "400 invalid_grant"
req GET /api/v1/users/me -H "$(bearer "$ACME_AT")"
equals "acme's token works" "$CODE $(j .email)" "200 ann@example.com"

# ---------------------------------------------------------------- the API
login root@example.com
SUPER=$AT
login boss@acme.example ',"company":"acme"'
BOSS=$AT
req GET /api/v1/companies -H "$(bearer "$SUPER")"
equals "a superuser lists the companies" "$CODE $(j '.total') $(j '[.items[].slug] | join(",")')" \
    "200 4 root,acme,beta,strict"
equals "... with their settings" "$(j '.items[2].settings.signup_allowed')" false
req GET '/api/v1/companies/?limit=1&offset=1' -H "$(bearer "$SUPER")"
equals "... a page of them (and a trailing slash)" "$CODE $(j '.items[0].slug') $(j .limit) $(j .offset)" \
    "200 acme 1 1"
req GET /api/v1/companies -H "$(bearer "$BOSS")"
equals "another company's admin may not" "$CODE $(j .code)" "403 forbidden"
req GET /api/v1/companies -H "$(bearer "$ACME_AT")"
equals "nor may a user" "$CODE" 403
req GET /api/v1/companies
equals "nor anyone without a token" "$CODE" 401
post_json /api/v1/companies '{"slug":"gamma","name":"Gamma GmbH","settings":{"password_min_length":"20"}}' \
    -H "$(bearer "$SUPER")"
equals "a superuser creates a company" "$CODE $(j .slug) $(j .settings.password_min_length) $(j .is_active)" \
    "201 gamma 20 true"
GAMMA=$(j .id)
post_json /api/v1/companies '{"slug":"gamma","name":"Again"}' -H "$(bearer "$SUPER")"
equals "... not twice" "$CODE $(j .code)" "409 slug_taken"
post_json /api/v1/companies '{"slug":"-bad","name":"X"}' -H "$(bearer "$SUPER")"
equals "... nor with a bad slug" "$CODE $(j .code)" "422 invalid_field"
post_json /api/v1/companies '{"slug":"delta","name":"X","owner":"me"}' -H "$(bearer "$SUPER")"
equals "... nor with a field it does not know" "$CODE $(j .code)" "422 unknown_field"
post_json /api/v1/companies '{"slug":"delta","name":"X","settings":{"signup_allowed":"yes"}}' -H "$(bearer "$SUPER")"
equals "... nor with an ill-typed setting" "$CODE" 422
post_json /api/v1/companies '{"slug":"delta","name":"X","settings":{"colour":"red"}}' -H "$(bearer "$SUPER")"
equals "... nor an unknown setting" "$CODE $(j .code)" "422 unknown_field"
req GET "/api/v1/companies/$GAMMA" -H "$(bearer "$SUPER")"
equals "get one" "$CODE $(j .name)" "200 Gamma GmbH"
req GET /api/v1/companies/00000000-0000-4000-8000-00000000ffff -H "$(bearer "$SUPER")"
equals "an unknown id" "$CODE" 404
req GET /api/v1/companies/gamma -H "$(bearer "$SUPER")"
equals "a slug is no id" "$CODE" 404
req PUT "/api/v1/companies/$GAMMA" -H "$(bearer "$SUPER")" -H 'Content-Type: application/json' \
    --data-binary '{"name":"Gamma AG","settings":{"signup_allowed":false}}'
equals "update name and a setting" "$CODE $(j .name) $(j .settings.signup_allowed) $(j .settings.password_min_length)" \
    "200 Gamma AG false 20"
signup gus@example.com ',"company":"gamma"'
equals "... which sign-up follows at once" "$CODE $(j .code)" "403 signup_disabled"
req DELETE /api/v1/companies/00000000-0000-4000-8000-000000000000 -H "$(bearer "$SUPER")"
equals "the root company cannot be deleted" "$CODE $(j .code)" "409 root_company"
req DELETE "/api/v1/companies/$GAMMA" -H "$(bearer "$SUPER")"
equals "delete deactivates" "$CODE" 204
req GET "/api/v1/companies/$GAMMA" -H "$(bearer "$SUPER")"
equals "... at once, with its erasure date" "$(j .is_active) $(j '.erase_after != null')" "false true"
audit_gamma=$(case $BACKEND in
    sqlite) sqlite3 "$TMP/state/gatehouse.db" "SELECT details FROM audit_events WHERE action = 'company.update' AND tenant_id = '$GAMMA'" ;;
    *) server_sql "$DBNAME" "SELECT details FROM audit_events WHERE action = 'company.update' AND tenant_id = '$GAMMA'" ;;
    esac)
equals "the update is audited in gamma, before and after" \
    "$(printf '%s' "$audit_gamma" | jq -r '.before.name + " > " + .after.name')" "Gamma GmbH > Gamma AG"

# ---------------------------------------------------------------- isolation
# acme's admin against root's ann: every id of another company is as
# unknown as one that never was
AT=$ROOT_AT
ROOT_ANN=$(claim sub) ROOT_SID=$(claim sid)
for route in "GET /api/v1/users/$ROOT_ANN" "DELETE /api/v1/users/$ROOT_ANN" \
    "POST /api/v1/users/$ROOT_ANN/deactivate" "POST /api/v1/users/$ROOT_ANN/activate" \
    "DELETE /api/v1/sessions/$ROOT_SID"; do
    req ${route% *} "${route#* }" -H "$(bearer "$BOSS")"
    equals "another company's id: $route" "$CODE" 404
done
req PUT "/api/v1/users/$ROOT_ANN" -H "$(bearer "$BOSS")" -H 'Content-Type: application/json' \
    --data-binary '{"full_name":"Taken Over"}'
equals "another company's id: PUT /api/v1/users/{id}" "$CODE" 404
req GET /api/v1/users/me -H "$(bearer "$ROOT_AT")"
equals "... and root's ann is untouched, signed in, her name hers" "$CODE $(j .full_name)" "200 null"
req GET /api/v1/users -H "$(bearer "$BOSS")"
equals "acme's admin lists acme's users only" "$(j '[.items[].email] | sort | join(",")')" \
    "admin@acme.example,ann@example.com,boss@acme.example"
req GET /api/v1/sessions -H "$(bearer "$BOSS")"
equals "... and acme's sessions only" \
    "$(j '[.items[] | select(.id == "'"$ROOT_SID"'")] | length') $(j '.total > 0')" "0 true"
req GET /api/v1/audit-events -H "$(bearer "$BOSS")"
equals "... and acme's audit trail only" "$(j '[.items[] | select(.subject_id == "'"$ROOT_ANN"'")] | length')" 0
req GET "/api/v1/sessions?limit=1" -H "$(bearer "$SUPER")"
equals "root's admin sees root's sessions" "$CODE $(j '.items | length')" "200 1"
login ann@example.com ',"company":"acme"'
SPARE_AT=$AT ACME_SID=$(claim sid)
req DELETE "/api/v1/sessions/$ACME_SID" -H "$(bearer "$BOSS")"
equals "acme's admin ends an acme session" "$CODE" 204
req GET /api/v1/users/me -H "$(bearer "$SPARE_AT")"
equals "... whose token stops at once" "$CODE" 401
req DELETE "/api/v1/sessions/$ACME_SID" -H "$(bearer "$BOSS")"
equals "... once" "$CODE" 404

# ---------------------------------------------------------------- deactivation
ctl company deactivate acme
equals "deactivate acme" "$RC" 0
contains "... ending its sessions" "$OUT" "session(s) ended"
req GET /api/v1/users/me -H "$(bearer "$ACME_AT")"
equals "acme's access token stops at once" "$CODE" 401
login ann@example.com ',"company":"acme"'
equals "no sign-in in a deactivated company, as if there were none" "$CODE $(j .code)" \
    "404 company_not_found"
signup zed@example.com ',"company":"acme"'
equals "no sign-up either" "$CODE $(j .code)" "404 company_not_found"
req GET /api/v1/users/me -H "$(bearer "$ROOT_AT")"
equals "the same address in root goes on" "$CODE" 200
ctl company show acme
contains "acme shows inactive" "$OUT" "active:         no"
contains "... with its erasure date" "$OUT" "erase after:    2"
audit=$(case $BACKEND in
    sqlite) sqlite3 "$TMP/state/gatehouse.db" "SELECT count(*) FROM audit_events WHERE action = 'company.deactivate' AND tenant_id = '$ACME'" ;;
    *) server_sql "$DBNAME" "SELECT count(*) FROM audit_events WHERE action = 'company.deactivate' AND tenant_id = '$ACME'" ;;
    esac)
equals "the deactivation is audited in acme" "$audit" 1

stop_daemon
equals "it exits 0" "$STATUS" 0
finish
