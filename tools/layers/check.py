#!/usr/bin/env python3
"""Checks that the files of each crate import each other in one direction.

For every crate under crates/ (and bench/loadgen) it reads each source file under src/ (the code
before a `#[cfg(test)]` line, comments left out) and finds the other files of the crate it
names: `use` items and inline `crate::`, `super::`, `self::`, child-module and imported-module
paths. A path counts for the file that defines the module it stops at, so importing a name
through a `pub use` facade counts as importing the facade, and the facade's `pub use` counts as
its import of the file it re-exports. Then:

1. no crate may have an import circle between its files;
2. in kiln-core, every file's layer (tools/layers/LAYERS) is at or above the layer of each file
   it imports (the app's parts below `App`, what `App` does above it).

    python3 tools/layers/check.py            the check (exit 1 on a circle or an upward import)
    python3 tools/layers/check.py --graph    also print kiln-core's files and imports by layer
"""
import argparse
import fnmatch
import pathlib
import re
import sys
from collections import defaultdict

REPO = pathlib.Path(__file__).resolve().parents[2]
CORE = REPO / "crates/kiln-core/src"
LAYERS = pathlib.Path(__file__).with_name("LAYERS")


def code_of(text):
    """The code of a file before its `#[cfg(test)]` part, without comments."""
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("#[cfg(test)]"):
            break
        if s.startswith("//"):
            continue
        out.append(re.sub(r"//.*", "", line))
    return "\n".join(out)


def split_group(text, i):
    """The items of the brace group that starts at text[i] (just after its `{`)."""
    depth, buf = 1, ""
    while depth:
        c = text[i]
        i += 1
        depth += c == "{"
        depth -= c == "}"
        buf += c
    items, cur, depth = [], "", 0
    for c in buf[:-1]:
        depth += c == "{"
        depth -= c == "}"
        if c == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += c
    items.append(cur)
    return [re.sub(r"\s+", " ", it).strip() for it in items if it.strip()]


def flatten(prefix, item):
    """`a::{b, c::d as e}` → [(['a','b'], 'b'), (['a','c','d'], 'e')]."""
    if "{" in item:
        head, rest = item.split("{", 1)
        segs = [s for s in head.replace(" ", "").split("::") if s]
        out = []
        for it in split_group(rest + "}", 0):
            out += flatten(prefix + segs, it)
        return out
    alias = None
    if " as " in item:
        item, alias = [x.strip() for x in item.split(" as ")]
    segs = [s for s in item.replace(" ", "").split("::") if s]
    if segs and segs[-1] == "self":
        segs = segs[:-1]
    return [(prefix + segs, alias or (segs[-1] if segs else ""))]


class Crate:
    """The files of one crate and the files each of them imports."""

    def __init__(self, src):
        self.src = src
        self.files = sorted(src.rglob("*.rs"))
        self.code = {f: code_of(f.read_text()) for f in self.files}
        self.uses = {f: [] for f in self.files}
        for f in self.files:
            self._read(f)

    def module_path(self, f):
        parts = list(f.relative_to(self.src).with_suffix("").parts)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        return parts

    def module_file(self, parts):
        """The file of module `parts`, or None."""
        cur, f = self.src, self.src / "lib.rs"
        for p in parts:
            if (cur / f"{p}.rs").exists():
                f = cur / f"{p}.rs"
            elif (cur / p / "mod.rs").exists():
                f = cur / p / "mod.rs"
            else:
                return None
            cur = cur / p
        return f

    def children(self, f):
        pat = r"^\s*(?:pub(?:\([\w:]+\))?\s+)?mod\s+(\w+)\s*;"
        return set(re.findall(pat, self.code[f], re.M))

    def absolute(self, f, segs):
        """The crate-absolute module path of `segs` as written in file f (None: another crate)."""
        if not segs:
            return None
        if segs[0] == "crate":
            return segs[1:]
        me = self.module_path(f)
        if segs[0] in ("self", "super"):
            base, i = list(me), 0
            while i < len(segs) and segs[i] in ("self", "super"):
                if segs[i] == "super":
                    base = base[:-1]
                i += 1
            return base + segs[i:]
        if segs[0] in self.children(f):
            return me + segs
        return None

    def _read(self, f):
        text, spans, aliases = self.code[f], [], {}
        for m in re.finditer(r"(?m)^\s*(?:pub(?:\([\w:]+\))?\s+)?use\s+([^;]*);", text):
            spans.append(m.span())
            for segs, name in flatten([], m.group(1)):
                path = self.absolute(f, segs)
                if path is None:
                    continue
                if not m.group(0).lstrip().startswith("pub") and self.module_file(path):
                    # A module imported by name: what counts is what is used through it.
                    aliases[name] = path
                else:
                    self.uses[f].append(path)
        rest = text
        for a, b in reversed(spans):
            rest = rest[:a] + " " * (b - a) + rest[b:]
        heads = ["crate", "super", "self"] + sorted(self.children(f) | set(aliases))
        pat = r"(?<![\w:])((?:" + "|".join(heads) + r")(?:::(?:super|self))*)::([\w:]+)"
        for m in re.finditer(pat, rest):
            segs = m.group(1).split("::") + [s for s in m.group(2).split("::") if s]
            if segs[0] in aliases:
                segs = ["crate"] + aliases[segs[0]] + segs[1:]
            path = self.absolute(f, segs)
            if path is not None:
                self.uses[f].append(path)

    def resolve(self, path):
        """The file of the deepest module `path` names."""
        f = self.src / "lib.rs"
        for i in range(len(path)):
            sub = self.module_file(path[: i + 1])
            if sub is None:
                break
            f = sub
        return f

    def edges(self):
        out = defaultdict(set)
        for f in self.files:
            for path in self.uses[f]:
                g = self.resolve(path)
                if g != f and g.exists() and g.name not in ("lib.rs", "main.rs"):
                    out[f].add(g)
        return out


def circles(nodes, edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return found


def read_layers():
    """[(name, patterns)], bottom first; a line that starts with blanks continues the layer above."""
    layers = []
    for line in LAYERS.read_text().splitlines():
        text = line.split("#", 1)[0]
        if not text.strip():
            continue
        if text[0].isspace() and layers:
            layers[-1][1].extend(text.split())
            continue
        name, _, globs = text.partition(":")
        layers.append((name.strip(), globs.split()))
    return layers


def layer_of(rel, layers):
    """The layer naming `rel` itself, else the first whose pattern matches it."""
    for n, (_, globs) in enumerate(layers):
        if rel in globs:
            return n
    for n, (_, globs) in enumerate(layers):
        if any(fnmatch.fnmatch(rel, g) for g in globs):
            return n
    return None


def layer_problems(crate, edges, graph):
    layers = read_layers()
    rel = lambda f: str(f.relative_to(crate.src))
    problems, rows = [], []
    for f in crate.files:
        if f.name == "lib.rs":
            continue
        lf = layer_of(rel(f), layers)
        if lf is None:
            problems.append(f"kiln-core: {rel(f)} is in no layer of {LAYERS.relative_to(REPO)}")
            continue
        rows.append((lf, rel(f), ", ".join(rel(g) for g in sorted(edges[f]))))
        for g in sorted(edges[f]):
            lg = layer_of(rel(g), layers)
            if lg is not None and lg > lf:
                problems.append(
                    f"kiln-core: {rel(f)} ({layers[lf][0]}) imports {rel(g)} ({layers[lg][0]}), "
                    "a layer above it"
                )
    if graph:
        for lf, name, imports in sorted(rows):
            print(f"{layers[lf][0]:>12}  {name} -> {imports}")
    return problems


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--graph", action="store_true")
    args = ap.parse_args()
    problems, counts = [], []
    for src in sorted(REPO.glob("crates/*/src")) + [REPO / "bench/loadgen/src"]:
        crate = Crate(src)
        edges = crate.edges()
        name = src.parent.name
        counts.append((name, len(crate.files)))
        rel = lambda f: str(f.relative_to(src))
        for comp in circles(crate.files, edges):
            problems.append(f"{name}: import circle: " + ", ".join(rel(f) for f in comp))
            for a in comp:
                problems += [f"    {rel(a)} -> {rel(b)}" for b in sorted(edges[a]) if b in comp]
        if src == CORE:
            problems += layer_problems(crate, edges, args.graph)
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    files = sum(n for _, n in counts)
    print(f"{len(counts)} crates, {files} files: no import circle; kiln-core's imports point down")


if __name__ == "__main__":
    main()
