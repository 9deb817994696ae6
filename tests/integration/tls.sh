#!/usr/bin/env bash
# tls.sh - HTTPS in the daemon: a plain, a TLS and a client-certificate
# listener side by side; the protocol minimum, ALPN and HSTS; certificates
# refused at start (expired, key not matching); SIGHUP serving a renewed
# certificate, and keeping the old one when the new one is broken.
set -u
. "$(dirname "$0")/lib.sh"
for tool in openssl curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

# ---------------------------------------------------------------- certificates
# EC keys: fast to make. Leaves name 127.0.0.1, which curl checks.
P=$TMP/pki
mkdir -p "$P" "$TMP/live"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$1.key" 2>/dev/null; }
ca() {
    key "$1"
    openssl req -x509 -new -key "$P/$1.key" -subj "/CN=$1" -days 2 -out "$P/$1.pem" 2>/dev/null
}
# leaf NAME CA SERIAL: a certificate for NAME's key, signed by CA
leaf() {
    key "$1"
    openssl req -new -key "$P/$1.key" -subj "/CN=127.0.0.1" -out "$P/$1.csr" 2>/dev/null
    openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.pem" -CAkey "$P/$2.key" -set_serial "$3" \
        -days 2 -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$P/$1.pem" 2>/dev/null
}
ca ca
ca clientca
leaf one ca 1001
leaf two ca 1002
leaf client clientca 7
# expired: openssl ca is the tool that takes explicit dates
: >"$P/index.txt"
echo 01 >"$P/serial"
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' \
    "$P" "$P" "$P" >"$P/ca.cnf"
openssl ca -batch -config "$P/ca.cnf" -cert "$P/ca.pem" -keyfile "$P/ca.key" -in "$P/one.csr" \
    -startdate 20200101000000Z -enddate 20200102000000Z -notext -out "$P/expired.pem" 2>/dev/null
cp "$P/one.pem" "$TMP/live/cert.pem"
cp "$P/one.key" "$TMP/live/key.pem"

# config CERT KEY: plain, TLS, and TLS asking for a client certificate
# (fixed ports: an address is listed once, so only one can be port 0)
TLS=$(free_port)
MTLS=$(free_port)
while [ "$MTLS" = "$TLS" ]; do MTLS=$(free_port); done
config() {
    base_config | sed "s|^  listen: .*|  listen:\n    - 127.0.0.1:0\n    - address: 127.0.0.1:$TLS\n      tls: { certificate: $1, key: $2 }\n    - address: 127.0.0.1:$MTLS\n      tls: { certificate: $1, key: $2, client_ca: $P/clientca.pem }|"
}

# ---------------------------------------------------------------- refused at start
config "$P/expired.pem" "$P/one.key" >"$TMP/expired.yaml"
out=$("$GATEHOUSED" -t -c "$TMP/expired.yaml" 2>&1)
equals "-t refuses an expired certificate" "$?" "1"
contains "and says so, at its line" "$out" "$TMP/expired.yaml:5:"
contains "naming the file and the date" "$out" ": server.listen: certificate $P/expired.pem expired on 2020-01-02 00:00:00 UTC"
out=$("$GATEHOUSED" -c "$TMP/expired.yaml" 2>&1)
check "the daemon refuses to start with it" test $? -ne 0
contains "saying why" "$out" "expired on 2020-01-02"

config "$P/one.pem" "$P/two.key" >"$TMP/mismatch.yaml"
out=$("$GATEHOUSED" -t -c "$TMP/mismatch.yaml" 2>&1)
equals "-t refuses a key that does not match the certificate" "$?" "1"
contains "and says so" "$out" "key $P/two.key does not match certificate $P/one.pem"
lacks "without key material" "$out" "PRIVATE"

config "$P/one.pem" "$TMP/nosuch.key" >"$TMP/missing.yaml"
out=$("$GATEHOUSED" -t -c "$TMP/missing.yaml" 2>&1)
contains "-t refuses a missing key file" "$out" "key $TMP/nosuch.key: No such file or directory"

config "$TMP/live/cert.pem" "$TMP/live/key.pem" >"$TMP/gatehouse.yaml"
out=$("$GATEHOUSED" -t -c "$TMP/gatehouse.yaml" 2>&1)
equals "-t accepts good ones" "$?" "0"

# ---------------------------------------------------------------- serving
start_daemon "$TMP/gatehouse.yaml" "$TMP/log" || exit 1
PLAIN=$PORT
contains "the log marks the TLS listeners" "$(cat "$TMP/log")" "listening on 127.0.0.1:$TLS (TLS)"

https() { curl -sS -i --max-time 10 --cacert "$P/ca.pem" "$@"; }
out=$(https "https://127.0.0.1:$TLS/health")
contains "https answers /health" "$out" "HTTP/1.1 200"
contains "with HSTS" "$out" "Strict-Transport-Security: max-age=31536000; includeSubDomains"
out=$(curl -sS -i --max-time 10 "http://127.0.0.1:$PLAIN/health")
contains "the plain listener beside it serves" "$out" "HTTP/1.1 200"
lacks "without HSTS (public_url is http)" "$out" "Strict-Transport-Security"
out=$(curl -sS -i --max-time 5 "http://127.0.0.1:$TLS/health" 2>&1)
lacks "plain HTTP on the TLS port gets no answer" "$out" "HTTP/1.1 200"

sclient() { openssl s_client -connect "127.0.0.1:$TLS" -servername localhost "$@" </dev/null 2>&1; }
# SECLEVEL=0: our client would refuse TLS 1.1 itself; the server must
out=$(sclient -tls1_1 -cipher 'DEFAULT@SECLEVEL=0')
contains "TLS 1.1 is refused by the server" "$out" "alert protocol version"
out=$(sclient -tls1_2 -brief)
contains "TLS 1.2 is accepted" "$out" "Protocol version: TLSv1.2"
out=$(sclient -tls1_3 -brief)
contains "TLS 1.3 is accepted" "$out" "Protocol version: TLSv1.3"
out=$(sclient -alpn h2,http/1.1)
contains "ALPN picks http/1.1 over h2" "$out" "ALPN protocol: http/1.1"
out=$(sclient -alpn h2)
contains "and never h2" "$out" "No ALPN negotiated"

# ---------------------------------------------------------------- client certificates
out=$(https "https://127.0.0.1:$MTLS/health" 2>&1)
lacks "without a client certificate: no answer" "$out" "HTTP/1.1 200"
out=$(https --cert "$P/client.pem" --key "$P/client.key" "https://127.0.0.1:$MTLS/health")
contains "with one signed by client_ca: 200" "$out" "HTTP/1.1 200"
out=$(https --cert "$P/two.pem" --key "$P/two.key" "https://127.0.0.1:$MTLS/health" 2>&1)
lacks "with one of another CA: no answer" "$out" "HTTP/1.1 200"

# ---------------------------------------------------------------- reload
serial() { sclient </dev/null | openssl x509 -noout -serial 2>/dev/null; }
equals "the first certificate serves" "$(serial)" "serial=03E9"
cp "$P/two.pem" "$TMP/live/cert.pem"
cp "$P/two.key" "$TMP/live/key.pem"
kill -HUP "$PID"
check "SIGHUP reloads the renewed certificate" wait_log "$TMP/log" "reload: TLS on port $TLS reloaded (serial 03EA"
equals "new connections get it" "$(serial)" "serial=03EA"
out=$(https "https://127.0.0.1:$TLS/health")
contains "and are served" "$out" "HTTP/1.1 200"

echo "not a certificate" >"$TMP/live/cert.pem"
kill -HUP "$PID"
check "a broken certificate is refused on reload" wait_log "$TMP/log" "reload: TLS on port $TLS refused, still serving the previous certificate: certificate $TMP/live/cert.pem: no PEM certificate chain in it"
equals "and the previous one still serves" "$(serial)" "serial=03EA"
lacks "no key material in the log" "$(cat "$TMP/log")" "PRIVATE KEY"

stop_daemon
equals "SIGTERM exits 0" "$STATUS" "0"
finish
