#!/usr/bin/env python3
"""webhook_receiver.py - a loopback receiver of Gatehouse's outgoing events
for tests/integration/webhooks-out.sh. It checks every delivery's Standard
Webhooks signature with HMAC code of its own (not the daemon's), and
records one JSON object a line: path, the webhook-id and -timestamp, the
event's type, whether the signature was valid, and the status it answered.

    webhook_receiver.py serve PORTFILE RECORD

Control, by the test, on the same port:
    POST /_control/secret?path=/a   body: the whsec_ secret of that path
    POST /_control/fail?path=/a&n=3 the next 3 deliveries to /a get a 500

A delivery with a valid signature gets 200 (500 while failures are owed);
one with a bad or missing signature, or a timestamp more than five minutes
off, gets 401.
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from standin_common import Recorder, serve_announced

TOLERANCE_S = 300


def expected_signature(secret, msg_id, timestamp, body):
    """v1,<base64 HMAC-SHA256 of id.timestamp.body>, keyed by the bytes of
    the secret's base64 part, as the Standard Webhooks spec says."""
    if not secret.startswith("whsec_"):
        return None
    key = base64.b64decode(secret[len("whsec_"):])
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    mac = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_valid(secret, msg_id, timestamp, header, body):
    if not (secret and msg_id and timestamp and header):
        return False
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE_S:
            return False
    except ValueError:
        return False
    want = expected_signature(secret, msg_id, timestamp, body)
    # the header may carry several signatures (key rotation), space-separated
    return want is not None and any(hmac.compare_digest(want, s) for s in header.split(" "))


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.secrets = {}
        self.fail = {}


def handler_for(state, record):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path.startswith("/_control/"):
                q = parse_qs(url.query)
                path = q.get("path", [""])[0]
                with state.lock:
                    if url.path == "/_control/secret":
                        state.secrets[path] = body.decode().strip()
                    elif url.path == "/_control/fail":
                        state.fail[path] = int(q.get("n", ["0"])[0])
                return self.answer(204)
            msg_id = self.headers.get("webhook-id")
            ts = self.headers.get("webhook-timestamp")
            with state.lock:
                secret = state.secrets.get(url.path)
                owed = state.fail.get(url.path, 0)
                if owed > 0:
                    state.fail[url.path] = owed - 1
            valid = signature_valid(secret, msg_id, ts, self.headers.get("webhook-signature"), body)
            try:
                event = json.loads(body)
            except ValueError:
                event = {}
            status = 401 if not valid else 500 if owed > 0 else 200
            record.write({"path": url.path, "id": msg_id, "timestamp": ts, "valid": valid,
                          "status": status, "type": event.get("type"), "data": event.get("data"),
                          "content_type": self.headers.get("Content-Type")})
            self.answer(status)

    return Handler


def main():
    if len(sys.argv) != 4 or sys.argv[1] != "serve":
        sys.exit("usage: webhook_receiver.py serve PORTFILE RECORD")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(State(), Recorder(sys.argv[3])))
    serve_announced(server, sys.argv[2])


if __name__ == "__main__":
    main()
