"""Starting Kiln and PocketBase side by side, and a small keep-alive HTTP client for each.

The server start-up (fresh temp data dir, `superuser upsert`, wait for /api/health, superuser token) is
tools/difftest/run.py's `Server`, imported rather than copied.
"""
import http.client
import importlib.util
import json
import os
import shutil
import tempfile
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

_spec = importlib.util.spec_from_file_location("difftest_run", os.path.join(REPO, "tools", "difftest", "run.py"))
difftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(difftest)

SU_EMAIL, SU_PASSWORD = difftest.SU_EMAIL, difftest.SU_PASSWORD
multipart = difftest.multipart


def resolve_binary(b):
    found = shutil.which(b) if os.sep not in b else (b if os.path.exists(b) else None)
    return os.path.abspath(found) if found else None


def private_copy(binary):
    """Copies a binary into a temp dir: target/release/kiln may be rebuilt while the fuzzer runs."""
    d = tempfile.mkdtemp(prefix="rulefuzz-bin-")
    dst = os.path.join(d, os.path.basename(binary))
    shutil.copy2(binary, dst)
    return dst, d


class Response:
    __slots__ = ("status", "ctype", "raw", "json")

    def __init__(self, status, ctype, raw):
        self.status, self.ctype, self.raw = status, ctype, raw
        try:
            self.json = json.loads(raw) if raw.strip() else None
        except ValueError:
            self.json = {"<non-json>": raw.decode("utf-8", "replace")[:500]}


class Client:
    """One server: its process (difftest Server), a keep-alive connection, and the per-server id maps."""

    def __init__(self, label, binary, keep=False, timeout=10.0):
        self.label = label
        self.server = difftest.Server(label, binary, keep=keep)
        self.timeout = timeout
        self.local = threading.local()  # one keep-alive connection per thread (reads run in parallel)
        self.requests = 0
        self.collection_ids = {}  # collection name -> this server's collection id
        self.tokens = {}          # actor name -> this server's token

    def start(self):
        self.server.start()
        self.tokens = {"superuser": self.server.token, "guest": None}
        return self

    def stop(self):
        self.close()
        self.server.stop()

    def alive(self):
        return self.server.proc is not None and self.server.proc.poll() is None

    @property
    def conn(self):
        return getattr(self.local, "conn", None)

    @conn.setter
    def conn(self, value):
        self.local.conn = value

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def call(self, method, path, query=None, body=None, form=None, actor="superuser", token=None):
        """body: JSON-able (sent as JSON); form: {key: str | [str]} sent as multipart/form-data.
        actor: whose token to send (guest: none), unless token is given."""
        if query:
            path += "?" + urllib.parse.urlencode(query)
        headers = {}
        token = token or self.tokens.get(actor)
        if token:
            headers["Authorization"] = token
        data = None
        if form is not None:
            data, headers["Content-Type"] = multipart(form)
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.requests += 1
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                res = self.conn.getresponse()
                raw = res.read()
                if res.getheader("Connection", "").lower() == "close":
                    self.close()
                return Response(res.status, res.getheader("Content-Type", ""), raw)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: retry once on a new one.
                self.close()
                if attempt or not self.alive():
                    raise
            except Exception:
                self.close()
                raise
