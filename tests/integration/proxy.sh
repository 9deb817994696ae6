#!/usr/bin/env bash
# proxy.sh - the client's address behind trusted proxies
# (server.trusted_proxies, server.client_ip_header), on SQLite:
#  - from a peer that is not trusted, a spoofed X-Forwarded-For changes
#    nothing: the per-IP rate limit and the audit records use the peer;
#  - through a trusted proxy (here 127.0.0.5), the per-IP limit counts each
#    forwarded client apart, and the audit records, the session list and
#    the access log show the forwarded address (the log the peer too);
#  - a header that cannot be read leaves the proxy's address, is counted
#    in /metrics and is never a 500;
#  - /metrics's loopback check judges the connection, never the header;
#  - client_ip_header: forwarded reads RFC 7239's for= (quoted IPv6, port).
set -u
. "$(dirname "$0")/lib.sh"
for tool in jq curl sqlite3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
json_client
ctl_client
CTL="$top_builddir/gatehousectl"
CFG="$TMP/gatehouse.yaml"
DB="$TMP/state/gatehouse.db"
PW='Proxy-Pass-4242'
PROXY=127.0.0.5
# a non-loopback address of this machine, to ask /metrics from (if any)
other=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' |
    grep -v '^127\.' | head -n 1)

# write_config HEADER LOGINS: every address, the proxy (and the other
# address) trusted, LOGINS logins an hour per client address
write_config() {
    base_config listen='0.0.0.0:0' rate_limits="{ login: { limit: $2, window: 1h } }" \
        server="trusted_proxies: [$PROXY${other:+, $other}]
client_ip_header: $1" >"$CFG"
}

sql() { sqlite3 "$DB" "$1"; }
# login [curl args]: ann's login; sets AT
login() {
    post_json /api/v1/auth/login "{\"email\":\"ann@example.com\",\"password\":\"$PW\"}" "$@"
    AT=$(j .access_token)
}
via_proxy() { "$@" --interface "$PROXY"; }
last_audit_ip() { sql "SELECT ip FROM audit_events WHERE action='login.success' ORDER BY rowid DESC LIMIT 1"; }
metric() { curl -s --max-time 10 "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 //p"; }

write_config x-forwarded-for 2
ctl migrate up
ctl user create --email ann@example.com --password-stdin <<<"$PW"
equals "the user exists" "$RC" 0
check "daemon starts with trusted_proxies" start_daemon "$CFG" "$TMP/daemon.log"

# ---------------------------------------------------------------- untrusted peer
codes=
for fake in 203.0.113.1 203.0.113.2 203.0.113.3; do
    login -H "X-Forwarded-For: $fake"
    codes="$codes $CODE"
done
equals "from an untrusted peer, a spoofed X-Forwarded-For does not escape the per-IP limit" \
    "$codes" " 200 200 429"
equals "... and the audit records have the peer" \
    "$(sql "SELECT group_concat(DISTINCT ip) FROM audit_events WHERE action='login.success'")" "127.0.0.1"

# ---------------------------------------------------------------- trusted proxy
codes=
for _ in 1 2 3; do
    via_proxy login -H 'X-Forwarded-For: 198.51.100.7'
    codes="$codes $CODE"
done
equals "through the trusted proxy, the limit counts the forwarded client" "$codes" " 200 200 429"
via_proxy login -H 'X-Forwarded-For: 198.51.100.7' -H 'X-Forwarded-For: 198.51.100.8'
equals "... another forwarded client has its own count (the last header line is the nearest)" \
    "$CODE" 200
SESSION_TOKEN=$AT
via_proxy login -H 'X-Forwarded-For: 198.51.100.8, 198.51.100.7'
equals "... a spoofed leftmost entry does not escape it" "$CODE $(j .code)" "429 rate_limited"
via_proxy login -H 'X-Forwarded-For: 10.9.9.9, [2001:db8::7]:4711'
equals "... an IPv6 client with a port is a client of its own" "$CODE" 200
equals "the audit records have the forwarded addresses, not the proxy's" \
    "$(sql "SELECT ip FROM audit_events WHERE action='login.success' ORDER BY rowid" | tr '\n' ' ')" \
    "127.0.0.1 127.0.0.1 198.51.100.7 198.51.100.7 198.51.100.8 2001:db8::7 "
req GET /api/v1/users/me/sessions -H "$(bearer "$SESSION_TOKEN")"
equals "the session list shows the forwarded addresses" \
    "$(j '[.items[].ip] | sort | unique | join(" ")')" \
    "127.0.0.1 198.51.100.7 198.51.100.8 2001:db8::7"
check "the access log shows the client and the proxy" \
    grep -q 'client=198.51.100.8 peer=127.0.0.5' "$TMP/daemon.log"

before=$(metric gatehouse_forwarded_header_refused_total)
via_proxy req GET /health -H 'X-Forwarded-For: 198.51.100.9, not-an-address'
equals "an X-Forwarded-For that cannot be read is not an error" "$CODE" 200
via_proxy login -H 'X-Forwarded-For: <script>'
equals "... the request is the proxy's own" "$CODE $(last_audit_ip)" "200 127.0.0.5"
equals "... and it is counted" "$(metric gatehouse_forwarded_header_refused_total)" "$((before + 2))"

# ---------------------------------------------------------------- /metrics
code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 10 --interface "$PROXY" \
    -H 'X-Forwarded-For: 203.0.113.9' "http://127.0.0.1:$PORT/metrics")
equals "/metrics from the proxy on loopback, forwarding another address, is 200: the socket is judged" \
    "$code" 200
if [ -n "$other" ]; then
    code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 10 \
        -H 'X-Forwarded-For: 127.0.0.1' "http://$other:$PORT/metrics")
    equals "/metrics from a trusted proxy off loopback, forwarding 127.0.0.1, is 403" "$code" 403
    contains "... metrics_forbidden" "$(cat "$TMP/body")" '"code":"metrics_forbidden"'
else
    echo "# skipped: this machine has no non-loopback IPv4 address to ask from"
fi
stop_daemon

# ---------------------------------------------------------------- Forwarded
# the counts so far are in the database: room for this part's logins
write_config forwarded 100
check "daemon starts with client_ip_header: forwarded" start_daemon "$CFG" "$TMP/daemon.log"
via_proxy login -H 'Forwarded: for=203.0.113.77, for="[2001:db8:cafe::17]:4711";proto=https'
equals "Forwarded: the rightmost for= through the proxy, quoted IPv6 with a port" \
    "$CODE $(last_audit_ip)" "200 2001:db8:cafe::17"
via_proxy login -H 'X-Forwarded-For: 198.51.100.50'
equals "... X-Forwarded-For is then not read" "$CODE $(last_audit_ip)" "200 127.0.0.5"
via_proxy login -H 'Forwarded: for=198.51.100.51, for=unknown'
equals "... a hidden hop leaves the proxy that wrote it" "$CODE $(last_audit_ip)" "200 127.0.0.5"
login -H 'Forwarded: for=198.51.100.52'
equals "... and from an untrusted peer Forwarded is ignored" "$CODE $(last_audit_ip)" "200 127.0.0.1"
stop_daemon
equals "the daemon stops cleanly" "$STATUS" 0

ctl_sanitizer_check
finish
