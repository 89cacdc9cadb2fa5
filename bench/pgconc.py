#!/usr/bin/env python3
"""Kiln on PostgreSQL under many concurrent clients, with a delay between Kiln and PostgreSQL.

    python3 bench/pgconc.py --postgres URL                  # 16 and 1,000 clients, 0 and 1 ms each way
    python3 bench/pgconc.py --postgres URL --clients 1000 --delays 1 --duration 20

`kiln-loadgen proxy` relays Kiln's PostgreSQL connections and holds every chunk for --delays ms each way
(no change to the machine's interfaces). One `kiln serve` (pinned to core 0) per delay, on a fresh schema,
with `items` (10,000 rows, public rules). For each number of clients, kiln-loadgen (core 1) keeps that many
connections busy for --duration seconds, 90 % GET of a random record and 10 % PATCH of one; meanwhile the
server's threads and RSS are sampled every 100 ms. Printed per run: requests/s, latency p50/p99, answers
other than 200 (a 503 is a pool checkout that timed out), the most threads and the largest RSS seen.
"""
import argparse
import os
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the suite's helpers: Server, Loadgen, seed, http)


def status_of(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return int(out["Threads"]), int(out["VmRSS"].split()[0])


class Sampler(threading.Thread):
    """The most threads and the largest RSS of `pid`, sampled every 100 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.threads, self.rss_kb, self.done = pid, 0, 0, threading.Event()

    def run(self):
        while not self.done.wait(0.1):
            try:
                t, r = status_of(self.pid)
            except (OSError, KeyError, ValueError):
                return
            self.threads, self.rss_kb = max(self.threads, t), max(self.rss_kb, r)


def through_proxy(url, port):
    u = urlsplit(url)
    netloc = (u.netloc.rsplit("@", 1)[0] + "@" if "@" in u.netloc else "") + f"127.0.0.1:{port}"
    return urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", metavar="URL", required=True)
    ap.add_argument("--clients", default="16,1000", help="comma-separated connection counts (default 16,1000)")
    ap.add_argument("--delays", default="0,1", help="comma-separated ms each way (default 0,1)")
    ap.add_argument("--duration", type=float, default=15)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1,000 sockets each side, inherited
    root = bench.ROOT
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "kiln", "-p", "kiln-loadgen"], cwd=root, check=True)
    binary = os.path.join(root, "target", "release", "kiln")
    lg_bin = os.path.join(root, "target", "release", "kiln-loadgen")
    lg = bench.Loadgen(lg_bin)
    u = urlsplit(args.postgres)
    print(f"# Kiln on PostgreSQL under concurrency — {bench.git_rev()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("server on core 0, kiln-loadgen on core 1; 90 % GET by id / 10 % PATCH by id; PostgreSQL and the delay "
          "proxy on any core")
    print(f"{'delay ms':>8} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8} {'threads':>7} "
          f"{'RSS MB':>7} {'idle threads':>12}")
    for delay in [float(d) for d in args.delays.split(",")]:
        proxy = subprocess.Popen([lg_bin, "proxy", "--to", f"{u.hostname}:{u.port or 5432}", "--delay-ms", str(delay)],
                                 stdout=subprocess.PIPE, text=True)
        srv = None
        try:
            port = int(__import__("json").loads(proxy.stdout.readline())["listening"].rsplit(":", 1)[1])
            bench.KILN_ENV["KILN_DATABASE_URL"] = through_proxy(args.postgres, port)
            srv = bench.Server("kiln", binary)
            public = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": ""}
            bench.http("POST", srv.base + "/api/collections",
                       dict(public, name="items", type="base",
                            fields=[bench.text("title"), bench.number("n")] + bench.AUTODATES), srv.token)
            bench.seed(lg, srv, "items", args.rows)
            time.sleep(2)
            idle_threads, _ = status_of(srv.pid)
            for clients in [int(c) for c in args.clients.split(",")]:
                sampler = Sampler(srv.pid)
                sampler.start()
                r = lg.run("http", ["--url", srv.base, "--connections", str(clients), "--duration", str(args.duration),
                                    "--warmup", "1", "--server-pid", str(srv.pid),
                                    "--req", f"90 GET /api/collections/items/records/b${{rand:{args.rows}:14}}",
                                    "--req", f'10 PATCH /api/collections/items/records/b${{rand:{args.rows}:14}} '
                                             '{"title":"x ${seq}"}'],
                           timeout=args.duration + 180)
                sampler.done.set()
                sampler.join()
                non200 = sum(v for k, v in r["status"].items() if k != "200") + r["io_errors"]
                print(f"{delay:>8g} {clients:>7} {r['rps']:>8.0f} {r['latency_us']['p50'] / 1000:>8.2f} "
                      f"{r['latency_us']['p99'] / 1000:>8.2f} {non200:>8} {sampler.threads:>7} "
                      f"{sampler.rss_kb / 1024:>7.1f} {idle_threads:>12}", flush=True)
                if non200:
                    print(f"         answers: {r['status']}, io errors {r['io_errors']}")
                time.sleep(2)
        finally:
            if srv:
                srv.stop()
            proxy.kill()
            proxy.wait()


if __name__ == "__main__":
    main()
