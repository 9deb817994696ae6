#!/usr/bin/env bash
# clients.sh - OAuth clients and the client_credentials grant, on SQLite
# unless GH_TEST_BACKEND says otherwise (backend.sh):
#  - the admin API: CRUD, the secret shown only at creation and rotation,
#    clients:read/write, company isolation, audit rows without secrets;
#  - the grant with each authentication method: client_secret_basic,
#    client_secret_post, private_key_jwt (an RSA key made by openssl, the
#    JWKS served over HTTP on loopback, assertions signed by openssl);
#    replayed jti, wrong aud, expired assertions refused;
#  - scope subsets, RFC 8707 resource as aud, unauthorized_client,
#    disabled clients, rotation with its grace and after it, throttling;
#  - introspection only for introspecting clients and sessions:read;
#  - gatehousectl client create|list|rotate|delete;
#  - no secret or assertion in the daemon's log.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl openssl python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
ctl_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Clients-Pass-word-4242'
ASSERT="$top_srcdir/tests/integration/client_assertion.py"
TOKEN_URL=http://127.0.0.1:8080/oauth2/token

new_database gh_clients
JWKS_PORT=$(free_port)
{
    base_config auth="lockout: { account_failures: 8, base_delay: 1m, ip_failures: 10000 }"
    printf '%s\n' "$STORAGE_YAML"
    printf 'oauth2:\n  client_secret_grace: 3s\n  jwks_allow_private: true\n'
} >"$CFG"
ctl migrate up
ctl company create beta "Beta"
ctl user create --email boss@example.com --admin --password-stdin <<<"$PW"
ctl user create --email ann@example.com --password-stdin <<<"$PW"
ctl user create --email bea@beta.example --tenant beta --admin --password-stdin <<<"$PW"
equals "the users exist" "$RC" 0

# the client's keys, served as a JWKS on loopback
mkdir -p "$TMP/jwks"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/client.pem" 2>/dev/null
python3 "$ASSERT" jwks "$TMP/client.pem" k1 >"$TMP/jwks/keys.json"
python3 -m http.server "$JWKS_PORT" --bind 127.0.0.1 --directory "$TMP/jwks" >"$TMP/jwks.log" 2>&1 &
JWKS_PID=$!
JWKS_URI="http://127.0.0.1:$JWKS_PORT/keys.json"

check "daemon starts" start_daemon "$CFG" "$TMP/daemon.log"
trap 'kill "$JWKS_PID" 2>/dev/null; cleanup; drop_databases' EXIT

login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"$2}"; AT=$(j .access_token); }
payload() { printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null; }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
form() { local p=$1; shift; req POST "$p" -H 'Content-Type: application/x-www-form-urlencoded' "$@"; }
SECRETS=()
login boss@example.com ''
BOSS=$AT
login ann@example.com ''
ANN=$AT
login bea@beta.example ',"company":"beta"'
BEA=$AT

# ---------------------------------------------------------------- the admin API
as "$BOSS" post_json /api/v1/clients '{"name":"billing","scopes":["invoices:read","invoices:write"],"audiences":["https://api.example.com"],"token_ttl":600}'
equals "create a client: 201" "$CODE" 201
CID=$(j .client_id) ID=$(j .id) SECRET=$(j .client_secret)
SECRETS+=("$SECRET")
contains "... its secret is shown, prefixed for scanners" "$SECRET" "ghcs_"
equals "... basic by default, client_credentials" "$(j .token_endpoint_auth_method) $(j '.grant_types | join(",")')" \
    "client_secret_basic client_credentials"
as "$BOSS" req GET "/api/v1/clients/$ID"
equals "read it back" "$CODE $(j .client_id) $(j .token_ttl)" "200 $CID 600"
equals "... without its secret" "$(j .client_secret)" "null"
as "$BOSS" req GET /api/v1/clients
equals "the list has it, without secrets" "$CODE $(j .total) $(j '[.items[].client_secret] | map(select(. != null)) | length')" "200 1 0"
as "$BOSS" req PUT "/api/v1/clients/$ID" -H 'Content-Type: application/json' --data-binary '{"name":"billing-svc"}'
equals "change its name" "$CODE $(j .name) $(j '.scopes | join(" ")')" "200 billing-svc invoices:read invoices:write"
equals "... no new secret" "$(j .client_secret)" "null"
as "$BOSS" post_json /api/v1/clients '{"name":"bad","scopes":["a b"]}'
equals "a scope with a space is refused" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" post_json /api/v1/clients '{"name":"bad","audiences":["not a uri"]}'
equals "an audience that is no absolute URI is refused" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" post_json /api/v1/clients '{"name":"bad","token_endpoint_auth_method":"private_key_jwt"}'
equals "private_key_jwt without keys is refused" "$CODE $(j .code)" "422 missing_field"
as "$BOSS" post_json /api/v1/clients '{"name":"bad","grant_types":["password"]}'
equals "a grant other than client_credentials is refused" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" post_json /api/v1/clients '{"name":"bad","color":"red"}'
equals "an unknown field is refused" "$CODE $(j .code)" "422 unknown_field"

# permissions and companies
as "$ANN" req GET /api/v1/clients
equals "without clients:read, no list" "$CODE $(j .code)" "403 forbidden"
contains "... naming the permission" "$(j .detail)" "clients:read"
as "$ANN" post_json /api/v1/clients '{"name":"x"}'
equals "without clients:write, no client" "$CODE" 403
as "$BEA" req GET /api/v1/clients
equals "beta's admin sees none of root's clients" "$CODE $(j .total)" "200 0"
as "$BEA" req GET "/api/v1/clients/$ID"
equals "... and root's client is not found for beta" "$CODE" 404
as "$BEA" req DELETE "/api/v1/clients/$ID"
equals "... nor deletable" "$CODE" 404
as "$BEA" req POST "/api/v1/clients/$ID/secret"
equals "... nor rotatable" "$CODE" 404
as "$BEA" post_json /api/v1/clients '{"name":"beta-svc","scopes":["read"]}'
BETA_CID=$(j .client_id) BETA_SECRET=$(j .client_secret)
SECRETS+=("$BETA_SECRET")
equals "beta's admin makes beta's own" "$CODE" 201
as "$BOSS" req GET "/api/v1/clients?company=beta"
equals "a superuser lists beta's with ?company=" "$CODE $(j .total)" "200 1"

# ---------------------------------------------------------------- client_secret_basic
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials'
equals "client_credentials with Basic: 200" "$CODE $(j .token_type) $(j .expires_in)" "200 Bearer 600"
equals "... all its scopes when none asked" "$(j .scope)" "invoices:read invoices:write"
equals "... no refresh token" "$(j .refresh_token)" "null"
CT=$(j .access_token)
PL=$(payload "$CT")
equals "... sub names the client" "$(printf '%s' "$PL" | jq -r .sub)" "client:$CID"
equals "... client_id, scope, aud claims" "$(printf '%s' "$PL" | jq -r '[.client_id, .scope, .aud] | join("|")')" \
    "$CID|invoices:read invoices:write|gatehouse"
equals "... lives token_ttl" "$(printf '%s' "$PL" | jq -r '.exp - .iat')" 600
equals "... Pragma: no-cache" "$(hdr Pragma)" "no-cache"
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials&scope=invoices%3Aread'
equals "a subset of its scopes" "$CODE $(j .scope)" "200 invoices:read"
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials&scope=invoices%3Aread+admin'
equals "a scope it may not have: invalid_scope" "$CODE $(j .error)" "400 invalid_scope"
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials&resource=https%3A%2F%2Fapi.example.com'
equals "an allowed resource (RFC 8707)" "$CODE" 200
equals "... is the token's aud" "$(payload "$(j .access_token)" | jq -r .aud)" "https://api.example.com"
RT=$(j .access_token)
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials&resource=https%3A%2F%2Fevil.example.com'
equals "another resource: invalid_target" "$CODE $(j .error)" "400 invalid_target"
form /oauth2/token -u "$CID:wrong-secret" --data 'grant_type=client_credentials'
equals "a wrong secret: 401 invalid_client" "$CODE $(j .error)" "401 invalid_client"
contains "... with a Basic challenge" "$(hdr WWW-Authenticate)" "Basic"
form /oauth2/token --data 'grant_type=client_credentials'
equals "no client authentication: 401 invalid_client" "$CODE $(j .error)" "401 invalid_client"
form /oauth2/token -u "$CID:$SECRET" --data-urlencode "client_secret=$SECRET" --data 'grant_type=client_credentials'
equals "two methods at once: invalid_request" "$CODE $(j .error)" "400 invalid_request"
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=urn:example:magic'
equals "an unknown grant: unsupported_grant_type" "$CODE $(j .error)" "400 unsupported_grant_type"
form /oauth2/token --data-urlencode "client_id=$CID" --data-urlencode "client_secret=$SECRET" --data 'grant_type=client_credentials'
equals "a basic client cannot use client_secret_post" "$CODE $(j .error)" "401 invalid_client"
as "$CT" req GET /api/v1/users
equals "a client's token opens no admin route" "$CODE" 403
as "$CT" req GET /api/v1/users/me
equals "... nor a user's own (a client is no user): $CODE" "$([ "$CODE" -ge 400 ] && [ "$CODE" -lt 500 ] && echo refused)" refused

# ---------------------------------------------------------------- client_secret_post
as "$BOSS" post_json /api/v1/clients '{"name":"poster","token_endpoint_auth_method":"client_secret_post","scopes":["a"]}'
PCID=$(j .client_id) PSECRET=$(j .client_secret) PID_=$(j .id)
SECRETS+=("$PSECRET")
form /oauth2/token --data-urlencode "client_id=$PCID" --data-urlencode "client_secret=$PSECRET" --data 'grant_type=client_credentials'
equals "client_secret_post: 200" "$CODE $(j .scope)" "200 a"
form /oauth2/token -u "$PCID:$PSECRET" --data 'grant_type=client_credentials'
equals "a post client cannot use Basic" "$CODE $(j .error)" "401 invalid_client"
as "$BOSS" post_json /api/v1/clients '{"name":"nogrant","grant_types":[]}'
NCID=$(j .client_id) NSECRET=$(j .client_secret)
SECRETS+=("$NSECRET")
form /oauth2/token -u "$NCID:$NSECRET" --data 'grant_type=client_credentials'
equals "a client without the grant: unauthorized_client" "$CODE $(j .error)" "400 unauthorized_client"

# ---------------------------------------------------------------- private_key_jwt
as "$BOSS" post_json /api/v1/clients '{"name":"signer","token_endpoint_auth_method":"private_key_jwt","jwks_uri":"'"$JWKS_URI"'","scopes":["s"]}'
JCID=$(j .client_id) JID=$(j .id)
equals "a private_key_jwt client has no secret" "$CODE $(j .client_secret)" "201 null"
assertion() { python3 "$ASSERT" sign "$TMP/client.pem" k1 "$1" "$2" "$3" "$4" "$5"; }
jwt_grant() {
    form /oauth2/token --data 'grant_type=client_credentials' \
        --data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
        --data-urlencode "client_assertion=$1" "${@:2}"
}
A1=$(assertion "$JCID" "$JCID" "$TOKEN_URL" 60 jti-1)
jwt_grant "$A1"
equals "private_key_jwt: 200" "$CODE $(j .scope)" "200 s"
equals "... sub names the client" "$(payload "$(j .access_token)" | jq -r .sub)" "client:$JCID"
jwt_grant "$A1"
equals "the same jti again: refused" "$CODE $(j .error)" "401 invalid_client"
jwt_grant "$(assertion "$JCID" "$JCID" "http://127.0.0.1:8080" 60 jti-2)" --data-urlencode "client_id=$JCID"
equals "aud = our issuer, with client_id named: 200" "$CODE" 200
jwt_grant "$(assertion "$JCID" "$JCID" "https://elsewhere.example/token" 60 jti-3)"
equals "a wrong aud: refused" "$CODE $(j .error)" "401 invalid_client"
jwt_grant "$(assertion "$JCID" "$JCID" "$TOKEN_URL" -120 jti-4)"
equals "an expired assertion: refused" "$CODE $(j .error)" "401 invalid_client"
jwt_grant "$(assertion "$JCID" "$JCID" "$TOKEN_URL" 86400 jti-5)"
equals "an assertion living a day: refused" "$CODE $(j .error)" "401 invalid_client"
jwt_grant "$(assertion "$JCID" "someone-else" "$TOKEN_URL" 60 jti-6)"
equals "sub other than the client: refused" "$CODE $(j .error)" "401 invalid_client"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/other.pem" 2>/dev/null
jwt_grant "$(python3 "$ASSERT" sign "$TMP/other.pem" k1 "$JCID" "$JCID" "$TOKEN_URL" 60 jti-7)"
equals "signed by a key not in its JWKS: refused" "$CODE $(j .error)" "401 invalid_client"
# the keys given inline rather than at a URL
as "$BOSS" post_json /api/v1/clients '{"name":"inline","token_endpoint_auth_method":"private_key_jwt","jwks":'"$(cat "$TMP/jwks/keys.json")"'}'
KCID=$(j .client_id)
equals "a client with its JWK Set inline" "$CODE $(j '.jwks.keys[0].kid') $(j .jwks_uri)" "201 k1 null"
jwt_grant "$(assertion "$KCID" "$KCID" "$TOKEN_URL" 60 jti-k1)"
equals "... its assertion: 200" "$CODE $(j .token_type)" "200 Bearer"
jwt_grant "$(python3 "$ASSERT" sign "$TMP/other.pem" k1 "$KCID" "$KCID" "$TOKEN_URL" 60 jti-k2)"
equals "... another key's: refused" "$CODE $(j .error)" "401 invalid_client"
as "$BOSS" post_json /api/v1/clients '{"name":"both","token_endpoint_auth_method":"private_key_jwt","jwks_uri":"'"$JWKS_URI"'","jwks":'"$(cat "$TMP/jwks/keys.json")"'}'
equals "keys inline and at a URL at once: refused" "$CODE $(j .code)" "422 invalid_field"
as "$BOSS" post_json /api/v1/clients '{"name":"empty","token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[]}}'
equals "an empty JWK Set: refused" "$CODE $(j .code)" "422 invalid_field"
form /oauth2/token --data 'grant_type=client_credentials&client_assertion_type=urn:x&client_assertion=a.b.c'
equals "a wrong assertion type: invalid_request" "$CODE $(j .error)" "400 invalid_request"
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials' \
    --data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
    --data-urlencode "client_assertion=$(assertion "$CID" "$CID" "$TOKEN_URL" 60 jti-8)"
equals "a secret client presenting an assertion too: invalid_request" "$CODE $(j .error)" "400 invalid_request"

# ---------------------------------------------------------------- rotation
as "$BOSS" req POST "/api/v1/clients/$ID/secret"
NEW_SECRET=$(j .client_secret)
SECRETS+=("$NEW_SECRET")
equals "rotate: 200 with a new secret" "$CODE $([ "$NEW_SECRET" != "$SECRET" ] && echo new)" "200 new"
check "... the old one's grace is shown" test "$(j .previous_secret_expires_at)" != null
form /oauth2/token -u "$CID:$NEW_SECRET" --data 'grant_type=client_credentials'
equals "the new secret works" "$CODE" 200
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials'
equals "the old one too, within the grace" "$CODE" 200
sleep 3.5
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials'
equals "the old one after the grace: refused" "$CODE $(j .error)" "401 invalid_client"
form /oauth2/token -u "$CID:$NEW_SECRET" --data 'grant_type=client_credentials'
equals "the new one still works" "$CODE" 200
SECRET=$NEW_SECRET
as "$BOSS" req POST "/api/v1/clients/$JID/secret"
equals "a private_key_jwt client has no secret to rotate" "$CODE $(j .code)" "409 no_secret"

# a change of method: to a secret method gives a secret, once
as "$BOSS" req PUT "/api/v1/clients/$JID" -H 'Content-Type: application/json' \
    --data-binary '{"token_endpoint_auth_method":"client_secret_post","jwks_uri":""}'
SW_SECRET=$(j .client_secret)
SECRETS+=("$SW_SECRET")
equals "private_key_jwt to client_secret_post: a new secret" "$CODE ${SW_SECRET:0:5}" "200 ghcs_"
form /oauth2/token --data-urlencode "client_id=$JCID" --data-urlencode "client_secret=$SW_SECRET" --data 'grant_type=client_credentials'
equals "... which works" "$CODE" 200
jwt_grant "$(assertion "$JCID" "$JCID" "$TOKEN_URL" 60 jti-sw)"
equals "... and its assertions no longer do" "$CODE $(j .error)" "401 invalid_client"
ctl client create x --method private_key_jwt --jwks-uri ftp://keys.example/jwks
equals "ctl: a jwks_uri that is not http(s) is refused" "$RC" 1

# ---------------------------------------------------------------- introspection
as "$BOSS" post_json /api/v1/clients '{"name":"gateway","introspect":true}'
ICID=$(j .client_id) ISECRET=$(j .client_secret)
SECRETS+=("$ISECRET")
form /oauth2/introspect -u "$ICID:$ISECRET" --data-urlencode "token=$CT"
equals "an introspecting client: active" "$CODE $(j .active) $(j .sub)" "200 true client:$CID"
equals "... with client_id and scope" "$(j .client_id) $(j .scope)" "$CID invoices:read invoices:write"
form /oauth2/introspect -u "$ICID:$ISECRET" --data-urlencode "token=$RT"
equals "... a resource's token too, its aud shown" "$(j .active) $(j .aud)" "true https://api.example.com"
form /oauth2/introspect -u "$ICID:$ISECRET" --data-urlencode "token=$ANN"
equals "... a user's token of its company" "$(j .active)" "true"
form /oauth2/introspect -u "$ICID:$ISECRET" --data-urlencode "token=$BEA"
equals "... not another company's" "$BODY" '{"active":false}'
form /oauth2/introspect -u "$ICID:wrong" --data-urlencode "token=$CT"
equals "an introspecting client with a wrong secret: 401" "$CODE $(j .error)" "401 invalid_client"
form /oauth2/introspect -u "$NCID:$NSECRET" --data-urlencode "token=$CT"
equals "a client not allowed to introspect: 403" "$CODE $(j .error)" "403 unauthorized_client"
as "$ANN" form /oauth2/introspect --data-urlencode "token=$ANN"
equals "a user without sessions:read: 403, even for their own token" "$CODE $(j .error)" "403 insufficient_scope"
as "$BOSS" form /oauth2/introspect --data-urlencode "token=$CT"
equals "an admin (sessions:read) introspects a client's token" "$CODE $(j .active)" "200 true"
as "$BOSS" form /oauth2/introspect --data-urlencode "token=$BEA"
equals "... not another company's" "$BODY" '{"active":false}'

# disabling ends its tokens and its grants
as "$BOSS" req PUT "/api/v1/clients/$ID" -H 'Content-Type: application/json' --data-binary '{"disabled":true}'
equals "disable a client" "$CODE $(j .disabled)" "200 true"
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials'
equals "a disabled client is refused" "$CODE $(j .error)" "401 invalid_client"
form /oauth2/introspect -u "$ICID:$ISECRET" --data-urlencode "token=$CT"
equals "... and its tokens introspect as inactive" "$BODY" '{"active":false}'
as "$BOSS" req PUT "/api/v1/clients/$ID" -H 'Content-Type: application/json' --data-binary '{"disabled":false}'
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials'
equals "enabled again, it works" "$CODE" 200

# throttling: the eighth failure locks the client for a minute
as "$BOSS" post_json /api/v1/clients '{"name":"guessed"}'
GCID=$(j .client_id) GSECRET=$(j .client_secret)
SECRETS+=("$GSECRET")
for n in 1 2 3 4 5 6 7 8; do form /oauth2/token -u "$GCID:guess-$n" --data 'grant_type=client_credentials'; done
form /oauth2/token -u "$GCID:$GSECRET" --data 'grant_type=client_credentials'
equals "after 8 failures even the right secret waits: 429" "$CODE $(j .error)" "429 invalid_client"
check "... with Retry-After" test -n "$(hdr Retry-After)"
form /oauth2/token -u "$CID:$SECRET" --data 'grant_type=client_credentials'
equals "... another client is not locked" "$CODE" 200

# delete
as "$BOSS" req DELETE "/api/v1/clients/$PID_"
equals "delete a client: 204" "$CODE" 204
form /oauth2/token --data-urlencode "client_id=$PCID" --data-urlencode "client_secret=$PSECRET" --data 'grant_type=client_credentials'
equals "a deleted client is refused" "$CODE $(j .error)" "401 invalid_client"
as "$BOSS" req GET "/api/v1/clients/$PID_"
equals "... and gone" "$CODE" 404

# the audit trail
as "$BOSS" req GET "/api/v1/audit-events?action=client."
equals "creations, changes, rotations and deletions are audited" \
    "$(j '[.items[].action] | unique | join(",")')" "client.create,client.delete,client.secret.rotate,client.update"
lacks "... without a secret in them" "$BODY" "ghcs_"

# ---------------------------------------------------------------- discovery
req GET /.well-known/openid-configuration
equals "discovery lists client_credentials" "$(j '.grant_types_supported | index("client_credentials") != null')" true
equals "... and the client authentication methods" "$(j '.token_endpoint_auth_methods_supported | join(",")')" \
    "none,client_secret_basic,client_secret_post,private_key_jwt"

# ---------------------------------------------------------------- gatehousectl
ctl client create cli-svc --scopes "x y" --tenant beta
equals "ctl client create" "$RC" 0
CLI_CID=$(printf '%s\n' "$OUT" | sed -n 's/^client_id: *//p')
CLI_SECRET=$(printf '%s\n' "$OUT" | sed -n 's/^client_secret: *//p')
SECRETS+=("$CLI_SECRET")
contains "... prints the secret once" "$CLI_SECRET" "ghcs_"
form /oauth2/token -u "$CLI_CID:$CLI_SECRET" --data 'grant_type=client_credentials&scope=y'
equals "... and it works" "$CODE $(j .scope)" "200 y"
equals "... in beta" "$(payload "$(j .access_token)" | jq -r .tenant)" "$(payload "$BEA" | jq -r .tenant)"
ctl client list --tenant beta
contains "ctl client list shows it" "$OUT" "$CLI_CID"
lacks "... without its secret" "$OUT" "$CLI_SECRET"
ctl client list
lacks "... and not in root's list" "$OUT" "$CLI_CID"
ctl client rotate "$CLI_CID"
equals "rotate names a client of the company asked for only" "$RC" 1
ctl client rotate "$CLI_CID" --tenant beta
CLI_NEW=$(printf '%s\n' "$OUT" | sed -n 's/^client_secret: *//p')
SECRETS+=("$CLI_NEW")
equals "ctl client rotate" "$RC $([ "$CLI_NEW" != "$CLI_SECRET" ] && echo new)" "0 new"
form /oauth2/token -u "$CLI_CID:$CLI_NEW" --data 'grant_type=client_credentials'
equals "... the new secret works" "$CODE" 200
ctl client delete "$CLI_CID" --tenant beta
equals "ctl client delete" "$RC" 0
form /oauth2/token -u "$CLI_CID:$CLI_NEW" --data 'grant_type=client_credentials'
equals "... and it is refused" "$CODE" 401
ctl client create x --method private_key_jwt
equals "ctl: private_key_jwt needs --jwks-uri" "$RC" 2

# ---------------------------------------------------------------- no secret in the log
LEAKS=0
for s in "${SECRETS[@]}" "$A1"; do grep -qF -- "$s" "$TMP/daemon.log" && LEAKS=$((LEAKS + 1)); done
equals "no secret or assertion in the daemon's log" "$LEAKS" 0
contains "... which does say why a client failed" "$(cat "$TMP/daemon.log")" "client authentication failed"
ctl_sanitizer_check

finish
