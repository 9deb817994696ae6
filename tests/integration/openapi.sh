#!/usr/bin/env bash
# openapi.sh - the daemon answers as its OpenAPI document says. The main
# SQLite integration scripts record every answer they get (lib.sh's http()
# with GH_OPENAPI_LOG), and the validator (tests/openapi/validate.mjs: Ajv,
# JSON Schema 2020-12) checks each one's status, content type and body
# against web/openapi.json: an undocumented route or status, or a body that
# does not match, fails.
#
# Under make check the scripts have run first (Makefile.am orders their
# logs before this one) and left their answers in GH_OPENAPI_DIR; a script
# whose answers are missing or older than the daemon is run again here.
set -u
. "$(dirname "$0")/lib.sh"
for tool in jq curl node npm python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
VALIDATOR_DIR=$("$top_srcdir/tests/npm-install.sh" "$top_srcdir/tests/openapi") ||
    { echo "SKIP: the validator cannot be installed (npm ci)"; exit 77; }
ANSWERS=${GH_OPENAPI_DIR:-$TMP/answers}
mkdir -p "$ANSWERS"

# the scripts of the main resources on SQLite; Makefile.am lists their logs
# as this test's prerequisites (OPENAPI_RECORDERS): keep the two lists alike
SCRIPTS="accounts companies rbac clients integrations webhooks-in webhooks-out mfa permissions daemon docs onboard onboard-oci"
logs=()
for script in $SCRIPTS; do
    log="$ANSWERS/$script.jsonl"
    if [ ! -s "$log" ] || [ "$log" -ot "$GATEHOUSED" ]; then
        echo "# running $script.sh to record its answers"
        GH_OPENAPI_LOG=$log GH_TEST_BACKEND='' GH_TEST_KV='' \
            bash "$top_srcdir/tests/integration/$script.sh" >"$TMP/$script.out" 2>&1
        rc=$?
        [ "$rc" -eq 77 ] && { echo "# $script.sh skipped: $(tail -n 1 "$TMP/$script.out")"; continue; }
        check "$script.sh passes with its answers recorded" test "$rc" -eq 0
        [ "$rc" -ne 0 ] && tail -n 20 "$TMP/$script.out"
    fi
    check "$script.sh recorded answers" test -s "$log"
    logs+=("$log")
done

out=$(node "$VALIDATOR_DIR/validate.mjs" "$top_srcdir/web/openapi.json" "${logs[@]}")
rc=$?
printf '%s\n' "$out" | sed 's/^/# /' | head -n 80
check "every answer matches the document" test "$rc" -eq 0
finish
