#!/usr/bin/env python3
"""twilio_standin.py - a Twilio stand-in on 127.0.0.1 for the SMS tests,
speaking the wire format of Twilio's REST API 2010-04-01 (Python 3 stdlib
only).

  twilio_standin.py serve READY RECORD ACCOUNT_SID AUTH_TOKEN [API_KEY_SID API_KEY_SECRET]
      Serves POST /2010-04-01/Accounts/{AccountSid}/Messages.json on a free
      port of 127.0.0.1 and writes the port to READY (written whole, then
      renamed) once it listens. It runs until SIGTERM.
  twilio_standin.py callback URL AUTH_TOKEN [--wrong-signature] NAME=VALUE...
      Posts one status callback to URL, form-encoded and signed as Twilio
      signs it (or with a wrong signature), and prints the HTTP status.
      NAME and VALUE are percent-decoded first, so a name may hold a '='
      written %3D (then sent as %3D, as Twilio would).

Requests need HTTP basic auth with ACCOUNT_SID:AUTH_TOKEN or, when given,
API_KEY_SID:API_KEY_SECRET, on the same account; otherwise 401 with
Twilio's error object, code 20003. The form is checked as Twilio does
(To in E.164, a Body, From or MessagingServiceSid) and a good one gets 201
with a Message resource (sid "SM" + 32 hex, status "queued"). Errors are
Twilio's JSON: {"code", "message", "more_info", "status"}.

Twilio's magic test numbers answer as Twilio answers them:
  To   +15005550001  400 21211 invalid 'To' number
  To   +15005550002  400 21612 'To' cannot be routed
  To   +15005550003  400 21408 no permission for that region
  To   +15005550004  400 21610 the recipient unsubscribed (STOP)
  To   +15005550009  400 21614 'To' is not a mobile number
  From +15005550001  400 21212 invalid 'From' number
  From +15005550007  400 21606 'From' not owned by the account
  From +15005550008  400 21611 the 'From' queue is full
and numbers of this stand-in's own, for what Twilio has no number for:
  To   +15005550429  429 20429 with Retry-After: 7
  To   +15005550500  500 20500
  To   +15005550503  503 20503 with Retry-After: 3
  To   +15005550504  answers only after 3 s
  To   +15005550030  delivery reports end in "undelivered", ErrorCode 30003

Every request becomes one JSON line in RECORD: {"type": "request", "status",
"code", "auth_user", "account", "form", "sid"}; "form" holds the decoded
fields, so a test reads the code out of Body. With a StatusCallback, the
stand-in then posts the delivery reports "sent" and "delivered" to it, as
Twilio does, each recorded as {"type": "callback", "url", "params",
"signature", "answer"} (answer: the HTTP status, or the error).
"""
import base64
import datetime
import email.utils
import hashlib
import hmac
import http.server
import json
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from standin_common import Recorder, serve_announced

E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

TO_ERRORS = {
    "+15005550001": (400, 21211, "The 'To' number %s is not a valid phone number."),
    "+15005550002": (400, 21612, "The 'To' phone number: %s, is not currently reachable "
                                 "using the 'From' phone number via SMS."),
    "+15005550003": (400, 21408, "Permission to send an SMS has not been enabled for the "
                                 "region indicated by the 'To' number: %s."),
    "+15005550004": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (400, 21614, "'To' number %s is not a valid mobile number"),
    "+15005550429": (429, 20429, "Too Many Requests"),
    "+15005550500": (500, 20500, "An internal server error has occurred"),
    "+15005550503": (503, 20503, "Service Unavailable"),
}
FROM_ERRORS = {
    "+15005550001": (400, 21212, "The 'From' number %s is not a valid phone number, "
                                 "shortcode, or alphanumeric sender ID."),
    "+15005550007": (400, 21606, "The From phone number %s is not a valid, SMS-capable "
                                 "inbound phone number or short code for your account."),
    "+15005550008": (400, 21611, "This 'From' number has exceeded the maximum number of "
                                 "queued messages"),
}
SLOW_TO = "+15005550504"
UNDELIVERED_TO = "+15005550030"


def twilio_signature(token, url, params):
    """base64(HMAC-SHA1(token, url + name + value of each parameter, sorted
    by name)), as Twilio's request validators compute it."""
    text = url + "".join(k + v for k, v in sorted(params))
    mac = hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def post_callback(url, token, params, wrong=False):
    """POST params to url signed with token (or not quite); the HTTP status,
    or the error as text."""
    sig = twilio_signature(token + ("x" if wrong else ""), url, params)
    req = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sig, "User-Agent": "TwilioProxy/1.1"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, sig
    except urllib.error.HTTPError as e:
        return e.code, sig
    except OSError as e:
        return str(e), sig


def rfc2822_now():
    return email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc),
                                       usegmt=False).replace("-0000", "+0000")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "twilio-standin"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, doc, headers=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message, headers=()):
        self.answer(status, {"code": code, "message": message,
                             "more_info": "https://www.twilio.com/docs/errors/%d" % code,
                             "status": status}, headers)
        return status, code

    def authenticated(self, account):
        """The user of good basic-auth credentials for account, else None."""
        conf = self.server.conf
        got = self.headers.get("Authorization", "")
        if not got.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(got[6:], validate=True).decode().partition(":")
        except ValueError:
            return None
        ok = account == conf["account_sid"] and (
            (user == conf["account_sid"] and password == conf["auth_token"]) or
            (conf["api_key_sid"] and user == conf["api_key_sid"] and
             password == conf["api_key_secret"]))
        return user if ok else None

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode("utf-8", "replace")
        m = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", self.path)
        rec = {"type": "request", "path": self.path, "account": m.group(1) if m else None,
               "auth_user": None, "form": None, "sid": None}
        if not m:
            status, code = self.error(404, 20404, "The requested resource %s was not found"
                                      % self.path)
        else:
            rec["auth_user"] = self.authenticated(m.group(1))
            status, code = self.create_message(rec, raw)
        rec["status"], rec["code"] = status, code
        self.server.recorder.write(rec)
        if status == 201 and rec["form"].get("StatusCallback"):
            threading.Thread(target=self.server.report, daemon=True,
                             args=(rec["form"]["StatusCallback"], rec["sid"], rec["form"])).start()

    def create_message(self, rec, raw):
        if rec["auth_user"] is None:
            return self.error(401, 20003, "Authenticate")
        if not self.headers.get("Content-Type", "").startswith(
                "application/x-www-form-urlencoded"):
            return self.error(400, 21601, "Content-Type must be "
                              "application/x-www-form-urlencoded")
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        rec["form"] = form
        to, frm, mg = form.get("To", ""), form.get("From", ""), form.get("MessagingServiceSid", "")
        if not to:
            return self.error(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return self.error(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        if not frm and not mg:
            return self.error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter "
                              "is required to send a message")
        if frm and not E164.match(frm):
            return self.error(400, 21212, FROM_ERRORS["+15005550001"][2] % frm)
        if mg and not SID.match(mg):
            return self.error(400, 21705, "The Messaging Service Sid %s is invalid." % mg)
        if not form.get("Body"):
            return self.error(400, 21602, "Message body is required.")
        if frm in FROM_ERRORS:
            status, code, text = FROM_ERRORS[frm]
            return self.error(status, code, text.replace("%s", frm))
        if to in TO_ERRORS:
            status, code, text = TO_ERRORS[to]
            extra = {429: [("Retry-After", "7")], 503: [("Retry-After", "3")]}.get(status, [])
            return self.error(status, code, text.replace("%s", to), extra)
        if to == SLOW_TO:
            time.sleep(3)
        return self.created(rec, form)

    def created(self, rec, form):
        account = self.server.conf["account_sid"]
        sid = "SM" + secrets.token_hex(16)
        now = rfc2822_now()
        rec["sid"] = sid
        self.answer(201, {
            "account_sid": account, "api_version": "2010-04-01", "body": form["Body"],
            "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0", "num_segments": "1", "price": None, "price_unit": None,
            "sid": sid, "status": "queued",
            "subresource_uris": {
                "media": "/2010-04-01/Accounts/%s/Messages/%s/Media.json" % (account, sid)},
            "to": form["To"], "uri": "/2010-04-01/Accounts/%s/Messages/%s.json" % (account, sid),
        })
        return 201, None


class StandIn(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, conf, recorder):
        super().__init__(("127.0.0.1", 0), Handler)
        self.conf, self.recorder = conf, recorder

    def report(self, url, sid, form):
        """Twilio's status callbacks for one message: sent, then delivered
        (or undelivered)."""
        final = "undelivered" if form["To"] == UNDELIVERED_TO else "delivered"
        for status in ("sent", final):
            time.sleep(0.05)
            params = [("AccountSid", self.conf["account_sid"]), ("ApiVersion", "2010-04-01"),
                      ("From", form.get("From", "")), ("MessageSid", sid),
                      ("MessageStatus", status), ("SmsSid", sid), ("SmsStatus", status),
                      ("To", form["To"])]
            if form.get("MessagingServiceSid"):
                params.append(("MessagingServiceSid", form["MessagingServiceSid"]))
            if status == "undelivered":
                params.append(("ErrorCode", "30003"))
            answer, sig = post_callback(url, self.conf["auth_token"], params)
            self.recorder.write({"type": "callback", "url": url, "params": dict(params),
                                 "signature": sig, "answer": answer})


def serve(argv):
    ready, record, account_sid, auth_token = argv[:4]
    conf = {"account_sid": account_sid, "auth_token": auth_token,
            "api_key_sid": argv[4] if len(argv) > 5 else None,
            "api_key_secret": argv[5] if len(argv) > 5 else None}
    serve_announced(StandIn(conf, Recorder(record)), ready)


def callback(argv):
    wrong = "--wrong-signature" in argv
    args = [a for a in argv if a != "--wrong-signature"]
    url, token = args[0], args[1]
    params = [tuple(urllib.parse.unquote(p) for p in a.split("=", 1)) for a in args[2:]]
    answer, _ = post_callback(url, token, params, wrong)
    print(answer)
    return 0 if isinstance(answer, int) else 1


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "callback":
        sys.exit(callback(sys.argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
