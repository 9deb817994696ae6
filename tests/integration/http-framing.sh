#!/usr/bin/env bash
# http-framing.sh - request framing over a raw socket: malformed
# Content-Length, header names and Transfer-Encoding get one 400 and a
# closed connection (no smuggled second request is ever answered), and
# over-size headers and bodies get our problem+json, never evhttp's HTML.
set -u
. "$(dirname "$0")/lib.sh"

base_config argon2=owasp server=$'max_body_size: 1k\nmax_header_size: 16k' >"$TMP/gatehouse.yaml"
check "the daemon starts" start_daemon "$TMP/gatehouse.yaml" "$TMP/log"

# raw BYTES: sends BYTES (printf escapes) on one connection, reads until
# the server closes it or is silent for 2 s; sets N (answers seen), CODES
# (their status codes), CLOSED (yes/no) and RAW (all that came back).
raw() {
    local res
    res=$(python3 - "$PORT" "$1" <<'PY'
import re, socket, sys
port, data = int(sys.argv[1]), sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port), timeout=10)
try:
    s.sendall(data)
except OSError:
    pass  # the server may close before it has read everything
s.settimeout(2)
got, closed = b"", "no"
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    except OSError:  # reset: closed, unread bytes left behind
        closed = "yes"
        break
    if not b:
        closed = "yes"
        break
    got += b
codes = re.findall(rb"HTTP/1\.[01] (\d{3}) ", got)
print(len(codes), ",".join(c.decode() for c in codes), closed)
sys.stdout.write(got.decode("latin-1"))
PY
)
    read -r N CODES CLOSED <<<"$(printf '%s\n' "$res" | head -n 1)"
    RAW=$(printf '%s\n' "$res" | sed 1d)
}

# refused NAME: the last raw exchange was one 400 problem+json, then close
refused() {
    equals "$1: exactly one answer" "$N" "1"
    equals "$1: it is 400" "$CODES" "400"
    contains "$1: problem+json" "$RAW" "Content-Type: application/problem+json"
    contains "$1: a stable code" "$RAW" '"code":"invalid_framing"'
    equals "$1: the connection is closed" "$CLOSED" "yes"
}

# refused_by_evhttp NAME: the same, but evhttp refused the request before
# our code saw it (a Content-Length strtoll cannot read; Content-Length
# with Transfer-Encoding, refused by Debian's libevent 2.1.12-8+deb12u1):
# its answer is its own HTML page, and 2.1 has no hook to change that
refused_by_evhttp() {
    equals "$1: exactly one answer" "$N" "1"
    equals "$1: it is 400" "$CODES" "400"
    equals "$1: the connection is closed" "$CLOSED" "yes"
}

NEXT='GET /health HTTP/1.1\r\nHost: x\r\n\r\n'
SMUGGLED='GET /no/such/thing HTTP/1.1\r\nHost: x\r\n\r\n'

# ---------------------------------------------------------------- smuggling
raw "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: ${#SMUGGLED}\r\n\r\n$SMUGGLED$NEXT"
refused "two Content-Length headers (0, then N)"
raw "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello$NEXT"
refused "two equal Content-Length headers"
raw "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello$NEXT"
refused "a space before the colon"
raw "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello$NEXT"
refused "Content-Length: +N"
raw "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello$NEXT"
refused_by_evhttp "a Content-Length list"
raw "GET /health HTTP/1.1\r\nHost: x\r\nX\tBad: 1\r\n\r\n$NEXT"
refused "a tab in a header name"
# evhttp 2.1 replaces an obs-fold with a space (RFC 9112 5.2 allows it),
# so a folded framing header is refused by its value
raw "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n 5\r\n\r\nhello$NEXT"
refused_by_evhttp "a folded Content-Length"
raw "POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n$NEXT"
refused "a folded Transfer-Encoding"
raw "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$NEXT"
refused_by_evhttp "Content-Length and Transfer-Encoding together"
raw "POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n$NEXT"
refused "a Transfer-Encoding other than chunked"
log=$(cat "$TMP/log")
lacks "the smuggled request never reached the router" "$log" "path=/no/such/thing"

# keep-alive still works: a good pipelined pair gets two answers
raw "$NEXT$NEXT"
equals "a good pipelined pair gets two answers" "$N" "2"
equals "both are 200" "$CODES" "200,200"
equals "and the connection stays open" "$CLOSED" "no"
raw "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello$NEXT"
equals "a good body then a request: two answers" "$CODES" "405,200"

# ---------------------------------------------------------------- limits
big=$(head -c 20480 /dev/zero | tr '\0' a)
raw "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: $big\r\n\r\n"
equals "a 20 KB header is one answer" "$N" "1"
equals "a 20 KB header is 431" "$CODES" "431"
contains "431 is problem+json" "$RAW" "Content-Type: application/problem+json"
contains "431 has a stable code" "$RAW" '"code":"headers_too_large"'

# evhttp's own cap sits 16 times above ours: up to there the answer is ours
for size in 1025 10240; do
    head -c $size /dev/zero | tr '\0' ' ' >"$TMP/body"
    http POST /api/v1/auth/login -H 'Content-Type: application/json' -H 'Expect:' \
        --data-binary "@$TMP/body"
    equals "a $size-byte body (limit 1k) is 413" "$CODE" "413"
    contains "its 413 is problem+json" "$OUT" "Content-Type: application/problem+json"
    contains "its 413 has a stable code" "$OUT" '"code":"body_too_large"'
    lacks "its 413 is not evhttp's HTML page" "$OUT" "<HTML"
done
# a declared 100 MB body is refused before it is sent, not buffered
raw "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{"
equals "a declared 100 MB body is refused at once" "$CODES" "413"
equals "that 413 closes the connection" "$CLOSED" "yes"

http GET /health
equals "the daemon still serves" "$CODE" "200"
stop_daemon
equals "SIGTERM exits 0" "$STATUS" "0"
finish
