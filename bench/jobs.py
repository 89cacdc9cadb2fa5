#!/usr/bin/env python3
"""Jobs per second through Kiln's job queue (PocketBase has none), on SQLite or PostgreSQL.

    python3 bench/jobs.py                      # 5,000 no-op jobs on SQLite
    python3 bench/jobs.py --postgres URL       # on PostgreSQL (a fresh schema), PostgreSQL's CPU counted
    python3 bench/jobs.py --jobs 20000 --handler-ms 0

One `kiln serve` (target/release/kiln, built first unless --no-build) pinned to core 0, with a pb_hooks
file whose `jobAdd("bench", …)` handler does nothing (or sleeps --handler-ms). One request queues all the
jobs in one transaction ($jobs.enqueue inside $app.runInTransaction) to run at a time a few seconds ahead;
from that time the script polls the count of done jobs. It prints the jobs per second from the due time
to the last done job, and the server's (and PostgreSQL's) CPU per job over that window. Everything runs on
127.0.0.1 and is bounded in time.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the suite's helpers: http, free_port, proc_stat, tree_sample)

HOOKS = """
jobAdd("bench", (e) => { if (e.job.payload.ms > 0) sleep(e.job.payload.ms); });
routerAdd("POST", "/api/bench/jobs", (e) => {
  const b = e.requestInfo().body;
  $app.runInTransaction(() => {
    for (let i = 0; i < b.n; i++) $jobs.enqueue("bench", { i, ms: b.ms }, { runAt: b.runAt, backoff: 0 });
  });
  return e.json(200, { n: b.n });
}, $apis.requireSuperuserAuth());
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--handler-ms", type=int, default=0, help="what each handler sleeps (default 0: no-op)")
    ap.add_argument("--postgres", metavar="URL", help="run Kiln on this PostgreSQL database (a fresh schema)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    binary = os.path.join(bench.ROOT, "target", "release", "kiln")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "kiln"], cwd=bench.ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="kiln-jobs-bench-")
    hooks = os.path.join(tmp, "pb_hooks")
    os.makedirs(hooks)
    with open(os.path.join(hooks, "bench.pb.js"), "w") as f:
        f.write(HOOKS)
    env = dict(os.environ)
    pg_pid = None
    if args.postgres:
        env["KILN_DATABASE_URL"] = args.postgres
        env["KILN_DATABASE_SCHEMA"] = f"kiln_jobs_bench_{os.getpid()}"
        d = os.environ.get("KILN_TEST_PG_DIR")
        for f in ([os.path.join(d, "postmaster.pid"), os.path.join(d, "data", "postmaster.pid")] if d else []):
            if os.path.exists(f):
                pg_pid = int(open(f).read().split()[0])
    data = os.path.join(tmp, "data")
    subprocess.run([binary, "superuser", "upsert", bench.EMAIL, bench.PASSWORD, "--dir", data], env=env,
                   check=True, capture_output=True)
    port = bench.free_port()
    base = f"http://127.0.0.1:{port}"
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    proc = subprocess.Popen(pin + [binary, "serve", "--http", f"127.0.0.1:{port}", "--dir", data, "--hooksDir", hooks],
                            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "server.log"), "w"))
    try:
        for _ in range(200):
            try:
                bench.http("GET", base + "/api/health")
                break
            except Exception:
                time.sleep(0.05)
        token = bench.http("POST", base + "/api/collections/_superusers/auth-with-password",
                           {"identity": bench.EMAIL, "password": bench.PASSWORD})["token"]
        due_ms = int(time.time() * 1000) + 3000 + args.jobs // 5
        t = time.time()
        bench.http("POST", base + "/api/bench/jobs", {"n": args.jobs, "ms": args.handler_ms, "runAt": due_ms}, token,
                   timeout=args.timeout)
        queued_s = time.time() - t
        wait = due_ms / 1000 - time.time()
        if wait <= 0:
            sys.exit("bench: queuing took longer than the head start; raise it")
        time.sleep(wait)
        cpu0 = bench.proc_stat(proc.pid)[1]
        pg0 = bench.tree_sample(pg_pid) if pg_pid else None
        start = time.time()
        deadline = start + args.timeout
        done = 0
        while done < args.jobs and time.time() < deadline:
            time.sleep(0.05)
            done = bench.http("GET", base + "/api/jobs?status=done&perPage=1", token=token)["totalItems"]
        elapsed = time.time() - start
        cpu = bench.proc_stat(proc.pid)[1] - cpu0
        pg_cpu = bench.cpu_delta_us(pg0, bench.tree_sample(pg_pid)) if pg_pid else None
        engine = "PostgreSQL" if args.postgres else "SQLite"
        print(f"# Kiln job queue — {engine}, {args.jobs} jobs, handler {args.handler_ms} ms, server on core 0")
        print(f"queued in {queued_s:.2f} s ({args.jobs / queued_s:.0f} jobs/s, one transaction)")
        print(f"done: {done} of {args.jobs} in {elapsed:.2f} s: {done / elapsed:.0f} jobs/s; "
              f"server CPU {cpu / max(done, 1):.0f} µs/job"
              + (f", PostgreSQL CPU {pg_cpu / max(done, 1):.0f} µs/job" if pg_cpu is not None else ""))
        if done < args.jobs:
            sys.exit(1)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
