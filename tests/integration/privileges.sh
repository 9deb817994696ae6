#!/usr/bin/env bash
# privileges.sh - server.user: started as root, gatehoused binds its ports
# (one below 1024 here), then becomes that user for good before it opens a
# file; the state it makes is that user's and no one else's, and
# gatehousectl, run as root on the same config, becomes the same user.
# As another user the switch is refused; the root-only part runs as root
# (CI does), else it is skipped and says so.
set -u
. "$(dirname "$0")/lib.sh"

CTL="$top_builddir/gatehousectl"
# The test's directory is 0700 root's: the unprivileged daemon needs a way
# in, and plugins it can read (the build tree may sit under a private home).
chmod 755 "$TMP"
mkdir -p "$TMP/plugins"
cp "$GATEHOUSE_PLUGIN_DIR"/*.so "$TMP/plugins/"
chmod -R a+rX "$TMP/plugins"

# write_config FILE [server YAML lines]
write_config() {
    base_config listen="127.0.0.1:${LISTEN_PORT:-0}" threads=1 public_url= argon2=owasp \
        server="$2" state_dir="$TMP/run/state" plugin_dir="$TMP/plugins" >"$1"
    chmod 644 "$1"
}

# ---------------------------------------------------------------- config
write_config "$TMP/group-only.yaml" "group: nogroup"
out=$("$GATEHOUSED" -t -c "$TMP/group-only.yaml" 2>&1)
equals "server.group without server.user is refused" "$?" "1"
contains "... saying what it needs" "$out" "server.group: needs server.user"

write_config "$TMP/nouser.yaml" "user: no-such-user-gh"
"$GATEHOUSED" -c "$TMP/nouser.yaml" 2>"$TMP/nouser.log"
equals "an unknown server.user stops start-up" "$?" "1"
contains "... naming it" "$(cat "$TMP/nouser.log")" "server.user: no such user 'no-such-user-gh'"
check "... before the state directory is made" test ! -e "$TMP/run"

if [ "$(id -u)" != 0 ]; then
    write_config "$TMP/other.yaml" "user: root"
    "$GATEHOUSED" -c "$TMP/other.yaml" 2>"$TMP/other.log"
    equals "becoming another user without root stops start-up" "$?" "1"
    contains "... saying that it needs root" "$(cat "$TMP/other.log")" "needs root"
    echo "# not root: the switch itself is not tested"
    finish
    exit $?
fi

NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

# ---------------------------------------------------------------- as root, without server.user
write_config "$TMP/root.yaml" ""
check "as root without server.user it starts" start_daemon "$TMP/root.yaml" "$TMP/root.log"
contains "... and warns that it stays root" "$(cat "$TMP/root.log")" "running as root: set server.user"
stop_daemon
rm -rf "$TMP/run"

# ---------------------------------------------------------------- as root, server.user: nobody
# a privileged port, free now: only root can bind it, only before the switch
LOW=
for p in $(shuf -i 600-1000 -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { LOW=$p; break; }
done
LISTEN_PORT=$LOW write_config "$TMP/gh.yaml" "user: nobody"
check "it starts with server.user: nobody" start_daemon "$TMP/gh.yaml" "$TMP/log"
equals "... on the privileged port $LOW" "$PORT" "$LOW"
contains "... and says whom it runs as" "$(cat "$TMP/log")" "running as nobody (uid $NOBODY_UID"
equals "every uid of the process is nobody's" \
    "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$PID/status")" \
    "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"
equals "every gid of the process is nobody's" \
    "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$PID/status")" \
    "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID"
lacks "no root group is kept" " $(awk '/^Groups:/ { $1 = ""; print }' "/proc/$PID/status") " " 0 "
equals "no capability is kept" "$(awk '/^CapEff:/ { print $2 }' "/proc/$PID/status")" \
    "0000000000000000"

http GET /health/ready
equals "it serves, and reads its store" "$CODE" "200"
http POST /api/v1/auth/signup -H 'Content-Type: application/json' \
    --data '{"email":"priv@example.com","password":"Privileges-test-pw-2231"}'
equals "it writes its store as nobody (signup)" "$CODE" "201"

equals "the state directory it made is nobody's, 0700" \
    "$(stat -c '%U %a' "$TMP/run/state")" "nobody 700"
equals "... and so is the part of its path it made" "$(stat -c '%U %a' "$TMP/run")" "nobody 700"
equals "the database is nobody's and no one else's" \
    "$(stat -c '%U %a' "$TMP/run/state/gatehouse.db")" "nobody 600"
equals "no file in the state belongs to root" \
    "$(find "$TMP/run/state" -user root | wc -l)" "0"
equals "no file in the state is readable by others" \
    "$(find "$TMP/run/state" -perm /o=r | wc -l)" "0"

# gatehousectl as root on the same config works as nobody
out=$("$CTL" -c "$TMP/gh.yaml" user list 2>&1)
equals "gatehousectl as root reads the store" "$?" "0"
contains "... and finds the user" "$out" "priv@example.com"
"$CTL" -c "$TMP/gh.yaml" keys rotate >"$TMP/ctl.out" 2>&1
equals "gatehousectl as root adds a key" "$?" "0"
equals "... which belongs to nobody, so the daemon can read it" \
    "$(find "$TMP/run/state" -user root | wc -l)" "0"
lacks "... with no warning about root's files" "$(cat "$TMP/ctl.out")" "files made now will be root's"
kill -HUP "$PID"
wait_log "$TMP/log" "signing keys reloaded"
contains "the daemon, as nobody, reloads its config and the new key" "$(cat "$TMP/log")" \
    "signing keys reloaded"

stop_daemon
equals "it stops cleanly" "$STATUS" "0"

# a state directory root made and kept is refused, not written as root
mkdir -p "$TMP/run2/state" && chmod 755 "$TMP/run2"
sed "s|$TMP/run/state|$TMP/run2/state|" "$TMP/gh.yaml" >"$TMP/gh2.yaml"
chmod 644 "$TMP/gh2.yaml"
"$GATEHOUSED" -c "$TMP/gh2.yaml" 2>"$TMP/log2"
equals "a state directory nobody may not write stops start-up" "$?" "1"
check "... and nothing is written in it" test -z "$(ls -A "$TMP/run2/state")"

finish
