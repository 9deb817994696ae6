#!/usr/bin/env python3
"""mfa_users.py - the set-up of run.sh's mfa/verify row, through the API.

Usage: mfa_users.py URL COUNT PASSWORD PREFIX OUT

Signs up COUNT users (emails PREFIX-<n>@example.com), enrols and confirms
a TOTP factor for each (POST /api/v1/users/me/mfa/totp, then .../confirm),
logs each in once more for an mfa_token, and writes one line per user to
OUT: "<mfa_token> <code>", the code being the factor's TOTP code (RFC 6238:
SHA-1, 6 digits, 30 s) for the step current when the file is written.

Why this shape: a verify consumes its mfa_token and a factor takes a step
once, so every request of the run needs its own login and its own factor;
logins cost an argon2id hash each, so they are made here and the run
measures the verifies alone. A factor is confirmed with the code of the
step before the current one (the plugin's window accepts it), so the code
written at the end, of a later step, is past the factor's last_counter,
and it stays good for at least the next 30 s.
"""
import base64
import hashlib
import hmac
import http.client
import json
import struct
import sys
import threading
import time
import urllib.parse

PERIOD = 30


def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def now_step():
    return int(time.time()) // PERIOD


class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

    def post(self, path, body, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        self.conn.request("POST", path, json.dumps(body), headers)
        answer = self.conn.getresponse()
        data = answer.read()
        if answer.status // 100 != 2:
            raise RuntimeError("POST %s: HTTP %d: %s" % (path, answer.status, data[:300]))
        return json.loads(data)


def one_user(client, email, password):
    """a confirmed TOTP factor and a fresh mfa_token: (mfa_token, secret)"""
    login = {"email": email, "password": password}
    access = client.post("/api/v1/auth/signup", login)["access_token"]
    factor = client.post("/api/v1/users/me/mfa/totp", {}, access)
    client.post("/api/v1/users/me/mfa/%s/confirm" % factor["factor_id"],
                {"code": totp(factor["secret"], now_step() - 1)}, access)
    signin = client.post("/api/v1/auth/login", login)
    if not signin.get("mfa_required"):
        raise RuntimeError("the login of %s asked for no second factor" % email)
    return signin["mfa_token"], factor["secret"]


def main():
    url, count, password, prefix, out = sys.argv[1:6]
    count = int(count)
    made = [None] * count
    failures = []
    next_user = [0]
    lock = threading.Lock()

    def worker():
        client = Client(url)
        while not failures:
            with lock:
                n = next_user[0]
                next_user[0] += 1
            if n >= count:
                return
            try:
                made[n] = one_user(client, "%s-%d@example.com" % (prefix, n), password)
            except Exception as e:  # noqa: BLE001 - reported and fatal
                failures.append(e)

    # a few more clients than cores: the hashing runs on the daemon's workers
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        sys.exit("mfa_users: %s" % failures[0])
    step = now_step()
    with open(out, "w") as f:
        for token, secret in made:
            f.write("%s %s\n" % (token, totp(secret, step)))


if __name__ == "__main__":
    main()
