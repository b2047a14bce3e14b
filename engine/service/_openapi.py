"""The service's OpenAPI 3.1 document, generated from the engine's own tables: the unified JSON
Schemas in schemas/unified/ (the one source of truth for every shape), the flows, the bundled
connectors and the problem types. Nothing here restates a field."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from .._resources import load_schema, schemas_dir
from .._unified import FLOWS, RAW_BODY_LIMIT, READ_FLOWS
from ._problems import PROBLEM_TYPES

VERSION = "1"

#: Headers the service reads, documented once (parameters in every operation that takes them).
HEADERS: dict[str, dict[str, Any]] = {
    "X-Connector-Profile": {
        "description": "A named processor account from the service's config. Give this or "
        "X-Connector-Credentials.",
        "schema": {"type": "string"},
    },
    "X-Connector-Credentials": {
        "description": "The processor credentials as a JSON object (the connector's credential "
        "names to strings). Never logged, stored or echoed.",
        "schema": {"type": "string"},
    },
    "X-Connector-Environment": {
        "description": "The spec's environment for X-Connector-Credentials (default sandbox); a "
        "profile names its own.",
        "schema": {"type": "string"},
    },
    "X-Connector-Base-Url": {
        "description": "Send to this base URL instead of the spec's (test mode only: the service "
        "started with --allow-base-url; refused otherwise).",
        "schema": {"type": "string", "format": "uri"},
    },
    "X-Connector-Raw-Response": {
        "description": "`true`: the Result carries the processor's own answer in `raw` (its "
        "status, headers and body, scrubbed of secrets and card data, cookies left out, the body "
        f"cut at {RAW_BODY_LIMIT:,} characters), for debugging and reconciliation. Off by "
        "default; any value but true or false is refused.",
        "schema": {"type": "string", "enum": ["true", "false"], "default": "false"},
    },
    "Idempotency-Key": {
        "description": "The idempotency key of this call (or `idempotency_key` in the body); one "
        "is generated when neither is given, and returned.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "X-Request-Id": {
        "description": "A request id for logs (letters, digits, `._:-`, up to 128); generated "
        "when absent, and echoed.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
    },
}


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_.\-]", name) if part)


def _unified_files() -> list[str]:
    return sorted(p.name for p in (schemas_dir() / "unified").glob("*.json"))


def _component_name(file: str, definition: str | None) -> str:
    stem = file.removesuffix(".json")
    if definition is None:
        return _pascal(stem)  # authorize.request → AuthorizeRequest, result → Result
    if stem == "common":
        return _pascal(definition)
    return _pascal(stem) + _pascal(definition)  # result.json#/$defs/match → ResultMatch


def _rewrite(node: Any, file: str) -> Any:
    """A schema with its `$ref`s pointing into components/schemas and JSON Schema document
    keywords ($schema, $id, $defs) removed (each $defs entry is a component of its own)."""
    if isinstance(node, list):
        return [_rewrite(item, file) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$schema", "$id", "$defs"):
            continue
        if key == "$ref" and isinstance(value, str):
            target, _, fragment = value.partition("#")
            definition = fragment.removeprefix("/$defs/") if fragment else None
            out[key] = "#/components/schemas/" + _component_name(target or file, definition)
            continue
        out[key] = _rewrite(value, file)
    return out


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for file in _unified_files():
        document = load_schema(f"unified/{file}")
        if "properties" in document or "type" in document:
            schemas[_component_name(file, None)] = _rewrite(document, file)
        for name, definition in document.get("$defs", {}).items():
            schemas[_component_name(file, name)] = _rewrite(definition, file)
    schemas["Problem"] = {
        "type": "object",
        "description": "An RFC 9457 problem document: nothing was sent to the processor.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {
                "enum": [p.uri for p in PROBLEM_TYPES],
                "description": "The problem type; one per cause (see x-problem-types).",
            },
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "request_id": {"type": "string"},
            "pointer": {
                "type": ["string", "null"],
                "description": "The JSON pointer of the bad field (invalid-input).",
            },
            "reason": {
                "type": "string",
                "description": "The webhook rejection code (webhook-rejected).",
            },
            "allowed": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What is allowed instead (unknown-connector, unknown-flow).",
            },
        },
    }
    return schemas


def _header(name: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, **HEADERS[name]}


def _problem_responses(*statuses: int) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in sorted(set(statuses)):
        kinds = [p for p in PROBLEM_TYPES if p.status == status]
        responses[str(status)] = {
            "description": "; ".join(f"{p.slug}: {p.title}" for p in kinds),
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    return responses


_CALL_PROBLEMS = (400, 401, 403, 404, 413, 422, 500, 503)


def _flow_operation(flow: str, connectors: list[str]) -> dict[str, Any]:
    request = load_schema(f"unified/{flow}.request.json")
    parameters = [
        {
            "name": "connector",
            "in": "path",
            "required": True,
            "description": "A bundled connector that declares this flow.",
            "schema": {"enum": connectors},
        },
        _header("X-Connector-Profile"),
        _header("X-Connector-Credentials"),
        _header("X-Connector-Environment"),
        _header("X-Connector-Base-Url"),
        _header("X-Connector-Raw-Response"),
        _header("X-Request-Id"),
    ]
    if flow not in READ_FLOWS:
        parameters.insert(-1, _header("Idempotency-Key"))
    return {
        "operationId": flow,
        "summary": request.get("title", flow),
        "description": request.get("description", ""),
        "tags": ["payments"],
        "parameters": parameters,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{_pascal(flow)}Request"}
                }
            },
        },
        "responses": {
            "200": {
                "description": "The unified Result, whatever its status (failed and unresolved "
                "included): the request was sent.",
                "headers": {
                    "Idempotency-Key": {"schema": {"type": "string"}},
                    "X-Request-Id": {"schema": {"type": "string"}},
                },
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Result"}}
                },
            },
            **_problem_responses(*_CALL_PROBLEMS),
        },
    }


def _route_operation(flow: str) -> dict[str, Any]:
    """The routed twin of a flow: the config's routing rules choose the profile."""
    operation = _flow_operation(flow, [])
    operation["operationId"] = f"route_{flow}"
    operation["tags"] = ["routing"]
    operation["summary"] = f"{operation['summary']} (routed)"
    operation["description"] = (
        "The service's routing rules choose the profile and fail over only when nothing can "
        "have been charged (docs/routing.md); the Result's `routing` says which profile "
        "answered and every attempt. A follow-up (capture, void, refund, get, ...) names the "
        "profile that holds the payment in X-Connector-Profile."
    )
    operation["parameters"] = [
        p
        for p in operation["parameters"]
        if p["name"]
        not in (
            "connector",
            "X-Connector-Credentials",
            "X-Connector-Environment",
            "X-Connector-Base-Url",
        )
    ]
    return operation


def _events_operation(connectors: list[str]) -> dict[str, Any]:
    return {
        "operationId": "handle_event",
        "summary": "Verify and read a webhook delivery, forwarded as is.",
        "description": "The processor's raw body and headers, forwarded unchanged, with the "
        "profile whose webhook secret verifies it. Answers the unified events and what to "
        "answer the processor.",
        "tags": ["webhooks"],
        "parameters": [
            {
                "name": "connector",
                "in": "path",
                "required": True,
                "schema": {"enum": connectors},
            },
            _header("X-Connector-Profile", required=True),
            _header("X-Request-Id"),
        ],
        "requestBody": {
            "required": True,
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        "responses": {
            "200": {
                "description": "The verified events.",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/WebhookResult"}}
                },
            },
            **_problem_responses(400, 401, 403, 404, 413, 500, 503),
        },
    }


def _plain(operation_id: str, summary: str, schema: Mapping[str, Any], tag: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": [tag],
            "security": [],
            "responses": {
                "200": {
                    "description": summary,
                    "content": {"application/json": {"schema": dict(schema)}},
                }
            },
        }
    }


@cache
def _document() -> dict[str, Any]:
    from .._connector import bundled_connectors

    connectors = bundled_connectors()
    paths: dict[str, Any] = {}
    for flow in FLOWS:
        having = [c.id for c in connectors if flow in c.flows]
        if having:
            paths[f"/v1/{{connector}}/{flow}"] = {"post": _flow_operation(flow, having)}
    for flow in FLOWS:
        if flow in {f for c in connectors for f in c.flows}:
            paths[f"/v1/route/{flow}"] = {"post": _route_operation(flow)}
    webhooks = [c.id for c in connectors if c.has_webhooks]
    paths["/v1/{connector}/events"] = {"post": _events_operation(webhooks)}
    paths["/v1/connectors"] = _plain(
        "list_connectors",
        "The bundled connectors: flows, capabilities, recovery (the feature matrix as data).",
        {"type": "array", "items": {"type": "object"}},
        "meta",
    )
    paths["/v1/connectors"]["get"]["security"] = [{"bearer": []}]
    paths["/v1/connectors"]["get"]["responses"].update(_problem_responses(401))
    paths["/healthz"] = _plain(
        "healthz", "Liveness: the process answers.", {"type": "object"}, "meta"
    )
    paths["/readyz"] = _plain(
        "readyz",
        "Readiness: specs loaded, the token cache reachable, not shutting down.",
        {"type": "object"},
        "meta",
    )
    paths["/readyz"]["get"]["responses"]["503"] = {
        "description": "Not ready: shutting down, or the token cache unreachable.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    paths["/metrics"] = {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics.",
            "tags": ["meta"],
            "security": [],
            "responses": {
                "200": {
                    "description": "The Prometheus text format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Connector Service",
            "version": VERSION,
            "description": "One unified payment API over many processors. Every call that "
            "reached the processor answers HTTP 200 with a Result (its `status` may be "
            "`failed` or `unresolved`); a problem document (RFC 9457) means nothing was sent.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "x-problem-types": [
            {
                "type": p.uri,
                "slug": p.slug,
                "status": p.status,
                "title": p.title,
                "description": p.description,
            }
            for p in PROBLEM_TYPES
        ],
    }


def openapi_document() -> dict[str, Any]:
    """The document (a fresh copy: callers may change theirs)."""
    return copy.deepcopy(_document())
