"""Checks an OpenAPI document Kiln served: valid OpenAPI 3.1 (openapi-spec-validator), and each
sample answer valid against the document's schema of its kind.

    python3 tools/openapi/check.py DOC.json [SAMPLES.json]

SAMPLES.json: {"PostsRecord": [answer, ...], ...} (schema names of #/components/schemas).
Exit status 1 with the problems printed when anything fails.
"""

import json
import sys

import jsonschema
from openapi_spec_validator import validate


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    validate(doc)
    problems = []
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            samples = json.load(f)
        for name, items in samples.items():
            if name not in doc["components"]["schemas"]:
                problems.append(f"no schema {name}")
                continue
            # the components ride along, so that the schema's references resolve
            root = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
            validator = jsonschema.Draft202012Validator(root)
            for item in items:
                for err in validator.iter_errors(item):
                    problems.append(f"{name}: {err.json_path}: {err.message}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
