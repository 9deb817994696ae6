"""standin_record.py - the record the loopback stand-ins of outside services
(tests/integration/*_standin.py) keep for the tests: one JSON object a line,
appended by any of the stand-in's threads."""
import json
import threading


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, rec):
        with self.lock, open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")
