#!/usr/bin/env bash
# onboard-oci.sh - onboarding that provisions Oracle Cloud, end to end: the
# real daemon with the oci cloud plugin against the OCI Identity stand-in
# (tests/standins/oci, Node), on SQLite unless GH_TEST_BACKEND says
# otherwise (backend.sh). Seed 000's two calls reach "active" with a
# compartment, a group and a policy; a CreatePolicy that fails to the last
# retry rolls back cleanly (nothing left ACTIVE, state failed), or with
# on_failure keep leaves what was made for a retry that finishes without
# duplicates; throttling (429) and a hung request end in active; kill -9
# of the daemon in the middle of a step, then a restart, resumes the job
# with exactly one compartment; on a server store, two daemons run one
# job once; DELETE .../provisioning deprovisions.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/backend.sh"
for tool in jq curl openssl node; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
STANDIN_DIR=$("$top_srcdir/tests/npm-install.sh" "$top_srcdir/tests/standins/oci") ||
    { echo "SKIP: the OCI stand-in cannot be installed (npm ci)"; exit 77; }
json_client
ctl_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
PW='Onboard-Oci-Pass-4711'
TENANCY=ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq
USER_OCID=ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq

# ---------------------------------------------------------------- the stand-in
openssl genrsa -out "$TMP/key.pem" 2048 2>/dev/null
openssl rsa -in "$TMP/key.pem" -pubout -out "$TMP/public.pem" 2>/dev/null
FP=$(openssl rsa -in "$TMP/key.pem" -pubout -outform DER 2>/dev/null | openssl md5 -c | sed 's/.*= //')
node "$STANDIN_DIR/oci-standin.mjs" --port-file "$TMP/oci.port" --public-key "$TMP/public.pem" \
    --key-id "$TENANCY/$USER_OCID/$FP" --active-after-ms 300 >"$TMP/oci.log" 2>&1 &
OCI_PID=$!
PID2=
trap 'cleanup; [ -n "$PID2" ] && kill -9 "$PID2" 2>/dev/null; kill "$OCI_PID" 2>/dev/null; drop_databases' EXIT
for _ in $(seq 1 200); do [ -s "$TMP/oci.port" ] && break; sleep 0.05; done
OCI_PORT=$(cat "$TMP/oci.port" 2>/dev/null)
check "the stand-in listens" test -n "$OCI_PORT"
OCI=http://127.0.0.1:$OCI_PORT
fault() { curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "$1" "$OCI/_standin/faults"; }
no_faults() { curl -sS -o /dev/null -X DELETE "$OCI/_standin/faults"; }
# made TYPE COMPANY [STATE]: how many resources of the type the company's
# provisioning made (in that lifecycle state)
made() {
    curl -sS "$OCI/_standin/resources" | jq --arg t "$1" --arg c "$2" --arg s "${3:-}" \
        '[.[] | select(.type == $t and .freeformTags["gatehouse-tenant"] == $c and
          ($s == "" or .lifecycleState == $s))] | length'
}
# active COMPANY: its resources still ACTIVE, of any type
active() {
    curl -sS "$OCI/_standin/resources" | jq --arg c "$1" \
        '[.[] | select(.freeformTags["gatehouse-tenant"] == $c and .lifecycleState == "ACTIVE")] | length'
}
requests() { curl -sS "$OCI/_standin/requests" | jq "(.counts[\"$1\"].status[\"$2\"] // 0)"; }
# creates FROM: the retry tokens of the CreateCompartment requests the
# stand-in answered, from the FROM'th on, one a line
creates() {
    curl -sS "$OCI/_standin/requests" |
        jq -r --argjson from "$1" '[.log[] | select(.op == "CreateCompartment")] | .[$from:][] | .retryToken'
}
# answered N: until the stand-in has answered N CreateCompartment (10 s), a
# hung one included
answered() {
    for _ in $(seq 1 100); do [ "$(creates 0 | wc -l)" -ge "$1" ] && return 0; sleep 0.1; done
    return 1
}

# ---------------------------------------------------------------- the daemon
# write_config ON_FAILURE
write_config() {
    {
        base_config
        cat <<YAML
$STORAGE_YAML
plugins:
  - name: oci
    options:
      tenancy_ocid: $TENANCY
      user_ocid: $USER_OCID
      fingerprint: "$FP"
      private_key_file: $TMP/key.pem
      region: us-phoenix-1
      identity_endpoint: $OCI
      allow_http: true
      allow_private: true
      poll_interval: 100ms
      timeout: 1s
onboarding:
  cloud: oci
  retries: 3
  backoff: 100ms
  backoff_max: 400ms
  on_failure: $1
  lease: 4s
  poll_interval: 200ms
YAML
    } >"$CFG"
}
new_database gh_onboard_oci
write_config rollback
ctl migrate up
ctl user create --email root@example.com --admin --password-stdin <<<"$PW"
equals "the superuser exists" "$RC" 0
check "the daemon starts with the oci plugin" start_daemon "$CFG" "$TMP/log"

login() { post_json /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PW\"}"; AT=$(j .access_token); }
as() { local who=$1; shift; "$@" -H "$(bearer "$who")"; }
login root@example.com
ROOT=$AT
# onboard NAME: seed 000's call for customer NAME (with a password, so no
# mail is needed here); C its company id, CAT its access token
onboard() {
    as "$ROOT" post_json /api/v1/onboard \
        "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"company_name\":\"$1 Inc\",\"password\":\"$PW\"}"
    C=$(j .company.id) CAT=$(j .access_token)
}
# wait_state COMPANY STATE: until its provisioning is in STATE (30 s);
# BODY holds the last answer
wait_state() {
    for _ in $(seq 1 300); do
        as "$ROOT" req GET "/api/v1/companies/$1/provisioning"
        [ "$(j .state)" = "$2" ] && return 0
        sleep 0.1
    done
    echo "  provisioning of $1 is $(j .state), not $2: $BODY" >&2
    return 1
}

# ---------------------------------------------------------------- seed 000
onboard customer1
equals "onboarding answers 202 with the token and a pending provisioning" \
    "$CODE $(j .token_type) $(j .provisioning.state)" "202 bearer pending"
C1=$C C1_AT=$CAT
check "the provisioning becomes active" wait_state "$C1" active
equals "... a compartment, a group and a policy, in order" \
    "$(j '[.resources[] | split(":")[0]] | join(",")')" "compartment,group,policy"
equals "... no error, no retry" "$(j .last_error) $(j .attempts)" "null 0"
as "$C1_AT" req GET /api/v1/customer/me
equals "customer/me shows them to the customer" \
    "$CODE $(j .username) $(j .provisioning.state) $(j '.provisioning.resources | length')" \
    "200 customer1 active 3"
COMPARTMENT=$(j '.provisioning.resources[0]' | cut -d: -f2-)
equals "the stand-in has one of each, ACTIVE" \
    "$(made compartment "$C1" ACTIVE) $(made group "$C1" ACTIVE) $(made policy "$C1" ACTIVE)" "1 1 1"
check "... the compartment's id is the one recorded" \
    test "$(curl -sS "$OCI/_standin/resources" | jq -r --arg c "$C1" \
        '.[] | select(.type == "compartment" and .freeformTags["gatehouse-tenant"] == $c) | .id')" = "$COMPARTMENT"
as "$C1_AT" req GET "/api/v1/companies/$C1/provisioning"
equals "the customer's admin reads its own provisioning" "$CODE $(j .state)" "200 active"
as "$ROOT" req GET "/api/v1/audit-events?company=$C1"
equals "each state change is audited (the webhook events)" \
    "$(j '[.items[].action | select(startswith("provisioning."))] | sort | join(",")')" \
    "provisioning.active,provisioning.started"

# ---------------------------------------------------------------- a failed CreatePolicy: rollback
fault '{"op":"CreatePolicy","status":500,"code":"InternalServerError","times":-1}'
onboard customer2
C2=$C
check "a CreatePolicy failing to the last retry ends failed" wait_state "$C2" failed
equals "... rolled back: no resource recorded" "$(j '.resources | length')" 0
contains "... the error names the operation and OCI's code" "$(j .last_error)" "CreatePolicy"
contains "... and its request id" "$(j .last_error)" "opc-request-id"
equals "... tried once and retried 3 times" "$(requests CreatePolicy 500)" 4
equals "... nothing of it left ACTIVE in the stand-in" "$(active "$C2")" 0
equals "... its compartment and group were made, then deleted" \
    "$(made compartment "$C2") $(made group "$C2")" "1 1"
as "$ROOT" req GET "/api/v1/audit-events?company=$C2"
contains "... provisioning.failed is audited" "$(j '[.items[].action] | join(",")')" "provisioning.failed"
no_faults

# ---------------------------------------------------------------- on_failure: keep, then retry
stop_daemon
write_config keep
check "the daemon starts with on_failure: keep" start_daemon "$CFG" "$TMP/log"
fault '{"op":"CreatePolicy","status":500,"code":"InternalServerError","times":-1}'
onboard customer3
C3=$C
check "with keep, the failure stops at failed" wait_state "$C3" failed
equals "... keeping the compartment and the group" \
    "$(j '[.resources[] | split(":")[0]] | join(",")')" "compartment,group"
ctl company provisioning customer3-inc
equals "gatehousectl shows it" "$RC $(printf '%s\n' "$OUT" | sed -n 's/^state: *//p')" "0 failed"
contains "... with its resources" "$OUT" "  compartment:ocid1.compartment."
contains "... and the error" "$OUT" "CreatePolicy"
as "$ROOT" req POST "/api/v1/companies/$C3/provisioning/retry"
equals "a retry while CreatePolicy still fails is accepted" "$CODE $(j .state)" "202 pending"
check "... and fails again" wait_state "$C3" failed
no_faults
as "$ROOT" req POST "/api/v1/companies/$C3/provisioning/retry"
equals "the admin retries once the cloud works" "$CODE" 202
check "... which finishes to active" wait_state "$C3" active
equals "... without a duplicate" \
    "$(made compartment "$C3") $(made group "$C3") $(made policy "$C3" ACTIVE)" "1 1 1"
as "$ROOT" req POST "/api/v1/companies/$C3/provisioning/retry"
equals "an active job is not retried" "$CODE $(j .code)" "409 provisioning_busy"
ctl company provisioning customer3-inc --retry
equals "... by gatehousectl either" "$RC $ERR" \
    "1 gatehousectl: company customer3-inc: provisioning is active: only a failed or deprovisioned one is retried"

# ---------------------------------------------------------------- throttling and a hung request
fault '{"op":"CreateGroup","status":429,"code":"TooManyRequests","times":2}'
onboard customer4
C4=$C
check "429 throttling ends in active" wait_state "$C4" active
equals "... after the two 429s" "$(requests CreateGroup 429)" 2
equals "... with one group" "$(made group "$C4")" 1
fault '{"op":"CreateCompartment","hang_ms":2500,"times":1}'
FROM=$(creates 0 | wc -l)
onboard customer5
C5=$C
check "a hung CreateCompartment ends in active" wait_state "$C5" active
equals "... with exactly one compartment" "$(made compartment "$C5")" 1
check "... asked for twice (the hung request, then the retry)" answered $((FROM + 2))
equals "... with one retry token" "$(creates "$FROM" | sort -u | wc -l)" 1
no_faults

# ---------------------------------------------------------------- kill -9 mid-step
check "CreateCompartment hangs from now on" fault '{"op":"CreateCompartment","hang_ms":3000,"times":-1}'
FROM=$(creates 0 | wc -l)
onboard customer6
C6=$C
# "provisioning" is recorded just before the first step's request, which
# hangs past the plugin's 1 s timeout, as do its retries: killed in the
# middle, the daemon never reads the answer
check "the first step starts" wait_state "$C6" provisioning
sleep 0.2
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
no_faults
check "the daemon restarts after kill -9 during a step" start_daemon "$CFG" "$TMP/log"
check "the job resumes to active" wait_state "$C6" active
equals "... with exactly one compartment" "$(made compartment "$C6")" 1
check "... though it was asked for twice: the killed daemon never read the first answer" \
    answered $((FROM + 2))
equals "... with one retry token" "$(creates "$FROM" | sort -u | wc -l)" 1
no_faults

# ---------------------------------------------------------------- two daemons, one store
if [ "$BACKEND" != sqlite ]; then
    cp "$CFG" "$TMP/second.yaml"
    "$GATEHOUSED" -c "$TMP/second.yaml" 2>"$TMP/log2" &
    PID2=$!
    check "a second daemon shares the store" wait_log "$TMP/log2" " ready: "
    BEFORE=$(requests CreateCompartment 200)
    onboard customer7
    C7=$C
    check "the job runs to active" wait_state "$C7" active
    equals "... once: one CreateCompartment, one compartment" \
        "$(($(requests CreateCompartment 200) - BEFORE)) $(made compartment "$C7")" "1 1"
    kill -TERM "$PID2"
    wait "$PID2"
    equals "the second daemon stops cleanly" "$?" 0
    PID2=
fi

# ---------------------------------------------------------------- deprovisioning
as "$C1_AT" req DELETE "/api/v1/companies/$C1/provisioning"
equals "a customer's admin may not deprovision" "$CODE $(j .code)" "403 forbidden"
as "$ROOT" req DELETE "/api/v1/companies/$C1/provisioning"
equals "a superuser deprovisions" "$CODE $(j .state)" "202 deprovisioning"
check "... to deprovisioned" wait_state "$C1" deprovisioned
equals "... nothing left recorded" "$(j '.resources | length')" 0
equals "... nothing left ACTIVE in the stand-in" "$(active "$C1")" 0
as "$ROOT" req GET "/api/v1/audit-events?company=$C1"
contains "... provisioning.deprovisioned is audited" "$(j '[.items[].action] | join(",")')" \
    "provisioning.deprovisioned"
lacks "no private key in the log" "$(cat "$TMP/log")" "PRIVATE KEY"
lacks "no signature in the log" "$(cat "$TMP/log")" 'signature="'
stop_daemon
equals "the daemon stops cleanly" "$STATUS" 0
finish
