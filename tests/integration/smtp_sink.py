#!/usr/bin/env python3
"""smtp_sink.py PORT DIR - a real SMTP server (aiosmtpd, Debian's
python3-aiosmtpd) on 127.0.0.1:PORT for the mail tests. Each message it
accepts becomes DIR/NNNNNN.eml, written whole and then renamed, with the
envelope in X-Envelope-From / X-Envelope-To lines on top. It runs until
SIGTERM; started again on the same DIR it numbers on."""
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.dir = directory
        self.n = len([f for f in os.listdir(directory) if f.endswith(".eml")])

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from, ",".join(envelope.rcpt_tos))
        tmp = os.path.join(self.dir, ".%06d.tmp" % self.n)
        with open(tmp, "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(tmp, os.path.join(self.dir, "%06d.eml" % self.n))
        return "250 Message accepted"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with open(os.path.join(directory, ".ready"), "w"):
            pass
        while True:
            signal.pause()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
