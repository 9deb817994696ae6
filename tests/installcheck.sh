#!/usr/bin/env bash
# installcheck.sh - what a third-party plugin author does: build the example
# plugins out of tree with nothing but `pkg-config gatehouse-plugin`, load some
# into the installed gatehoused; and see a plugin built for another ABI
# major refused with a clear message.
# Args: installed-gatehoused pkgconfig-dir installed-plugin-dir srcdir
set -u
GATEHOUSED_INSTALLED=$1 PCDIR=$2 INSTALLED_PLUGINS=$3 SRC=$4
top_builddir=$(pwd) top_srcdir=$SRC
. "$SRC/tests/integration/lib.sh"
GATEHOUSED=$GATEHOUSED_INSTALLED
export PKG_CONFIG_PATH=$PCDIR PKG_CONFIG_SYSROOT_DIR=${DESTDIR:-}

cp -r "$SRC/docs/examples/hello" "$TMP/hello"
chmod -R u+w "$TMP/hello"
check "the example plugin builds out of tree with pkg-config" make -s -C "$TMP/hello"
mkdir -p "$TMP/plugins"
ln -s "$INSTALLED_PLUGINS"/sqlite.so "$TMP/hello/hello.so" "$TMP/plugins/"

# every other example builds the same way, warnings as errors
for dir in mfa-totp notify-webhook oauth-oidc kv-memory cloud-log; do
    cp -r "$SRC/docs/examples/$dir" "$TMP/$dir"
    chmod -R u+w "$TMP/$dir"
    check "the example plugin $dir builds out of tree with pkg-config" \
        make -s -C "$TMP/$dir" CFLAGS="-O2 -Wall -Wextra -Werror"
done

# the same source with the ABI major bumped, as if built against a 2.x header
sed 's/GH_ABI_MAJOR/(GH_ABI_MAJOR + 1)/' "$SRC/docs/examples/hello/hello.c" >"$TMP/hello2.c"
check "a plugin for another ABI major builds" \
    cc $(pkg-config --cflags gatehouse-plugin) -fPIC -shared -o "$TMP/plugins/hello2.so" "$TMP/hello2.c"

config() {
    printf 'server:\n  listen: ["127.0.0.1:0"]\nlog:\n  level: info\npaths:\n  state_dir: %s/state\n  plugin_dir: %s/plugins\nplugins:\n  - name: %s\n' "$TMP" "$TMP" "$1" >"$TMP/$1.yaml"
}
config hello
check "the installed daemon starts with the out-of-tree plugin" start_daemon "$TMP/hello.yaml" "$TMP/log"
http GET /health/ready; out=$OUT
contains "the out-of-tree plugin is loaded and ready" "$out" '"hello":"ok"'
# /openapi.json and /docs from the files installed with it (where the
# build put them: not under a DESTDIR staging root)
if [ -z "${DESTDIR:-}" ]; then
    http GET /openapi.json
    equals "the installed daemon serves its OpenAPI document" "$CODE" 200
    http GET /docs/swagger-ui-bundle.js
    equals "... and the /docs page's files" "$CODE" 200
fi
stop_daemon

# two more examples at work: kvmem in the kv slot, totp among the plugins
ln -s "$TMP/mfa-totp/totp.so" "$TMP/kv-memory/kvmem.so" "$TMP/plugins/"
config totp
printf 'kv:\n  plugin: kvmem\n' >>"$TMP/totp.yaml"
check "the installed daemon starts with the kv and mfa examples" start_daemon "$TMP/totp.yaml" "$TMP/log"
http GET /health/ready; out=$OUT
contains "the kv example holds the kv slot" "$out" '"kvmem":"ok"'
contains "the mfa example is loaded and ready" "$out" '"totp":"ok"'
stop_daemon

config hello2
out=$("$GATEHOUSED" -t -c "$TMP/hello2.yaml" 2>&1)
equals "the installed daemon refuses another ABI major" "$?" "1"
contains "the refusal names the plugin and the ABIs" "$out" "plugin 'hello2': built for plugin ABI 2."
finish
