#!/usr/bin/env python3
"""Size figures of the Rust sources: lines, the largest files, the longest functions.

    python3 tools/codestats.py [--top N] [PATH…]     (default: crates/*/src)

A function's length runs from its `fn` line to its closing brace (braces in strings and
comments are skipped); the figures are for before/after comparisons of a change.
"""
import argparse
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[1]


def blank(text):
    """`text` with comments, strings and char literals replaced by spaces (newlines kept)."""
    pat = re.compile(
        r'//[^\n]*|/\*.*?\*/|r(#*)".*?"\1|b?"(?:\\.|[^"\\])*"|b?\'(?:\\.|[^\'\\])\'',
        re.S,
    )
    return pat.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def functions(text):
    """(name, first line, line count) of every fn with a body in `text`."""
    code = blank(text)
    out = []
    for m in re.finditer(r"\bfn\s+(\w+)", code):
        i = m.end()
        nest = 0
        # the body's `{` is the first one outside (), [] and <>; a `;` first means no body
        while i < len(code):
            c = code[i]
            if c in "([<":
                nest += 1
            elif c in ")]>" and nest and code[i - 1] != "-":
                nest -= 1
            elif c == ";" and nest == 0:
                break
            elif c == "{" and nest == 0:
                break
            i += 1
        if i >= len(code) or code[i] != "{":
            continue
        depth, j = 0, i
        while j < len(code):
            depth += code[j] == "{"
            depth -= code[j] == "}"
            if depth == 0:
                break
            j += 1
        start = code.count("\n", 0, m.start()) + 1
        out.append((m.group(1), start, code.count("\n", m.start(), j) + 1))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    roots = [REPO / p for p in args.paths] or sorted(REPO.glob("crates/*/src"))
    files = sorted({f for r in roots for f in ([r] if r.is_file() else r.rglob("*.rs"))})
    sizes, fns, total, over = [], [], 0, 0
    for f in files:
        text = f.read_text()
        lines = text.split("\n")
        total += len(lines)
        over += sum(len(l) > 100 for l in lines)
        rel = str(f.relative_to(REPO))
        sizes.append((len(lines), rel))
        fns += [(n, f"{rel}:{s} {name}") for name, s, n in functions(text)]
    print(f"{len(files)} files, {total} lines, {over} lines over 100 columns")
    print("largest files:")
    for n, rel in sorted(sizes, reverse=True)[: args.top]:
        print(f"  {n:6}  {rel}")
    print("longest functions:")
    for n, where in sorted(fns, reverse=True)[: args.top]:
        print(f"  {n:6}  {where}")


if __name__ == "__main__":
    main()
