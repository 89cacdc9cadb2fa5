#!/usr/bin/env bash
# Instructions per request of Kiln, counted by callgrind: a measure that does not move with the noise
# of a shared machine (other processes, frequency scaling), for comparing one build with the next.
#
#   bench/callgrind.sh [-n REQUESTS] [-r ROWS] [--no-build] [--annotate K] [SCENARIO…]
#   KILN_BIN=/path/to/kiln bench/callgrind.sh --no-build get     (another build of Kiln)
#
# --annotate K also prints, per scenario, the K functions with the most instructions of their own
# (callgrind_annotate, exclusive cost) — where the instructions go.
# Scenarios: get (record by id), list (filter + sort + page, with total), list_skiptotal, create,
# update, auth_refresh. Default: get list create. Prints "scenario instructions/request".
#
# How: a data dir is prepared with a plain `kiln serve` (superuser, collection with an index on n,
# ROWS rows created through the API); Kiln is restarted under valgrind --tool=callgrind with
# collection on; each scenario is warmed up (WARMUP requests), then `callgrind_control -z` zeroes
# the counters, kiln-loadgen sends N requests on one keep-alive connection (fixed random seed),
# `callgrind_control -d` dumps them to <out>.<k> (k = 1, 2, … — not the termination dump), and the
# dump's total Ir divided by N is printed. Everything runs on 127.0.0.1 and is bounded in time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=1000
ROWS=10000
WARMUP=200
BUILD=1
ANNOTATE=0
SCEN=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) N="$2"; shift 2 ;;
    -r) ROWS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --annotate) ANNOTATE="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
    *) SCEN+=("$1"); shift ;;
  esac
done
[[ ${#SCEN[@]} -gt 0 ]] || SCEN=(get list create)

for t in valgrind callgrind_control taskset curl python3; do
  command -v "$t" >/dev/null || { echo "callgrind.sh: $t not found" >&2; exit 1; }
done
if [[ $BUILD == 1 ]]; then
  cargo build --release -p kiln -p kiln-loadgen >&2
fi
KILN=${KILN_BIN:-target/release/kiln}   # KILN_BIN: another build, to compare
LG=target/release/kiln-loadgen

TMP=$(mktemp -d /tmp/kiln-callgrind.XXXXXX)
PID=
cleanup() {
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
    kill "$PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null || true
  fi
  [[ -n "${KEEP_TMP:-}" ]] || rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
DATA="$TMP/data"
EMAIL=bench@example.com
PASS=benchpassword123

wait_health() {  # $1 = seconds
  for _ in $(seq 1 $(( $1 * 10 ))); do
    curl -sf -o /dev/null "$URL/api/health" && return 0
    kill -0 "$PID" 2>/dev/null || { echo "callgrind.sh: server exited; log: $TMP/server.log" >&2; cat "$TMP/server.log" >&2; return 1; }
    sleep 0.1
  done
  echo "callgrind.sh: server did not answer in $1 s" >&2
  return 1
}

api() {  # method path [json]
  curl -sf -X "$1" -H 'Content-Type: application/json' ${TOKEN:+-H "Authorization: $TOKEN"} \
    ${3:+-d "$3"} "$URL$2"
}

# 1. Prepare the data with a plain server.
"$KILN" superuser upsert "$EMAIL" "$PASS" --dir "$DATA" >/dev/null
"$KILN" serve --http "127.0.0.1:$PORT" --dir "$DATA" >"$TMP/server.log" 2>&1 &
PID=$!
wait_health 30
TOKEN=$(api POST /api/collections/_superusers/auth-with-password "{\"identity\":\"$EMAIL\",\"password\":\"$PASS\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
AUTODATES='{"name":"created","type":"autodate","onCreate":true},{"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}'
api POST /api/collections "{\"name\":\"items\",\"type\":\"base\",\"listRule\":\"\",\"viewRule\":\"\",\"createRule\":\"\",\"updateRule\":\"\",
  \"fields\":[{\"name\":\"title\",\"type\":\"text\"},{\"name\":\"n\",\"type\":\"number\"},$AUTODATES],
  \"indexes\":[\"CREATE INDEX idx_items_n ON items (n)\"]}" >/dev/null
api POST /api/collections "{\"name\":\"writes\",\"type\":\"base\",\"listRule\":\"\",\"viewRule\":\"\",\"createRule\":\"\",
  \"fields\":[{\"name\":\"title\",\"type\":\"text\"},{\"name\":\"n\",\"type\":\"number\"},$AUTODATES]}" >/dev/null
api POST /api/collections/users/records '{"email":"user000@example.com","password":"userpassword123","passwordConfirm":"userpassword123"}' >/dev/null
"$LG" http --url "$URL" --header "Authorization: $TOKEN" --connections 8 --requests "$ROWS" --json \
  --req 'POST /api/collections/items/records {"id":"b${seq:14}","title":"item ${seq}","n":${seq}}' >"$TMP/seed.json"
python3 - "$TMP/seed.json" "$ROWS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
if r["errors"] or r["requests"] != int(sys.argv[2]):
    sys.exit(f"callgrind.sh: seeding failed: {r}")
EOF
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=

# 2. Kiln under callgrind (pinned to core 0; the load generator to core 1).
OUT="$TMP/callgrind.out"
taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$OUT" --dump-instr=no --collect-jumps=no \
  "$KILN" serve --http "127.0.0.1:$PORT" --dir "$DATA" >"$TMP/server.log" 2>&1 &
PID=$!
wait_health 120
TOKEN=$(api POST /api/collections/_superusers/auth-with-password "{\"identity\":\"$EMAIL\",\"password\":\"$PASS\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
USER_TOKEN=$(TOKEN= api POST /api/collections/users/auth-with-password '{"identity":"user000@example.com","password":"userpassword123"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

LO=$(( ROWS * 4 / 10 )); HI=$(( LO + ROWS / 20 ))
FILTER=$(python3 -c "import urllib.parse; print(urllib.parse.quote('n >= $LO && n < $HI', safe=''))")
spec() {
  case "$1" in
    get) echo "GET /api/collections/items/records/b\${rand:$ROWS:14}" ;;
    list) echo "GET /api/collections/items/records?filter=$FILTER&sort=-n&perPage=20&page=\${rand:1..6}" ;;
    list_skiptotal) echo "GET /api/collections/items/records?filter=$FILTER&sort=-n&perPage=20&page=\${rand:1..6}&skipTotal=1" ;;
    create) echo 'POST /api/collections/writes/records {"title":"bench ${seq}","n":${rand:1000}}' ;;
    update) echo "PATCH /api/collections/items/records/b\${rand:$ROWS:14} {\"title\":\"updated \${seq}\"}" ;;
    auth_refresh) echo "POST /api/collections/users/auth-refresh" ;;
    *) echo "callgrind.sh: unknown scenario $1" >&2; return 1 ;;
  esac
}

dumps=0
echo "# Kiln $(git rev-parse --short HEAD 2>/dev/null || echo '?'), callgrind, $ROWS rows, $N requests per scenario after $WARMUP warm-up requests"
printf '%-16s %s\n' scenario instructions/request
for s in "${SCEN[@]}"; do
  REQ=$(spec "$s")
  HARGS=()
  [[ "$s" == auth_refresh ]] && HARGS=(--header "Authorization: $USER_TOKEN")
  taskset -c 1 "$LG" http --url "$URL" --connections 1 --requests "$WARMUP" --seed 1 --json ${HARGS[@]+"${HARGS[@]}"} --req "$REQ" >/dev/null
  callgrind_control -z "$PID" >/dev/null 2>&1
  taskset -c 1 "$LG" http --url "$URL" --connections 1 --requests "$N" --seed 2 --json ${HARGS[@]+"${HARGS[@]}"} --req "$REQ" >"$TMP/run.json"
  callgrind_control -d "$PID" >/dev/null 2>&1
  dumps=$((dumps + 1))
  FILE="$OUT.$dumps"
  for _ in $(seq 1 100); do [[ -s "$FILE" ]] && break; sleep 0.1; done
  python3 - "$FILE" "$TMP/run.json" "$s" "$N" <<'EOF'
import json, sys
path, run, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
r = json.load(open(run))
if r["errors"] or r["requests"] != n:
    sys.exit(f"callgrind.sh: {name}: {r['errors']} errors in {r['requests']} requests: {r['status']}")
total = None
for line in open(path):
    if line.startswith(("summary:", "totals:")):
        total = int(line.split()[1])
if total is None:
    sys.exit(f"callgrind.sh: no totals in {path}")
print(f"{name:<16} {total // n}")
EOF
  if [[ "$ANNOTATE" -gt 0 ]]; then
    # Function lines of callgrind_annotate: "<Ir> (<pct>)  <file>:<function> [<object>]".
    callgrind_annotate --inclusive=no --threshold=100 --auto=no "$FILE" 2>/dev/null | python3 -c '
import re, sys
n, k = int(sys.argv[1]), int(sys.argv[2])
rows = []
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)", line)
    if m and "PROGRAM TOTALS" not in line:
        rows.append((int(m.group(1).replace(",", "")), float(m.group(2)), m.group(3)))
# Frames that were on a thread stack when the counters were zeroed (thread entry, the runtime loop)
# are charged what ran below them: they are not costs of their own.
entry = re.compile(r"(^|:)(clone|start_thread)$|thread_start$|__rust_begin_short_backtrace$|call_once\{\{vtable\.shim\}\}$"
                   r"|tokio::runtime::task::raw::poll$|tokio::runtime::blocking::pool::Inner::run$")
rows = [r for r in rows if not entry.search(re.sub(r"\s*\[[^]]*\]$", "", r[2]))]
for ir, pct, name in rows[:k]:
    name = re.sub(r"\s*\[[^]]*\]$", "", name).split(":", 1)[-1]
    print(f"    {ir // n:>9} {pct:>5.1f}%  {name[:110]}")
' "$N" "$ANNOTATE"
  fi
done
