"""Normalising both servers' answers and diffing them; matching differences against the known list.

Only what legitimately differs is normalised: collection ids (each server picks its own, mapped back to the
collection's name), `created`/`updated`, tokens, and the order of lists whose order is not defined (a list
without `sort`, a back-relation expand). Status codes, messages and data are compared strictly.
"""
import json
import re

from servers import difftest

diff = difftest.diff


def short(v, limit=200):
    return difftest.short(v, limit)


def normalise(doc, col_names, ordered=True):
    """col_names: this server's {collection id: name}. ordered=False sorts `items` by id."""
    def walk(x, key=None):
        if isinstance(x, dict):
            out = {}
            for k, v in x.items():
                if k in ("created", "updated") and "collectionId" in x:
                    continue
                if k == "token" and isinstance(v, str):
                    out[k] = "<token>"
                    continue
                out[k] = walk(v, k)
            if isinstance(out.get("expand"), dict):
                for ek, ev in out["expand"].items():
                    if "_via_" in ek and isinstance(ev, list):  # back-relation: no defined order
                        ev.sort(key=_id_key)
            return out
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str) and x in col_names:
            return f"<collection:{col_names[x]}>"
        return x

    out = walk(doc)
    if not ordered and isinstance(out, dict) and isinstance(out.get("items"), list):
        out["items"].sort(key=_id_key)
    return out


def _id_key(item):
    return item.get("id", "") if isinstance(item, dict) else json.dumps(item, sort_keys=True)


def compare(k_resp, p_resp, k_cols, p_cols, ordered=True):
    """Returns (diff lines, kiln normalised, pocketbase normalised); diff lines as (path, kiln, pocketbase).

    A status difference is two lines (status, whole bodies). Record lists are compared as the list of ids
    (`body.items[*].id`), then record by record for the ids both sides returned (`body.items[<id>]...`)."""
    kn = {"status": k_resp.status, "body": normalise(k_resp.json, k_cols, ordered)}
    pn = {"status": p_resp.status, "body": normalise(p_resp.json, p_cols, ordered)}
    if kn["status"] != pn["status"]:
        return [("status", kn["status"], pn["status"]), ("body", kn["body"], pn["body"])], kn, pn
    kb, pb = kn["body"], pn["body"]
    if _is_list(kb) and _is_list(pb):
        kids, pids = [i.get("id") for i in kb["items"]], [i.get("id") for i in pb["items"]]
        lines = [] if kids == pids else [("body.items[*].id", kids, pids)]
        pmap = {i.get("id"): i for i in pb["items"]}
        for item in kb["items"]:
            if item.get("id") in pmap:
                lines += diff(item, pmap[item.get("id")], f"body.items[{item.get('id')}]")
        rest = diff({k: v for k, v in kb.items() if k != "items"}, {k: v for k, v in pb.items() if k != "items"})
        return lines + [(f"body.{p}", a, b) for p, a, b in rest], kn, pn
    return diff(kn, pn), kn, pn


def _is_list(body):
    return isinstance(body, dict) and isinstance(body.get("items"), list) and \
        all(isinstance(i, dict) for i in body["items"])


def line_class(line):
    """What kind of difference one diff line is, independent of ids and positions."""
    path, k, p = line
    shape = re.sub(r"\[[^\]]*\]", "[]", path)
    shape = re.sub(r"^state\[\]", "state", shape)
    kind = "kiln-missing" if k == "<missing>" else "pocketbase-missing" if p == "<missing>" else "differs"
    if shape.endswith("expand") and ({} in (k, p)):
        kind += "-empty-expand"
    return shape, kind


def primary_class(lines):
    """The line a reduction must keep: the first one that is not an empty `expand` object."""
    for line in lines:
        if not line_class(line)[1].endswith("-empty-expand"):
            return line_class(line)
    return line_class(lines[0])


# ---------------------------------------------------------------------------------------------- known differences


class Known:
    """known_differences.json: [{"pattern": regex searched in a difference's signature, "reason": "...",
    "nondeterministic": true (optional: the difference may not occur in a run; never reported as stale)}]."""

    def __init__(self, path):
        with open(path) as f:
            self.entries = json.load(f)
        for e in self.entries:
            if not e.get("pattern") or not e.get("reason"):
                raise ValueError(f"{path}: every entry needs a pattern and a reason: {e}")
            if set(e) - {"pattern", "reason", "nondeterministic"} or not isinstance(e.get("nondeterministic", False), bool):
                raise ValueError(f"{path}: unknown keys or a non-boolean \"nondeterministic\" in {e}")
            e["_re"] = re.compile(e["pattern"], re.S)
            e["_hits"] = 0

    def match(self, signature):
        for e in self.entries:
            if e["_re"].search(signature):
                e["_hits"] += 1
                return e
        return None

    def unused(self):
        return [e for e in self.entries if not e["_hits"]]
