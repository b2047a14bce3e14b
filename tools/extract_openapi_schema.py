"""Extract a processor's published request schemas into tests/connectors/<id>/processor_schema.json.

    python tools/extract_openapi_schema.py OPENAPI OUT SOURCE_NOTE ENDPOINTS [EXTRA_DEFS]

OPENAPI is an OpenAPI 3.0 file; ENDPOINTS a JSON object "METHOD /path as sent" → "/path in the
file" (e.g. a server prefix such as /ch kept in the key); EXTRA_DEFS a comma-separated list of
further component schemas to keep (the answers' objects). The output is {source, openapi,
api_version, endpoints: {key: {operationId, body, path_parameters}}, $defs}:

- `$ref`s to #/components/schemas stay references, as local #/$defs (only the reachable ones);
- `nullable: true` becomes a type union with null; numeric `format`s and examples are dropped;
- a `discriminator` without a `mapping` names its subtypes implicitly (every schema whose allOf
  includes the parent): the parent becomes an if/then dispatch on the discriminating property
  over its original (kept as <parent>_base, which the subtypes then extend), so a body is
  checked against the subtype its property names.

Used for rapyd (Rapyd-Samples/RapydOpenAPI) and fiserv_commercehub (Fiserv/Commerce-Hub); the
SOURCE_NOTE, with the file's sha256, is recorded in the output's `source`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

SCHEMAS = "#/components/schemas/"
DROPPED = ("example", "examples", "xml", "x-examples", "discriminator")
NUMERIC_FORMATS = ("int32", "int64", "float", "double", "decimal")


def _dispatch(schemas: dict[str, Any]) -> dict[str, list[str]]:
    """Rewrite every mapping-less discriminator as an if/then dispatch; name → subtypes."""
    found: dict[str, list[str]] = {}
    for name, schema in list(schemas.items()):
        discriminator = schema.get("discriminator")
        if not discriminator or discriminator.get("mapping"):
            continue
        parent = {"$ref": SCHEMAS + name}
        subtypes = [n for n, s in schemas.items() if parent in s.get("allOf", [])]
        if not subtypes:
            continue
        base = {k: v for k, v in schema.items() if k != "discriminator"}
        schemas[name + "_base"] = base
        for sub in subtypes:
            parts = schemas[sub]["allOf"]
            schemas[sub] = {
                **schemas[sub],
                "allOf": [{"$ref": SCHEMAS + name + "_base"} if p == parent else p for p in parts],
            }
        prop = discriminator["propertyName"]
        schemas[name] = {
            "description": schema.get("description", ""),
            "allOf": [{"$ref": SCHEMAS + name + "_base"}]
            + [
                {
                    "if": {"properties": {prop: {"const": sub}}, "required": [prop]},
                    "then": {"$ref": SCHEMAS + sub},
                }
                for sub in subtypes
            ],
        }
        found[name] = subtypes
    return found


class _Converter:
    def __init__(self) -> None:
        self.needed: set[str] = set()

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: self(v) for k, v in node.items() if k not in DROPPED}
        if "$ref" in out:
            name = out["$ref"].split("/")[-1]
            self.needed.add(name)
            out["$ref"] = "#/$defs/" + name
        if out.pop("nullable", False) and "type" in out:
            kind = out["type"]
            out["type"] = [kind, "null"] if isinstance(kind, str) else [*kind, "null"]
        if out.get("format") in NUMERIC_FORMATS:
            out.pop("format")
        return out


def extract(
    openapi: Path, source_note: str, endpoints: dict[str, str], extra: list[str]
) -> dict[str, Any]:
    raw = openapi.read_bytes()
    document = yaml.safe_load(raw)
    components = document["components"]
    schemas = components["schemas"]
    dispatched = _dispatch(schemas)
    convert = _Converter()
    out: dict[str, Any] = {}
    for key, path in endpoints.items():
        method = key.split(" ")[0].lower()
        operation = document["paths"][path][method]
        body = None
        request_body = operation.get("requestBody")
        if request_body:
            if "$ref" in request_body:
                request_body = components["requestBodies"][request_body["$ref"].split("/")[-1]]
            body = convert(request_body["content"]["application/json"]["schema"])
        parameters = {}
        declared = operation.get("parameters", []) + document["paths"][path].get("parameters", [])
        for given in declared:
            parameter = given
            if "$ref" in given:
                parameter = components["parameters"][given["$ref"].split("/")[-1]]
            if parameter["in"] == "path":
                parameters[parameter["name"]] = convert(parameter.get("schema", {"type": "string"}))
        out[key] = {
            "operationId": operation.get("operationId"),
            "body": body,
            "path_parameters": parameters,
        }
    convert.needed.update(extra)
    defs: dict[str, Any] = {}
    while convert.needed - set(defs):
        for name in sorted(convert.needed - set(defs)):
            defs[name] = convert(schemas[name])
    print(f"{len(defs)} defs; dispatched: {sorted(dispatched)}", file=sys.stderr)
    return {
        "source": f"{source_note} (sha256 {hashlib.sha256(raw).hexdigest()})",
        "openapi": document["openapi"],
        "api_version": document["info"]["version"],
        "endpoints": out,
        "$defs": defs,
    }


def main(argv: list[str]) -> None:
    openapi, target, note, endpoints = argv[:4]
    extra = argv[4].split(",") if len(argv) > 4 else []
    result = extract(Path(openapi), note, json.loads(endpoints), extra)
    Path(target).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
