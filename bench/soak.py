#!/usr/bin/env python3
"""A soak of a growing table: does Kiln hold its pace while every list counts its total?

    python3 bench/soak.py                       # 10 one-minute windows (~11 min), Kiln on SQLite
    python3 bench/soak.py --minutes 3 --binary OTHER_BUILD/kiln   # another build, to compare
    python3 bench/soak.py --postgres URL        # Kiln on PostgreSQL (a fresh schema)

One `kiln serve` (target/release/kiln, built first unless --no-build or --binary) pinned to core 0 with a
collection `items` (title, number `n` indexed, public rules) seeded with --rows rows (`n` = 0…rows−1). Then
kiln-loadgen (core 1) keeps --connections connections busy for --minutes windows of 60 s with
  80 % GET /api/collections/items/records/<a random seeded id>
  15 % POST /api/collections/items/records {"title", "n": random 0…rows−1}   (the table grows)
   5 % GET /api/collections/items/records?filter=(n>=X)&sort=-n&perPage=20   (X random; with its total)
and prints each window's requests/s, latency p50/p99, server CPU per request, rows at its end and RSS, then
the last window against the first. Everything runs on 127.0.0.1 and is bounded in time.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the suite's helpers: Server, Loadgen, seed, http)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=int, default=10, help="one-minute windows (default 10)")
    ap.add_argument("--window", type=float, default=60, help="seconds per window (default 60)")
    ap.add_argument("--rows", type=int, default=20000, help="rows seeded first (default 20,000)")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--binary", help="the kiln binary (default target/release/kiln, built first)")
    ap.add_argument("--postgres", metavar="URL", help="run Kiln on this PostgreSQL database (a fresh schema)")
    ap.add_argument("--lists", type=int, default=5, help="percent of lists (default 5; the rest of the 85 %% are gets)")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    binary = args.binary or os.path.join(bench.ROOT, "target", "release", "kiln")
    loadgen = os.path.join(bench.ROOT, "target", "release", "kiln-loadgen")
    if not args.binary and not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "kiln", "-p", "kiln-loadgen"], cwd=bench.ROOT, check=True)
    if args.postgres:
        bench.KILN_ENV["KILN_DATABASE_URL"] = args.postgres
    srv = bench.Server("kiln", binary)
    lg = bench.Loadgen(loadgen)
    try:
        public = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": ""}
        bench.http("POST", srv.base + "/api/collections",
                   dict(public, name="items", type="base", fields=[bench.text("title"), bench.number("n")] + bench.AUTODATES,
                        indexes=["CREATE INDEX idx_items_n ON items (n)"]), srv.token)
        bench.seed(lg, srv, "items", args.rows)
        rows = args.rows
        mix = [
            "--req", f"{85 - args.lists} GET /api/collections/items/records/b${{rand:{rows}:14}}",
            "--req", f'15 POST /api/collections/items/records {{"title":"soak ${{seq}}","n":${{rand:{rows}}}}}',
        ]
        if args.lists:
            mix += ["--req", f"{args.lists} GET /api/collections/items/records?filter=(n%3E%3D${{rand:{rows}}})"
                             f"&sort=-n&perPage=20"]
        engine = "PostgreSQL" if args.postgres else "SQLite"
        print(f"# Kiln soak — {engine}, {bench.git_rev()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(f"binary {binary}; server on core 0, kiln-loadgen on core 1; {args.connections} connections; "
              f"{85 - args.lists} % get / 15 % create / {args.lists} % list with filter=(n>=X)&sort=-n&perPage=20 "
              f"and its total; "
              f"{rows} rows seeded")
        print(f"{'window':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU µs/req':>10} {'errors':>6} "
              f"{'rows at end':>11} {'RSS MB':>7}")
        windows = []
        seq = rows
        for w in range(args.minutes):
            r = lg.run("http", ["--url", srv.base, "--connections", str(args.connections), "--duration", str(args.window),
                                "--warmup", "0", "--seq-start", str(seq), "--server-pid", str(srv.pid)] + mix,
                       timeout=args.window + 120)
            seq += r["requests"]
            total = bench.http("GET", srv.base + "/api/collections/items/records?perPage=1&fields=id",
                               token=srv.token, timeout=600)["totalItems"]
            windows.append(r)
            print(f"{w + 1:>6} {r['rps']:>8.0f} {r['latency_us']['p50'] / 1000:>7.2f} {r['latency_us']['p99'] / 1000:>7.2f} "
                  f"{r['server_cpu_us_per_req']:>10.1f} {r['errors']:>6} {total:>11} {srv.rss_kb() / 1024:>7.1f}",
                  flush=True)
        first, last = windows[0], windows[-1]
        print(f"last window / first: req/s {last['rps'] / first['rps']:.2f}, p99 {last['latency_us']['p99'] / first['latency_us']['p99']:.2f}, "
              f"CPU/req {last['server_cpu_us_per_req'] / first['server_cpu_us_per_req']:.2f}")
        if any(r["errors"] for r in windows):
            sys.exit("soak: some requests failed")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
