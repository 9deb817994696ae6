#!/usr/bin/env bash
# loop-reads.sh - reads on the event loop (api_job_run): on the local SQLite
# store GET /users/me runs on the loop; when the database is locked it must
# not wait there but move to a worker, which waits for the lock (and gives
# up with a 503 after busy_timeout). A rollback-journal database is used
# because there a writer's exclusive lock stops readers, which WAL never
# does in the normal course.
set -u
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq not found"; exit 77; }
DB="$TMP/state/gatehouse.db"

{
    base_config threads=1 public_url=
    cat <<YAML
storage:
  plugin: sqlite
  options:
    journal: delete
    busy_timeout: 2s
YAML
} >"$TMP/gh.yaml"
start_daemon "$TMP/gh.yaml" "$TMP/gh.log" || exit 1

json() { curl -sS --max-time 10 -H 'Content-Type: application/json' --data-binary "$2" \
    "http://127.0.0.1:$PORT$1"; }
TOKEN=$(json /api/v1/auth/signup '{"email":"loop@example.com","password":"Loop-reads-pw-4821"}' |
    jq -r .access_token)
check "signed up" test -n "$TOKEN" -a "$TOKEN" != null

# loop_jobs MOVED: gatehouse_loop_jobs_total{moved="MOVED"}
loop_jobs() {
    curl -sS "http://127.0.0.1:$PORT/metrics" |
        sed -n "s/^gatehouse_loop_jobs_total{moved=\"$1\"} //p"
}
me() { http GET /api/v1/users/me -H "Authorization: Bearer $TOKEN"; }

# hold_lock SECONDS: an exclusive lock on the database from another process,
# held for SECONDS; returns once it is taken
hold_lock() {
    rm -f "$TMP/locked"
    python3 - "$DB" "$1" "$TMP/locked" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
PY
    LOCKER=$!
    for _ in $(seq 1 100); do [ -e "$TMP/locked" ] && return 0; sleep 0.05; done
    return 1
}

# ---------------------------------------------------------------- on the loop
before=$(loop_jobs no)
me
equals "GET /users/me answers" "$CODE" 200
equals "it ran on the loop" "$(loop_jobs no)" "$((before + 1))"

# ---------------------------------------------------------------- locked: to a worker
moved=$(loop_jobs yes)
check "another process holds the lock" hold_lock 1.5
curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/api/v1/users/me" >"$TMP/me-code" &
READER=$!
sleep 0.2
# one loop thread: had the read waited there, /health would wait too
check "while the read waits, the loop answers /health at once" \
    curl -sS -o /dev/null --max-time 0.5 "http://127.0.0.1:$PORT/health"
check "the read is still waiting for the lock" kill -0 "$READER"
wait "$READER"
wait "$LOCKER"
equals "a locked database: the read waits on a worker, then answers" "$(cat "$TMP/me-code")" 200
equals "the read moved from the loop to a worker" "$(loop_jobs yes)" "$((moved + 1))"

# ---------------------------------------------------------------- longer than busy_timeout
check "another process holds the lock for longer than busy_timeout" hold_lock 4
me
equals "past busy_timeout: 503" "$CODE" 503
contains "with a stable code" "$OUT" '"code":"unavailable"'
contains "and Retry-After" "$(printf '%s' "$OUT" | tr -d '\r')" "Retry-After: 1"
wait "$LOCKER"
me
equals "the lock gone, reads work again" "$CODE" 200

stop_daemon
equals "clean exit" "$STATUS" 0
finish
