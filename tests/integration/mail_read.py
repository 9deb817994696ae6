#!/usr/bin/env python3
"""mail_read.py FILE WHAT - one message the SMTP sink stored, as the mail
tests need it. WHAT: envelope-to, from, to, subject (RFC 2047 decoded),
type (the top Content-Type), parts (the content types of the leaves),
text, html (decoded bodies), token (from the first link in the text)."""
import email
import email.policy
import re
import sys


def main():
    path, what = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    leaves = [p for p in msg.walk() if not p.is_multipart()]
    if what == "envelope-to":
        print(msg["X-Envelope-To"])
    elif what in ("from", "to", "subject", "date", "message-id"):
        print(str(msg[what]))
    elif what == "type":
        print(msg.get_content_type())
    elif what == "parts":
        print(" ".join(p.get_content_type() for p in leaves))
    elif what in ("text", "html"):
        for p in leaves:
            if p.get_content_type() == "text/" + ("plain" if what == "text" else "html"):
                sys.stdout.write(p.get_content())
    elif what == "token":
        for p in leaves:
            if p.get_content_type() == "text/plain":
                m = re.search(r"[?&]token=([A-Za-z0-9_-]+)", p.get_content())
                if m:
                    print(m.group(1))
                    return
        sys.exit(1)
    else:
        sys.exit("unknown: " + what)


if __name__ == "__main__":
    main()
