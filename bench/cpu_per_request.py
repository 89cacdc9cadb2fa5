#!/usr/bin/env python3
"""CPU time per request of Kiln and PocketBase, side by side, on loopback.

Each server runs pinned to core 0, wrk pinned to core 1. For each scenario the server's CPU time
(utime+stime from /proc/PID/stat) is read before and after a bounded wrk run and divided by the
number of requests wrk completed. Runs alternate servers (A B A B) and report medians.

    bench/cpu_per_request.py --kiln target/release/kiln --pocketbase /path/to/pocketbase [--seconds 5] [--rounds 3]

Needs wrk (Debian package). Loopback only; every run is bounded in time.
"""
import argparse, json, os, shutil, statistics, subprocess, tempfile, time, urllib.request

TICK = os.sysconf("SC_CLK_TCK")
EMAIL, PASSWORD = "bench@example.com", "benchpassword123"
ROWS = 20000
# The list scenario's filter selects 500 of the ROWS items through the index on n.
LIST_LO, LIST_HI = 12000, 12500


def http(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Server:
    def __init__(self, name, binary, port):
        self.name, self.port = name, port
        self.dir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        data = os.path.join(self.dir, "data")
        subprocess.run([binary, "superuser", "upsert", EMAIL, PASSWORD, "--dir", data], check=True, capture_output=True)
        self.proc = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--http", f"127.0.0.1:{port}", "--dir", data],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                http("GET", self.base + "/api/health")
                break
            except Exception:
                time.sleep(0.05)
        self.token = http("POST", self.base + "/api/collections/_superusers/auth-with-password",
                          {"identity": EMAIL, "password": PASSWORD})["token"]
        http("POST", self.base + "/api/collections", {
            "name": "items", "type": "base", "listRule": "", "viewRule": "", "createRule": "",
            "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"},
                       {"name": "created", "type": "autodate", "onCreate": True}],
            "indexes": ["CREATE INDEX idx_items_n ON items (n)"]}, self.token)
        http("POST", self.base + "/api/collections", {
            "name": "writes", "type": "base", "listRule": "", "viewRule": "", "createRule": "",
            "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]}, self.token)
        time.sleep(1.0)
        self.idle_rss = rss_kb(self.proc.pid)

    def seed(self, rows):
        """Inserts `rows` items (n = 0..rows-1) with 8 client threads."""
        from concurrent.futures import ThreadPoolExecutor
        url = self.base + "/api/collections/items/records"
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda i: http("POST", url, {"title": f"item {i}", "n": i})["id"], range(rows)))
        self.id = ids[rows // 2]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def wrk(url, seconds, script=None, conns=8):
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", url]
    if script:
        cmd[4:4] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    reqs = 0
    for line in out.splitlines():
        line = line.strip()
        if "requests in" in line:
            reqs = int(line.split()[0])
    non2xx = 0
    for line in out.splitlines():
        if "Non-2xx" in line:
            non2xx = int(line.split()[-1])
    return reqs, non2xx


def measure(server, scenario, seconds, scripts):
    url = {"get": f"{server.base}/api/collections/items/records/{server.id}",
           "create": f"{server.base}/api/collections/writes/records",
           "list": f"{server.base}/api/collections/items/records?filter=(n%3E%3D{LIST_LO}%20%26%26%20n%3C{LIST_HI})&sort=-n&perPage=20"}[scenario]
    before = cpu_ticks(server.proc.pid)
    reqs, bad = wrk(url, seconds, scripts.get(scenario))
    used = cpu_ticks(server.proc.pid) - before
    return {"requests": reqs, "errors": bad, "cpu_us_per_req": used / TICK * 1e6 / max(reqs, 1), "rps": reqs / seconds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--pocketbase", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    create = os.path.join(tmp, "create.lua")
    with open(create, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = \'{"title":"bench","n":7}\'\nwrk.headers["Content-Type"] = "application/json"\n')
    scripts = {"create": create}
    servers = {"kiln": Server("kiln", args.kiln, 18090), "pocketbase": Server("pocketbase", args.pocketbase, 18091)}
    results = {name: {s: [] for s in ("get", "create", "list")} for name in servers}
    try:
        for srv in servers.values():
            srv.seed(ROWS)
        for scenario in ("get", "list", "create"):
            for _ in range(args.rounds):
                for name, srv in servers.items():
                    results[name][scenario].append(measure(srv, scenario, args.seconds, scripts))
        rss = {name: srv.idle_rss for name, srv in servers.items()}
    finally:
        for srv in servers.values():
            srv.stop()
    print(f"{'scenario':<8} {'server':<11} {'req/s':>9} {'CPU µs/req':>11} {'errors':>7}")
    print(f"{ROWS} rows; list = filter on an indexed range of 500 rows, sort -n, perPage 20, with total")
    for scenario in ("get", "list", "create"):
        med = {}
        for name in servers:
            runs = results[name][scenario]
            cpu = statistics.median(r["cpu_us_per_req"] for r in runs)
            rps = statistics.median(r["rps"] for r in runs)
            med[name] = cpu
            print(f"{scenario:<8} {name:<11} {rps:>9.0f} {cpu:>11.1f} {sum(r['errors'] for r in runs):>7}")
        print(f"{'':<8} {'ratio':<11} PocketBase/Kiln CPU per request = {med['pocketbase'] / med['kiln']:.1f}x")
    print(f"idle RSS after setup: kiln {rss['kiln'] / 1024:.1f} MB, pocketbase {rss['pocketbase'] / 1024:.1f} MB")


if __name__ == "__main__":
    main()
