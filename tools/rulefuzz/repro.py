"""Reproductions: a difference as a tools/difftest corpus sequence, and (--minimize) shrinking it.

A sequence recreates the scenario from nothing (collections, rules, records, logins, the earlier writes) and
ends with the request that differs. It runs as is with the differential test:

    python3 tools/difftest/run.py --corpus /tmp/rulefuzz-1/repro --only rulefuzz_g3

The reducer replays candidate sequences on the running servers (under a fresh name prefix and fresh ids each
time) and keeps a simplification when the last request still differs with the same statuses: drop earlier
writes, drop records, null other rules, drop fields, drop whole collections.
"""
import copy
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from compare import compare, line_class, primary_class
from generator import RULE_OPS, to_form


def _step(method, path, auth, status, **extra):
    st = {"method": method, "path": path, "auth": auth, "status": status}
    st.update({k: v for k, v in extra.items() if v is not None})
    return st


def _auth(actor):
    return "none" if actor == "guest" else "superuser" if actor == "superuser" else f"tok_{actor}"


def _request_step(req, actor, status, ordered=True):
    st = _step(req["method"], req["path"], _auth(actor), status)
    if req.get("query"):
        st["query"] = dict(req["query"])
    if req.get("body") is not None:
        if req.get("multipart"):
            st["multipart"] = to_form(req["body"])
        else:
            st["body"] = req["body"]
    if not ordered:
        st["unordered"] = True
    return st


def sequence(d, name):
    scen = d.scen
    steps = []
    for c in scen.colls:
        body = c.definition(with_rules=False)
        for f in body["fields"]:
            if "collectionId" in f:
                f["collectionId"] = "{{cid_" + f["collectionId"][6:] + "}}"
        steps.append(_step("POST", "/api/collections", "superuser", 200, save={f"cid_{c.name}": "id"}, body=body))
    final_status = next((p for path, k, p in d.lines if path == "status"), None)
    if final_status is None:
        final_status = d.pb["status"] if isinstance(d.pb, dict) and "status" in d.pb else 200
    if d.kind in ("rule-accept", "collection"):
        steps.append(_request_step(d.req, "superuser", final_status))
        return {"name": name, "description": f"rulefuzz {d.kind}, seed {scen.seed} scenario {scen.index}", "steps": steps}
    for c in scen.colls:
        steps.append(_step("PATCH", f"/api/collections/{c.name}", "superuser", 200,
                           body={op: c.rules[op] for op in RULE_OPS}))
    for c in scen.colls:
        for rec in c.records:
            if d.kind == "seed" and rec is d.req.get("body"):
                break
            steps.append(_step("POST", f"/api/collections/{c.name}/records", "superuser", 200, body=rec))
    actors = {d.actor} | {h["actor"] for h in d.history}
    for u in scen.users:
        if u["actor"] in actors:
            steps.append(_step("POST", f"/api/collections/{scen.auth.name}/auth-with-password", "none", 200,
                               save={f"tok_{u['actor']}": "token"},
                               body={"identity": u["email"], "password": u["password"]}))
    for h in d.history:
        path = f"/api/collections/{h['coll']}/records" + (f"/{h['id']}" if h["id"] else "")
        steps.append(_request_step({"method": h["method"], "path": path, "body": h["body"],
                                    "multipart": h["multipart"]}, h["actor"], h["status"]))
    ordered = not (d.kind.startswith("list") and "sort" not in (d.req.get("query") or {}))
    steps.append(_request_step(d.req, d.actor, final_status, ordered))
    if d.kind in ("write", "write-state"):
        for c in scen.colls:
            steps.append(_step("GET", f"/api/collections/{c.name}/records", "superuser", 200,
                               query={"perPage": "500", "sort": "id"}))
    return {"name": name, "description": f"rulefuzz {d.kind} (seed {scen.seed}, scenario {scen.index}): "
                                         f"{d.rule_text()}", "steps": steps}


# ---------------------------------------------------------------------------------------------- replaying

PLACEHOLDER_RE = re.compile(r"\{\{([A-Za-z0-9_.-]+)\}\}")


def _subst(v, vars):
    if isinstance(v, str):
        return PLACEHOLDER_RE.sub(lambda m: str(vars.get(m.group(1), "UNSAVED")), v)
    if isinstance(v, list):
        return [_subst(x, vars) for x in v]
    if isinstance(v, dict):
        return {k: _subst(x, vars) for k, x in v.items()}
    return v


class Reducer:
    def __init__(self, kiln, pb, parallel=4):
        self.k, self.p = kiln, pb
        self.trial = 0
        self.parallel = parallel
        self.lock = threading.Lock()

    def replay(self, seq):
        """Runs a sequence on both servers. Returns the final steps' diff lines, or None when an earlier step
        did not answer as recorded (the candidate is not a valid reduction)."""
        vars = {self.k: {}, self.p: {}}
        steps = seq["steps"]
        last = _final_index(steps)
        out = []
        for i, st in enumerate(steps):
            res = {}
            for c in (self.k, self.p):
                s = _subst(st, vars[c])
                tok = vars[c].get(st["auth"]) if st["auth"].startswith("tok_") else None
                actor = "superuser" if st["auth"] == "superuser" else "guest"
                res[c] = c.call(s["method"], s["path"], query=s.get("query"), body=s.get("body"),
                                form=s.get("multipart"), actor=actor, token=tok)
                for name, key in st.get("save", {}).items():
                    if res[c].status == 200:
                        vars[c][name] = res[c].json.get(key)
            if i < last:
                if res[self.p].status != st["status"] or res[self.k].status != res[self.p].status:
                    return None
                continue
            cols = {c: {v: k[4:] for k, v in vars[c].items() if k.startswith("cid_")} for c in (self.k, self.p)}
            lines, _, _ = compare(res[self.k], res[self.p], cols[self.k], cols[self.p], ordered=not st.get("unordered"))
            out += lines
        return out

    def retag(self, seq):
        """The same sequence under names and ids not used yet on these servers."""
        self.trial += 1
        t = self.trial
        text = json.dumps(seq)
        m = re.search(r"\bs(\d+)_", text)
        if not m:
            return seq
        idx = m.group(1)
        text = re.sub(rf"\bs{idx}_", f"r{t}x{idx}_", text)
        tag36 = _base36(t)

        def new_id(mm):
            head, zeros, k = mm.group(1), mm.group(2), mm.group(3)
            return head + tag36.rjust(len(zeros), "0") + k if len(zeros) >= len(tag36) else mm.group(0)
        text = re.sub(rf"\b(s{idx}[a-z]{{1,2}})(0+)([1-9]\d*)\b", new_id, text)
        text = re.sub(rf"@s{idx}\.test", f"@r{t}s{idx}.test", text)
        return json.loads(text)

    def still_differs(self, seq, want):
        """The replay ends with the same statuses and a difference of the same class as the original's."""
        with self.lock:
            seq = self.retag(seq)
        lines = self.replay(seq)
        if not lines:
            return False
        status = next(((k, p) for path, k, p in lines if path == "status"), None)
        return status == want[0] and want[1] in {line_class(x) for x in lines}

    def reduce(self, d, seq, seconds=60.0):
        want = (next(((k, p) for path, k, p in d.lines if path == "status"), None), primary_class(d.lines))
        if not self.still_differs(seq, want):
            seq["description"] += " (not reduced: the difference did not reproduce on replay)"
            return seq
        tries = 0
        deadline = time.monotonic() + seconds
        mentioned = set(re.findall(r"\b[a-z0-9]{15}\b", json.dumps([d.lines, d.req])))
        fast = lambda s: _keep_only(s, mentioned) + _only_final_rules(s)
        for pass_fn in (fast, _drop_collections, _null_rules, _drop_steps, _shrink_request, _shrink_rules,
                        _drop_collections, _drop_fields, _drop_steps, _shrink_rules):
            progress = True
            while progress and time.monotonic() < deadline:
                progress = False
                cands = pass_fn(seq)
                # A few candidates at a time, in parallel; the first (in order) that still differs wins.
                for i in range(0, len(cands), self.parallel):
                    if time.monotonic() > deadline:
                        break
                    batch = cands[i:i + self.parallel]
                    tries += len(batch)
                    with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                        ok = list(pool.map(lambda c: self.still_differs(c, want), batch))
                    if any(ok):
                        seq, progress = batch[ok.index(True)], True
                        break
        final = seq["steps"][_final_index(seq["steps"])]
        seq["description"] = (f"rulefuzz {d.kind} (seed {d.scen.seed}, scenario {d.scen.index}), reduced in {tries} "
                              f"replays{'' if time.monotonic() < deadline else ' (time budget used up)'}: "
                              f"{final['method']} {final['path']} as {final['auth']}")
        return seq


# Reduction passes: each returns candidate sequences, each a little smaller than seq.

def _drop_steps(seq):
    """Records and earlier writes: halves first, then quarters, ... then one at a time (references to a
    dropped record are removed from the remaining steps too)."""
    steps = seq["steps"]
    idx = [j for j in range(_final_index(steps)) if "/records" in steps[j]["path"]]
    out, size = [], len(idx)
    while size >= 1:
        for start in range(0, len(idx), size):
            chunk = set(idx[start:start + size])
            cand = copy.deepcopy(seq)
            cand["steps"] = [st for j, st in enumerate(cand["steps"]) if j not in chunk]
            for j in chunk:
                st = steps[j]
                if st["method"] == "POST" and isinstance(st.get("body"), dict) and st["body"].get("id"):
                    _strip_refs(cand, st["body"]["id"])
            out.append(cand)
        size = size // 2 if size > 1 else 0
    return out


def _keep_only(seq, ids):
    """One bold candidate: only the records the difference mentions, what they point at, no earlier writes."""
    steps = seq["steps"]
    final = _final_index(steps)
    bodies = {st["body"]["id"]: st for st in steps[:final] if st["method"] == "POST" and "/records" in st["path"]
              and isinstance(st.get("body"), dict) and st["body"].get("id")}
    keep, todo = set(), [i for i in ids if i in bodies]
    for st in steps[:final]:  # users who act
        if st["path"].endswith("/auth-with-password"):
            todo += [i for i, b in bodies.items() if b["body"].get("email") == st["body"]["identity"]]
    while todo:
        i = todo.pop()
        if i in keep:
            continue
        keep.add(i)
        todo += [x for x in re.findall(r"\b[a-z0-9]{15}\b", json.dumps(bodies[i]["body"])) if x in bodies]
    drop = {j for j, st in enumerate(steps[:final]) if "/records" in st["path"]
            and not (st["method"] == "POST" and isinstance(st.get("body"), dict) and st["body"].get("id") in keep
                     and bodies.get(st["body"]["id"]) is st)}
    if not drop:
        return []
    cand = copy.deepcopy(seq)
    cand["steps"] = [st for j, st in enumerate(cand["steps"]) if j not in drop]
    for j in drop:
        if steps[j]["method"] == "POST" and isinstance(steps[j].get("body"), dict) and steps[j]["body"].get("id"):
            _strip_refs(cand, steps[j]["body"]["id"])
    return [cand]


def _only_final_rules(seq):
    """Bold candidates: every rule null (then "") except the rules of the final request's collection."""
    final = seq["steps"][_final_index(seq["steps"])]
    m = re.match(r"/api/collections/([^/]+)", final["path"])
    own = m.group(1) if m else None
    out = []
    for v in (None, ""):
        cand = copy.deepcopy(seq)
        changed = False
        for j, op in _rule_slots(cand):
            st = cand["steps"][j]
            if st["path"] != f"/api/collections/{own}" and st["body"][op] != v and j != _final_index(cand["steps"]):
                st["body"][op] = v
                changed = True
        if changed:
            out.append(cand)
    return out


def _drop_collections(seq):
    creates = [st["body"]["name"] for st in seq["steps"] if st["path"] == "/api/collections" and st["method"] == "POST"]
    final = seq["steps"][_final_index(seq["steps"])]
    out = []
    for name in creates[1:]:  # not the auth collection
        if final["path"] == f"/api/collections/{name}" or final["path"].startswith(f"/api/collections/{name}/"):
            continue
        cand = copy.deepcopy(seq)
        cand["steps"] = [st for st in cand["steps"] if not (
            (st["path"] == "/api/collections" and st["body"]["name"] == name)
            or st["path"].startswith(f"/api/collections/{name}/") or st["path"] == f"/api/collections/{name}")]
        for st in cand["steps"]:
            if st["path"] == "/api/collections":
                gone = [f["name"] for f in st["body"]["fields"] if f.get("collectionId") == "{{cid_" + name + "}}"]
                st["body"]["fields"] = [f for f in st["body"]["fields"] if f["name"] not in gone]
                for other in cand["steps"]:
                    if other["path"].startswith(f"/api/collections/{st['body']['name']}/records") \
                            and isinstance(other.get("body"), dict):
                        for k in [k for k in other["body"] if k.strip("+-") in gone]:
                            del other["body"][k]
        out.append(cand)
    return out


def _rule_slots(seq):
    final = _final_index(seq["steps"])
    return [(j, op) for j, st in enumerate(seq["steps"][:final + 1]) if st["method"] == "PATCH"
            and "/records" not in st["path"] and st["path"].startswith("/api/collections/")
            for op in RULE_OPS if st["body"].get(op) is not None]


def _null_rules(seq):
    out = []
    for j, op in _rule_slots(seq):
        if j == _final_index(seq["steps"]):
            continue
        for v in (None, "") if seq["steps"][j]["body"][op] != "" else (None,):
            cand = copy.deepcopy(seq)
            cand["steps"][j]["body"][op] = v
            out.append(cand)
    return out


def _shrink_rules(seq):
    out = []
    for j, op in _rule_slots(seq):
        for e in expr_candidates(seq["steps"][j]["body"][op]):
            cand = copy.deepcopy(seq)
            cand["steps"][j]["body"][op] = e
            out.append(cand)
    return out


def _shrink_request(seq):
    """The final request: its query parameters, comma lists, filter operands, body keys."""
    j = _final_index(seq["steps"])
    st = seq["steps"][j]
    out = []

    def with_query(q):
        cand = copy.deepcopy(seq)
        cand["steps"][j]["query"] = q
        if not q:
            del cand["steps"][j]["query"]
        out.append(cand)
    q = st.get("query") or {}
    for k in q:
        if k == "page":
            continue
        with_query({x: v for x, v in q.items() if x != k and not (k == "perPage" and x == "page")})
        if k in ("sort", "expand", "fields") and "," in q[k]:
            items = q[k].split(",")
            for i in range(len(items)):
                with_query(dict(q, **{k: ",".join(items[:i] + items[i + 1:])}))
        if k == "filter":
            for e in expr_candidates(q[k]):
                with_query(dict(q, filter=e))
    for key in ("body", "multipart"):
        if isinstance(st.get(key), dict) and len(st[key]) > 1:
            for k in st[key]:
                if k == "id":
                    continue
                cand = copy.deepcopy(seq)
                del cand["steps"][j][key][k]
                out.append(cand)
    return out


def _drop_fields(seq):
    out = []
    for j, st in enumerate(seq["steps"]):
        if not (st["path"] == "/api/collections" and st["method"] == "POST"):
            continue
        coll = st["body"]["name"]
        for f in st["body"]["fields"]:
            fname = f["name"]
            cand = copy.deepcopy(seq)
            cand["steps"][j]["body"]["fields"] = [g for g in cand["steps"][j]["body"]["fields"] if g["name"] != fname]
            for other in cand["steps"]:
                if other["path"].startswith(f"/api/collections/{coll}/records") and isinstance(other.get("body"), dict):
                    for k in [k for k in other["body"] if k.strip("+-") == fname]:
                        del other["body"][k]
            out.append(cand)
    return out


# ---------------------------------------------------------------------------------------------- expressions


def _split_top(expr):
    """Operands and joiners of the top-level && / || chain of a filter expression."""
    parts, joins, cur, depth, quote, i = [], [], "", 0, None, 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            cur += ch
            if ch == "\\" and i + 1 < len(expr):
                cur += expr[i + 1]
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch == "(":
            depth += 1
            cur += ch
        elif ch == ")":
            depth -= 1
            cur += ch
        elif depth == 0 and expr[i:i + 2] in ("&&", "||"):
            parts.append(cur.strip())
            joins.append(expr[i:i + 2])
            cur = ""
            i += 2
            continue
        else:
            cur += ch
        i += 1
    parts.append(cur.strip())
    return parts, joins


def _parse(expr):
    parts, joins = _split_top(expr.strip())
    if len(parts) == 1:
        p = parts[0]
        if p.startswith("(") and p.endswith(")") and len(_split_top(p[1:-1])[0]) >= 1 and _balanced(p[1:-1]):
            return _parse(p[1:-1])
        return p
    return ([_parse(p) for p in parts], joins)


def _balanced(s):
    depth, quote = 0, None
    for ch in s:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _render(node, top=True):
    if isinstance(node, str):
        return node
    ops, joins = node
    text = _render(ops[0], False)
    for j, op in zip(joins, ops[1:]):
        text += f" {j} {_render(op, False)}"
    return text if top else f"({text})"


def _smaller(node):
    if isinstance(node, str):
        return []
    ops, joins = node
    out = []
    for j in range(len(ops)):
        nops = ops[:j] + ops[j + 1:]
        njoins = joins[:j - 1] + joins[j:] if j > 0 else joins[1:]
        out.append(nops[0] if len(nops) == 1 else (nops, njoins))
    for j, op in enumerate(ops):
        for c in _smaller(op):
            out.append((ops[:j] + [c] + ops[j + 1:], joins))
    return out


def expr_candidates(expr):
    """Each expression with one operand of one && / || chain removed."""
    if not expr:
        return []
    return [_render(c) for c in _smaller(_parse(expr))]


def _final_index(steps):
    for j in range(len(steps) - 1, -1, -1):
        st = steps[j]
        if not (st["method"] == "GET" and st["auth"] == "superuser" and st.get("query", {}).get("perPage") == "500"):
            return j
    return len(steps) - 1


def _strip_refs(seq, rid):
    for st in seq["steps"][:-1]:
        body = st.get("body")
        if not isinstance(body, dict) or st["path"] == "/api/collections":
            continue
        for k, v in list(body.items()):
            if v == rid:
                del body[k]
            elif isinstance(v, list) and rid in v:
                body[k] = [x for x in v if x != rid]


def _base36(n):
    s = ""
    while True:
        n, r = divmod(n, 36)
        s = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + s
        if not n:
            return s
