"""The service's own routes: the OpenAPI document (generated, every $ref resolving, every flow
and problem type), the matrix as data, health, metrics and logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from engine import bundled_connectors
from engine._docs import feature_matrix
from engine._unified import FLOWS
from engine.service import PROBLEM_TYPES, openapi_document
from engine.service._logs import JsonFormatter

from .conftest import AUTHORIZE, STRIPE_SECRET, Service

pytestmark = pytest.mark.asyncio


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _validator(document: dict[str, Any], component: str) -> Draft202012Validator:
    from referencing.jsonschema import DRAFT202012

    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource(contents=document, specification=DRAFT202012)
    )
    schema = {"$ref": f"urn:openapi#/components/schemas/{component}"}
    return Draft202012Validator(schema, registry=registry)


async def test_openapi_is_served_and_complete(service: Service) -> None:
    response = await service.http.get("/openapi.json")
    document = response.json()
    assert document == openapi_document()
    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    for name, schema in schemas.items():
        Draft202012Validator.check_schema(schema), name
    declared = {flow for c in bundled_connectors() for flow in c.flows}
    for flow in FLOWS:
        assert (f"/v1/{{connector}}/{flow}" in document["paths"]) == (flow in declared)
    operation = document["paths"]["/v1/{connector}/authorize"]["post"]
    connectors = operation["parameters"][0]["schema"]["enum"]
    assert connectors == [c.id for c in bundled_connectors() if "authorize" in c.flows]
    assert {p["slug"] for p in document["x-problem-types"]} == {p.slug for p in PROBLEM_TYPES}
    enum = schemas["Problem"]["properties"]["type"]["enum"]
    assert enum == [p.uri for p in PROBLEM_TYPES]


async def test_answers_conform_to_the_openapi_document(service: Service) -> None:
    document = openapi_document()
    with_resource = document
    result = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=service.headers())
    _validator(with_resource, "Result").validate(result.json())
    bad = await service.post(
        "/v1/stripe/authorize", {**AUTHORIZE, "amount": -1}, headers=service.headers()
    )
    _validator(with_resource, "Problem").validate(bad.json())
    invalid = {**result.json(), "status": "charged"}
    assert not _validator(with_resource, "Result").is_valid(invalid)  # the check can fail


async def test_connectors_is_the_matrix(service: Service) -> None:
    response = await service.http.get("/v1/connectors", headers=service.headers())
    assert response.status_code == 200
    assert response.json() == feature_matrix(bundled_connectors())


async def test_health_and_readiness(service: Service) -> None:
    assert (await service.http.get("/healthz")).json() == {"status": "ok"}
    ready = await service.http.get("/readyz")
    assert ready.status_code == 200
    service.app.state.service.begin_drain()
    assert (await service.http.get("/readyz")).status_code == 503


async def test_metrics_count_outcomes_and_problems(service: Service) -> None:
    await service.post("/v1/stripe/authorize", AUTHORIZE, headers=service.headers())
    await service.post(
        "/v1/stripe/authorize", {**AUTHORIZE, "amount": -5}, headers=service.headers()
    )
    text = (await service.http.get("/metrics")).text
    outcome = 'connector="stripe",flow="authorize",status="captured"'
    assert f"connector_service_outcomes_total{{{outcome}}} 1.0" in text
    assert 'connector_service_problems_total{connector="stripe",type="invalid-input"} 1.0' in text
    assert "connector_service_request_seconds_bucket" in text
    assert "# TYPE connector_service_token_cache_total counter" in text
    assert STRIPE_SECRET not in text


async def test_logs_carry_the_request_id_and_no_secret(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector_service")
    headers = service.headers(**{"X-Request-Id": "req-log-1"})
    await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "req-log-1"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert '"request_id":"req-log-1"' in line and '"outcome":"captured"' in line
    assert '"connector":"stripe"' in line and '"profile":"shop"' in line
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert STRIPE_SECRET not in everything and "4242424242424242" not in everything


async def test_the_formatter_scrubs_card_numbers() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "card %s", ("4111111111111111",), None)
    assert "4111111111111111" not in JsonFormatter().format(record)


async def test_docs_page_loads_only_from_the_service(service: Service) -> None:
    page = await service.http.get("/docs")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "docs-init.js"):
        assert (await service.http.get(f"/docs/static/{asset}")).status_code == 200
