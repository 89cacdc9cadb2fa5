#!/usr/bin/env python3
"""Parity test: PostgreSQL's kiln_strftime (crates/kiln-db/src/pg_functions.sql) against SQLite's strftime.

    python3 crates/kiln-db/tests/strftime_parity.py [--url postgres://...] [--random N] [-v]

Loads pg_functions.sql into a scratch schema (dropped at the end), evaluates the cases of the table below,
a few call shapes with typed arguments, and a seeded batch of random modifier chains on both sides, and
prints each mismatch; the exit code is 1 if there is any. On PostgreSQL text values go in as untyped
parameters (as Kiln binds them) or as a text column, numbers as a double precision column; on SQLite
numbers go in as REAL/INTEGER, and every number is tried again as text on both sides. Values of 'now'
only have to agree within a few seconds.

The reference is Python's sqlite3 module running the SQLite that Kiln bundles (rusqlite's libsqlite3-sys,
version read from Cargo.lock), whose strftime knows more conversions (%e %F %G %V...) and modifiers
('subsec', 'floor'...) than older SQLites: when Python's own SQLite is another version, the bundled
sqlite3.c (found in the cargo registry, or $KILN_SQLITE_C) is compiled once with cc into
$TMPDIR/kiln-sqlite-<version>/ and the script runs itself again against it. Always with TZ=UTC, since
kiln_strftime treats 'localtime' as UTC.

Left out of the table: the differences listed at the top of pg_functions.sql ('localtime'/'utc' after a
date went out of range, where SQLite invents a date and kiln_strftime stays NULL; %V/%G/%g within three
days of -4713-11-24 or 9999-12-31).

Needs psql and cc; standard library only. The URL defaults to $KILN_TEST_DATABASE_URL, else
postgres://postgres:postgres@127.0.0.1:5432/postgres ($PGPASSWORD works too).
"""
import argparse
import glob
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
FUNCTIONS = os.path.join(HERE, "..", "src", "pg_functions.sql")
SCHEMA = "kiln_strftime_parity_%d" % os.getpid()

NOW = object()  # the value 'now', passed as a literal as the filter compiler does

# --- the table: (format, value, modifiers) ----------------------------------------------------------------
# value: str, int/float (also tried as text), None (SQL NULL) or NOW.

ALL = "%d|%e|%f|%F|%G|%g|%H|%I|%j|%J|%k|%l|%m|%M|%p|%P|%R|%s|%S|%T|%u|%U|%V|%w|%W|%Y|%%"

VALUES = [
    "2024-05-01 10:00:00.000Z",       # how Kiln stores dates
    "2024-05-01 10:00:00",
    "2024-05-01",
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00",
    "2024-05-01 13:45:30.5",
    "2024-05-01 00:00:00.1235",       # more than 3 fractional digits: truncated to .999, printf-rounded
    "2024-05-01 23:59:59.9999",
    "2024-05-01 10:00:00+05:30",
    "2024-05-01 10:00:00 -14:00",
    "2024-05-01 10:00z",
    "2024-05-01   T  10:00",
    "2024-05-01\x0b10:00",            # any C isspace() separates
    "2024-12-30 12:00:00",            # ISO week 1 of 2025
    "2021-01-03 12:00:00",            # ISO week 53 of 2020, %U/%W week 0/1 edges
    "2021-01-04",
    "2020-02-29 06:07:08",
    "2023-02-31",                     # day overflow: normalised to 2023-03-03
    "2023-04-31 10:00",
    "2024-01-01 24:00",               # hour 24 is accepted, and printed as such
    "2024-01-01 12:01:24.375",        # %J ties: 1/1024 day past noon
    "0000-01-01 00:00:00",
    "-0005-03-01 12:34:56",
    "-4713-11-24 12:00:00",           # Julian day 0
    "9999-12-31 23:59:59.999",
    "10:30",
    "10:30:15.25",
    "23:00-02:00",
    "  2024-05-01",                   # invalid from here on
    "2024-5-1",
    "2024-05-01 10:00:00 GMT",
    "2024-05-01v10:00",
    "2024-13-01",
    "2024-05-32",
    "2024-05-01 25:00",
    "2024-05-01 10:60",
    "2024-05-01 10:00:00.",
    "2024-05-01 10:00:00+15:00",
    "2024-05-01X10:00",
    "-4714-01-01",
    "10000-01-01",
    "",
    "nope",
    "1e400",
]

NUMBERS = [0, 1, 2460431.5, 2460431.91666667, 5373484.4999, 5373484.5, -1, 1700000000, 1714557600.123,
           -86400.5, 253402300799, 253402300800, 86400, 0.5, 1e-7, 1e300, 1e-320]

CASES = []


def case(fmt, value, *mods):
    CASES.append((fmt, value, list(mods)))


for v in VALUES:
    case(ALL, v)
for spec in ALL.split("|") + ["%Y-%m-%dT%H:%M:%SZ", "week %V of %G (%g), day %j", "", "no conversions", "100%%"]:
    case(spec, "2024-05-01 13:05:09.120Z")
for bad in ["%Q", "%", "%Y%", "%%%", "%E", "%5d", "%c", "%x", "%D", "%i", "%é"]:
    case(bad, "2024-05-01")                             # unknown conversions and a lone % give NULL
case("%Y", None)
case(None, "2024-05-01")
case("%Y", "2024-05-01", None)
case("%Y", "2024-05-01", "+1 day", None)

for n in NUMBERS:
    case(ALL, n)
    case("%Y-%m-%d %H:%M:%f|%s|%J", n, "unixepoch")
    case("%Y-%m-%d %H:%M:%f|%s|%J", n, "auto")
    case("%Y-%m-%d %H:%M:%f|%J", n, "julianday")
    case("%s", n, "unixepoch", "subsec")
case("%F %T", "1700000000", "unixepoch")                # numeric text, as Kiln binds an integer parameter
case("%F %T", " 1700000000.5 ", "unixepoch")
case("%F %T", "1.7e9", "unixepoch")
case("%F %T", "-01e-400")                               # underflows to -0.0, which is Julian day 0
case("%F %T", "+2460431.5")
case("%F %T", ".5")
case("%F %T", "7.")
case("%F %T", "1e", "unixepoch")
case("%F %T", "0x10")
case("%F %T", "NaN")
case("%F %T", "Infinity", "auto")

BASE = "2024-01-31 10:20:30.456"
FULL = "%Y-%m-%d %H:%M:%f %j %w %s"
for mods in [
    ["+1 day"], ["-1 day"], ["+1.5 days"], ["-0.25 day"], ["+36 hours"], ["-90 minutes"], ["+59.9995 seconds"],
    ["+1 month"], ["-1 month"], ["+13 months"], ["-25 months"], ["+1.5 months"], ["+1 year"], ["-2.25 years"],
    ["+1 month", "floor"], ["+1 month", "ceiling"], ["+1 MONTH", "Floor"], ["+10000 years"], ["-6738 years"],
    ["+1e1 days"], ["+.5 hours"], ["1 day"], ["+1\tdays"], ["weekday 5373484e-40012"],
    ["start of month"], ["start of year"], ["start of day"], ["START OF DAY"], ["start of week"],
    ["weekday 0"], ["weekday 3"], ["weekday 6"], ["weekday 7"], ["weekday 1.5"], ["weekday  2 "],
    ["+01:30"], ["-01:30:15.5"], ["10:00"], ["+24:00"], ["+1:30"], ["+10:00 days"], ["+0001-02-03"],
    ["-0001-02-03 04:05:06.7"], ["+0000-11-30"], ["+0000-12-00"], ["+12345-00-00"], ["+14713-00-00"],
    ["-0000-00-00 25:00"], ["+2024-5 days"], ["12024-01-01"],
    ["localtime"], ["utc"], ["localtime", "utc"], ["subsec"], ["subsecond"], ["auto"], ["julianday"],
    ["unixepoch"], ["+1 day", "auto"], ["+1  days"], ["+1days"], ["+1 day "], ["+1 fortnight"], [" +1 day"],
    ["+1 second", "+2 minutes", "+3 hours", "+4 days", "+5 months", "+6 years", "start of month", "-1 day"],
    [""], ["now"], ["+5373485 days"], ["+5373484 days"], ["+464269060799 seconds"],
]:
    case(FULL, BASE, *mods)
case("%Y-%m-%d %H:%M:%S", "2023-02-31", "subsec")       # YYYY-MM-DD stays unnormalised under some modifiers
case("%Y-%m-%d %H:%M:%S", "2023-02-31", "start of day")
case("%Y-%m-%d %H:%M:%S", "2023-02-31", "floor")
case("%Y-%m-%d %H:%M:%S", "2023-02-31", "ceiling")
case("%Y-%m-%d %H:%M:%S", "1900-02-29 10:00", "localtime")
case("%Y-%m-%d %H:%M:%f", "-4713-01-01 10:00:00.25", "localtime", "+365 days")
case("%Y-%m-%d %H:%M:%S", "2024-01-01 24:00", "subsec")
case("%H:%M", "10:00+02:00", "weekday 0")                 # SQLite drops, not applies, the offset here
case("%F %T", "10:00+02:00", "start of day")
case("%F %T", "00:30+01:00", "+0000-02-00")
case("%F %T", "2024-03-31", "-1 month", "floor", "+1 day")
case("%Y-%m-%d", "2024-05-01", "start of month", "+1 month", "-1 day")   # the usual filter idioms
case("%Y-%m", "2024-05-01 10:00:00.000Z", "start of year", "+2 months")
case("%s", "2024-05-01 10:00:00.000Z", "+7 days", "subsec")
case("%Y-%m-%d %H:%M:%S", "2024-05-01 10:00:00.000Z", "weekday 1", "start of day", "utc")
for n in [1700000000, 1700000000.25, -1, 0]:
    case("%F %T", n, "unixepoch", "localtime")
    case("%F %T", n, "auto", "start of day", "+12 hours")

for fmt in ["%Y-%m-%d %H:%M:%S", "%s", "%Y"]:             # the current time: compared within seconds
    case(fmt, NOW)
    case(fmt, NOW, "+1 day", "start of day")
    case(fmt, NOW, "subsec")
case("%s", "subsec")
case("%s", "NOW")

# Call shapes with typed arguments: (PostgreSQL expression, SQLite expression).
SHAPES = [
    ("kiln_strftime('%s', 1700000000::int, 'unixepoch')", "strftime('%s', 1700000000, 'unixepoch')"),
    ("kiln_strftime('%s', 1700000000::bigint, 'unixepoch')", "strftime('%s', 1700000000, 'unixepoch')"),
    ("kiln_strftime('%F %T', 2460431.75::numeric)", "strftime('%F %T', 2460431.75)"),
    ("kiln_strftime('%F %T', 2460431.75::real)", "strftime('%F %T', CAST(2460431.75 AS REAL))"),
    ("kiln_strftime('%F %T', true)", "strftime('%F %T', true)"),
    ("kiln_strftime('%F %T', false, '+1 day')", "strftime('%F %T', false, '+1 day')"),
    ("kiln_strftime('%F', NULL)", "strftime('%F', NULL)"),
    ("kiln_strftime('%F', NULL, '+1 day', 'start of month')", "strftime('%F', NULL, '+1 day', 'start of month')"),
    ("kiln_strftime('%F', '2024-05-01'::varchar, '+1 day'::varchar)", "strftime('%F', '2024-05-01', '+1 day')"),
    ("kiln_strftime('%F', '{\"a\": \"2024-05-01\"}'::jsonb #>> '{a}')",
     "strftime('%F', json_extract('{\"a\": \"2024-05-01\"}', '$.a'))"),
    ("kiln_strftime('%F', 'NaN'::float8)", "strftime('%F', NULL)"),
    ("kiln_strftime('%F', 'Infinity'::float8, 'auto')", "strftime('%F', 9e999, 'auto')"),
    ("kiln_strftime('%F', 1e308::float8, 'unixepoch')", "strftime('%F', 1e308, 'unixepoch')"),
    ("kiln_strftime('%F', '2024-05-01', '+1 day', '+1 day', '+1 day', '+1 day', '+1 day', '+1 day', '+1 day', '+1 day')",
     "strftime('%F', '2024-05-01', '+1 day', '+1 day', '+1 day', '+1 day', '+1 day', '+1 day', '+1 day', '+1 day')"),
]


def random_cases(n, seed):
    """Modifier chains over Kiln-like dates and numbers; deterministic."""
    rnd = random.Random(seed)
    units = ["second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "month", "months",
             "year", "years"]
    values = ["2024-05-01 10:00:00.000Z", "2024-01-31 23:59:59.999", "2020-02-29", "1999-12-31 12:00",
              "12:34:56.789", "23:30:00+02:00", "2023-02-30 01:02:03", 2460431.25, 1714557600, "1714557600.5"]
    out = []
    for _ in range(n):
        mods = []
        value = rnd.choice(values)
        if not isinstance(value, str) or value.endswith(".5"):
            mods.append(rnd.choice(["unixepoch", "auto", "julianday"]))
        for _ in range(rnd.randint(0, 5)):
            k = rnd.random()
            if k < 0.45:
                num = rnd.choice([rnd.randint(-40, 40), round(rnd.uniform(-40, 40), rnd.randint(1, 4))])
                mods.append("%+g %s" % (num, rnd.choice(units)))
            elif k < 0.6:
                mods.append("start of " + rnd.choice(["day", "month", "year"]))
            elif k < 0.7:
                mods.append("weekday %d" % rnd.randint(0, 6))
            elif k < 0.8:
                mods.append("%s%02d:%02d:%02d.%d" % (rnd.choice("+-"), rnd.randint(0, 24), rnd.randint(0, 59),
                                                     rnd.randint(0, 59), rnd.randint(0, 9999)))
            elif k < 0.87:
                mods.append("%s%04d-%02d-%02d" % (rnd.choice("+-"), rnd.randint(0, 3), rnd.randint(0, 11),
                                                  rnd.randint(0, 30)))
            else:
                mods.append(rnd.choice(["floor", "ceiling", "subsec", "localtime", "utc"]))
        out.append((FULL + " %G-W%V-%u %U %W %J %e %k %l %p", value, mods))
    return out


# --- running both sides ---------------------------------------------------------------------------------

def bundled_sqlite():
    """(version, path of sqlite3.c) of the SQLite that Kiln's rusqlite bundles, or (None, None)."""
    lock = open(os.path.join(REPO, "Cargo.lock")).read()
    m = re.search(r'name = "libsqlite3-sys"\nversion = "([^"]+)"', lock)
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    src = os.environ.get("KILN_SQLITE_C") or m and next(iter(sorted(glob.glob(os.path.join(
        home, "registry", "src", "*", "libsqlite3-sys-" + m.group(1), "sqlite3", "sqlite3.c")))), None)
    if not src:
        return None, None
    v = re.search(r'#define SQLITE_VERSION\s+"([^"]+)"', open(src, errors="replace").read())
    return (v.group(1) if v else None), src


def ensure_reference_sqlite():
    """Runs this script again with TZ=UTC and, if need be, against the bundled SQLite."""
    if os.environ.get("KILN_PARITY_CHILD"):
        return
    env = dict(os.environ, TZ="UTC", KILN_PARITY_CHILD="1")
    version, src = bundled_sqlite()
    if version is None:
        sys.exit("cannot find the SQLite sources rusqlite bundles: run `cargo fetch`, or set KILN_SQLITE_C")
    if version != sqlite3.sqlite_version:
        out = os.path.join(tempfile.gettempdir(), "kiln-sqlite-" + version)
        lib = os.path.join(out, "libsqlite3.so.0")
        if not os.path.exists(lib):
            os.makedirs(out, exist_ok=True)
            print("building SQLite %s from %s ..." % (version, src), file=sys.stderr)
            tmp = "%s.%d" % (lib, os.getpid())
            subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", tmp, src, "-lm", "-lpthread"], check=True)
            os.replace(tmp, lib)
        env["LD_LIBRARY_PATH"] = out + os.pathsep + env.get("LD_LIBRARY_PATH", "")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def sqlite_side(cases, shapes):
    db = sqlite3.connect(":memory:")
    out = []
    for fmt, value, mods in cases:
        args = [fmt, "now" if value is NOW else value] + mods
        out.append(db.execute("SELECT strftime(%s)" % ", ".join("?" * len(args)), args).fetchone()[0])
    return out + [db.execute("SELECT " + lite).fetchone()[0] for _, lite in shapes]


def lit(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def pg_side(url, cases, shapes):
    """Every case in one psql session; each statement prints one result, hex-encoded, or NULL."""
    enc = "SELECT coalesce('=' || encode(convert_to(%s, 'UTF8'), 'hex'), 'NULL') %s;"
    sql = ["\\set ON_ERROR_STOP 1", "SET client_min_messages = warning;",
           "CREATE SCHEMA %s;" % SCHEMA, "SET search_path = %s;" % SCHEMA, open(FUNCTIONS).read(), ""]
    for n in range(0, 9):
        mods = "".join(", $%d" % i for i in range(3, n + 3))
        sql += [  # untyped parameters, a text column, a float8 column, the 'now' literal
            "PREPARE p%d AS " % n + enc % ("kiln_strftime($1, $2%s)" % mods, ""),
            "PREPARE t%d AS " % n + enc % ("kiln_strftime($1, x%s)" % mods, "FROM (SELECT $2::text AS x) t"),
            "PREPARE f%d AS " % n + enc % ("kiln_strftime($1, x%s)" % mods, "FROM (SELECT $2::float8 AS x) t"),
            "PREPARE n%d AS " % n + enc % ("kiln_strftime($1, 'now'%s)" % "".join(", $%d" % i for i in range(2, n + 2)), ""),
        ]
    for i, (fmt, value, mods) in enumerate(cases):
        if value is NOW:
            sql.append("EXECUTE n%d(%s);" % (len(mods), ", ".join(lit(a) for a in [fmt] + mods)))
        elif isinstance(value, (int, float)):
            sql.append("EXECUTE f%d(%s);" % (len(mods), ", ".join(lit(a) for a in [fmt, repr(float(value))] + mods)))
        else:
            sql.append("EXECUTE %s%d(%s);" % ("pt"[i % 2], len(mods), ", ".join(lit(a) for a in [fmt, value] + mods)))
    sql += [enc % (pg, "") for pg, _ in shapes]
    sql.append("DROP SCHEMA %s CASCADE;" % SCHEMA)
    proc = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-d", url, "-f", "-"],
                          input="\n".join(sql), capture_output=True, text=True)
    if proc.returncode != 0:
        subprocess.run(["psql", "-X", "-q", "-d", url, "-c", "DROP SCHEMA IF EXISTS %s CASCADE" % SCHEMA],
                       capture_output=True)
        sys.exit("psql failed:\n" + proc.stderr)
    lines = proc.stdout.split()
    assert len(lines) == len(cases) + len(shapes), "psql printed %d results" % len(lines)
    return [None if r == "NULL" else bytes.fromhex(r[1:]).decode() for r in lines]


def close_in_time(a, b):
    """For 'now': both set, and within a few seconds of each other."""
    if a is None or b is None:
        return False
    for parse in (float, lambda s: datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()):
        try:
            return abs(parse(a) - parse(b)) <= 5
        except ValueError:
            pass
    return a == b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=os.environ.get("KILN_TEST_DATABASE_URL",
                                                    "postgres://postgres:postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--random", type=int, default=2000, help="random modifier chains (default 2000)")
    ap.add_argument("--seed", type=int, default=20240501, help="for the random chains")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = ap.parse_args()
    ensure_reference_sqlite()

    cases = []
    for fmt, value, mods in CASES + random_cases(args.random, args.seed):
        cases.append((fmt, value, mods))
        if isinstance(value, (int, float)):
            cases.append((fmt, repr(value), mods))      # the same number as text
    t0 = time.time()
    want = sqlite_side(cases, SHAPES)
    got = pg_side(args.url, cases, SHAPES)
    bad = 0
    labels = ["strftime(%r, %s%s)" % (fmt, "'now'" if value is NOW else repr(value), "".join(", %r" % m for m in mods))
              for fmt, value, mods in cases] + [pg for pg, _ in SHAPES]
    loose = [value is NOW or isinstance(value, str) and value.lower() in ("now", "subsec", "subsecond")
             for _, value, _ in cases] + [False] * len(SHAPES)
    for label, is_now, w, g in zip(labels, loose, want, got):
        ok = close_in_time(w, g) if is_now else w == g
        if not ok or args.verbose:
            print("%s %s\n    sqlite:   %r\n    postgres: %r" % ("ok  " if ok else "FAIL", label, w, g))
        bad += not ok
    print("SQLite %s vs kiln_strftime: %d cases (table %d, call shapes %d, random %d), %d mismatches, %.1fs" % (
        sqlite3.sqlite_version, len(labels), len(CASES), len(SHAPES), args.random, bad, time.time() - t0))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
