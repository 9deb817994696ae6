#!/usr/bin/env bash
# encryption.sh - personal data encrypted at rest, over real HTTP against
# the real daemon and gatehousectl:
#  1. encryption on from the start: signup, login by email and username,
#     profile update, admin lookup by email all work, and a dump of the
#     database (and `strings` of its files) holds none of the test users'
#     emails, usernames, names or phones, nor does kv (lockout keys);
#  2. switching an existing database on: users made without encryption,
#     keys configured, `gatehousectl reencrypt` interrupted by --limit and
#     run again (beside the running daemon), then no clear personal data,
#     and logins by email and username still work;
#  3. rotation: a second key, reencrypt, the first key's id is gone and the
#     first key can be taken out of the config;
#  4. going back: `reencrypt --decrypt`, then encryption off, logins work.
#
# The backend comes from GH_TEST_BACKEND: sqlite (the default), postgres or
# mysql; on a server the test makes databases of its own (GH_TEST_*_URL, set
# by tests/servers.sh) and dumps them with pg_dump / mysqldump. Without the
# URL it is skipped, or fails when GH_TEST_REQUIRE_SERVERS=1.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
case $BACKEND in
sqlite) DUMP_TOOL=sqlite3 ;;
postgres) DUMP_TOOL=pg_dump ;;
mysql) DUMP_TOOL=$(command -v mariadb-dump || command -v mysqldump) ;;
esac
for tool in jq openssl strings "$DB_TOOL" "$DUMP_TOOL"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
GATEHOUSECTL="$top_builddir/gatehousectl"

# new_state: a fresh state directory (and server database) for what follows
new_state() {
    new_database gh_enc
    STATE="$TMP/state$DB_SEQ"
    DB="$STATE/gatehouse.db"
}

sql() {
    case $BACKEND in
    sqlite) sqlite3 "$DB" "$1" ;;
    *) server_sql "$DBNAME" "$1" ;;
    esac
}
# dump: everything the database holds, as text; on SQLite also the raw
# bytes of the database and its WAL (free pages and old frames included)
dump() {
    case $BACKEND in
    sqlite) sqlite3 "$DB" .dump
        for f in "$DB" "$DB-wal" "$DB-journal"; do [ -f "$f" ] && strings -n 4 "$f"; done ;;
    postgres) PGPASSWORD=$SRV_PW pg_dump --no-owner \
        "$SRV_SCHEME://$SRV_USER@$SRV_HOSTPORT/$DBNAME" ;;
    mysql) MYSQL_PWD=$SRV_PW "$DUMP_TOOL" --no-defaults --skip-extended-insert -u "$SRV_USER" \
        -h "${SRV_HOSTPORT%:*}" -P "${SRV_HOSTPORT##*:}" "$DBNAME" ;;
    esac
}

# ---------------------------------------------------------------- keys, config
openssl rand -base64 32 >"$TMP/index.key"
openssl rand -base64 32 >"$TMP/k1.key"
openssl rand -hex 32 >"$TMP/k2.key"     # hex works as well as base64
chmod 600 "$TMP"/*.key
ADMIN_EMAIL=enc-admin@example.com
ADMIN_PW='Gatehouse-admin-Pw-91'
KEYS_K1="encryption:
  index_key_file: $TMP/index.key
  keys:
    - { id: key-one, key_file: $TMP/k1.key }"
KEYS_K1K2="$KEYS_K1
    - { id: key-two, key_file: $TMP/k2.key }"
KEYS_K2="encryption:
  index_key_file: $TMP/index.key
  keys:
    - { id: key-two, key_file: $TMP/k2.key }"

# write_config FILE [encryption block]
write_config() {
    {
        base_config threads=1 public_url= state_dir="$STATE"
        cat <<YAML
bootstrap:
  admin_email: $ADMIN_EMAIL
  admin_password: "$ADMIN_PW"
$STORAGE_YAML
# mail to a port where nothing listens: the requests are answered, the
# mail is queued and given up, and that is all this test needs of it
plugins:
  - name: smtp
    options: { url: "smtp://127.0.0.1:$NO_SMTP_PORT", starttls: off, from: no-reply@gatehouse.test, connect_timeout: 1s }
mail:
  plugin: smtp
  frontend_url: https://app.example.com/
  templates_dir: $top_srcdir/etc/templates
  max_attempts: 1
${2:-}
YAML
    } >"$1"
}
NO_SMTP_PORT=$(free_port)

# ---------------------------------------------------------------- helpers
req() {
    http "$@" -H 'Expect:'
    BODY=$(printf '%s' "$OUT" | sed '1,/^\r$/d')
}
post_json() { local p=$1 d=$2; shift 2; req POST "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"; }
put_json() { local p=$1 d=$2; shift 2; req PUT "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"; }
bearer() { printf 'Authorization: Bearer %s' "$1"; }
j() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }
# login LOGIN PASSWORD: sets AT (and CODE)
login() {
    local key=email
    case $1 in *@*) ;; *) key=username ;; esac
    post_json /api/v1/auth/login "{\"$key\":\"$1\",\"password\":\"$2\"}"
    AT=$(j .access_token)
}
# make_user EMAIL USERNAME FULL_NAME PHONE GIVEN FAMILY: signup (with the
# given and family names and a country, as the seed clients send them),
# then the profile
make_user() {
    post_json /api/v1/auth/signup "{\"email\":\"$1\",\"password\":\"$PW\",\"username\":\"$2\",\"first_name\":\"$5\",\"last_name\":\"$6\",\"country_code\":\"NZ\"}"
    [ "$CODE" = 201 ] || { not_ok "signup $2" "got $CODE: $BODY"; return 1; }
    local at; at=$(j .access_token)
    put_json /api/v1/users/me "{\"full_name\":\"$3\",\"phone\":\"$4\"}" -H "$(bearer "$at")"
    [ "$CODE" = 200 ] || { not_ok "profile of $2" "got $CODE: $BODY"; return 1; }
}
# no_clear_pii WHAT VALUE...: the dump holds none of the values, in any case
no_clear_pii() {
    local what=$1 v found=
    shift
    DUMP=$(dump)
    [ -n "$DUMP" ] || { not_ok "$what: the dump is not empty"; return; }
    for v in "$@"; do
        printf '%s' "$DUMP" | grep -qiF -- "$v" && found="$found $v"
    done
    if [ -z "$found" ]; then ok "$what"; else not_ok "$what" "found in clear:$found"; fi
}
ctl() { OUT=$("$GATEHOUSECTL" -c "$1" "${@:2}" 2>&1); RC=$?; }

PW='Enc-long-pass-42x'
# What must never be found in clear: each user's email (as typed and as
# normalised), its local part, username, full name, phone, given and family
# name. The country (two letters) cannot be looked for in a dump: country()
# checks its column instead.
A=(Alice.Crypt@Example.com alice.crypt@example.com alice.crypt alice_crypt_u "Alicia Cryptfield" "+15550001111" Alissandrina Cryptowska)
B=(Bob.Switch@Example.org bob.switch@example.org bob.switch bob_switch_u "Roberto Switchman" "+15550002222" Robertino Switchowski)
C=(Carol.Switch@Example.org carol.switch@example.org carol.switch carol_switch_u "Carolyn Switchwell" "+15550003333" Carolinda Switchewell)
D=(Dave.Switch@Example.org dave.switch@example.org dave.switch dave_switch_u "Davide Switchfort" "+15550004444" Davidoro Switchforte)
# sealed_countries: "sealed/all" of the stored countries
sealed_countries() {
    sql "SELECT COUNT(CASE WHEN country_code LIKE 'gh1:%' THEN 1 END), COUNT(country_code) FROM users" | tr '|\t' '//'
}

# ================================================================ 1. on from the start
new_state
write_config "$TMP/on.yaml" "$KEYS_K1"
check "the daemon starts with encryption on" start_daemon "$TMP/on.yaml" "$TMP/log1"
contains "the log names the key in use" "$(cat "$TMP/log1")" "encrypted at rest with key 'key-one'"
make_user "${A[0]}" "${A[3]}" "${A[4]}" "${A[5]}" "${A[6]}" "${A[7]}"
equals "signup and profile update work" "$CODE" "200"
ALICE_ID=$(j .id)
equals "the profile comes back in clear" "$(j .full_name)|$(j .phone)|$(j .email)" \
    "${A[4]}|${A[5]}|${A[0]}"
login "ALICE.CRYPT@example.COM" "$PW"
equals "login by email (any case) works" "$CODE" "200"
login "Alice_Crypt_U" "$PW"
equals "login by username (any case) works" "$CODE" "200"
req GET /api/v1/users/me -H "$(bearer "$AT")"
equals "/users/me reads every field" \
    "$(j .email)|$(j .username)|$(j .full_name)|$(j .phone)|$(j .given_name)|$(j .family_name)|$(j .country_code)" \
    "${A[0]}|${A[3]}|${A[4]}|${A[5]}|${A[6]}|${A[7]}|NZ"
post_json /api/v1/auth/signup "{\"email\":\"alice.CRYPT@example.com\",\"password\":\"$PW\"}"
equals "the same address again is a conflict (blind index is unique)" "$CODE" "409"
# the longest address (250 bytes) is about 400 sealed: wider than MySQL's
# first VARCHAR(320) for it (migration 3)
LONG_LOCAL=longlocal$(printf 'x%.0s' $(seq 1 55))
LONG_EMAIL="$LONG_LOCAL@$(printf 'lbl%02d.' $(seq 1 29))example.com"
post_json /api/v1/auth/signup "{\"email\":\"$LONG_EMAIL\",\"password\":\"$PW\"}"
equals "signup with a 250-byte address works" "$CODE|${#LONG_EMAIL}" "201|250"
login "$LONG_EMAIL" "$PW"
equals "and it logs in" "$CODE" "200"
login "nobody.here@example.net" "wrong-password-1"
equals "an unknown address fails like a wrong password" "$CODE" "401"
login "$ADMIN_EMAIL" "$ADMIN_PW"
equals "the bootstrap admin (encrypted) logs in" "$CODE" "200"
ADMIN_AT=$AT
req GET "/api/v1/users?email=ALICE.crypt@example.com" -H "$(bearer "$ADMIN_AT")"
equals "admin finds the user by whole address" "$CODE|$(j .total)|$(j '.items[0].id')" "200|1|$ALICE_ID"
equals "the admin list shows the address in clear" "$(j '.items[0].email')" "${A[0]}"
req GET "/api/v1/users?email=alice" -H "$(bearer "$ADMIN_AT")"
equals "a part of an address is refused with encryption on" "$CODE" "422"
contains "and the answer says why" "$BODY" "encryption at rest"
req GET "/api/v1/users/$ALICE_ID" -H "$(bearer "$ADMIN_AT")"
equals "admin reads the user by id" "$CODE|$(j .phone)" "200|${A[5]}"
put_json "/api/v1/users/$ALICE_ID" "{\"email\":\"Alice.Crypt2@Example.com\"}" -H "$(bearer "$ADMIN_AT")"
equals "admin changes the address" "$CODE|$(j .email)" "200|Alice.Crypt2@Example.com"
login "alice.crypt2@example.com" "$PW"
equals "login by the new address works" "$CODE" "200"
A+=(alice.crypt2)
# the mail rate limits count per address, a stranger's too: in kv, keyed
# on the blind index, never on the address
for path in password-reset-request verify-email/resend; do
    for who in ghost.mailer@example.net "${A[0]}"; do
        post_json "/api/v1/auth/$path" "{\"email\":\"$who\"}"
        equals "$path for $who is 202" "$CODE" "202"
    done
done
check "the mail rate limits are in kv, under blind indexes" \
    test "$(sql "SELECT count(*) FROM kv WHERE kv.key LIKE 'rl:%#bi1:%'")" -ge 4
stop_daemon
no_clear_pii "dump with encryption on: no clear email, username, name or phone" \
    "${A[@]}" "$ADMIN_EMAIL" "nobody.here@example.net" "$LONG_LOCAL" ghost.mailer
contains "values are stored under the key id" "$DUMP" "gh1:key-one:"
equals "the country is stored sealed" "$(sealed_countries)" "1/1"
contains "addresses are stored as blind indexes" "$DUMP" "bi1:"
lacks "no key material in the log" "$(cat "$TMP/log1")" "$(cat "$TMP/k1.key")"
lacks "no personal data in the log" "$(cat "$TMP/log1")" "${A[4]}"
ctl "$TMP/on.yaml" reencrypt --status
contains "reencrypt --status: every row on the newest key" "$OUT" \
    "0 in clear text, 0 on older keys, 3 on the newest key (key-one)"

# ================================================================ 2. switching on
new_state
write_config "$TMP/off.yaml"
write_config "$TMP/sw.yaml" "$KEYS_K1"
write_config "$TMP/rot.yaml" "$KEYS_K1K2"
write_config "$TMP/k2only.yaml" "$KEYS_K2"
check "a daemon without encryption starts" start_daemon "$TMP/off.yaml" "$TMP/log2"
make_user "${B[0]}" "${B[3]}" "${B[4]}" "${B[5]}" "${B[6]}" "${B[7]}"
make_user "${C[0]}" "${C[3]}" "${C[4]}" "${C[5]}" "${C[6]}" "${C[7]}"
make_user "${D[0]}" "${D[3]}" "${D[4]}" "${D[5]}" "${D[6]}" "${D[7]}"
stop_daemon
DUMP=$(dump)
contains "without encryption, the dump holds the data in clear (the test sees it)" "$DUMP" "${B[4]}"
ctl "$TMP/off.yaml" reencrypt
equals "reencrypt without keys is refused" "$RC" "1"
contains "and says what is missing" "$OUT" "encryption.keys is not configured"
ctl "$TMP/sw.yaml" reencrypt --status
contains "status: four accounts in clear" "$OUT" "4 in clear text, 0 on older keys, 0 on the newest"
ctl "$TMP/sw.yaml" reencrypt --batch 1 --limit 2
equals "a limited run exits 0" "$RC" "0"
contains "and moves two rows" "$OUT" "moved 2 rows to key 'key-one'"
contains "status after it: two left" "$OUT" "2 in clear text, 0 on older keys, 2 on the newest"
# half moved: the daemon with keys reads both kinds
check "the daemon starts on a half-moved database" start_daemon "$TMP/sw.yaml" "$TMP/log3"
for u in B C D; do
    eval "em=\${$u[0]} un=\${$u[3]}"
    login "$em" "$PW"; c1=$CODE
    login "$un" "$PW"; c2=$CODE
    equals "half moved: $un logs in by email and username" "$c1 $c2" "200 200"
done
ctl "$TMP/sw.yaml" reencrypt --batch 2
equals "reencrypt beside the running daemon finishes" "$RC" "0"
contains "it moves only what is left" "$OUT" "moved 2 rows to key 'key-one'"
contains "status: nothing left in clear" "$OUT" "0 in clear text, 0 on older keys, 4 on the newest"
ctl "$TMP/sw.yaml" reencrypt
contains "running it again moves nothing" "$OUT" "moved 0 rows"
login "${C[0]}" "$PW"
equals "after the move, login by email works" "$CODE" "200"
login "${D[3]}" "$PW"
equals "after the move, login by username works" "$CODE" "200"
req GET /api/v1/users/me -H "$(bearer "$AT")"
equals "after the move, the profile reads back" "$(j .full_name)|$(j .phone)" "${D[4]}|${D[5]}"
stop_daemon
no_clear_pii "dump after switching on: no clear personal data" \
    "${B[@]}" "${C[@]}" "${D[@]}" "$ADMIN_EMAIL"
equals "reencrypt seals the countries too" "$(sealed_countries)" "3/3"

# ================================================================ 3. rotation
ctl "$TMP/rot.yaml" reencrypt --status
contains "with a second key every row is on an older key" "$OUT" "0 in clear text, 4 on older keys"
ctl "$TMP/rot.yaml" reencrypt
equals "reencrypt to the second key" "$RC|$(printf '%s' "$OUT" | grep -c "moved 4 rows to key 'key-two'")" "0|1"
DUMP=$(dump)
lacks "the first key's id no longer appears" "$DUMP" "gh1:key-one:"
contains "the second key's does" "$DUMP" "gh1:key-two:"
check "the daemon starts without the first key" start_daemon "$TMP/k2only.yaml" "$TMP/log4"
login "${B[0]}" "$PW"
equals "after rotation, login by email works" "$CODE" "200"
login "${C[3]}" "$PW"
equals "after rotation, login by username works" "$CODE" "200"
stop_daemon
no_clear_pii "dump after rotation: no clear personal data" "${B[@]}" "${C[@]}" "${D[@]}"

# ================================================================ 4. going back
ctl "$TMP/k2only.yaml" reencrypt --decrypt
equals "reencrypt --decrypt" "$RC" "0"
contains "it says where the rows are" "$OUT" "4 in clear text"
check "the daemon starts with encryption off again" start_daemon "$TMP/off.yaml" "$TMP/log5"
login "${D[0]}" "$PW"
equals "back in clear, login by email works" "$CODE" "200"
req GET /api/v1/users/me -H "$(bearer "$AT")"
equals "and the profile reads back" "$(j .full_name)|$(j .given_name)|$(j .country_code)" "${D[4]}|${D[6]}|NZ"
stop_daemon
lacks "no key id is left" "$(dump)" "gh1:"

finish
