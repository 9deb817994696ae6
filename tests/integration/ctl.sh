#!/usr/bin/env bash
# ctl.sh - gatehousectl on a real config and SQLite store: migrations, the
# first admin, passwords kept off the command line, listing, importing
# bcrypt users from the seed services and signing them in through the real
# daemon (rehashed to argon2id), key rotation, and admin flags.
set -u
. "$(dirname "$0")/lib.sh"

# sqlite3 looks behind the CLI's back; cc builds the bcrypt helper
for tool in sqlite3 base64 "${CC:-cc}"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
CTL="$top_builddir/gatehousectl"
STATE="$TMP/state"
CFG="$TMP/gatehouse.yaml"

# argon2 at its cheapest: these tests are about the CLI, not the hash cost
write_config() {
    {
        base_config threads=1 state_dir="$STATE" plugin_dir=
        printf '%s\n' "${2:-}"
    } >"$1"
}
write_config "$CFG"

ctl_client
db() { sqlite3 "$STATE/gatehouse.db" "$@"; }

# A bcrypt hash made here, as the seed services (passlib) make them.
bcrypt() {
    if [ ! -x "$TMP/bcrypt" ]; then
        cat >"$TMP/bcrypt.c" <<'C'
#include <crypt.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data d = { 0 };
    const char *h;
    if (argc != 2 || !crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof salt))
        return 1;
    h = crypt_rn(argv[1], salt, &d, sizeof d);
    if (!h || h[0] == '*')
        return 1;
    puts(h);
    return 0;
}
C
        ${CC:-cc} -o "$TMP/bcrypt" "$TMP/bcrypt.c" -lcrypt || return 1
    fi
    "$TMP/bcrypt" "$1"
}

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# ---------------------------------------------------------------- command line
"$CTL" --help >"$TMP/out" 2>&1; equals "--help exits 0" "$?" "0"
contains "--help lists the commands" "$(cat "$TMP/out")" "migrate"
"$CTL" >/dev/null 2>&1; equals "no command exits 2" "$?" "2"
"$CTL" frobnicate >/dev/null 2>&1; equals "an unknown command exits 2" "$?" "2"
"$CTL" user create --help >"$TMP/out" 2>&1; equals "user create --help exits 0" "$?" "0"
contains "user create --help names --password-stdin" "$(cat "$TMP/out")" "--password-stdin"
"$CTL" user frob >/dev/null 2>&1; equals "an unknown subcommand exits 2" "$?" "2"
out=$("$CTL" -c "$TMP/nope.yaml" user list 2>&1)
equals "a missing config exits 1" "$?" "1"
contains "and names the file" "$out" "nope.yaml"
ctl user list
equals "a missing state directory is an error, not a new database" "$RC" "1"
contains "the error names the state directory" "$ERR" "$STATE"
check "no state directory was made" test ! -e "$STATE"

# ---------------------------------------------------------------- migrate
ctl migrate status
equals "migrate status needs the state directory made by migrate up" "$RC" "1"
ctl migrate up
equals "migrate up on a fresh install exits 0" "$RC" "0"
contains "migrate up prints what ran" "$OUT" "applied 1 initial"
contains "and the version reached" "$OUT" "schema is now at version"
LATEST=$(db "SELECT MAX(version) FROM schema_migrations")
ctl migrate status
equals "migrate status exits 0" "$RC" "0"
contains "status shows the current version" "$OUT" "current:  $LATEST"
contains "status shows nothing pending" "$OUT" "pending:  0"
lacks "no migration is listed as pending" "$(echo "$OUT" | sed 1,5d)" "pending"
ctl migrate up
contains "a second migrate up has nothing to do" "$OUT" "up to date"

# a database behind: the other commands refuse and say what to run
rm -rf "$STATE"; mkdir -p "$STATE"
ctl migrate status
equals "status on a fresh database exits 0" "$RC" "0"
contains "it shows version 0" "$OUT" "current:  0"
contains "with every migration pending" "$OUT" "pending:  $LATEST"
check "each listed as pending" grep -Eq '^1 +initial +pending$' <<<"$OUT"
ctl user list
equals "user list refuses a database whose schema is behind" "$RC" "1"
contains "and tells to run migrate up" "$ERR" "gatehousectl -c $CFG migrate up"
ctl migrate up
equals "migrate up applies every migration" "$(echo "$OUT" | grep -c '^applied ')" "$LATEST"

# ---------------------------------------------------------------- user create
ADMIN_PW='correct horse battery staple'
printf '%s\n' "$ADMIN_PW" >"$TMP/in"
ctl user create --admin --email Admin@Example.com --username admin --full-name 'The Admin' \
    --password-stdin <"$TMP/in"
equals "user create --admin exits 0" "$RC" "0"
ADMIN_ID=$OUT
check "it prints the new id" grep -Eq "$UUID_RE" <<<"$ADMIN_ID"
equals "nothing on stderr" "$ERR" ""
equals "the user is an admin" "$(db "SELECT is_admin FROM users WHERE id = '$ADMIN_ID'")" "1"
equals "its credential is argon2id" \
    "$(db "SELECT substr(CAST(secret AS TEXT), 1, 10) FROM credentials WHERE user_id = '$ADMIN_ID' AND type = 'password'")" \
    '$argon2id$'
equals "with the configured cost" \
    "$(db "SELECT instr(CAST(secret AS TEXT), 'm=1024,t=1,') > 0 FROM credentials WHERE user_id = '$ADMIN_ID'")" "1"
equals "the password is nowhere in clear" \
    "$(db "SELECT COUNT(*) FROM credentials WHERE CAST(secret AS TEXT) LIKE '%horse%'")" "0"
equals "the creation is audited as done by the cli" \
    "$(db "SELECT COUNT(*) FROM audit_events WHERE action = 'user.create' AND actor_id = 'cli' AND subject_id = '$ADMIN_ID'")" "1"

printf 'short\n' >"$TMP/in"
ctl user create --email weak@example.com --password-stdin <"$TMP/in"
equals "a short password is refused" "$RC" "1"
contains "with the policy's reason" "$ERR" "password_too_short"
printf 'password\n' >"$TMP/in"
ctl user create --email weak@example.com --password-stdin <"$TMP/in"
equals "a common password is refused" "$RC" "1"
contains "as too common" "$ERR" "password_too_common"
equals "no user was made for them" "$(db "SELECT COUNT(*) FROM users WHERE email_normalized = 'weak@example.com'")" "0"

printf '%s\n' "$ADMIN_PW" >"$TMP/in"
ctl user create --email admin@EXAMPLE.com --password-stdin <"$TMP/in"
equals "a duplicate email (any case) is refused" "$RC" "1"
contains "as already existing" "$ERR" "already exists"

ctl user create --email other@example.com --password 'hunter2hunter2'
equals "there is no --password option" "$RC" "2"
lacks "and the value is not echoed" "$ERR" "hunter2"
ctl user create --email other@example.com --password='hunter2hunter2'
equals "nor --password=" "$RC" "2"
lacks "whose value is not echoed either" "$ERR" "hunter2"
ctl user create --email other@example.com hunter2hunter2 </dev/null
equals "a password as an argument is refused" "$RC" "2"
lacks "without echoing it" "$ERR" "hunter2"
ctl user create --email other@example.com </dev/null
equals "no password source and no terminal is a usage error" "$RC" "2"
contains "which names the options" "$ERR" "--password-file"

printf 'an0ther long passphrase\n' >"$TMP/pwfile"
ctl user create --email other@example.com --password-file "$TMP/pwfile"
equals "--password-file works" "$RC" "0"
OTHER_ID=$OUT
equals "a user without --admin is not an admin" "$(db "SELECT is_admin FROM users WHERE id = '$OTHER_ID'")" "0"
ctl user create --email bad-address --password-file "$TMP/pwfile"
equals "an invalid email is refused" "$RC" "1"

# ---------------------------------------------------------------- user list
ctl user list
equals "user list exits 0" "$RC" "0"
contains "it has a header" "$OUT" "EMAIL"
contains "it shows the admin's id" "$OUT" "$ADMIN_ID"
contains "and address" "$OUT" "Admin@Example.com"
check "and that it is an active admin" grep -Eq "^$ADMIN_ID +Admin@Example.com +admin +yes +yes +20" <<<"$OUT"
ctl user list --email OTHER
lacks "--email filters (any case)" "$OUT" "$ADMIN_ID"
contains "to the matching users" "$OUT" "$OTHER_ID"
ctl user list --limit 1
equals "--limit 1 shows one user" "$(echo "$OUT" | sed 1d | wc -l)" "1"
contains "and says there are more" "$ERR" "users 1 to 1 of 2 shown"
ctl user list --limit many
equals "a bad --limit is a usage error" "$RC" "2"
write_config "$TMP/extra.yaml" $'plugins:\n  - name: nosuchplugin'
"$CTL" -c "$TMP/extra.yaml" user list >/dev/null 2>"$TMP/err"
equals "plugins other than storage and kv are not loaded by the CLI" "$?" "0"
ctl user list --tenant 00000000-0000-4000-8000-0000000000ff
equals "an unknown tenant is an error" "$RC" "1"
contains "named as such" "$ERR" "no company 00000000-0000-4000-8000-0000000000ff"

# ---------------------------------------------------------------- user import
HASH=$(bcrypt 'legacy-pass-1')
check "a bcrypt hash was made for the test" grep -q '^\$2b\$04\$' <<<"$HASH"
cat >"$TMP/users.jsonl" <<JSONL
{"email": "Legacy@Example.com", "hashed_password": "$HASH", "full_name": "Legacy User", "is_verified": true, "id": 17}
this is not json
{"email": "admin@example.com", "password_hash": "$HASH"}

JSONL
ctl user import "$TMP/users.jsonl"
equals "an import with skipped lines exits 1" "$RC" "1"
contains "it counts what it did" "$OUT" "imported 1, skipped 2"
contains "a bad line is reported with its number" "$ERR" "users.jsonl:2: not valid JSON"
contains "a duplicate too" "$ERR" "users.jsonl:3: a user with this email, username or id already exists"
lacks "no hash is printed" "$OUT$ERR" "$HASH"
LEGACY_ID=$(db "SELECT id FROM users WHERE email_normalized = 'legacy@example.com'")
check "the imported user exists" grep -Eq "$UUID_RE" <<<"$LEGACY_ID"
equals "its bcrypt hash is kept as it is" \
    "$(db "SELECT CAST(secret AS TEXT) = '$HASH' FROM credentials WHERE user_id = '$LEGACY_ID'")" "1"
equals "is_verified marks the address verified" \
    "$(db "SELECT email_verified_at IS NOT NULL FROM users WHERE id = '$LEGACY_ID'")" "1"
equals "full_name is imported" "$(db "SELECT full_name FROM users WHERE id = '$LEGACY_ID'")" "Legacy User"
equals "a serial id (17) is kept as the external id" "$(db "SELECT external_id FROM users WHERE id = '$LEGACY_ID'")" "17"
equals "the import is audited" \
    "$(db "SELECT COUNT(*) FROM audit_events WHERE action = 'user.import' AND actor_id = 'cli'")" "1"

cat >"$TMP/bad.jsonl" <<'JSONL'
{"email": "plain@example.com", "password_hash": "secret-in-clear"}
{"email": "md5@example.com", "password_hash": "$1$abcdefgh$0123456789012345678901"}
{"email": "nohash@example.com"}
{"email": 42, "password_hash": "x"}
{"email": "not-an-address", "password_hash": "$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"}
JSONL
ctl user import "$TMP/bad.jsonl"
contains "hashes other than bcrypt and argon2id are refused" "$OUT" "imported 0, skipped 5"
contains "a clear-text 'hash' is named as such" "$ERR" "bad.jsonl:1: password_hash is neither bcrypt"
contains "md5-crypt too" "$ERR" "bad.jsonl:2: password_hash is neither"
contains "a missing hash is reported" "$ERR" "bad.jsonl:3: no password_hash"
contains "a wrong type is reported" "$ERR" "bad.jsonl:4: a field has the wrong type"
contains "an invalid address is reported" "$ERR" "bad.jsonl:5: invalid email address"
lacks "the clear text is not echoed" "$ERR" "secret-in-clear"

ARGON=$(db "SELECT CAST(secret AS TEXT) FROM credentials WHERE user_id = '$OTHER_ID'")
{
    echo 'Email,Password_Hash,username,first_name,last_name,is_superuser'
    echo "csv1@example.com,$HASH,csv_one,Ada,Lovelace,t"
    echo "\"csv2@example.com\",\"$ARGON\",,\"Grace, \"\"Amazing\"\"\",Hopper,false"
} >"$TMP/users.csv"
ctl user import "$TMP/users.csv"
equals "a CSV import exits 0 when all went in" "$RC" "0"
contains "CSV with a header imports" "$OUT" "imported 2, skipped 0"
equals "first_name and last_name make the full name" \
    "$(db "SELECT full_name FROM users WHERE email_normalized = 'csv1@example.com'")" "Ada Lovelace"
equals "is_superuser is the admin flag" \
    "$(db "SELECT is_admin FROM users WHERE email_normalized = 'csv1@example.com'")" "1"
equals "quoted fields with commas and quotes survive" \
    "$(db "SELECT full_name FROM users WHERE email_normalized = 'csv2@example.com'")" 'Grace, "Amazing" Hopper'
equals "an argon2id hash is imported too" \
    "$(db "SELECT substr(CAST(c.secret AS TEXT), 1, 10) FROM credentials c JOIN users u ON u.id = c.user_id WHERE u.email_normalized = 'csv2@example.com'")" '$argon2id$'

# ids from the old service: a UUID stays the id, anything else is the external id
KEEP_UUID=3f2504e0-4f89-41d3-9a0c-0305e82c3301
cat >"$TMP/ids.jsonl" <<JSONL
{"email": "uuid.keep@example.com", "password_hash": "$HASH", "id": "3F2504E0-4F89-41D3-9A0C-0305E82C3301", "first_name": "Uma", "last_name": "Uuid"}
{"email": "serial.keep@example.com", "password_hash": "$HASH", "id": "usr_1234567890abcdef"}
JSONL
ctl user import "$TMP/ids.jsonl"
equals "an import with ids exits 0" "$RC" "0"
contains "... and imports both" "$OUT" "imported 2, skipped 0"
equals "a UUID id is kept as the user's id (lower-case)" \
    "$(db "SELECT id || '|' || IFNULL(external_id, 'none') FROM users WHERE email_normalized = 'uuid.keep@example.com'")" "$KEEP_UUID|none"
equals "first_name and last_name are the given and family names" \
    "$(db "SELECT given_name || '|' || family_name || '|' || full_name FROM users WHERE id = '$KEEP_UUID'")" "Uma|Uuid|Uma Uuid"
SERIAL_ID=$(db "SELECT id FROM users WHERE email_normalized = 'serial.keep@example.com'")
check "a non-UUID id gets a new Gatehouse id" grep -Eq "$UUID_RE" <<<"$SERIAL_ID"
equals "... and is kept as its external id" \
    "$(db "SELECT external_id FROM users WHERE id = '$SERIAL_ID'")" "usr_1234567890abcdef"
USERS_BEFORE=$(db "SELECT COUNT(*) FROM users")
AUDIT_BEFORE=$(db "SELECT COUNT(*) FROM audit_events WHERE action = 'user.import'")
ctl user import "$TMP/ids.jsonl"
equals "importing the same file again exits 0" "$RC" "0"
contains "... and says they were imported before" "$OUT" "imported 0, skipped 0, already imported 2"
equals "... with no new user" "$(db "SELECT COUNT(*) FROM users")" "$USERS_BEFORE"
equals "... and nothing audited as imported" \
    "$(db "SELECT COUNT(*) FROM audit_events WHERE action = 'user.import'")" "$AUDIT_BEFORE"
cat >"$TMP/clash.jsonl" <<JSONL
{"email": "clash.one@example.com", "password_hash": "$HASH", "id": "$KEEP_UUID"}
{"email": "clash.two@example.com", "password_hash": "$HASH", "id": "usr_1234567890abcdef"}
{"email": "clash.three@example.com", "password_hash": "$HASH", "id": "$LEGACY_ID"}
JSONL
ctl user import "$TMP/clash.jsonl"
equals "an id that is another user's fails the import" "$RC" "1"
contains "... every such record skipped" "$OUT" "imported 0, skipped 3"
contains "... a kept UUID is reported" "$ERR" "clash.jsonl:1: id $KEEP_UUID is already that of another user"
contains "... an external id too" "$ERR" "clash.jsonl:2: id usr_1234567890abcdef is already that of another user"
contains "... and an id Gatehouse made" "$ERR" "clash.jsonl:3: id $LEGACY_ID is already that of another user"
equals "... nothing was overwritten" \
    "$(db "SELECT email_normalized FROM users WHERE id = '$KEEP_UUID'")|$(db "SELECT COUNT(*) FROM users WHERE email_normalized LIKE 'clash.%'")" \
    "uuid.keep@example.com|0"
printf 'email,password_hash,id\ncsv.id@example.com,%s,42\n' "$HASH" >"$TMP/ids.csv"
ctl user import "$TMP/ids.csv"
equals "a CSV id column is read too" \
    "$RC|$(db "SELECT external_id FROM users WHERE email_normalized = 'csv.id@example.com'")" "0|42"

printf '[{"email": "a@example.com"}]\n' | "$CTL" -c "$CFG" user import - >/dev/null 2>"$TMP/err"
equals "a JSON array is refused" "$?" "1"
contains "with a hint to make it JSON Lines" "$(cat "$TMP/err")" "one object per line"
printf '{"email": "stdin@example.com", "password_hash": "%s", "is_active": false}\n' "$HASH" |
    "$CTL" -c "$CFG" user import - >"$TMP/out" 2>&1
equals "JSON Lines import from stdin" "$?" "0"
equals "is_active false imports an inactive user" \
    "$(db "SELECT is_active FROM users WHERE email_normalized = 'stdin@example.com'")" "0"
printf 'mail,hash\nx@example.com,y\n' | "$CTL" -c "$CFG" user import - >/dev/null 2>"$TMP/err"
equals "a CSV without the needed columns fails" "$?" "1"
contains "and says which columns it needs" "$(cat "$TMP/err")" "stdin:1: the CSV header must name the columns email and password_hash"

# ---------------------------------------------------------------- the daemon signs them in
check "the daemon starts on the same state" start_daemon "$CFG" "$TMP/log"
login() {
    http POST /api/v1/auth/login -H 'Content-Type: application/json' \
        -d "{\"email\": \"$1\", \"password\": \"$2\"}"
}
login legacy@example.com legacy-pass-1
equals "the imported bcrypt user signs in" "$CODE" "200"
contains "and gets tokens" "$OUT" '"access_token"'
LEGACY_TOKEN=$(printf '%s' "$OUT" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
equals "its credential is rehashed to argon2id" \
    "$(db "SELECT substr(CAST(secret AS TEXT), 1, 10) FROM credentials WHERE user_id = '$LEGACY_ID'")" '$argon2id$'
login admin@example.com "$ADMIN_PW"
equals "the admin made by the CLI signs in" "$CODE" "200"
ADMIN_TOKEN=$(printf '%s' "$OUT" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
http GET '/api/v1/users?external_id=usr_1234567890abcdef' -H "Authorization: Bearer $ADMIN_TOKEN"
contains "admins find an imported user by its external id" "$OUT" "\"id\":\"$SERIAL_ID\""
contains "... which the user JSON shows" "$OUT" '"external_id":"usr_1234567890abcdef"'
login uuid.keep@example.com legacy-pass-1
contains "a user imported with its UUID signs in as that id" "$OUT" "\"id\":\"$KEEP_UUID\""
http DELETE "/api/v1/users/$SERIAL_ID" -H "Authorization: Bearer $ADMIN_TOKEN"
equals "an admin erases an imported user" "$CODE" "204"
USERS_BEFORE=$(db "SELECT COUNT(*) FROM users")
ctl user import "$TMP/ids.jsonl"
equals "importing the file again after the erase exits 0" "$RC|$USERS_BEFORE" "0|$(db "SELECT COUNT(*) FROM users")"
contains "... the erased account is not made again" "$ERR" "id usr_1234567890abcdef: that account was erased since"
contains "... and counts as imported before" "$OUT" "already imported 2"

# ---------------------------------------------------------------- flags
ctl user set-admin legacy@example.com on
equals "set-admin by email exits 0" "$RC" "0"
equals "set-admin on makes an admin" "$(db "SELECT is_admin FROM users WHERE id = '$LEGACY_ID'")" "1"
ctl user set-admin "$LEGACY_ID" off
equals "set-admin off by id exits 0" "$RC" "0"
equals "set-admin off takes it back" "$(db "SELECT is_admin FROM users WHERE id = '$LEGACY_ID'")" "0"
ctl user set-admin "$LEGACY_ID" maybe
equals "set-admin wants on or off" "$RC" "2"
ctl user set-admin 00000000-0000-4000-8000-00000000abcd on
equals "an unknown user is an error" "$RC" "1"
contains "saying so" "$ERR" "no user"

http GET /api/v1/users/me -H "Authorization: Bearer $LEGACY_TOKEN"
equals "the legacy user's token works before deactivation" "$CODE" "200"
ctl user deactivate legacy@example.com
equals "deactivate exits 0 beside the running daemon" "$RC" "0"
contains "deactivate revokes the sessions" "$OUT" "1 session(s) revoked"
equals "the user is inactive" "$(db "SELECT is_active FROM users WHERE id = '$LEGACY_ID'")" "0"
equals "its sessions are revoked" \
    "$(db "SELECT COUNT(*) FROM sessions WHERE user_id = '$LEGACY_ID' AND revoked_at IS NULL")" "0"
http GET /api/v1/users/me -H "Authorization: Bearer $LEGACY_TOKEN"
equals "its access token stops at once" "$CODE" "401"
login legacy@example.com legacy-pass-1
check "a deactivated user cannot sign in" test "$CODE" != 200
ctl user activate "$LEGACY_ID"
equals "activate exits 0" "$RC" "0"
login legacy@example.com legacy-pass-1
equals "an activated user signs in again" "$CODE" "200"
for a in user.set_admin user.deactivate user.activate; do
    check "$a is audited" test "$(db "SELECT COUNT(*) FROM audit_events WHERE action = '$a' AND actor_id = 'cli'")" -ge 1
done

# ---------------------------------------------------------------- keys
ctl keys list
equals "keys list exits 0" "$RC" "0"
equals "the daemon made one key at start" "$(echo "$OUT" | sed 1d | wc -l)" "1"
OLD_KID=$(echo "$OUT" | sed -n '2s/ .*//p')
contains "it signs" "$OUT" "signing"
ctl keys rotate
equals "keys rotate exits 0" "$RC" "0"
NEW_KID=$(echo "$OUT" | sed -n 's/^new signing key \([^ ]*\) .*/\1/p')
check "it prints the new kid" test -n "$NEW_KID"
contains "and says when the daemon takes it" "$OUT" "SIGHUP"
equals "a second key file" "$(ls "$STATE/keys/"*.pem | wc -l)" "2"
check "named by the kid" test -f "$STATE/keys/$NEW_KID.pem"
ctl keys list
equals "keys list shows two keys" "$(echo "$OUT" | sed 1d | wc -l)" "2"
check "the newest signs" grep -Eq "^$NEW_KID +ES256 +20[^ ]+ +signing$" <<<"$(echo "$OUT" | sed -n 2p)"
check "the old one only verifies" grep -Eq "^$OLD_KID +ES256 +20[^ ]+ +verify$" <<<"$(echo "$OUT" | sed -n 3p)"
equals "the rotation is audited" "$(db "SELECT COUNT(*) FROM audit_events WHERE action = 'keys.rotate'")" "1"

# kid_of TOKEN: the kid in a JWT's header
kid_of() {
    local h
    h=$(printf '%s' "${1%%.*}" | tr '_-' '/+')
    while [ $(( ${#h} % 4 )) -ne 0 ]; do h="$h="; done
    printf '%s' "$h" | base64 -d 2>/dev/null | sed -n 's/.*"kid" *: *"\([^"]*\)".*/\1/p'
}
login admin@example.com "$ADMIN_PW"
equals "before SIGHUP the daemon still signs with the old key" \
    "$(kid_of "$(printf '%s' "$OUT" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')")" "$OLD_KID"
kill -HUP "$PID"
for _ in $(seq 1 100); do grep -q 'signing keys reloaded' "$TMP/log" && break; sleep 0.05; done
contains "SIGHUP reloads the keys" "$(cat "$TMP/log")" "signing keys reloaded"
login admin@example.com "$ADMIN_PW"
equals "after SIGHUP new tokens carry the new kid" \
    "$(kid_of "$(printf '%s' "$OUT" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')")" "$NEW_KID"
http GET /api/v1/users/me -H "Authorization: Bearer $ADMIN_TOKEN"
equals "a token signed with the old key still verifies" "$CODE" "200"
stop_daemon
check "the daemon restarts with both keys" start_daemon "$CFG" "$TMP/log"
http GET /api/v1/users/me -H "Authorization: Bearer $ADMIN_TOKEN"
equals "and the old key's token still verifies after a restart" "$CODE" "200"
stop_daemon

printf 'R7pX2kV9mQ4wL8nT3cZ6bH1jF5dS0gYe\n' >"$TMP/hs.secret"
write_config "$TMP/hs.yaml" "tokens:
  algorithm: HS256
  hs256_secret_file: $TMP/hs.secret"
"$CTL" -c "$TMP/hs.yaml" keys rotate >/dev/null 2>"$TMP/err"
equals "keys rotate refuses HS256" "$?" "1"
contains "and says the secret is rotated in the config" "$(cat "$TMP/err")" "tokens.hs256_secret"

ctl_sanitizer_check

finish
