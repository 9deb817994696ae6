#!/usr/bin/env bash
# revocation.sh - a revoked access token stays refused for as long as any
# instance would accept it: past its exp, through the clock leeway.
#
# Tokens live 30 s (the shortest allowed) and are accepted until 30 s past
# exp. Each way of revoking is used once; then the test waits until a few
# seconds past exp, inside the leeway, where a token nobody revoked still
# works and every revoked one must still be refused.
set -u
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "SKIP: jq not found"; exit 77; }
json_client

GH_LEEWAY=30 # GH_TOKEN_LEEWAY_S
ADMIN_EMAIL=admin@example.com
ADMIN_PW='Vq7-admin-Rn2-lighthouse'
PW='Kx9-orbit-Tm4-harbour'
{
    base_config
    cat <<YAML
tokens:
  access_ttl: 30s
bootstrap:
  admin_email: $ADMIN_EMAIL
  admin_password: "$ADMIN_PW"
YAML
} >"$TMP/gh.yaml"
start_daemon "$TMP/gh.yaml" "$TMP/gh.log" || exit 1

# login EMAIL PASSWORD: sets AT (access token) and RT (refresh token)
login() {
    post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$2\"}"
    AT=$(j .access_token)
    RT=$(j .refresh_token)
}
me_code() { req GET /api/v1/users/me -H "$(bearer "$1")"; echo "$CODE"; }
exp_of() { printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .exp; }

for u in keep revoke logout deact pwchange; do
    post_json /api/v1/auth/signup "{\"email\":\"$u@example.com\",\"password\":\"$PW\"}"
    equals "signup $u" "$CODE" "201"
done
login "$ADMIN_EMAIL" "$ADMIN_PW"
ADM=$AT

# A token nobody revokes: the leeway is real, so the others are tested in it.
login keep@example.com "$PW"
KEEP=$AT
EXP=$(exp_of "$KEEP")

login revoke@example.com "$PW"
REVOKED=$AT
post_json /oauth2/revoke "{\"token\":\"$REVOKED\",\"token_type_hint\":\"access_token\"}" -H "$(bearer "$REVOKED")"
equals "/oauth2/revoke answers 200" "$CODE" "200"

login logout@example.com "$PW"
LOGGED_OUT=$AT
req POST /api/v1/auth/logout -H "$(bearer "$LOGGED_OUT")"
equals "logout answers 204" "$CODE" "204"

login deact@example.com "$PW"
DEACT=$AT
req GET /api/v1/users/me -H "$(bearer "$DEACT")"
DEACT_ID=$(j .id)
req POST "/api/v1/users/$DEACT_ID/deactivate" -H "$(bearer "$ADM")"
equals "deactivation answers 200" "$CODE" "200"

login pwchange@example.com "$PW"
OTHER=$AT
login pwchange@example.com "$PW"
post_json /api/v1/auth/change-password "{\"old_password\":\"$PW\",\"new_password\":\"Zq3-meadow-Lp8-canyon\"}" -H "$(bearer "$AT")"
equals "change-password answers 204" "$CODE" "204"

for t in REVOKED LOGGED_OUT DEACT OTHER; do
    equals "$t: refused at once" "$(me_code "${!t}")" "401"
done

# Wait until 3 s past exp: inside the 30 s leeway, after the moment when
# entries that lasted only a token life (or only until exp) disappeared.
while [ "$(date +%s)" -lt $((EXP + 3)) ]; do sleep 0.5; done
equals "a token nobody revoked still works 3 s past exp (the leeway)" "$(me_code "$KEEP")" "200"
for t in REVOKED LOGGED_OUT DEACT OTHER; do
    equals "$t: still refused 3 s past exp" "$(me_code "${!t}")" "401"
done
req PUT /api/v1/users/me -H "$(bearer "$DEACT")" -H 'Content-Type: application/json' \
    --data-binary '{"full_name":"Still here"}'
equals "a deactivated user's token cannot write past exp" "$CODE" "401"

# And once the leeway is over, every token is refused by its exp alone.
while [ "$(date +%s)" -lt $((EXP + GH_LEEWAY + 2)) ]; do sleep 0.5; done
equals "past exp and the leeway the token is refused" "$(me_code "$KEEP")" "401"

stop_daemon
finish
