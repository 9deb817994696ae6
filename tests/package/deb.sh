#!/usr/bin/env bash
# deb.sh - the Debian packages as an admin meets them: built from a clean
# copy of the tree with dpkg-buildpackage, checked by lintian, installed
# with dpkg -i, the daemon started from the installed files as its systemd
# unit would start it, a sign-up and a sign-in over HTTP, then dpkg -r
# (config and state kept) and dpkg -P (nothing left).
#
# Not part of `make check`: it installs on this machine, so it needs root,
# and it refuses to run where gatehouse is installed already. Whatever
# happens, it purges what it installed on exit. The packages and the build
# log stay in build/deb.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck disable=SC2034 # both read by lib.sh
top_srcdir=$PWD top_builddir=$PWD

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: tests/package/deb.sh installs packages with dpkg: run it as root"
    exit 77
fi
if ! command -v dpkg-buildpackage >/dev/null; then
    echo "SKIP: tests/package/deb.sh: no dpkg-buildpackage (dist/install-deps.sh --test installs it)"
    exit 77
fi
if dpkg-query -W -f='${db:Status-Status}' gatehouse 2>/dev/null | grep -qv '^not-installed$'; then
    echo "tests/package/deb.sh: gatehouse is installed here, and the test would purge it" >&2
    exit 1
fi

# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
json_client

# run NAME COMMAND...: check, with the command's output shown when it fails
run() {
    local name=$1 out; shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "failed: $*"; printf '%s\n' "$out" | tail -n 20; fi
}

mapfile -t PKGS < <(sed -n 's/^Package: //p' debian/control)
SVC_USER=_gatehouse
user_existed=no
getent passwd "$SVC_USER" >/dev/null && user_existed=yes

# the packages are purged, and a user only the packages made is deleted,
# even when a check failed or the test was interrupted
deb_cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    local installed
    installed=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${PKGS[@]}" 2>/dev/null |
        awk '$1 != "not-installed" { print $2 }')
    # shellcheck disable=SC2086 # one package name a line
    [ -n "$installed" ] && dpkg -P $installed >/dev/null 2>&1
    if [ "$user_existed" = no ] && getent passwd "$SVC_USER" >/dev/null; then
        userdel "$SVC_USER"
        getent group "$SVC_USER" >/dev/null && groupdel "$SVC_USER"
    fi
    cleanup
}
trap deb_cleanup EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------------- build
version=$(sed -n 's/^AC_INIT(\[gatehouse\], \[\([^]]*\)\].*/\1/p' configure.ac)
equals "debian/changelog is at configure.ac's version" \
    "$(dpkg-parsechangelog -S Version)" "$version"

# what git tracks and new files it does not ignore; from a release tarball,
# the tree less its builds
work=$PWD/build/deb
rm -rf "$work" && mkdir -p "$work/gatehouse-$version"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -co --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null
else
    tar --exclude=./build -cf - .
fi | tar -xf - -C "$work/gatehouse-$version"

# nocheck: the suites ran before this one; the build only packages
start=$(date +%s)
if ! (cd "$work/gatehouse-$version" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
    timeout -k 10 900 dpkg-buildpackage -us -uc -b -Pnocheck >"$work/build.log" 2>&1); then
    not_ok "dpkg-buildpackage builds the packages" "see $work/build.log"
    tail -n 40 "$work/build.log"
    finish
    exit 1
fi
ok "dpkg-buildpackage builds the packages in $(($(date +%s) - start)) s"
debs=()
for p in "${PKGS[@]}"; do
    check "package $p is built" test -f "$work/${p}_${version}_$(dpkg --print-architecture).deb"
    debs+=("$work/${p}_${version}_$(dpkg --print-architecture).deb")
done

LINT=$(timeout 300 lintian --fail-on error,warning --tag-display-limit 0 "$work"/gatehouse_"$version"_*.changes 2>&1)
check "lintian passes the packages" test $? -eq 0
equals "lintian reports no error and no warning" "$(printf '%s\n' "$LINT" | grep -E '^[EW]: ')" ""

# ---------------------------------------------------------------- install
run "dpkg -i installs them all" dpkg -i "${debs[@]}"
for p in "${PKGS[@]}"; do
    equals "$p is installed" "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" "ii "
done

check "gatehoused is in /usr/sbin" test -x /usr/sbin/gatehoused
check "gatehousectl is in /usr/sbin" test -x /usr/sbin/gatehousectl
plugin_dir=$(pkg-config --variable=plugindir gatehouse-plugin)
equals "the plugin dir of gatehouse-plugin.pc is the multiarch one" \
    "$plugin_dir" "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/gatehouse/plugins"
# each plugin in the package an admin installs for it
for pair in sqlite:gatehouse gatehouse-http:gatehouse postgres:gatehouse-plugin-postgres \
    mysql:gatehouse-plugin-mysql redis:gatehouse-plugin-redis smtp:gatehouse-plugin-smtp \
    webhook:gatehouse-plugin-webhook oidc:gatehouse-plugin-oauth google:gatehouse-plugin-oauth \
    facebook:gatehouse-plugin-oauth totp:gatehouse-plugin-mfa twilio:gatehouse-plugin-mfa \
    oci:gatehouse-plugin-cloud; do
    so=$plugin_dir/${pair%%:*}.so
    equals "${pair%%:*}.so comes with ${pair#*:}" "$(dpkg -S "$so" 2>/dev/null | cut -d: -f1)" "${pair#*:}"
done
for page in 8:gatehoused 8:gatehousectl 5:gatehouse.yaml 3:gatehouse-plugin; do
    run "man finds ${page#*:}(${page%%:*})" man -w "${page%%:*}" "${page#*:}"
done
check "the header is installed" test -f /usr/include/gatehouse/plugin.h
contains "the config is a conffile" "$(dpkg-query -W -f='${Conffiles}' gatehouse)" \
    "/etc/gatehouse/gatehouse.yaml"
contains "the installed config keeps its state in /var/lib/gatehouse" \
    "$(cat /etc/gatehouse/gatehouse.yaml)" $'\n  state_dir: /var/lib/gatehouse\n'
contains "the installed config runs it as $SVC_USER" \
    "$(cat /etc/gatehouse/gatehouse.yaml)" $'\n  user: _gatehouse\n'
equals "$SVC_USER is a system user without a shell, at home in the state" \
    "$(getent passwd "$SVC_USER" | awk -F: '{ print ($3 < 1000), $6, $7 }')" \
    "1 /var/lib/gatehouse /usr/sbin/nologin"
equals "the state directory is $SVC_USER's alone" \
    "$(stat -c '%U %G %a' /var/lib/gatehouse 2>&1)" "$SVC_USER $SVC_USER 700"

# ---------------------------------------------------------------- the unit
unit=/lib/systemd/system/gatehouse.service
check "the unit is installed" test -f "$unit"
# the value systemd ends up with: the unit, then its drop-ins in order
unit_value() { cat "$unit" "$unit".d/*.conf 2>/dev/null | sed -n "s/^$1=//p" | tail -n 1; }
equals "the unit runs it as $SVC_USER" "$(unit_value User)" "$SVC_USER"
equals "... not as a dynamic user" "$(unit_value DynamicUser)" "no"
equals "the unit keeps its state directory" "$(unit_value StateDirectory) $(unit_value StateDirectoryMode)" \
    "gatehouse 0700"
# shellcheck disable=SC2016 # the unit's text, $MAINPID for systemd
equals "systemctl reload sends SIGHUP" "$(unit_value ExecReload)" '/bin/kill -HUP $MAINPID'
for opt in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    PrivateDevices=yes CapabilityBoundingSet= MemoryDenyWriteExecute=yes RemoveIPC=yes \
    RestrictSUIDSGID=yes; do
    equals "the sandbox keeps $opt" "${opt%%=*}=$(unit_value "${opt%%=*}")" "$opt"
done

# ExecStartPre checks the installed config, as the unit's user
pre=$(unit_value ExecStartPre)
equals "ExecStartPre is gatehoused -t on the installed config" "$pre" \
    "/usr/sbin/gatehoused -t -c /etc/gatehouse/gatehouse.yaml"
# shellcheck disable=SC2086 # the unit's command line, split as systemd does here
run "gatehoused -t passes the installed config" runuser -u "$SVC_USER" -- $pre

# ExecStart as the unit runs it: its binary, as its user, in its working
# directory; on a copy of the installed config that differs in its port
exec_start=$(unit_value ExecStart)
equals "ExecStart is gatehoused on the installed config" "$exec_start" \
    "/usr/sbin/gatehoused -c /etc/gatehouse/gatehouse.yaml"
cfg_dir=$TMP/config
mkdir -m 0755 "$cfg_dir" && chmod 0711 "$TMP"
sed 's/^    - 127\.0\.0\.1:8080$/    - 127.0.0.1:0/' /etc/gatehouse/gatehouse.yaml >"$cfg_dir/gatehouse.yaml"
equals "the copy differs from the installed config in the port alone" \
    "$(diff /etc/gatehouse/gatehouse.yaml "$cfg_dir/gatehouse.yaml" | grep -c '^[<>]')" "2"
cat >"$TMP/as-unit" <<EOF
#!/bin/sh
cd "$(unit_value WorkingDirectory)" &&
    exec setpriv --reuid=$SVC_USER --regid=$SVC_USER --init-groups -- ${exec_start%% *} "\$@"
EOF
chmod +x "$TMP/as-unit"
GATEHOUSED=$TMP/as-unit
if start_daemon "$cfg_dir/gatehouse.yaml" "$TMP/daemon.log"; then
    ok "the daemon starts from the installed files"
    equals "it runs as $SVC_USER" "$(stat -c %U "/proc/$PID")" "$SVC_USER"
    PW='Package-test-pass-42'
    post_json /api/v1/auth/signup "{\"email\":\"admin@example.com\",\"password\":\"$PW\"}"
    equals "sign-up answers 201" "$CODE" "201"
    post_json /api/v1/auth/login "{\"email\":\"admin@example.com\",\"password\":\"$PW\"}"
    equals "sign-in answers 200" "$CODE" "200"
    AT=$(j .access_token)
    req GET /api/v1/users/me -H "$(bearer "$AT")"
    equals "its token opens /users/me" "$CODE $(j .email)" "200 admin@example.com"
    stop_daemon
    equals "SIGTERM stops it with 0" "$STATUS" "0"
    equals "the database is $SVC_USER's, in the state directory" \
        "$(stat -c '%U' /var/lib/gatehouse/gatehouse.db 2>&1)" "$SVC_USER"
    # an admin's gatehousectl, as root on the installed config, becomes
    # server.user: what it writes stays readable by the daemon
    contains "gatehousectl as root lists the account" \
        "$(gatehousectl -c /etc/gatehouse/gatehouse.yaml user list 2>&1)" "admin@example.com"
    run "gatehousectl as root rotates the signing key" \
        gatehousectl -c /etc/gatehouse/gatehouse.yaml keys rotate
    equals "nothing in the state directory is another user's" \
        "$(find /var/lib/gatehouse ! -user "$SVC_USER" 2>&1)" ""
else
    not_ok "the daemon starts from the installed files"
fi

# ---------------------------------------------------------------- upgrade, remove, purge
echo '# an admin was here' >>/etc/gatehouse/gatehouse.yaml
run "gatehouse installs again over itself" dpkg -i "${debs[0]}"
check "... keeping the admin's config" grep -qx '# an admin was here' /etc/gatehouse/gatehouse.yaml

run "dpkg -r removes them" dpkg -r "${PKGS[@]}"
check "the daemon is gone" test ! -e /usr/sbin/gatehoused
check "the plugins are gone" test ! -e "$plugin_dir"
check "the admin's config is kept" grep -qx '# an admin was here' /etc/gatehouse/gatehouse.yaml
check "the state is kept" test -s /var/lib/gatehouse/gatehouse.db
equals "gatehouse is left with its config files" \
    "$(dpkg-query -W -f='${db:Status-Abbrev}' gatehouse 2>/dev/null)" "rc "

run "dpkg -P purges them" dpkg -P "${PKGS[@]}"
check "the config is gone" test ! -e /etc/gatehouse
check "the state is gone" test ! -e /var/lib/gatehouse
check "dpkg knows no file of gatehouse" sh -c '! dpkg -S gatehouse >/dev/null 2>&1'
equals "no file of gatehouse is left" \
    "$(find /etc /usr /var /lib/ /run -xdev -path "$top_srcdir" -prune -o -name '*gatehouse*' -print 2>/dev/null)" ""
# Debian keeps system users on purge: files they owned may remain elsewhere
check "purge keeps the system user $SVC_USER" getent passwd "$SVC_USER"

finish
