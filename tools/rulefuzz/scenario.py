"""Running one generated scenario on both servers and collecting the differences.

Order: create the collections (rules null), then set the rules (a rule either server rejects is compared and
dropped), create the seed records and users as superuser, log the users in, read everything as every actor,
then the writes, each followed by a superuser snapshot of every collection of the scenario. The first write
whose outcome differs ends the scenario (the two databases no longer hold the same data).
"""
import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from compare import compare
from generator import RULE_OPS, to_form


class ServerDied(Exception):
    pass


class Difference:
    def __init__(self, kind, scen, actor, req, lines, kiln, pb, history, note=""):
        self.kind, self.scen, self.actor, self.req = kind, scen, actor, req
        self.lines, self.kiln, self.pb, self.history, self.note = lines, kiln, pb, list(history), note
        self.known = None
        self.repro = None       # (sequence dict, reduced?) once exported
        self.group = None

    def coll(self):
        return self.req.get("coll")

    def rule_text(self):
        """The rules that govern this request: its collection's rule for the operation."""
        c = self.coll()
        if not c or self.kind in ("rule-accept", "collection", "seed", "auth", "crash"):
            return ""
        rules = self.scen.coll(c).rules
        op = {"list": "listRule", "view": "viewRule", "PATCH": "updateRule", "POST": "createRule",
              "DELETE": "deleteRule"}.get(self.kind if self.kind in ("list", "view") else self.req["method"])
        return f"{op}: {json.dumps(rules.get(op))}" if op else ""

    def request_line(self):
        r = self.req
        q = "&".join(f"{k}={v}" for k, v in (r.get("query") or {}).items())
        line = f"{r['method']} {r['path']}" + (f"?{q}" if q else "")
        if r.get("body") is not None:
            line += f" {'multipart' if r.get('multipart') else 'json'} {json.dumps(r['body'], sort_keys=True)}"
        return line

    def signature(self):
        """What known_differences.json patterns are searched in (prefixes s<N>_ become S_)."""
        lines = "\n".join(f"{p}: kiln {json.dumps(k, sort_keys=True)} vs pocketbase {json.dumps(v, sort_keys=True)}"
                          for p, k, v in self.lines)
        text = f"{self.kind} actor={actor_kind(self.actor)} {self.request_line()}\n{self.rule_text()}\n{self.note}\n{lines}"
        return text.replace(self.scen.prefix, "S_")


def actor_kind(actor):
    return "user" if actor.startswith("user") else actor


class ScenarioRun:
    def __init__(self, scen, kiln, pb, verbose=False, workers=8):
        self.scen, self.k, self.p, self.verbose, self.workers = scen, kiln, pb, verbose, workers
        self.lock = threading.Lock()
        self.diffs = []
        self.history = []       # writes done so far (both servers answered the same)
        self.dropped = []       # (collection, op, rule, pocketbase's error) rules rejected at collection save
        self.rule_count = 0
        self.requests = 0
        self.aborted = None
        self.seen = set()       # (actor, request line) of the differences so far

    # ------------------------------------------------------------------ plumbing

    def both(self, method, path, actor="superuser", query=None, body=None, multipart=False, per_server=None):
        """Sends one request to both servers. per_server(client, body) rewrites the body for a server."""
        out = []
        for c in (self.k, self.p):
            b = per_server(c, body) if per_server else body
            form = None
            if multipart and b is not None:
                form, b = to_form(b), None
            try:
                out.append(c.call(method, path, query=query, body=b, form=form, actor=actor))
            except (OSError, http.client.HTTPException) as e:
                if c.alive():
                    raise
                raise ServerDied(f"{c.label} died on {method} {path} {query or ''} {json.dumps(body)}: {e}\n"
                                 f"{c.server.logs()[-1500:]}")
        with self.lock:
            self.requests += 1
        return out

    def cols(self, c):
        return {v: k for k, v in c.collection_ids.items()}

    def check(self, kind, actor, method, path, coll, query=None, body=None, multipart=False, ordered=True, note="",
              record=True):
        rk, rp = self.both(method, path, actor, query, body, multipart)
        lines, kn, pn = compare(rk, rp, self.cols(self.k), self.cols(self.p), ordered)
        req = {"method": method, "path": path, "query": query, "body": body, "multipart": multipart, "coll": coll}
        d = Difference(kind, self.scen, actor, req, lines, kn, pn, self.history, note) if lines else None
        if d and record:
            self.record(d)
        return lines, rk, rp, d

    def record(self, d):
        if d.kind == "list-after-writes" and (d.actor, d.request_line()) in self.seen:
            return  # the same read already differed before the writes
        self.seen.add((d.actor, d.request_line()))
        self.diffs.append(d)

    def log(self, msg):
        if self.verbose:
            print(f"  [s{self.scen.index}] {msg}")

    # ------------------------------------------------------------------ phases

    def run(self):
        try:
            if self.setup():
                self.reads()
                if self.writes():
                    self.reads(lists_only=True, kind="list-after-writes")
        except ServerDied as e:
            self.aborted = str(e)
            self.diffs.append(Difference("crash", self.scen, "?", {"method": "?", "path": "?", "coll": None},
                                         [("$", "<no answer>", "<answer>")], None, None, self.history, note=str(e)))
        return self

    def setup(self):
        scen = self.scen
        for coll in scen.colls:
            def resolve(c, body):
                fields = [dict(f, collectionId=c.collection_ids[f["collectionId"][6:]]) if "collectionId" in f else f
                          for f in body["fields"]]
                return dict(body, fields=fields)
            rk, rp = self.both("POST", "/api/collections", body=coll.definition(with_rules=False), per_server=resolve)
            if rp.status != 200:
                raise RuntimeError(f"generator bug: PocketBase rejected collection {coll.name}: {rp.raw[:500]!r}")
            if rk.status != 200:
                self.diffs.append(Difference("collection", scen, "superuser",
                                             {"method": "POST", "path": "/api/collections", "coll": coll.name,
                                              "body": coll.definition(with_rules=False)},
                                             [("status", rk.status, rp.status)], rk.json, rp.json, []))
                self.aborted = "collection create differs"
                return False
            self.k.collection_ids[coll.name] = rk.json["id"]
            self.p.collection_ids[coll.name] = rp.json["id"]
        for coll in scen.colls:
            if not self.set_rules(coll):
                return False
        for coll in scen.colls:
            for rec in coll.records:
                lines, rk, rp, _ = self.check("seed", "superuser", "POST", f"/api/collections/{coll.name}/records",
                                           coll.name, body=rec)
                if rp.status != 200:
                    raise RuntimeError(f"generator bug: PocketBase rejected seed record {rec}: {rp.raw[:500]!r}")
                if rk.status != 200:
                    self.aborted = "seed record create differs"
                    return False
        for u in scen.users:
            body = {"identity": u["email"], "password": u["password"]}
            lines, rk, rp, _ = self.check("auth", "guest", "POST", f"/api/collections/{scen.auth.name}/auth-with-password",
                                       scen.auth.name, body=body)
            if rk.status != 200 or rp.status != 200:
                self.aborted = f"auth of {u['actor']} failed"
                return False
            self.k.tokens[u["actor"]] = rk.json["token"]
            self.p.tokens[u["actor"]] = rp.json["token"]
        return True

    def set_rules(self, coll):
        rules = {op: coll.rules[op] for op in RULE_OPS}
        self.rule_count += sum(1 for r in rules.values() if r)
        rk, rp = self.both("PATCH", f"/api/collections/{coll.name}", body=rules)
        rej_k = set((rk.json or {}).get("data", {}) or {}) & set(RULE_OPS) if rk.status == 400 else set()
        rej_p = set((rp.json or {}).get("data", {}) or {}) & set(RULE_OPS) if rp.status == 400 else set()
        if rk.status != rp.status or rej_k != rej_p:
            for op in sorted(rej_k ^ rej_p) or [None]:
                kd = (rk.json or {}).get("data", {}).get(op) if op else rk.json
                pd = (rp.json or {}).get("data", {}).get(op) if op else rp.json
                req = {"method": "PATCH", "path": f"/api/collections/{coll.name}", "coll": coll.name,
                       "body": {op: rules[op]} if op else rules}
                self.diffs.append(Difference(
                    "rule-accept", self.scen, "superuser", req,
                    [("status", rk.status, rp.status), (f"data.{op}", kd or "<accepted>", pd or "<accepted>")],
                    kd, pd, [], note=f"{op}: {json.dumps(rules[op]) if op else rules}"))
        for op in sorted(rej_k & rej_p):
            kc, pc = rk.json["data"][op].get("code"), rp.json["data"][op].get("code")
            if kc != pc:
                req = {"method": "PATCH", "path": f"/api/collections/{coll.name}", "coll": coll.name, "body": {op: rules[op]}}
                self.diffs.append(Difference("rule-accept", self.scen, "superuser", req, [(f"data.{op}.code", kc, pc)],
                                             rk.json["data"][op], rp.json["data"][op], [],
                                             note=f"{op}: {json.dumps(rules[op])}"))
        rejected = rej_k | rej_p
        if rk.status != 200 and rp.status != 200 and not rejected:
            raise RuntimeError(f"rules of {coll.name} rejected without a rule error: {rp.raw[:300]!r}")
        for op in sorted(rejected):
            err = (rp.json or {}).get("data", {}).get(op, {}).get("message") if op in rej_p else "(accepted)"
            self.dropped.append((coll.name, op, coll.rules[op], err))
            self.log(f"dropped {coll.name}.{op} {coll.rules[op]!r}: {err}")
            coll.rules[op] = None
            self.rule_count -= 1
        if rejected or rk.status != rp.status:
            rk, rp = self.both("PATCH", f"/api/collections/{coll.name}", body={op: coll.rules[op] for op in RULE_OPS})
            if rk.status != 200 or rp.status != 200:
                self.aborted = f"could not set the rules of {coll.name} on both servers ({rk.status}/{rp.status})"
                return False
        return True

    def reads(self, lists_only=False, kind="list"):
        """Every read of every actor. Reads change nothing, so they run in parallel (PocketBase delays some
        filtered lists by up to ~0.5 s on purpose); differences are recorded in the generated order."""
        scen = self.scen
        tasks = []
        for actor in scen.actors():
            for coll in scen.colls:
                path = f"/api/collections/{coll.name}/records"
                for q in scen.reads[coll.name]["lists"]:
                    tasks.append((kind, actor, "GET", path, coll.name, q or None, "sort" in q))
                if lists_only:
                    continue
                vq = scen.reads[coll.name]["view_query"] or None
                for rid in coll.ids() + ["zzzzzzzzzzzzzzz"]:
                    tasks.append(("view", actor, "GET", f"{path}/{rid}", coll.name, vq, True))

        def one(t):
            kind, actor, method, path, coll, query, ordered = t
            return self.check(kind, actor, method, path, coll, query=query, ordered=ordered, record=False)[3]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for d in pool.map(one, tasks):
                if d:
                    self.record(d)

    def snapshot(self):
        """Every collection of the scenario as superuser sees it: diff lines (path prefixed by collection)."""
        out = []
        for coll in self.scen.colls:
            rk, rp = self.both("GET", f"/api/collections/{coll.name}/records", query={"perPage": "500", "sort": "id"})
            lines, _, _ = compare(rk, rp, self.cols(self.k), self.cols(self.p))
            out += [(f"state[{coll.name}].{p}", a, b) for p, a, b in lines]
        return out

    def writes(self):
        for w in self.scen.writes:
            path = f"/api/collections/{w['coll']}/records" + (f"/{w['id']}" if w["id"] else "")
            lines, rk, rp, _ = self.check("write", w["actor"], w["method"], path, w["coll"], body=w["body"],
                                       multipart=w["multipart"])
            state = self.snapshot()
            if state:
                if lines:
                    self.diffs[-1].lines += state
                else:
                    req = {"method": w["method"], "path": path, "body": w["body"], "multipart": w["multipart"],
                           "coll": w["coll"]}
                    self.diffs.append(Difference("write-state", self.scen, w["actor"], req, state, None, None,
                                                 self.history))
            if lines or state:
                self.aborted = "a write's outcome differs: the rest of the scenario is skipped"
                return False
            self.history.append(dict(w, status=rp.status))
        return True
