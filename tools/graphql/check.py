#!/usr/bin/env python3
"""Checks a GraphQL schema with graphql-core (the reference implementation's Python port).

Usage: check.py INTROSPECTION.json [QUERIES.graphql]

INTROSPECTION.json is the `data` of the standard introspection query as a server answered it.
The schema is rebuilt from it and validated (type system rules: names, fields, interfaces,
input types, directives); each document in QUERIES (separated by lines of `---`) must then
validate against it. Prints the problems and exits 1 when there are any.
"""

import json
import sys

from graphql import build_client_schema, parse, print_schema, validate, validate_schema


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        introspection = json.load(f)
    schema = build_client_schema(introspection)
    problems = [str(e) for e in validate_schema(schema)]
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            documents = [d for d in f.read().split("\n---\n") if d.strip()]
        for doc in documents:
            problems += [f"{doc.strip()[:60]}…: {e}" for e in validate(schema, parse(doc))]
    if problems:
        print("\n".join(problems))
        return 1
    # the SDL is printable (every type resolvable)
    print_schema(schema)
    return 0


if __name__ == "__main__":
    sys.exit(main())
