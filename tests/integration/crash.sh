#!/usr/bin/env bash
# crash.sh - no acknowledged write is lost when the process dies: sign-ups
# from four clients at once, gatehoused killed with SIGKILL in the middle,
# restarted on the same store. Every sign-up that was answered 201 is
# there, the SQLite database passes PRAGMA integrity_check, and every one
# gets its verification mail once the restarted daemon has drained the
# outbox (notify/outbox.h: the mail is a row written with the account).
# The outbox sends at least once: the one message the sender may have
# been handing to the SMTP server when it died (accepted, its row not yet
# deleted) goes out again when its claim runs out, so at most one address
# is mailed twice, and no address three times. Then, on SQLite, a full disk
# under the state directory (a small tmpfs): 503 with a clear log line,
# nothing corrupted, and service back once there is room again.
#
# GH_TEST_BACKEND: sqlite (default) or postgres (crash-postgres.sh).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl "$DB_TOOL"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
mail_client
json_client
CTL="$top_builddir/gatehousectl"
PW='Crash-test-pass-5'
MAILDIR=$TMP/mail
SMTP_PORT=$(free_port)
FULL=
"$PY" "$top_srcdir/tests/integration/smtp_sink.py" "$SMTP_PORT" "$MAILDIR" >>"$TMP/smtp.log" 2>&1 &
SMTP_PID=$!
trap '[ -n "$FULL" ] && umount -l "$FULL" 2>/dev/null; cleanup; kill "$SMTP_PID" 2>/dev/null; drop_databases' EXIT
for _ in $(seq 1 200); do [ -e "$MAILDIR/.ready" ] && break; sleep 0.05; done

new_database gh_crash
# write_config FILE STATE_DIR
write_config() {
    {
        base_config state_dir="$2"
        printf '%s\n' "$STORAGE_YAML"
        cat <<YAML
plugins:
  - name: smtp
    options: { url: "smtp://127.0.0.1:$SMTP_PORT", starttls: off, from: no-reply@gatehouse.test }
mail:
  plugin: smtp
  frontend_url: https://app.example.com/
  templates_dir: $top_srcdir/etc/templates
  retry_delay: 200ms
  retry_max_delay: 400ms
YAML
    } >"$1"
}
CFG=$TMP/gatehouse.yaml
write_config "$CFG" "$TMP/state"
"$CTL" -c "$CFG" migrate up >/dev/null
"$CTL" -c "$CFG" user create --email admin@example.com --admin --password-stdin <<<"$PW" >/dev/null
check "the daemon starts" start_daemon "$CFG" "$TMP/log"

# ---------------------------------------------------------------- SIGKILL under writes
# writer N: sign up wN-1, wN-2, ... one after another; each address
# answered 201 goes to acked.N
writer() {
    local i=0 code
    while :; do
        i=$((i + 1))
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
            --data-binary "{\"email\":\"w$1-$i@example.com\",\"password\":\"$PW\"}" \
            "http://127.0.0.1:$PORT/api/v1/auth/signup") || code=000
        [ "$code" = 201 ] && echo "w$1-$i@example.com" >>"$TMP/acked.$1"
    done
}
WRITERS=
for n in 1 2 3 4; do writer "$n" & WRITERS="$WRITERS $!"; done
sleep 4
kill -KILL "$PID"
wait "$PID" 2>/dev/null
PID=
AT_KILL=$(find "$MAILDIR" -name '*.eml' | wc -l)
# shellcheck disable=SC2086 # a list of pids
kill $WRITERS 2>/dev/null
# shellcheck disable=SC2086
wait $WRITERS 2>/dev/null
cat "$TMP"/acked.* >"$TMP/acked" 2>/dev/null
ACKED=$(wc -l <"$TMP/acked")
echo "# $ACKED sign-ups answered 201 before the kill"
check "sign-ups were answered before the kill" test "$ACKED" -gt 4

if [ "$BACKEND" = sqlite ]; then
    equals "the database passes integrity_check" \
        "$(sqlite3 "$TMP/state/gatehouse.db" 'PRAGMA integrity_check')" ok
fi
check "the daemon starts again on the same store" start_daemon "$CFG" "$TMP/log2"
post_json /api/v1/auth/login "{\"email\":\"admin@example.com\",\"password\":\"$PW\"}"
ADM=$(j .access_token)
: >"$TMP/present"
for off in $(seq 0 100 2000); do
    req GET "/api/v1/users?limit=100&offset=$off" -H "$(bearer "$ADM")"
    [ "$(j '.items | length')" -gt 0 ] 2>/dev/null || break
    j '.items[].email' >>"$TMP/present"
done
sort -o "$TMP/present" "$TMP/present"
sort "$TMP/acked" >"$TMP/acked.sorted"
MISSING=$(comm -23 "$TMP/acked.sorted" "$TMP/present" | wc -l)
equals "every acknowledged sign-up is there" "$MISSING" 0
post_json /api/v1/auth/login "{\"email\":\"$(head -n 1 "$TMP/acked")\",\"password\":\"$PW\"}"
equals "an acknowledged user signs in" "$CODE" 200

# the mail: every answered sign-up's, from either process. A row the dead
# one had claimed waits for its claim to run out (the send deadline and a
# margin: 35 s), so allow a minute for the last.
mailed() { grep -h '^X-Envelope-To: ' "$MAILDIR"/*.eml 2>/dev/null | tr -d '\r' | sed 's/^X-Envelope-To: //' | sort -u; }
for _ in $(seq 1 120); do
    [ "$(comm -23 "$TMP/acked.sorted" <(mailed) | wc -l)" -eq 0 ] && break
    sleep 0.5
done
LOST=$(comm -23 "$TMP/acked.sorted" <(mailed) | wc -l)
equals "every answered sign-up got its verification mail after the restart" "$LOST" 0
sleep 1 # anything still to come, which would be a second copy
TWICE=$(grep -h '^X-Envelope-To: ' "$MAILDIR"/*.eml | tr -d '\r' | sort | uniq -d | wc -l)
THRICE=$(grep -h '^X-Envelope-To: ' "$MAILDIR"/*.eml | tr -d '\r' | sort | uniq -c | awk '$1 > 2' | wc -l)
echo "# messages sent by the first process: $AT_KILL; by the second: $(($(find "$MAILDIR" -name '*.eml' | wc -l) - AT_KILL))"
echo "# addresses mailed twice: $TWICE (of $ACKED)"
check "at most the one message in flight at the kill went out twice" test "$TWICE" -le 1
equals "no address was mailed three times" "$THRICE" 0
# and the rest too: a sign-up committed but not answered before the kill
# has its mail as well, once the dead process's claim has run out
depth() { curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^gatehouse_mail_queue_depth //p'; }
for _ in $(seq 1 120); do [ "$(depth)" = 0 ] && break; sleep 0.5; done
equals "the outbox is empty" "$(depth)" 0
stop_daemon

# ---------------------------------------------------------------- a full disk
if [ "$BACKEND" != sqlite ]; then
    finish
    exit
fi
FULL=$TMP/full
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=4m tmpfs "$FULL" 2>"$TMP/mount.err"; then
    FULL=
    echo "# skip: the full-disk check needs to mount a tmpfs: $(cat "$TMP/mount.err")"
    finish
    exit
fi
write_config "$TMP/full.yaml" "$FULL/state"
"$CTL" -c "$TMP/full.yaml" migrate up >/dev/null
check "the daemon starts on the small disk" start_daemon "$TMP/full.yaml" "$TMP/log3"
post_json /api/v1/auth/signup "{\"email\":\"before@example.com\",\"password\":\"$PW\"}"
equals "a sign-up while there is room" "$CODE" 201
dd if=/dev/zero of="$FULL/filler" bs=16k 2>/dev/null
for i in 1 2 3 4 5 6 7 8; do # the WAL may still hold a page or two
    post_json /api/v1/auth/signup "{\"email\":\"full$i@example.com\",\"password\":\"$PW\"}"
    [ "$CODE" = 201 ] || break
done
equals "with the disk full a sign-up gets 503" "$CODE $(j .code)" "503 unavailable"
check "and a Retry-After" test -n "$(hdr Retry-After)"
check "the log says the disk is full" grep -q "disk is full" "$TMP/log3"
req GET /health
check "/health still answers" test "$CODE" = 200 -o "$CODE" = 503
rm -f "$FULL/filler"
post_json /api/v1/auth/signup "{\"email\":\"after@example.com\",\"password\":\"$PW\"}"
equals "with room again, sign-ups work" "$CODE" 201
post_json /api/v1/auth/login "{\"email\":\"before@example.com\",\"password\":\"$PW\"}"
equals "what was written before is there" "$CODE" 200
stop_daemon
equals "the database passes integrity_check after the full disk" \
    "$(sqlite3 "$FULL/state/gatehouse.db" 'PRAGMA integrity_check')" ok
finish
