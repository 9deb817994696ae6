#!/bin/sh
# install-deps.sh [--test] - install the Debian 12 packages Gatehouse needs
# to build (and, with --test, to run its tests), skipping those present.
set -e
pkgs="autoconf automake libtool pkg-config make gcc libltdl-dev libevent-dev
      libyaml-dev libjansson-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev
      libargon2-dev libcrypt-dev libpq-dev default-libmysqlclient-dev
      libhiredis-dev libzxcvbn-dev liboath-dev libqrencode-dev"
[ "${1:-}" = "--test" ] && pkgs="$pkgs libcmocka-dev libjwt-dev curl sqlite3 jq python3 wrk
      postgresql mariadb-server redis-server python3-aiosmtpd
      librsvg2-bin zbar-tools nodejs chromium man-db clang libclang-rt-14-dev openssl"
# the package test (tests/package/deb.sh): the build tools, lintian, and
# systemd, whose sysusers and tmpfiles the gatehouse package's postinst runs
[ "${1:-}" = "--test" ] && pkgs="$pkgs debhelper dpkg-dev fakeroot lintian systemd"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm: NodeSource's nodejs package carries it, Debian's comes apart
[ "${1:-}" = "--test" ] && ! command -v npm >/dev/null && missing="$missing npm"
[ -z "$missing" ] && exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing:$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
