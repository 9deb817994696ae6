#!/usr/bin/env python3
"""facebook_standin.py - a Facebook Login and Graph API stand-in on
127.0.0.1 for the oauth tests, speaking Facebook's wire format (Python 3
stdlib only).

  facebook_standin.py serve READY RECORD APP_ID APP_SECRET REDIRECT_URI...
      Serves on a free port of 127.0.0.1 and writes the port to READY
      (written whole, then renamed) once it listens. It runs until SIGTERM.
      REDIRECT_URI...: the app's valid OAuth redirect URIs, matched exactly
      (Facebook's strict mode).

Endpoints ({v}: any Graph version, "v23.0"):
  GET /{v}/dialog/oauth      the login dialog. The test user signs in and
      consents at once: 302 to redirect_uri?code=...&state=...#_=_ (the
      fragment Facebook adds). A wrong client_id or a redirect_uri not
      registered gets Facebook's error page (400, HTML, no redirect), as
      does a code_challenge_method other than S256. Stand-in parameters, as
      the user's choices on the real pages: standin_user=alice|bob (who
      signs in; default alice), standin_deny=1 (the user cancels: 302 with
      error=access_denied&error_code=200&error_reason=user_denied).
      The email permission is granted only when scope names "email".
  GET|POST /{v}/oauth/access_token   client_id, client_secret, redirect_uri,
      code, code_verifier (query or form): {"access_token", "token_type":
      "bearer", "expires_in"}, or Graph's error objects. A code lives 10
      minutes and is taken by its first use, whatever the outcome.
  GET /{v}/me   fields=..., the token as access_token or in Authorization
      (Bearer or OAuth), and appsecret_proof = hex HMAC-SHA256(app secret,
      token), required as with the app's "Require App Secret" setting.

Users: alice (email alice@example.com, a picture) and bob (signed up with a
phone number: no email, the default silhouette).

Control (the test's switches, not Facebook's):
  POST /_standin/fail      endpoint=token|me&mode=500|rate_limit|html|slow|off:
      answer that endpoint with Graph's 500 (code 2, transient), its
      application rate limit (code 4), a 200 that is an HTML page (what a
      proxy in the way might send), or after 3 s
  POST /_standin/expire    every code issued so far expires

Errors are Graph's: {"error": {"message", "type", "code", "error_subcode"?,
"is_transient"?, "fbtrace_id"}}. Every request becomes one JSON line in
RECORD: {"endpoint", "method", "path", "params", "status", "error_code",
"fbtrace_id"} and, by endpoint, "user" and "code" (dialog), "access_token"
and "secret_ok" (token), "proof" ("ok", "wrong" or "missing") and "via"
("header" or "query") (me).
"""
import base64
import hashlib
import hmac
import http.server
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse

from standin_common import Recorder, serve_announced

CODE_TTL = 600
TOKEN_TTL = 5183944  # what Facebook answers for a web login's token
VERSION = re.compile(r"^/v[0-9]{1,3}\.[0-9]{1,2}(/.*)$")

USERS = {
    "alice": {"id": "10229876543210001", "name": "Alice Example", "first_name": "Alice",
              "last_name": "Example", "email": "alice@example.com", "silhouette": False},
    "bob": {"id": "10229876543210002", "name": "Bob Phoneonly", "first_name": "Bob",
            "last_name": "Phoneonly", "email": None, "silhouette": True},
}
ME_FIELDS = {"id", "name", "email", "first_name", "last_name", "picture"}

# Graph's error objects: (HTTP status, code, subcode, type, message)
ERRORS = {
    "bad_app": (400, 101, None, "OAuthException",
                "Error validating application. Invalid application ID."),
    "bad_secret": (400, 1, None, "OAuthException", "Error validating client secret."),
    "no_code": (400, 100, None, "OAuthException", "Missing authorization code"),
    "bad_code": (400, 100, None, "OAuthException", "Invalid verification code format."),
    "used_code": (400, 100, 36009, "OAuthException", "This authorization code has been used."),
    "expired_code": (400, 100, 36007, "OAuthException", "This authorization code has expired."),
    "bad_redirect": (400, 100, 36008, "OAuthException",
                     "Error validating verification code. Please make sure your redirect_uri "
                     "is identical to the one you used in the OAuth dialog request"),
    "bad_verifier": (400, 100, None, "OAuthException", "Invalid code verifier."),
    "bad_field": (400, 100, None, "OAuthException", None),  # the message names the field
    "no_token": (400, 2500, None, "OAuthException",
                 "An active access token must be used to query information about the "
                 "current user."),
    "bad_token": (400, 190, None, "OAuthException",
                  "Invalid OAuth access token - Cannot parse access token"),
    "no_proof": (400, 100, None, "GraphMethodException",
                 "API calls from the server require an appsecret_proof argument"),
    "bad_proof": (400, 100, None, "GraphMethodException",
                  "Invalid appsecret_proof provided in the API argument"),
    "rate_limit": (400, 4, None, "OAuthException", "(#4) Application request limit reached"),
    "server": (500, 2, None, "OAuthException",
               "An unexpected error has occurred. Please retry your request later."),
}
TRANSIENT = {"rate_limit", "server"}


def fbtrace_id():
    return secrets.token_urlsafe(8)


def s256(verifier):
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "facebook-standin"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype, headers=()):
        # recorded before the answer leaves: a test that has the answer
        # finds the request in the record
        self.server.recorder.write(self.rec)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def json(self, status, doc):
        self.send(status, json.dumps(doc).encode(), "application/json; charset=UTF-8")

    def graph_error(self, rec, name, message=None):
        status, code, subcode, kind, text = ERRORS[name]
        err = {"message": message or text, "type": kind, "code": code}
        if subcode is not None:
            err["error_subcode"] = subcode
        if name in TRANSIENT:
            err["is_transient"] = True
        err["fbtrace_id"] = rec["fbtrace_id"] = fbtrace_id()
        rec["status"], rec["error_code"] = status, code
        self.json(status, {"error": err})

    def error_page(self, rec, title):
        """Facebook's error page in the dialog: no redirect, the user reads it."""
        rec["status"] = 400
        body = ("<!DOCTYPE html><html><head><title>Error</title></head><body><h1>%s</h1>"
                "</body></html>" % title).encode()
        self.send(400, body, "text/html; charset=utf-8")

    def params(self):
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length", "0") or "0")
        if length:
            body = self.rfile.read(length).decode("utf-8", "replace")
            params.update(urllib.parse.parse_qsl(body, keep_blank_values=True))
        return url.path, params

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        path, params = self.params()
        rec = self.rec = {"endpoint": None, "method": method, "path": path, "params": params,
                          "status": 200, "error_code": None, "fbtrace_id": None}
        m = VERSION.match(path)
        rest = m.group(1) if m else path
        if path.startswith("/_standin/") and method == "POST":
            rec["endpoint"] = "control"
            self.control(rec, path[len("/_standin/"):], params)
        elif rest == "/dialog/oauth" and method == "GET":
            rec["endpoint"] = "dialog"
            self.dialog(rec, params)
        elif rest == "/oauth/access_token":
            rec["endpoint"] = "token"
            if self.failing(rec, "token"):
                self.access_token(rec, params)
        elif rest == "/me" and method == "GET":
            rec["endpoint"] = "me"
            if self.failing(rec, "me"):
                self.me(rec, params)
        else:
            rec["status"] = 404
            self.json(404, {"error": {"message": "Unknown path components: %s" % path,
                                      "type": "OAuthException", "code": 2500,
                                      "fbtrace_id": fbtrace_id()}})

    def control(self, rec, what, params):
        if what == "fail" and params.get("endpoint") in ("token", "me"):
            self.server.fail[params["endpoint"]] = params.get("mode", "off")
        elif what == "expire":
            with self.server.lock:
                for grant in self.server.codes.values():
                    grant["expires"] = 0
        else:
            rec["status"] = 404
        self.send(rec["status"], b"", "text/plain")

    def failing(self, rec, endpoint):
        """Answers with the switched-on failure; True when the endpoint is to
        answer normally."""
        mode = self.server.fail.get(endpoint, "off")
        if mode == "500":
            self.graph_error(rec, "server")
        elif mode == "rate_limit":
            self.graph_error(rec, "rate_limit")
        elif mode == "html":
            rec["status"] = 200
            self.send(200, b"<!DOCTYPE html><html><body>Sorry</body></html>",
                      "text/html; charset=utf-8")
        elif mode == "slow":
            time.sleep(3)
        return mode in ("off", "slow")

    def dialog(self, rec, params):
        conf = self.server.conf
        redirect = params.get("redirect_uri", "")
        if params.get("client_id") != conf["app_id"]:
            return self.error_page(rec, "Invalid App ID")
        if redirect not in conf["redirect_uris"]:
            return self.error_page(rec, "URL blocked: This redirect failed because the "
                                   "redirect URI is not whitelisted in the app's Client "
                                   "OAuth Settings.")
        if params.get("response_type", "code") != "code":
            return self.error_page(rec, "Sorry, something went wrong.")
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method") != "S256":
            return self.error_page(rec, "Invalid code_challenge_method")
        answer = {"state": params["state"]} if "state" in params else {}
        user = params.get("standin_user", "alice")
        rec["user"] = user
        if user not in USERS:
            return self.error_page(rec, "No such test user")
        if params.get("standin_deny") == "1":
            answer.update(error="access_denied", error_code="200",
                          error_description="Permissions error", error_reason="user_denied")
        else:
            code = secrets.token_urlsafe(48)
            scopes = set(re.split(r"[ ,]+", params.get("scope", "")))
            with self.server.lock:
                self.server.codes[code] = {
                    "user": user, "redirect_uri": redirect, "challenge": challenge,
                    "email": "email" in scopes, "expires": time.time() + CODE_TTL}
            answer["code"] = rec["code"] = code
        sep = "&" if "?" in redirect else "?"
        rec["status"] = 302
        self.send(302, b"", "text/html; charset=utf-8",
                  [("Location", redirect + sep + urllib.parse.urlencode(answer) + "#_=_")])

    def access_token(self, rec, params):
        conf = self.server.conf
        if params.get("client_id") != conf["app_id"]:
            return self.graph_error(rec, "bad_app")
        rec["secret_ok"] = hmac.compare_digest(params.get("client_secret", ""),
                                               conf["app_secret"])
        if not rec["secret_ok"]:
            return self.graph_error(rec, "bad_secret")
        code = params.get("code")
        if not code:
            return self.graph_error(rec, "no_code")
        with self.server.lock:
            grant = self.server.codes.get(code)
            if grant is not None:
                self.server.codes[code] = dict(grant, used=True)
        if grant is None:
            return self.graph_error(rec, "bad_code")
        if grant.get("used"):
            return self.graph_error(rec, "used_code")
        if time.time() > grant["expires"]:
            return self.graph_error(rec, "expired_code")
        if params.get("redirect_uri") != grant["redirect_uri"]:
            return self.graph_error(rec, "bad_redirect")
        verifier = params.get("code_verifier")
        if grant["challenge"] and (not verifier or not hmac.compare_digest(
                s256(verifier), grant["challenge"])):
            return self.graph_error(rec, "bad_verifier")
        token = "EAA" + secrets.token_urlsafe(96).replace("-", "").replace("_", "")
        with self.server.lock:
            self.server.tokens[token] = {"user": grant["user"], "email": grant["email"]}
        rec["access_token"] = token
        self.json(200, {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_TTL})

    def me(self, rec, params):
        token, rec["via"] = params.get("access_token"), "query"
        auth = self.headers.get("Authorization", "")
        if not token and auth.split(" ")[0] in ("Bearer", "OAuth"):
            token, rec["via"] = auth.partition(" ")[2].strip(), "header"
        if not token:
            return self.graph_error(rec, "no_token")
        grant = self.server.tokens.get(token)
        if grant is None:
            return self.graph_error(rec, "bad_token")
        want = hmac.new(self.server.conf["app_secret"].encode(), token.encode(),
                        hashlib.sha256).hexdigest()
        proof = params.get("appsecret_proof")
        rec["proof"] = "missing" if not proof else (
            "ok" if hmac.compare_digest(proof, want) else "wrong")
        if rec["proof"] != "ok":
            return self.graph_error(rec, "no_proof" if not proof else "bad_proof")
        fields = [f for f in params.get("fields", "id,name").split(",") if f]
        unknown = [f for f in fields if f not in ME_FIELDS]
        if unknown:
            return self.graph_error(rec, "bad_field", "(#100) Tried accessing nonexisting "
                                    "field (%s) on node type (User)" % unknown[0])
        self.json(200, self.profile(grant, fields))

    def profile(self, grant, fields):
        user = USERS[grant["user"]]
        doc = {}
        for f in fields:
            if f == "picture":
                url = ("https://static.xx.fbcdn.net/rsrc.php/v1/yi/r/odA9sNLrE86.jpg"
                       if user["silhouette"] else
                       "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=%s"
                       "&height=50&width=50&ext=1767225600&hash=AbZ" % user["id"])
                doc["picture"] = {"data": {"height": 50, "is_silhouette": user["silhouette"],
                                           "url": url, "width": 50}}
            elif f == "email":
                if grant["email"] and user["email"]:
                    doc["email"] = user["email"]
            else:
                doc[f] = user[f]
        doc.setdefault("id", user["id"])  # Graph always answers the node's id
        return doc


class StandIn(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, conf, recorder):
        super().__init__(("127.0.0.1", 0), Handler)
        self.conf, self.recorder = conf, recorder
        self.lock = threading.Lock()
        self.codes, self.tokens, self.fail = {}, {}, {}


def serve(argv):
    ready, record, app_id, app_secret = argv[:4]
    conf = {"app_id": app_id, "app_secret": app_secret, "redirect_uris": argv[4:]}
    serve_announced(StandIn(conf, Recorder(record)), ready)


def main():
    if len(sys.argv) >= 7 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
