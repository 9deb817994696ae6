"""standin_common.py - what every loopback stand-in of an outside service
(tests/integration/*_standin.py) does for the tests: keep the record they
read, one JSON object a line appended by any of the stand-in's threads, and
serve once the port it listens on is written where the test waits for it."""
import json
import os
import signal
import sys
import threading


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, rec):
        with self.lock, open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")


def serve_announced(server, ready):
    """Write server's port to the file ready (whole, then renamed, so a
    reader never sees half of it) and serve until SIGTERM."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(ready + ".tmp", ready)
    server.serve_forever()
