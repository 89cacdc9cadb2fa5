"""Deterministic scenario generation: collections, access rules, records, reads and writes.

Everything here is a pure function of a `random.Random`; nothing depends on a server's answers. A scenario
is generated whole before it is sent, so the same seed gives the same requests on every run.
"""
import random

TITLES = ["alpha", "beta", "Alpha", "x", "forbidden", "", "gamma ray", "50%"]
NUMS = [0, 1, 2, 3, 5, 9, 10, 12, -1, 2.5]
SELECT = ["a", "b", "c"]
SECRETS = ["s1", "s2", ""]
NAMES = ["ann", "bob", "cy", ""]
ROLES = ["admin", "member"]
PASSWORD = "Passw0rd!123"
BASE_NAMES = [("docs", "d"), ("notes", "n"), ("tasks", "t"), ("teams", "m")]
RULE_OPS = ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")


class Field:
    def __init__(self, name, type, hidden=False, multi=False, target=None, values=None):
        self.name, self.type, self.hidden, self.multi, self.target, self.values = name, type, hidden, multi, target, values

    def definition(self):
        d = {"name": self.name, "type": self.type}
        if self.hidden:
            d["hidden"] = True
        if self.type == "select":
            d["values"] = list(self.values)
            d["maxSelect"] = len(self.values) if self.multi else 1
        if self.type == "relation":
            d["collectionId"] = "@coll:" + self.target  # replaced by each server's id of that collection
            d["maxSelect"] = 5 if self.multi else 1
        return d


class Coll:
    def __init__(self, name, kind, tag):
        self.name, self.kind, self.tag = name, kind, tag
        self.fields = []
        self.rules = {op: None for op in RULE_OPS}
        self.records = []  # the seed records, as sent (superuser creates them)

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def definition(self, with_rules=True):
        d = {"name": self.name, "type": self.kind, "fields": [f.definition() for f in self.fields]}
        for op in RULE_OPS:
            d[op] = self.rules[op] if with_rules else None
        return d

    def ids(self):
        return [r["id"] for r in self.records]


class Scenario:
    def __init__(self, index, seed):
        self.index, self.seed = index, seed
        self.prefix = f"s{index}_"
        self.colls = []     # dependency order: users first
        self.users = []     # [{"id", "email", "password", "actor"}]
        self.reads = []     # per collection name: {"lists": [query dicts], "view_query": dict}
        self.writes = []    # [{"actor", "method", "coll", "id", "body", "multipart"}]
        self.final_lists = True

    @property
    def auth(self):
        return self.colls[0]

    def coll(self, name):
        for c in self.colls:
            if c.name == name:
                return c
        raise KeyError(name)

    def back_relations(self, coll):
        """[(name "X_via_f", source collection X)] for every relation field f of X pointing at coll."""
        out = []
        for x in self.colls:
            for f in x.fields:
                if f.type == "relation" and f.target == coll.name:
                    out.append((f"{x.name}_via_{f.name}", x))
        return out

    def actors(self):
        return ["guest"] + [u["actor"] for u in self.users] + ["superuser"]

    def user_id(self, actor):
        for u in self.users:
            if u["actor"] == actor:
                return u["id"]
        return ""


def make_id(scen, tag, k):
    head = f"s{scen.index}{tag}"
    tail = str(k)
    return head + "0" * (15 - len(head) - len(tail)) + tail


# ---------------------------------------------------------------------------------------------- schema


def gen_schema(rng, scen):
    p = scen.prefix
    users = Coll(p + "users", "auth", "u")
    users.fields = [Field("name", "text"), Field("role", "select", values=ROLES), Field("age", "number")]
    if rng.random() < 0.7:
        users.fields.append(Field("secret", "text", hidden=True))
    scen.colls.append(users)
    for base, tag in rng.sample(BASE_NAMES, rng.randint(1, 3)):
        c = Coll(p + base, "base", tag)
        c.fields.append(Field("title", "text"))
        if rng.random() < 0.85:
            c.fields.append(Field("n", "number"))
        if rng.random() < 0.5:
            c.fields.append(Field("flag", "bool"))
        if rng.random() < 0.5:
            c.fields.append(Field("status", "select", values=SELECT))
        if rng.random() < 0.6:
            c.fields.append(Field("opts", "select", multi=True, values=SELECT))
        if rng.random() < 0.85:
            c.fields.append(Field("owner", "relation", target=users.name, hidden=rng.random() < 0.1))
        if rng.random() < 0.5:
            c.fields.append(Field("members", "relation", multi=True, target=users.name))
        if rng.random() < 0.5:
            c.fields.append(Field("secret", "text", hidden=True))
        earlier = [x for x in scen.colls if x.kind == "base"]
        for i, t in enumerate(earlier[-2:]):
            suffix = "" if i == 0 else "2"
            if rng.random() < 0.75:
                c.fields.append(Field("rel" + suffix, "relation", target=t.name, hidden=rng.random() < 0.1))
            if rng.random() < 0.5:
                c.fields.append(Field("tags" + suffix, "relation", multi=True, target=t.name))
        scen.colls.append(c)


# ---------------------------------------------------------------------------------------------- rules and filters


def own_fields(coll):
    base = [Field("id", "text")]
    if coll.kind == "auth":
        base += [Field("email", "email"), Field("verified", "bool")]
    return base + coll.fields


def random_path(rng, scen, coll, ctx, depth=0):
    """A field path from coll: (text, final Field, crosses a multi relation or back-relation)."""
    fields = own_fields(coll)
    if ctx == "filter":  # hidden fields in client filters: rare (PocketBase rejects them)
        fields = [f for f in fields if not f.hidden or rng.random() < 0.15]
    back = scen.back_relations(coll) if depth < 2 else []
    if back and rng.random() < 0.2:
        name, src = rng.choice(back)
        sub, f, _ = random_path(rng, scen, src, ctx, depth + 1)
        return f"{name}.{sub}", f, True
    f = rng.choice(fields)
    if f.type == "relation" and depth < 2 and rng.random() < 0.55:
        sub, g, m = random_path(rng, scen, scen.coll(f.target), ctx, depth + 1)
        return f"{f.name}.{sub}", g, m or f.multi
    return f.name, f, False


def literal(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return '"' + v.replace('"', '\\"') + '"'


def some_record_id(rng, scen, coll_name):
    c = scen.coll(coll_name)
    return rng.choice(c.ids()) if c.records else make_id(scen, c.tag, 1)


def rhs_for(rng, scen, field, ctx):
    """A right-hand operand fitting the field's type."""
    rules = ctx != "filter"
    t = field.type
    if t == "relation" or field.name == "id":
        opts = [lambda: literal("")]
        if field.type == "relation":
            opts.append(lambda: literal(some_record_id(rng, scen, field.target)))
        if rules:
            opts += [lambda: "@request.auth.id"] * 3
        else:
            opts += [lambda: literal(rng.choice(scen.users)["id"])]
        return rng.choice(opts)()
    if t == "number":
        if rules and rng.random() < 0.15:
            return "@request.auth.age"
        return literal(rng.choice(NUMS))
    if t == "bool":
        return literal(rng.random() < 0.5)
    if t == "select":
        return literal(rng.choice(field.values + [""]))
    if t == "email":
        return "@request.auth.email" if rules and rng.random() < 0.5 else literal(scen.users[0]["email"])
    # text
    if field.name == "secret":
        return literal(rng.choice(SECRETS))
    if field.name == "name":
        return literal(rng.choice(NAMES))
    if rules and rng.random() < 0.1:
        return "@request.auth.name"
    return literal(rng.choice(TITLES))


def ops_for(field):
    if field.type == "number":
        return ["=", "!=", "<", "<=", ">", ">="]
    if field.type in ("text", "email") and field.name != "id":
        return ["=", "!=", "~", "!~"]
    return ["=", "!="]


def path_atom(rng, scen, coll, ctx):
    path, f, multi = random_path(rng, scen, coll, ctx)
    if f.multi and f.type == "select":
        # a multi-select at the end of a path: :each, :length, or (rarely) the raw value
        r = rng.random()
        if r < 0.45:
            return f"{path}:each {rng.choice(['?=', '=', '!=', '?!='])} {literal(rng.choice(SELECT))}"
        if r < 0.8:
            return f"{path}:length {rng.choice(['>', '>=', '=', '<'])} {rng.choice([0, 1, 2])}"
        return f"{path} {rng.choice(['?=', '='])} {literal(rng.choice(SELECT))}"
    if f.multi and f.type == "relation":
        r = rng.random()
        if r < 0.5:
            return f"{path}:length {rng.choice(['>', '>=', '=', '<'])} {rng.choice([0, 1, 2])}"
        if r < 0.75 or ctx == "filter":
            return f"{path}.id ?= {rhs_for(rng, scen, Field('id', 'text'), ctx)}"
        return f"{path} ?= @request.auth.id"  # own multi relation compared as a whole (a PocketBase quirk)
    op = rng.choice(ops_for(f))
    if multi and rng.random() < 0.75:
        op = "?" + op
    return f"{path} {op} {rhs_for(rng, scen, f, ctx)}"


def request_atom(rng, scen, coll, op):
    """@request.* and @collection.* atoms (rules only)."""
    body_fields = [f for f in coll.fields if f.type in ("text", "number", "relation", "select", "bool")]
    choices = [
        lambda: f"@request.auth.id {rng.choice(['!=', '='])} \"\"",
        lambda: f"@request.auth.role = {literal(rng.choice(ROLES))}",
        lambda: f"@request.auth.collectionName = \"{scen.auth.name}\"",
        # a missing query parameter is NULL: `~`/`!~` never hold for it
        lambda: f"@request.query.x:lower {rng.choice(['!~', '~', '=', '!='])} {literal(rng.choice(['forbidden', '']))}",
    ]
    if scen.auth.field("secret"):
        choices.append(lambda: f"@request.auth.secret = {literal(rng.choice(SECRETS[:2]))}")
    others = [x for x in scen.colls if x is not coll and x.kind == "base"]
    if others:
        choices += [lambda: collection_atom(rng, scen, coll, others)] * 2
    if op in ("createRule", "updateRule", "deleteRule") and body_fields:
        def body_atom():
            f = rng.choice(body_fields)
            r = rng.random()
            if r < 0.3:
                return f"@request.body.{f.name}:isset = {literal(rng.random() < 0.3)}"
            if r < 0.5 and op == "updateRule":
                return f"@request.body.{f.name}:changed = {literal(rng.random() < 0.3)}"
            if f.multi and r < 0.65:
                return f"@request.body.{f.name}:length {rng.choice(['<', '<=', '>'])} {rng.choice([1, 2])}"
            if f.name == "title" and rng.random() < 0.3:
                # a field's lowered value is text ('' when missing): `!~` holds without it
                return f"@request.body.title:lower {rng.choice(['!~', '~', '=', '!='])} {literal(rng.choice(['forbidden', '']))}"
            if f.name == "title":
                return f"@request.body.title {rng.choice(['!=', '='])} \"forbidden\""
            if f.type == "number":
                return f"@request.body.{f.name} {rng.choice(['<', '>=', '!='])} {rng.choice([3, 10])}"
            if f.type == "relation" and not f.multi and f.target == scen.auth.name:
                return f"@request.body.{f.name} = @request.auth.id"
            return f"@request.body.{f.name} {rng.choice(ops_for(f))} {rhs_for(rng, scen, f, 'rule')}"
        choices += [body_atom] * 4
    return rng.choice(choices)()


def collection_atom(rng, scen, coll, others):
    x = rng.choice(others)
    linking = [f for f in x.fields if f.type == "relation" and f.target == coll.name]
    path, f, _ = random_path(rng, scen, x, "rule", depth=1)
    first = f"@collection.{x.name}.{path} ?{rng.choice(ops_for(f))} {rhs_for(rng, scen, f, 'rule')}"
    if linking and rng.random() < 0.7:
        lf = rng.choice(linking)
        return f"({first} && @collection.{x.name}.{lf.name} ?= id)"
    owner = x.field("owner")
    if owner and rng.random() < 0.5:
        return f"@collection.{x.name}.owner ?= @request.auth.id"
    return first


def dubious_atom(rng, scen, coll):
    """Rule text a server may reject at collection save (both servers must agree on which)."""
    single = [f for f in coll.fields if not f.multi]
    multi = [f for f in coll.fields if f.multi]
    f = rng.choice(single) if single else None
    choices = [lambda: "nope = 1", lambda: "@collection.nope.x ?= 1", lambda: "@request.auth.nope = 1",
               lambda: "title:isset = true", lambda: "@request.body.title:length > 2", lambda: "id:each = \"x\"",
               lambda: "@request.body.nope:isset = true", lambda: "@request.body.title:lower = \"x\"",
               lambda: "owner.nope = 1", lambda: "title:lower = \"alpha\"", lambda: "@request.body.id:changed = false"]
    if f:
        choices += [lambda: f"{f.name}:length > 1", lambda: f"{f.name}:each = \"a\""]
    back = scen.back_relations(coll)
    if back:
        b = rng.choice(back)[0]
        # a path ending in a back-relation names no value ("unknown field")
        choices += [lambda: f"{b}:length = 0", lambda: f"{b} = \"\""]
    if multi:
        m = rng.choice(multi)
        choices += [lambda: f"{m.name}:each:length > 1", lambda: f"@request.body.{m.name}:each ?= \"a\"",
                    lambda: f"{m.name}:lower ?= \"a\""]
    return rng.choice(choices)()


def gen_expr(rng, scen, coll, ctx, op=None):
    n = rng.choice([1, 1, 2, 2, 3])
    atoms = []
    for _ in range(n):
        if ctx != "filter" and rng.random() < 0.04:
            atoms.append(dubious_atom(rng, scen, coll))
        elif ctx != "filter" and rng.random() < 0.4:
            atoms.append(request_atom(rng, scen, coll, op))
        elif ctx != "filter" and rng.random() < 0.2 and coll.field("owner"):
            atoms.append(f"owner {rng.choice(['=', '=', '!='])} @request.auth.id")
        else:
            atoms.append(path_atom(rng, scen, coll, ctx))
    expr = atoms[0]
    for a in atoms[1:]:
        joiner = rng.choice([" && ", " || "])
        if rng.random() < 0.3:
            expr = f"({expr}){joiner}{a}"
        else:
            expr = f"{expr}{joiner}{a}"
    return expr


def gen_rule(rng, scen, coll, op):
    r = rng.random()
    if r < 0.12:
        return None
    if r < 0.27:
        return ""
    return gen_expr(rng, scen, coll, "rule", op)


def gen_rules(rng, scen):
    for c in scen.colls:
        for op in RULE_OPS:
            c.rules[op] = gen_rule(rng, scen, c, op)
        if c.kind == "auth" and rng.random() < 0.5:
            c.rules["listRule"] = c.rules["viewRule"] = rng.choice(["", "@request.auth.id != \"\"", "id = @request.auth.id"])


# ---------------------------------------------------------------------------------------------- records


def subset(rng, items, k=None):
    k = rng.randint(0, min(len(items), 3)) if k is None else k
    return rng.sample(items, k)


def field_value(rng, scen, f):
    if f.type == "text":
        return rng.choice(SECRETS if f.name == "secret" else NAMES if f.name == "name" else TITLES)
    if f.type == "number":
        return rng.choice(NUMS)
    if f.type == "bool":
        return rng.random() < 0.5
    if f.type == "select":
        return subset(rng, f.values) if f.multi else rng.choice(f.values + [""])
    if f.type == "relation":
        ids = scen.coll(f.target).ids()
        if f.multi:
            return subset(rng, ids)
        return rng.choice(ids) if ids and rng.random() < 0.8 else ""
    raise ValueError(f.type)


def gen_records(rng, scen):
    users = scen.auth
    for k in range(1, rng.randint(2, 3) + 1):
        uid = make_id(scen, "u", k)
        email = f"u{k}@s{scen.index}.test"
        rec = {"id": uid, "email": email, "password": PASSWORD, "passwordConfirm": PASSWORD,
               "emailVisibility": rng.random() < 0.5}
        for f in users.fields:
            rec[f.name] = field_value(rng, scen, f)
        users.records.append(rec)
        scen.users.append({"id": uid, "email": email, "password": PASSWORD, "actor": f"user{k}"})
    for c in scen.colls[1:]:
        for k in range(1, rng.randint(4, 7) + 1):
            rec = {"id": make_id(scen, c.tag, k)}
            for f in c.fields:
                if rng.random() < 0.9:
                    rec[f.name] = field_value(rng, scen, f)
            c.records.append(rec)


# ---------------------------------------------------------------------------------------------- reads


def sort_fields(rng, scen, coll):
    out = []
    for f in own_fields(coll):
        if f.multi or f.name == "id":
            continue
        if f.type == "relation":
            t = scen.coll(f.target)
            sub = [g.name for g in t.fields if not g.multi and g.type in ("text", "number")]
            if sub:
                out.append(f"{f.name}.{rng.choice(sub)}")
        elif not f.hidden or rng.random() < 0.3:
            out.append(f.name)
    return out


def expand_options(scen, coll):
    out = [f.name for f in coll.fields if f.type == "relation"]
    out += [name for name, _ in scen.back_relations(coll)]
    nested = []
    for f in coll.fields:
        if f.type == "relation":
            for g in scen.coll(f.target).fields:
                if g.type == "relation":
                    nested.append(f"{f.name}.{g.name}")
    return out, nested


def gen_list_query(rng, scen, coll):
    q = {}
    if rng.random() < 0.85:
        q["filter"] = gen_expr(rng, scen, coll, "filter")
    sortable = sort_fields(rng, scen, coll)
    if sortable and rng.random() < 0.5:
        keys = rng.sample(sortable, min(len(sortable), rng.randint(1, 2)))
        q["sort"] = ",".join(("-" if rng.random() < 0.4 else "") + k for k in keys) + ",id"
        if rng.random() < 0.25:
            q["perPage"], q["page"] = "2", rng.choice(["1", "2"])
    exp, nested = expand_options(scen, coll)
    if exp and rng.random() < 0.4:
        q["expand"] = ",".join(rng.sample(exp + nested, min(len(exp + nested), rng.randint(1, 3))))
        if rng.random() < 0.3:
            first = q["expand"].split(",")[0]
            q["fields"] = f"id,title,expand.{first}.title,expand.{first}.id"
    elif rng.random() < 0.1:
        q["fields"] = "id," + ",".join(f.name for f in coll.fields[:2])
    if rng.random() < 0.1:
        q["skipTotal"] = "1"
    return q


def gen_reads(rng, scen):
    reads = {}
    for c in scen.colls:
        lists = [{}] + [gen_list_query(rng, scen, c) for _ in range(rng.randint(3, 5))]
        exp, nested = expand_options(scen, c)
        view_query = {"expand": ",".join(exp + nested)} if exp and rng.random() < 0.5 else {}
        reads[c.name] = {"lists": lists, "view_query": view_query}
    scen.reads = reads


# ---------------------------------------------------------------------------------------------- writes


def write_body(rng, scen, coll, actor, create):
    me = scen.user_id(actor)
    user_ids = [u["id"] for u in scen.users]
    cand = []
    for f in coll.fields:
        if f.type == "text":
            cand.append(lambda f=f: (f.name, rng.choice(TITLES + ["forbidden"] if f.name == "title" else
                                                        SECRETS if f.name == "secret" else NAMES)))
        elif f.type == "number":
            cand.append(lambda f=f: (f.name, rng.choice(NUMS)))
            cand.append(lambda f=f: (f.name + rng.choice(["+", "-"]), rng.choice([1, 5])))
        elif f.type == "bool":
            cand.append(lambda f=f: (f.name, rng.random() < 0.5))
        elif f.type == "select" and not f.multi:
            cand.append(lambda f=f: (f.name, rng.choice(f.values + [""])))
        elif f.type == "select":
            cand.append(lambda f=f: (f.name, subset(rng, f.values)))
            cand.append(lambda f=f: (rng.choice([f.name + "+", "+" + f.name, f.name + "-"]), rng.choice(f.values)))
        elif f.type == "relation":
            ids = user_ids if f.target == scen.auth.name else scen.coll(f.target).ids()
            pick = lambda ids=ids: (me if me and ids is user_ids and rng.random() < 0.5 else rng.choice(ids + [""]))
            if f.multi:
                cand.append(lambda f=f, ids=ids: (f.name, subset(rng, ids)))
                cand.append(lambda f=f, pick=pick: (rng.choice([f.name + "+", "+" + f.name, f.name + "-"]),
                                                    pick() or rng.choice(user_ids)))
            else:
                cand.append(lambda f=f, pick=pick: (f.name, pick()))
    body = {}
    for fn in rng.sample(cand, min(len(cand), rng.randint(1, 4))):
        k, v = fn()
        body[k] = v
    if create:
        owner = coll.field("owner")
        if owner and "owner" not in body and rng.random() < 0.7:
            body["owner"] = me or rng.choice(user_ids)
    return body


def to_form(body):
    """A JSON body as multipart fields: lists become repeated keys, an empty list one empty value."""
    form = {}
    for k, v in body.items():
        if isinstance(v, list):
            form[k] = [str(x) for x in v] or [""]
        elif isinstance(v, bool):
            form[k] = "true" if v else "false"
        else:
            form[k] = str(v)
    return form


def gen_writes(rng, scen):
    writes = []
    actors = scen.actors()
    new_ids = 0
    for _ in range(rng.randint(10, 16)):
        actor = rng.choice(actors[:-1]) if rng.random() < 0.9 else "superuser"
        coll = rng.choice(scen.colls[1:] if rng.random() < 0.85 else scen.colls)
        r = rng.random()
        if r < 0.55 and coll.records:
            rid = rng.choice(coll.ids())
            body = write_body(rng, scen, coll, actor, False)
            if coll.kind == "auth":
                body.pop("password", None)
            w = {"method": "PATCH", "id": rid, "body": body}
        elif r < 0.8:
            new_ids += 1
            body = write_body(rng, scen, coll, actor, True)
            body["id"] = make_id(scen, coll.tag + "x", new_ids)
            if coll.kind == "auth":
                body.update({"email": f"new{new_ids}@s{scen.index}.test", "password": PASSWORD,
                             "passwordConfirm": PASSWORD})
            w = {"method": "POST", "id": None, "body": body}
        else:
            rid = rng.choice(coll.ids()) if coll.records else make_id(scen, coll.tag, 1)
            w = {"method": "DELETE", "id": rid, "body": None}
        w.update(actor=actor, coll=coll.name, multipart=w["body"] is not None and rng.random() < 0.3)
        writes.append(w)
    scen.writes = writes


def gen_scenario(seed, index):
    """Scenario `index` of the run with `seed`: independent of every other scenario."""
    rng = random.Random(f"{seed}/{index}")
    scen = Scenario(index, seed)
    gen_schema(rng, scen)
    gen_records(rng, scen)
    gen_rules(rng, scen)
    gen_reads(rng, scen)
    gen_writes(rng, scen)
    return scen
